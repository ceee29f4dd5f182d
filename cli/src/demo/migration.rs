//! The demo's first chapter: the shop's old system moves to Pitstop. Customers are
//! registered without a welcome bonus, the years of work orders go through `visit.import`
//! (tiers follow from them), what the old system kept besides work orders (tyre sets,
//! recommendations, feedback) is recorded, opening balances become dated lots, and the
//! example plugins are installed. All in import durability: synced once at the end.

use super::data::*;
use super::{
    ADVISORS, BRANCHES, Car, Client, Loaded, Options, Shop, add_car, care, dec, moscow, ok,
};
use crate::Failure;
use chrono::{Datelike, Duration, NaiveDate};
use pitstop_core::{DurabilityOption, Engine, EngineOptions, ErrorCode, Program};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Visits per `visit.import` call.
const IMPORT_BATCH: usize = 1000;

/// The example plugins: module file (as `make plugins` names it), name, configuration.
const PLUGINS: &[(&str, &str, &str)] = &[
    (
        "combined_sale.wasm",
        "combined-sale",
        include_str!("../../../plugins/combined-sale/config.json"),
    ),
    (
        "tyre_storage.wasm",
        "tyre-storage",
        include_str!("../../../plugins/tyre-storage/config.json"),
    ),
    (
        "birthday_week.wasm",
        "birthday-week",
        include_str!("../../../plugins/birthday-week/config.json"),
    ),
    (
        "fleet_terms.wasm",
        "fleet-terms",
        include_str!("../../../plugins/fleet-terms/config.json"),
    ),
    (
        "old_car_care.wasm",
        "old-car-care",
        include_str!("../../../plugins/old-car-care/config.json"),
    ),
    (
        "loyal_visit.wasm",
        "loyal-visit",
        include_str!("../../../plugins/c/loyal-visit/config.json"),
    ),
];

/// Migrate the generated shop into a new store at `dir`: the history runs from `start` to
/// the day before `today`. Returns the shop as the first day finds it and what was loaded.
pub(super) fn run(
    dir: &Path,
    options: &Options,
    (start, today): (NaiveDate, NaiveDate),
    started: Instant,
) -> Result<(Shop, Loaded), Failure> {
    let mut rng = Rng(options.seed);
    let engine = Engine::open(
        dir,
        EngineOptions {
            durability: DurabilityOption::Import,
            ..EngineOptions::default()
        },
    )?;
    ok(
        &engine,
        "program.set",
        json!({ "program": Program::example(), "at": moscow(start - Duration::days(800), 9, 0) }),
    )?;
    let mut phones = HashSet::new();
    let mut clients: Vec<Client> = Vec::with_capacity(options.customers + 16);
    for n in 0..options.customers {
        let client = register_private(&engine, &mut rng, n, &mut phones, (start, today))?;
        clients.push(client);
    }
    let drivers = register_fleet(&engine, &mut rng, options.customers, start, &mut clients)?;
    let mut shop = Shop {
        clients,
        phones,
        drivers,
        // The history's own generators: the first day continues them.
        shop_rng: Rng(options.seed ^ 0xD1CE),
        care_rng: Rng(options.seed ^ 0xCA4E),
        pending: care::Pending::default(),
    };
    let imported = import_history(&engine, &mut shop, start, today)?;
    let recorded = care::record(&engine, &shop.pending)?;
    let (opening_balances, opening_points) =
        opening_balances(&engine, &mut rng, &shop.clients, today)?;
    let (plugins, plugin_note) = install_plugins(&engine, options.plugins.as_deref())?;
    engine.close()?;
    drop(engine);
    let loaded = Loaded {
        customers: shop.clients.len() + 1,
        vehicles: shop.clients.len(),
        visits: imported.visits,
        import_seconds: imported.seconds,
        opening_balances,
        opening_points,
        plugins,
        plugin_note,
        recorded,
        load_seconds: started.elapsed().as_secs_f64(),
    };
    Ok((shop, loaded))
}

/// A private customer's name: (first name, patronymic, surname), by gender.
fn person_name(rng: &mut Rng, male: bool) -> (&'static str, &'static str, String) {
    let surname = *rng.pick(SURNAMES);
    if male {
        (
            *rng.pick(MALE_NAMES),
            rng.pick(PATRONYMICS).0,
            surname.to_string(),
        )
    } else {
        (
            *rng.pick(FEMALE_NAMES),
            rng.pick(PATRONYMICS).1,
            feminine(surname),
        )
    }
}

