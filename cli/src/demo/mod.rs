//! `pitstop demo [DIR]`: a Moscow service station moving to Pitstop, then its first day.
//!
//! The shop's old system gives a few thousand customers (ФИО, phones, birthdays,
//! consents, cards) with cars common in Russia (valid VINs, Russian plates), a taxi firm
//! on a corporate agreement, and three years of work orders — oil changes, ТО, seasonal
//! tyre changes, brakes, small jobs — generated from each car's mileage and the season.
//! They are migrated the way `pitstop import` migrates a real shop: customers without a
//! welcome bonus, history through `visit.import` in import durability (tiers follow from
//! it), opening balances as dated lots. The example plugins are installed when `make
//! plugins` has built them. Then the store is reopened durable and a day of checkouts
//! runs through `checkout.commit`, printing what the cashier sees (the quote, the
//! receipt, the customer's card) and what the owner sees (reports). Deterministic: the
//! same seed and sizes give the same shop and the same figures.

mod care;
mod data;
mod summary;

use crate::engage;
use crate::locale::Locale;
use crate::output::cell;
use crate::{Failure, Outcome};
use chrono::{Datelike, Duration, NaiveDate};
use data::*;
use pitstop_core::{DurabilityOption, Engine, EngineOptions, Program};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The demo's "today": the first day on Pitstop (history ends the day before).
const TODAY: (i32, u32, u32) = (2025, 12, 1);
/// Visits per `visit.import` call.
const IMPORT_BATCH: usize = 1000;
const ADVISORS: &[&str] = &["Кравцов Д.", "Садыков Р.", "Белоусова А.", "Шевчук И."];
const BRANCHES: &[&str] = &["Варшавское ш., 118", "Химки, Ленинградская ул., 27"];

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

/// Sizes and seed of the generated shop.
pub struct Options {
    /// Private customers.
    pub customers: usize,
    /// Years of history.
    pub years: u32,
    /// Seed of everything random.
    pub seed: u64,
    /// Where the plugin modules are (default: beside this binary's target directory).
    pub plugins: Option<PathBuf>,
}

struct Car {
    id: u64,
    tyre: u32,
    km: f64,
    km_per_day: f64,
    oil_every: f64,
    last_oil: f64,
    last_big: f64,
    last_brakes: f64,
    brakes_every: f64,
    /// Which season's tyres are on: true = winter.
    winter_on: bool,
}

struct Client {
    id: u64,
    external_id: Option<String>,
    registered: NaiveDate,
    birthday: Option<NaiveDate>,
    /// Comes to this shop for seasonal tyre changes.
    tyres_here: bool,
    /// Pays with points when it can.
    redeems: bool,
    car: Car,
    taxi: bool,
    /// Spend in the last year of history (for the opening balance).
    last_year_spend: f64,
    /// The latest work order of the history and its day.
    last_order: Option<(String, NaiveDate)>,
    /// The set of tyres on the shop's racks, if any.
    stored_set: Option<u64>,
    /// The open brake pads recommendation (index into the pending ones).
    brake_rec: Option<usize>,
}

fn fail(op: &str, err: pitstop_core::Error) -> Failure {
    let mut failure = Failure::from(err);
    failure.message = format!("{op}: {}", failure.message);
    failure
}

fn ok(engine: &Engine, op: &str, args: Value) -> Result<Value, Failure> {
    engine.execute(op, args).map_err(|err| fail(op, err))
}