/// A mobile number nobody in the base has yet.
fn unused_phone(rng: &mut Rng, phones: &mut HashSet<String>) -> String {
    loop {
        let phone = format!(
            "+79{:02}{:07}",
            rng.pick(&[3, 5, 6, 9, 15, 16, 25, 26, 36, 52, 60, 63, 67, 77, 85, 99]),
            rng.below(10_000_000)
        );
        if phones.insert(phone.clone()) {
            return phone;
        }
    }
}

/// A customer of the old system, as it is registered.
struct NewCustomer {
    /// `customer.register` arguments.
    args: Value,
    external_id: String,
    registered: NaiveDate,
    birthday: NaiveDate,
}

/// The old system's customer number `n`.
fn private_customer(
    rng: &mut Rng,
    n: usize,
    phones: &mut HashSet<String>,
    (start, today): (NaiveDate, NaiveDate),
) -> NewCustomer {
    let male = rng.chance(0.78);
    let (first, patronymic, last) = person_name(rng, male);
    let phone = unused_phone(rng, phones);
    // Most of the base is older than the history; the rest arrives during it.
    let registered = if rng.chance(0.35) {
        start - Duration::days(rng.range(20, 700))
    } else {
        start + Duration::days(rng.range(0, (today - start).num_days() - 1))
    };
    let birthday = NaiveDate::from_ymd_opt(
        rng.range(1958, 2004) as i32,
        rng.range(1, 12) as u32,
        rng.range(1, 28) as u32,
    )
    .unwrap_or_default();
    let external_id = format!("1C-{:05}", 10_000 + n);
    let mut args = json!({
        "full_name": format!("{last} {first} {patronymic}"),
        "phone": phone,
        "birthday": birthday.to_string(),
        "gender": if male { "male" } else { "female" },
        "source": *rng.pick(SOURCES),
        "consents": {
            "sms": rng.chance(0.8),
            "call": rng.chance(0.35),
            "messenger": rng.chance(0.5),
        },
        "issue_card": rng.chance(0.7),
        "external_id": external_id,
        "import": true,
        "at": moscow(registered, rng.range(9, 19) as u32, rng.range(0, 59) as u32),
    });
    if rng.chance(0.45) {
        args["email"] = json!(format!(
            "{}.{}{}@{}",
            translit(first),
            translit(&last),
            rng.range(1, 99),
            rng.pick(MAIL_DOMAINS)
        ));
        args["consents"]["email"] = json!(rng.chance(0.6));
    }
    NewCustomer {
        args,
        external_id,
        registered,
        birthday,
    }
}

/// Register the old system's customer number `n` and their car.
fn register_private(
    engine: &Engine,
    rng: &mut Rng,
    n: usize,
    phones: &mut HashSet<String>,
    span: (NaiveDate, NaiveDate),
) -> Result<Client, Failure> {
    let customer = private_customer(rng, n, phones, span);
    let registered = customer.registered;
    let reply = ok(engine, "customer.register", customer.args)?;
    let id = reply["customer"]["id"].as_u64().unwrap_or_default();
    let car = add_car(
        engine,
        rng,
        id,
        registered,
        &moscow(registered, 10, 0),
        false,
    )?;
    Ok(Client {
        id,
        external_id: Some(customer.external_id),
        registered,
        birthday: Some(customer.birthday),
        tyres_here: rng.chance(0.65),
        redeems: rng.chance(0.45),
        car,
        taxi: false,
        last_year_spend: 0.0,
        last_order: None,
        stored_set: None,
        brake_rec: None,
    })
}