fn date(ymd: (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(ymd.0, ymd.1, ymd.2).unwrap_or_default()
}

/// A Moscow wall-clock time on `day` (UTC+3 all year) as an RFC 3339 instant.
fn moscow(day: NaiveDate, hour: u32, minute: u32) -> String {
    format!("{day}T{hour:02}:{minute:02}:00+03:00")
}

fn dec(value: &Value) -> f64 {
    match value {
        Value::String(s) => s.parse().unwrap_or(0.0),
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Remove a previous demo store at `path`, refusing to delete anything else.
fn remove_previous(path: &Path) -> Result<(), Failure> {
    if !path.exists() {
        return Ok(());
    }
    let is_store = path.join("db").exists() && path.join("conf").exists();
    let is_empty = std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none());
    if !(is_store || is_empty) {
        return Err(Failure::new(
            "already_exists",
            format!(
                "{} exists and is not a Pitstop store; refusing to remove it",
                path.display()
            ),
        ));
    }
    std::fs::remove_dir_all(path)
        .map_err(|err| Failure::new("io", format!("cannot remove {}: {err}", path.display())))
}

/// What a client needs today, if anything, as basket lines.
fn needs(rng: &mut Rng, client: &mut Client, day: NaiveDate) -> Option<Vec<Value>> {
    let car = &mut client.car;
    car.km += car.km_per_day * (0.6 + 0.8 * (rng.below(1000) as f64 / 1000.0));
    let mut lines = Vec::new();
    // Seasonal tyres: summer in late March–April, winter from mid-October.
    let (month, dom) = (day.month(), day.day());
    let summer_season = (month == 3 && dom >= 25) || month == 4;
    let winter_season = (month == 10 && dom >= 10) || month == 11;
    if client.tyres_here
        && ((summer_season && car.winter_on) || (winter_season && !car.winter_on))
        && rng.chance(if month == 4 || month == 11 {
            0.08
        } else {
            0.04
        })
    {
        let winter = winter_season;
        tyre_change(rng, car.tyre, &mut lines, winter);
        car.winter_on = winter;
    }
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

fn add_car(
    engine: &Engine,
    rng: &mut Rng,
    owner: u64,
    on: NaiveDate,
    at: &str,
    taxi: bool,
) -> Result<Car, Failure> {
    let total: u32 = MODELS.iter().map(|m| m.weight).sum();
    let mut roll = rng.below(u64::from(total)) as u32;
    let model = MODELS
        .iter()
        .find(|m| {
            if roll < m.weight {
                true
            } else {
                roll -= m.weight;
                false
            }
        })
        .unwrap_or(&MODELS[0]);
    let model = if taxi { rng.pick(&MODELS[3..5]) } else { model };
    let year = rng.range(i64::from(model.years.0), i64::from(model.years.1)) as i32;
    let year = year.min(on.year());
    let age = f64::from((on.year() - year).max(0)) + 0.5;
    let km_per_day = if taxi {
        rng.range(220, 320) as f64
    } else {
        rng.range(25, 75) as f64
    };
    let km = (age * km_per_day * 365.0 * 0.8).round();
    // A plate may repeat by chance: draw again, as the registry would.
    let mut reply = None;
    for _ in 0..5 {
        let attempt = engine.execute(
            "vehicle.add",
            json!({
                "customer": { "id": owner },
                "vin": make_vin(rng, model, year),
                "plate": make_plate(rng),
                "make": model.make,
                "model": model.model,
                "year": year,
                "usage": if taxi { "commercial" } else { "personal" },
                "mileage": km as u32,
                "at": at,
            }),
        );
        match attempt {
            Ok(value) => {
                reply = Some(value);
                break;
            }
            Err(err) if err.code == pitstop_core::ErrorCode::AlreadyExists => continue,
            Err(err) => return Err(fail("vehicle.add", err)),
        }
    }
    let reply = reply.ok_or_else(|| Failure::new("internal", "no free plate after 5 draws"))?;
    let oil_every = if taxi { 8_000.0 } else { 10_000.0 };
    Ok(Car {
        id: reply["id"].as_u64().unwrap_or_default(),
        tyre: model.tyre,
        km,
        km_per_day,
        oil_every,
        last_oil: km - rng.range(0, oil_every as i64) as f64,
        last_big: km - rng.range(0, 30_000) as f64,
        last_brakes: km - rng.range(0, 35_000) as f64,
        brakes_every: rng.range(30_000, 45_000) as f64,
        winter_on: true,
    })
}

fn register_private(
    engine: &Engine,
    rng: &mut Rng,
    n: usize,
    phones: &mut HashSet<String>,
    start: NaiveDate,
    today: NaiveDate,
) -> Result<Client, Failure> {
    let male = rng.chance(0.78);
    let surname = *rng.pick(SURNAMES);
    let (first, patronymic, last) = if male {
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
    };
    let phone = loop {
        let phone = format!(
            "+79{:02}{:07}",
            rng.pick(&[3, 5, 6, 9, 15, 16, 25, 26, 36, 52, 60, 63, 67, 77, 85, 99]),
            rng.below(10_000_000)
        );
        if phones.insert(phone.clone()) {
            break phone;
        }
    };
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
    let full_name = format!("{last} {first} {patronymic}");
    let external_id = format!("1C-{:05}", 10_000 + n);
    let mut args = json!({
        "full_name": full_name,
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
    let reply = ok(engine, "customer.register", args)?;
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
        external_id: Some(external_id),
        registered,
        birthday: Some(birthday),
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
            .map_err(|err| Failure::new("internal", format!("{name} config: {err}")))?;
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

/// What the demo measured and did, for the summary.
struct Loaded {
    customers: usize,
    vehicles: usize,
    visits: u64,
    import_seconds: f64,
    opening_balances: u64,
    opening_points: f64,
    plugins: Vec<String>,
    plugin_note: String,
    load_seconds: f64,
}

/// Run the demo.
pub fn run(dir: &Path, options: &Options, json: bool) -> Outcome {
    if options.customers == 0 || options.customers > 200_000 {
        return Err(Failure::new(
            "invalid_argument",
            "--customers must be 1..=200000",
        ));
    }
    if options.years == 0 || options.years > 10 {
        return Err(Failure::new("invalid_argument", "--years must be 1..=10"));
    }
    remove_previous(dir)?;
    let started = Instant::now();
    let today = date(TODAY);
    let start = today
        .with_year(today.year() - options.years as i32)
        .unwrap_or(today - Duration::days(365 * i64::from(options.years)));
    let mut rng = Rng(options.seed);

    // ---- Migration, in import durability: synced once at the end.
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
        clients.push(register_private(
            &engine,
            &mut rng,
            n,
            &mut phones,
            start,
            today,
        )?);
    }
    // A taxi firm on the corporate agreement, its drivers and their cars.
    let fleet_since = start - Duration::days(200);
    let company = ok(
        &engine,
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
    let drivers = (options.customers / 300).clamp(2, 12);
    for d in 0..drivers {
        let name = format!(
            "{} {} {}",
            rng.pick(SURNAMES),
            rng.pick(MALE_NAMES),
            rng.pick(PATRONYMICS).0
        );
        let id = ok(
            &engine,
            "customer.register",
            json!({
                "full_name": name, "phone": format!("+7926{:07}", 4_400_000 + d * 1_317),
                "company": { "id": company }, "gender": "male", "consents": { "sms": true },
                "import": true, "at": moscow(fleet_since, 11, 30),
            }),
        )?["customer"]["id"]
            .as_u64()
            .unwrap_or_default();
        let car = add_car(
            &engine,
            &mut rng,
            company,
            fleet_since,
            &moscow(fleet_since, 10, 0),
            true,
        )?;
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

    // Three years of work orders, day by day, imported a thousand at a time.
    let migration_at = moscow(today, 7, 0);
    let mut shop_rng = Rng(options.seed ^ 0xD1CE);
    let mut batch: Vec<Value> = Vec::with_capacity(IMPORT_BATCH);
    let mut orders = 0u64;
    let mut import_time = 0.0;
    let mut imported = 0u64;
    let mut flush = |batch: &mut Vec<Value>| -> Result<(), Failure> {
        if batch.is_empty() {
            return Ok(());
        }
        let visits = std::mem::take(batch);
        let at = Instant::now();
        let result = ok(
            &engine,
            "visit.import",
            json!({ "visits": visits, "at": migration_at }),
        )?;
        import_time += at.elapsed().as_secs_f64();
        imported += result["imported"].as_u64().unwrap_or(0);
        Ok(())
    };
    let year_ago = today - Duration::days(365);
    // What the old system kept besides work orders: its own generator, so the history's
    // figures do not depend on it.
    let mut care_rng = Rng(options.seed ^ 0xCA4E);
    let mut pending = care::Pending::default();
    let mut day = start;
    while day < today {
        for client in clients.iter_mut() {
            if client.registered > day {
                continue;
            }
            let lines = match needs(&mut shop_rng, client, day) {
                Some(lines) => lines,
                // A new customer usually comes with something to do.
                None if client.registered == day => {
                    let mut lines = Vec::new();
                    oil_change(&mut shop_rng, &mut lines);
                    client.car.last_oil = client.car.km;
                    lines
                }
                None => continue,
            };
            orders += 1;
            client.car.km += shop_rng.range(0, 40) as f64;
            if day >= year_ago {
                client.last_year_spend += lines
                    .iter()
                    .map(|l| dec(&l["qty"]) * dec(&l["unit_price"]))
                    .sum::<f64>();
            }
            let mut visit = json!({
                "order_id": format!("ЗН-{orders:07}"),
                "customer": { "id": client.id },
                "vehicle": { "id": client.car.id },
                "mileage": client.car.km.round() as u32,
                "at": moscow(day, shop_rng.range(9, 19) as u32, shop_rng.range(0, 59) as u32),
                "branch": if client.taxi || shop_rng.chance(0.7) { BRANCHES[0] } else { BRANCHES[1] },
                "advisor": *shop_rng.pick(ADVISORS),
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
            let order_id = format!("ЗН-{orders:07}");
            let at = visit["at"].as_str().unwrap_or_default().to_string();
            let lines = visit["lines"].as_array().cloned().unwrap_or_default();
            client.last_order = Some((order_id.clone(), day));
            // The set taken off at a seasonal change goes on the racks when the order has
            // the storage line; the set stored there comes back at the same change.
            // (The taxi firm keeps its drivers' sets itself.)
            if care::has_sku(&lines, "LAB-TYRE") && !client.taxi {
                if let Some(set) = client.stored_set.take() {
                    ok(&engine, "storage.checkout", json!({ "id": set, "at": at }))?;
                    pending.sets_checked_out += 1;
                }
                if care::has_sku(&lines, "TYRE-STORE") {
                    client.stored_set = Some(care::check_in(
                        &engine,
                        &mut care_rng,
                        client.id,
                        client.car.id,
                        client.car.tyre,
                        !client.car.winter_on,
                        &at,
                    )?);
                    pending.sets_checked_in += 1;
                }
            }
            if day >= today - Duration::days(care::RECOMMENDATIONS_DAYS) {
                let worn = (client.car.km - client.car.last_brakes) / client.car.brakes_every;
                care::recommend(
                    &mut care_rng,
                    &mut pending,
                    &mut client.brake_rec,
                    &lines,
                    &order_id,
                    &at,
                    worn,
                );
            }
            if day >= today - Duration::days(care::FEEDBACK_DAYS) && day + Duration::days(2) < today
            {
                care::feedback(&mut care_rng, &mut pending, &order_id, day);
            }
            batch.push(visit);
            if batch.len() == IMPORT_BATCH {
                flush(&mut batch)?;
            }
        }
        day += Duration::days(1);
    }
    flush(&mut batch)?;
    let recorded = care::record(&engine, &pending)?;

    // Opening balances from the old programme: about 5% of last year's spend, less what
    // was spent, as one lot per customer valid for a year.
    let mut opening_balances = 0u64;
    let mut opening_points = 0.0;
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
            &engine,
            "points.adjust",
            json!({ "customer": { "id": client.id }, "points": format!("{points}"),
                    "reason": format!("opening balance (import {external})"), "operator": "import",
                    "expiry_days": 365, "at": moscow(today, 7, 30) }),
        )?;
        opening_balances += 1;
        opening_points += points;
    }
    let (plugins, plugin_note) = install_plugins(&engine, options.plugins.as_deref())?;
    engine.close()?;
    drop(engine);
    let load_seconds = started.elapsed().as_secs_f64();
    let loaded = Loaded {
        customers: clients.len() + 1,
        vehicles: clients.len(),
        visits: imported,
        import_seconds: import_time,
        opening_balances,
        opening_points,
        plugins,
        plugin_note,
        load_seconds,
    };

    // ---- The first day on Pitstop, durable: the way a till runs.
    let engine = Engine::open(dir, EngineOptions::default())?;
    ok(
        &engine,
        "jobs.daily",
        json!({ "date": today.to_string(), "at": moscow(today, 0, 5) }),
    )?;
    let birthday_soon = |c: &Client| {
        c.birthday.is_some_and(|b| {
            (0..4).any(|d| {
                let day = today + Duration::days(d);
                (b.month(), b.day()) == (day.month(), day.day())
            })
        })
    };
    // The first customer at the till: the best customer of last year among those with a
    // birthday this week (the screen shows it), else the best customer of last year.
    let best = |candidates: &mut dyn Iterator<Item = &Client>| {
        candidates
            .filter(|c| !c.taxi && c.last_year_spend > 0.0)
            .max_by(|a, b| {
                a.last_year_spend
                    .total_cmp(&b.last_year_spend)
                    .then(b.id.cmp(&a.id))
            })
            .map(|c| c.id)
    };
    let first = best(&mut clients.iter().filter(|c| birthday_soon(c)))
        .or_else(|| best(&mut clients.iter()))
        .or_else(|| clients.first().map(|c| c.id))
        .unwrap_or_default();
    let mut receipts: Vec<Value> = Vec::new();
    let order_id = |n: usize| format!("POS-{}-{:04}", today.format("%Y%m%d"), n + 1);

    // The first customer's car: the advisor's last recommendation (unless the pads one is
    // open already), and the pads ordered for it, arrived yesterday.
    if let Some(client) = clients.iter().find(|c| c.id == first) {
        if client.brake_rec.is_none() {
            let mut args = json!({ "work": "Замена передних тормозных колодок",
                "urgency": "soon", "price": "5200", "note": "остаток накладок 4 мм" });
            match &client.last_order {
                Some((order, day)) => {
                    args["order_id"] = json!(order);
                    args["at"] = json!(moscow(*day, 18, 10));
                }
                None => {
                    args["customer"] = json!({ "id": client.id });
                    args["vehicle"] = json!({ "id": client.car.id });
                    args["at"] = json!(moscow(today - Duration::days(40), 18, 10));
                }
            }
            ok(&engine, "recommendation.add", args)?;
        }
        let other = clients
            .iter()
            .find(|c| c.id != first && !c.taxi)
            .map(|c| (c.id, c.car.id));
        care::special_orders(&engine, today, (client.id, client.car.id), other)?;
    }
    // The first customer brings the summer set to leave on the racks for the winter.
    if let Some(client) = clients.iter_mut().find(|c| c.id == first)
        && client.stored_set.is_none()
        && client.car.winter_on
        && !client.taxi
    {
        client.stored_set = Some(care::check_in(
            &engine,
            &mut care_rng,
            client.id,
            client.car.id,
            client.car.tyre,
            false,
            &moscow(today, 8, 55),
        )?);
    }
    // Before opening: the referral code of last year's best customer after the first, and
    // the SMS campaign to those who have not come for four months.
    let referrer = clients
        .iter()
        .filter(|c| !c.taxi && c.id != first)
        .max_by(|a, b| {
            a.last_year_spend
                .total_cmp(&b.last_year_spend)
                .then(b.id.cmp(&a.id))
        })
        .map(|c| c.id)
        .unwrap_or(first);
    let code = ok(
        &engine,
        "referral.code",
        json!({ "customer": { "id": referrer }, "at": moscow(today, 7, 55) }),
    )?["code"]
        .clone();
    let (campaign_id, notified) = care::campaign(&engine, today)?;

    // 08:40: a friend of the referrer comes with the code, registers, and books a ТО-2.
    let friend_phone = loop {
        let phone = format!("+7985{:07}", care_rng.below(10_000_000));
        if phones.insert(phone.clone()) {
            break phone;
        }
    };
    let surname = *care_rng.pick(SURNAMES);
    let friend = ok(
        &engine,
        "customer.register",
        json!({ "full_name": format!("{} {} {}", feminine(surname),
                    care_rng.pick(FEMALE_NAMES), care_rng.pick(PATRONYMICS).1),
                "phone": friend_phone, "gender": "female", "source": "Рекомендация друга",
                "consents": { "sms": true }, "issue_card": true, "referral_code": code,
                "at": moscow(today, 8, 40) }),
    )?["customer"]["id"]
        .as_u64()
        .unwrap_or_default();
    let friend_car = add_car(
        &engine,
        &mut care_rng,
        friend,
        today,
        &moscow(today, 8, 42),
        false,
    )?;
    let mut lines = Vec::new();
    big_service(&mut care_rng, &mut lines);
    receipts.push(ok(
        &engine,
        "checkout.commit",
        json!({ "customer": { "id": friend }, "vehicle": { "id": friend_car.id },
                "mileage": friend_car.km.round() as u32, "lines": lines,
                "order_id": order_id(receipts.len()), "branch": BRANCHES[0],
                "advisor": ADVISORS[1], "at": moscow(today, 8, 50) }),
    )?);

    let every = (clients.len() / 30).max(1);
    let mut first_quote = None;
    let mut minute = 0u32;
    for (i, client) in clients.iter_mut().enumerate() {
        if client.id != first && i % every != every / 2 {
            continue;
        }
        let mut lines = Vec::new();
        if client.id == first {
            oil_change(&mut shop_rng, &mut lines);
            small_job(&mut shop_rng, &mut lines);
        } else if client.car.winter_on {
            small_job(&mut shop_rng, &mut lines);
        } else {
            tyre_change(&mut shop_rng, client.car.tyre, &mut lines, true);
            client.car.winter_on = true;
        }
        let at = moscow(today, 9 + minute / 60, minute % 60);
        minute = (minute + 17).min(10 * 60 - 1);
        // The winter set comes off the racks; the summer set goes on when paid for.
        if care::has_sku(&lines, "LAB-TYRE") && !client.taxi {
            if let Some(set) = client.stored_set.take() {
                ok(&engine, "storage.checkout", json!({ "id": set, "at": at }))?;
            }
            if care::has_sku(&lines, "TYRE-STORE") {
                client.stored_set = Some(care::check_in(
                    &engine,
                    &mut care_rng,
                    client.id,
                    client.car.id,
                    client.car.tyre,
                    false,
                    &at,
                )?);
            }
        }
        let mut args = json!({
            "customer": { "id": client.id }, "vehicle": { "id": client.car.id },
            "mileage": client.car.km.round() as u32 + 120, "lines": lines,
            "order_id": order_id(receipts.len()),
            "branch": BRANCHES[0], "advisor": *shop_rng.pick(ADVISORS), "at": at,
        });
        if client.id == first || (client.redeems && shop_rng.chance(0.7)) {
            args["redeem"] = json!("max");
        }
        if client.id == first {
            let mut quote_args = args.clone();
            if let Some(map) = quote_args.as_object_mut() {
                map.remove("order_id");
            }
            first_quote = Some(ok(&engine, "checkout.quote", quote_args)?);
        }
        receipts.push(ok(&engine, "checkout.commit", args)?);
    }
    // Late afternoon: a few of those the campaign reached come for an oil change.
    for id in notified.iter().take(3) {
        let Some(client) = clients.iter().find(|c| c.id == *id) else {
            continue;
        };
        let mut lines = Vec::new();
        oil_change(&mut care_rng, &mut lines);
        let at = moscow(today, 9 + minute / 60, minute % 60);
        minute = (minute + 17).min(10 * 60 - 1);
        receipts.push(ok(
            &engine,
            "checkout.commit",
            json!({ "customer": { "id": client.id }, "vehicle": { "id": client.car.id },
                    "mileage": client.car.km.round() as u32 + 200, "lines": lines,
                    "order_id": order_id(receipts.len()), "branch": BRANCHES[0],
                    "advisor": *care_rng.pick(ADVISORS), "at": at }),
        )?);
    }
    let first_receipt = receipts
        .iter()
        .find(|r| r["customer"].as_u64() == Some(first))
        .cloned();
    let card = ok(
        &engine,
        "customer.get",
        json!({ "customer": { "id": first }, "at": moscow(today, 21, 0) }),
    )?;

    let first_due = engage::due_of_customer(&engine, first, Some(today.to_string()))?;
    // The cashier saw the open recommendations for each car at the till.
    let advised: Vec<String> = receipts
        .iter()
        .flat_map(|r| r["messages"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["kind"] == "recommendation")
        .map(|m| cell(&m["text"]))
        .collect();
    let advised_receipts = receipts
        .iter()
        .filter(|r| {
            r["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["kind"] == "recommendation"))
        })
        .count();

    // ---- What the owner reads.
    let (_, due) = engage::due_all(
        &engine,
        &engage::Filter {
            date: Some(today.to_string()),
            ..engage::Filter::default()
        },
    )?;
    let due_by_kind = engage::by_kind(&due);
    let due_examples: Vec<Value> = due_by_kind
        .iter()
        .filter_map(|(kind, _)| due.iter().find(|r| cell(&r["kind"]) == *kind).cloned())
        .collect();
    let campaign = ok(
        &engine,
        "campaign.report",
        json!({ "campaign": campaign_id, "at": moscow(today, 21, 0) }),
    )?;
    let complaints = ok(
        &engine,
        "report.complaints",
        json!({ "from": (today - Duration::days(90)).to_string(), "to": today.to_string(),
                "at": moscow(today, 21, 0) }),
    )?;
    let referrals = engage::referrals_all(&engine, None)?;
    let from = (today - Duration::days(365)).with_day(1).unwrap_or(today);
    let activity = ok(
        &engine,
        "report.activity",
        json!({ "from": from.to_string(), "to": today.to_string(), "at": moscow(today, 21, 0) }),
    )?;
    let points = ok(
        &engine,
        "report.points",
        json!({ "at": moscow(today, 21, 0) }),
    )?;
    let program = engine.program();
    let mut tiers: BTreeMap<String, u64> = BTreeMap::new();
    let mut people: Vec<(f64, Value)> = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = ok(
            &engine,
            "customer.list",
            json!({ "after": after, "limit": 1000 }),
        )?;
        for c in page["items"].as_array().into_iter().flatten() {
            if c["kind"] == "private" && c["company"].is_null() {
                let tier = c["tier"]
                    .as_str()
                    .and_then(|code| program.as_deref().and_then(|p| p.tier(code)))
                    .map_or("—".to_string(), |t| t.name.clone());
                *tiers.entry(tier).or_default() += 1;
                people.push((dec(&c["total_spend"]), c.clone()));
            }
        }
        after = page["next_after"].clone();
        if after.is_null() {
            break;
        }
    }
    people.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1["id"].as_u64().cmp(&b.1["id"].as_u64()))
    });
    let check = ok(&engine, "store.check", json!({}))?;
    let stats = ok(&engine, "store.stats", json!({}))?;
    let problems = check["problems"].as_array().map_or(0, Vec::len);
    let today_net: f64 = receipts.iter().map(|r| dec(&r["totals"]["net"])).sum();
    let today_points: f64 = receipts.iter().map(|r| dec(&r["totals"]["points"])).sum();
    let rate = loaded.visits as f64 / loaded.import_seconds.max(1e-9);

    if json {
        let summary = json!({
            "store": dir.to_string_lossy(), "date": today,
            "customers": loaded.customers, "vehicles": loaded.vehicles,
            "history": { "from": start, "to": today - Duration::days(1), "visits": loaded.visits,
                "import_seconds": loaded.import_seconds, "visits_per_second": rate.round() },
            "opening_balances": loaded.opening_balances, "opening_points": loaded.opening_points,
            "plugins": loaded.plugins, "plugins_note": loaded.plugin_note,
            "today": { "checkouts": receipts.len(), "net": format!("{today_net:.2}"),
                       "points_paid": format!("{today_points:.2}") },
            "first_receipt": first_receipt, "customer": card,
            "customer_reminders": first_due,
            "cashier_messages": first_quote.as_ref().map(|q| q["messages"].clone()),
            "recommendation_messages": { "receipts": advised_receipts, "messages": advised.len() },
            "engagement": {
                "recommendations": recorded.recommendations,
                "recommendations_closed": recorded.closed,
                "feedback": recorded.feedback, "complaints": recorded.complaints,
                "sets_checked_in": pending.sets_checked_in,
                "sets_checked_out": pending.sets_checked_out,
            },
            "reminders": { "date": today, "total": due.len(),
                "by_kind": due_by_kind.iter().map(|(k, n)| (k.clone(), json!(n)))
                    .collect::<serde_json::Map<String, Value>>(),
                "examples": due_examples },
            "campaign": campaign, "complaints": complaints, "referrals": referrals,
            "tiers": tiers, "activity": activity, "points": points,
            "check": { "problems": problems }, "stats": stats,
            "seconds": started.elapsed().as_secs_f64(),
        });
        println!("{summary}");
    } else {
        let locale = program
            .as_deref()
            .map_or_else(Locale::default, Locale::of_program);
        let name = program.as_deref().map_or("", |p| p.name.as_str());
        let report = summary::Report {
            shop: name,
            dir,
            today,
            start,
            private_customers: options.customers,
            drivers,
            loaded: &loaded,
            rate,
            recorded: &recorded,
            pending: &pending,
            first_quote: first_quote.as_ref(),
            first_receipt: first_receipt.as_ref(),
            advised: &advised,
            advised_receipts,
            card: &card,
            first_due: &first_due,
            receipts: receipts.len(),
            today_net,
            today_points,
            activity: &activity,
            points: &points,
            due: due.len(),
            due_by_kind: &due_by_kind,
            due_examples: &due_examples,
            campaign: &campaign,
            campaign_id,
            complaints: &complaints,
            referrals: &referrals,
            tiers: &tiers,
            people: &people,
            stats: &stats,
            problems,
            seconds: started.elapsed().as_secs_f64(),
        };
        print!("{}", summary::text(&report, &locale));
    }
    if problems > 0 {
        let mut failure = Failure::new(
            "corrupted",
            format!("the demo store has {problems} problem(s)"),
        );
        failure.details = check["problems"].clone();
        return Err(failure);
    }
    Ok(0)
}