/// A taxi firm on the corporate agreement, its drivers and their cars (registered to the
/// firm). Returns how many drivers it has.
fn register_fleet(
    engine: &Engine,
    rng: &mut Rng,
    private_customers: usize,
    start: NaiveDate,
    clients: &mut Vec<Client>,
) -> Result<usize, Failure> {
    let fleet_since = start - Duration::days(200);
    let company = ok(
        engine,
        "customer.register",
        json!({
            "full_name": "ООО «Такси Южный»", "phone": "+74957771020",
            "email": "park@taxi-yuzhny.ru", "kind": "corporate", "agreement": "taxi",
            "source": "Договор", "external_id": "1C-K-0042", "tags": ["taxi"], "import": true,
            "at": moscow(fleet_since, 11, 0),
        }),
    )?["customer"]["id"]
        .as_u64()
        .unwrap_or_default();
    let drivers = (private_customers / 300).clamp(2, 12);
    for d in 0..drivers {
        let name = format!(
            "{} {} {}",
            rng.pick(SURNAMES),
            rng.pick(MALE_NAMES),
            rng.pick(PATRONYMICS).0
        );
        let id = ok(
            engine,
            "customer.register",
            json!({
                "full_name": name, "phone": format!("+7926{:07}", 4_400_000 + d * 1_317),
                "company": { "id": company }, "gender": "male", "consents": { "sms": true },
                "import": true, "at": moscow(fleet_since, 11, 30),
            }),
        )?["customer"]["id"]
            .as_u64()
            .unwrap_or_default();
        let at = moscow(fleet_since, 10, 0);
        let car = add_car(engine, rng, company, fleet_since, &at, true)?;
        clients.push(Client {
            id,
            external_id: None,
            registered: fleet_since,
            birthday: None,
            tyres_here: true,
            redeems: false,
            car,
            taxi: true,
            last_year_spend: 0.0,
            last_order: None,
            stored_set: None,
            brake_rec: None,
        });
    }
    Ok(drivers)
}

/// The history's work orders on their way to `visit.import`, a batch at a time.
struct Importer<'a> {
    engine: &'a Engine,
    /// When the migration ran (every batch carries it).
    at: String,
    batch: Vec<Value>,
    /// Visits imported and the seconds `visit.import` took.
    visits: u64,
    seconds: f64,
}

impl<'a> Importer<'a> {
    fn new(engine: &'a Engine, at: String) -> Importer<'a> {
        Importer {
            engine,
            at,
            batch: Vec::with_capacity(IMPORT_BATCH),
            visits: 0,
            seconds: 0.0,
        }
    }

    fn push(&mut self, visit: Value) -> Result<(), Failure> {
        self.batch.push(visit);
        if self.batch.len() == IMPORT_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Failure> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let visits = std::mem::take(&mut self.batch);
        let began = Instant::now();
        let result = ok(
            self.engine,
            "visit.import",
            json!({ "visits": visits, "at": self.at }),
        )?;
        self.seconds += began.elapsed().as_secs_f64();
        self.visits += result["imported"].as_u64().unwrap_or(0);
        Ok(())
    }
}

/// What the history's import took.
struct Imported {
    visits: u64,
    seconds: f64,
}

/// The years of work orders from `start` to the day before `today`, day by day, with what
/// the old system kept besides them (tyre sets now, recommendations and feedback in
/// `shop.pending`, recorded once the visits are in).
fn import_history(
    engine: &Engine,
    shop: &mut Shop,
    start: NaiveDate,
    today: NaiveDate,
) -> Result<Imported, Failure> {
    let mut importer = Importer::new(engine, moscow(today, 7, 0));
    let mut orders = 0u64;
    let mut day = start;
    while day < today {
        for client in shop.clients.iter_mut() {
            if client.registered > day {
                continue;
            }
            let Some(lines) = todays_work(&mut shop.shop_rng, client, day) else {
                continue;
            };
            orders += 1;
            let order_id = format!("ЗН-{orders:07}");
            let visit = work_order(&mut shop.shop_rng, client, &order_id, day, today, lines);
            let past = PastOrder {
                order_id: &order_id,
                day,
                today,
                visit: &visit,
            };
            keep_care_records(engine, &mut shop.care_rng, &mut shop.pending, client, &past)?;
            importer.push(visit)?;
        }
        day += Duration::days(1);
    }
    importer.flush()?;
    Ok(Imported {
        visits: importer.visits,
        seconds: importer.seconds,
    })
}

/// The basket of a client who comes on `day`, if they come.
fn todays_work(rng: &mut Rng, client: &mut Client, day: NaiveDate) -> Option<Vec<Value>> {
    match needs(rng, client, day) {
        Some(lines) => Some(lines),
        // A new customer usually comes with something to do.
        None if client.registered == day => {
            let mut lines = Vec::new();
            oil_change(rng, &mut lines);
            client.car.last_oil = client.car.km;
            Some(lines)
        }
        None => None,
    }
}

/// What a client needs today, if anything, as basket lines.
fn needs(rng: &mut Rng, client: &mut Client, day: NaiveDate) -> Option<Vec<Value>> {
    let car = &mut client.car;
    car.km += car.km_per_day * (0.6 + 0.8 * (rng.below(1000) as f64 / 1000.0));
    let mut lines = Vec::new();
    seasonal_tyres(rng, client.tyres_here, car, day, &mut lines);
    let since_oil = car.km - car.last_oil;
    if (since_oil >= car.oil_every && rng.chance(0.12))
        || (!lines.is_empty() && since_oil >= 0.85 * car.oil_every)
    {
        if car.km - car.last_big >= 30_000.0 {
            big_service(rng, &mut lines);
            car.last_big = car.km;
        } else {
            oil_change(rng, &mut lines);
        }
        car.last_oil = car.km;
    }
    if car.km - car.last_brakes >= car.brakes_every && (rng.chance(0.1) || !lines.is_empty()) {
        brake_pads(rng, &mut lines);
        car.last_brakes = car.km;
    }
    if lines.is_empty() && rng.chance(if client.taxi { 0.01 } else { 0.004 }) {
        small_job(rng, &mut lines);
    }
    (!lines.is_empty()).then_some(lines)
}

/// Seasonal tyres: summer in late March–April, winter from mid-October, for those who
/// change them here.
fn seasonal_tyres(
    rng: &mut Rng,
    tyres_here: bool,
    car: &mut Car,
    day: NaiveDate,
    lines: &mut Vec<Value>,
) {
    let (month, dom) = (day.month(), day.day());
    let summer_season = (month == 3 && dom >= 25) || month == 4;
    let winter_season = (month == 10 && dom >= 10) || month == 11;
    if tyres_here
        && ((summer_season && car.winter_on) || (winter_season && !car.winter_on))
        && rng.chance(if month == 4 || month == 11 {
            0.08
        } else {
            0.04
        })
    {
        let winter = winter_season;
        tyre_change(rng, car.tyre, lines, winter);
        car.winter_on = winter;
    }
}

/// The `visit.import` entry of a client's work order on `day`.
fn work_order(
    rng: &mut Rng,
    client: &mut Client,
    order_id: &str,
    day: NaiveDate,
    today: NaiveDate,
    lines: Vec<Value>,
) -> Value {
    client.car.km += rng.range(0, 40) as f64;
    if day >= today - Duration::days(365) {
        client.last_year_spend += lines
            .iter()
            .map(|l| dec(&l["qty"]) * dec(&l["unit_price"]))
            .sum::<f64>();
    }
    let mut visit = json!({
        "order_id": order_id,
        "customer": { "id": client.id },
        "vehicle": { "id": client.car.id },
        "mileage": client.car.km.round() as u32,
        "at": moscow(day, rng.range(9, 19) as u32, rng.range(0, 59) as u32),
        "branch": if client.taxi || rng.chance(0.7) { BRANCHES[0] } else { BRANCHES[1] },
        "advisor": *rng.pick(ADVISORS),
        "lines": lines,
    });
    // The old system gave the taxi firm its agreement discount on labour.
    if client.taxi
        && let Some(lines) = visit["lines"].as_array_mut()
    {
        for line in lines.iter_mut().filter(|l| l["kind"] == "labor") {
            let gross = dec(&line["qty"]) * dec(&line["unit_price"]);
            line["discount"] = json!(format!("{:.2}", gross * 0.15));
        }
    }
    client.last_order = Some((order_id.to_string(), day));
    visit
}

/// A work order of the history, as the care records see it.
struct PastOrder<'a> {
    order_id: &'a str,
    day: NaiveDate,
    today: NaiveDate,
    visit: &'a Value,
}

/// What the old system kept about a work order besides the order itself: the tyre sets
/// on the racks, the recommendations declined, the answer to the quality call.
fn keep_care_records(
    engine: &Engine,
    rng: &mut Rng,
    pending: &mut care::Pending,
    client: &mut Client,
    order: &PastOrder,
) -> Result<(), Failure> {
    let at = order.visit["at"].as_str().unwrap_or_default().to_string();
    let lines = order.visit["lines"].as_array().cloned().unwrap_or_default();
    // The set taken off at a seasonal change goes on the racks when the order has
    // the storage line; the set stored there comes back at the same change.
    // (The taxi firm keeps its drivers' sets itself.)
    if care::has_sku(&lines, "LAB-TYRE") && !client.taxi {
        if let Some(set) = client.stored_set.take() {
            ok(engine, "storage.checkout", json!({ "id": set, "at": at }))?;
            pending.sets_checked_out += 1;
        }
        if care::has_sku(&lines, "TYRE-STORE") {
            client.stored_set = Some(care::check_in(
                engine,
                rng,
                client.id,
                client.car.id,
                client.car.tyre,
                !client.car.winter_on,
                &at,
            )?);
            pending.sets_checked_in += 1;
        }
    }
    let (day, today) = (order.day, order.today);
    if day >= today - Duration::days(care::RECOMMENDATIONS_DAYS) {
        let worn = (client.car.km - client.car.last_brakes) / client.car.brakes_every;
        care::recommend(
            rng,
            pending,
            &mut client.brake_rec,
            &lines,
            order.order_id,
            &at,
            worn,
        );
    }
    if day >= today - Duration::days(care::FEEDBACK_DAYS) && day + Duration::days(2) < today {
        care::feedback(rng, pending, order.order_id, day);
    }
    Ok(())
}

/// Opening balances from the old programme: about 5% of last year's spend, less what
/// was spent, as one lot per customer valid for a year. Returns (balances, points).
fn opening_balances(
    engine: &Engine,
    rng: &mut Rng,
    clients: &[Client],
    today: NaiveDate,
) -> Result<(u64, f64), Failure> {
    let mut balances = 0u64;
    let mut total = 0.0;
    for client in clients
        .iter()
        .filter(|c| !c.taxi && c.last_year_spend > 0.0)
    {
        let points =
            (client.last_year_spend * 0.05 * (0.3 + 0.7 * rng.below(1000) as f64 / 1000.0)).floor();
        if points < 1.0 {
            continue;
        }
        let external = client.external_id.clone().unwrap_or_default();
        ok(
            engine,
            "points.adjust",
            json!({ "customer": { "id": client.id }, "points": format!("{points}"),
                    "reason": format!("opening balance (import {external})"), "operator": "import",
                    "expiry_days": 365, "at": moscow(today, 7, 30) }),
        )?;
        balances += 1;
        total += points;
    }
    Ok((balances, total))
}

/// The plugin modules' directory: `--plugins`, else `target/wasm32-unknown-unknown/release`
/// beside the directory this binary was built into.
fn plugin_dir(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = given {
        return Some(dir.to_path_buf());
    }
    let exe = std::env::current_exe().ok()?;
    let target = exe.parent()?.parent()?;
    Some(target.join("wasm32-unknown-unknown").join("release"))
}

/// Install the example plugins that are built; returns (installed, note).
fn install_plugins(engine: &Engine, dir: Option<&Path>) -> Result<(Vec<String>, String), Failure> {
    let Some(dir) = plugin_dir(dir) else {
        return Ok((Vec::new(), "no plugin directory".into()));
    };
    let mut installed = Vec::new();
    let mut missing = Vec::new();
    for (file, name, config) in PLUGINS {
        let module = dir.join(file);
        if !module.exists() {
            missing.push(*file);
            continue;
        }
        let config: Value = serde_json::from_str(config)
            .map_err(|err| Failure::new(ErrorCode::Internal, format!("{name} config: {err}")))?;
        ok(
            engine,
            "plugin.install",
            json!({ "name": name, "path": module.to_string_lossy(), "config": config,
                    "on_error": "skip" }),
        )?;
        installed.push(name.to_string());
    }
    let note = if missing.is_empty() {
        format!("from {}", dir.display())
    } else if installed.is_empty() {
        format!(
            "none: {} has no plugin modules (build them with `make plugins`)",
            dir.display()
        )
    } else {
        format!("{} missing in {}", missing.join(", "), dir.display())
    };
    Ok((installed, note))
}
