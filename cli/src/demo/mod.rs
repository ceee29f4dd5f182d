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
mod dashboard;
mod data;
mod first_day;
mod migration;
mod owner;
mod second_branch;
mod summary;

use crate::locale::Locale;
use crate::{Failure, Outcome};
use chrono::{Datelike, Duration, NaiveDate};
use data::*;
use pitstop_core::{Engine, EngineOptions, ErrorCode};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The demo's "today": the first day on Pitstop (history ends the day before).
const TODAY: (i32, u32, u32) = (2025, 12, 1);
const ADVISORS: &[&str] = &["Кравцов Д.", "Садыков Р.", "Белоусова А.", "Шевчук И."];
const BRANCHES: &[&str] = &["Варшавское ш., 118", "Химки, Ленинградская ул., 27"];

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

/// The shop as the migration leaves it and the first day continues it: its customers and
/// the generators' state (the same seed must give the same day).
struct Shop {
    clients: Vec<Client>,
    /// Phones in use, so a new customer gets a free one.
    phones: HashSet<String>,
    /// Drivers of the taxi firm (they are among `clients`).
    drivers: usize,
    /// Draws the work orders.
    shop_rng: Rng,
    /// Draws what the shop keeps besides work orders (tyre sets, recommendations,
    /// feedback), so the history's figures do not depend on it.
    care_rng: Rng,
    pending: care::Pending,
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
    recorded: care::Recorded,
    load_seconds: f64,
}

/// A car model, drawn by the models' weights (a taxi is one of the fleet's models).
fn pick_model(rng: &mut Rng, taxi: bool) -> &'static Model {
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
    if taxi { rng.pick(&MODELS[3..5]) } else { model }
}

/// Register a new car of `owner` on `on` (at `at`); returns it with its service state.
fn add_car(
    engine: &Engine,
    rng: &mut Rng,
    owner: u64,
    on: NaiveDate,
    at: &str,
    taxi: bool,
) -> Result<Car, Failure> {
    let model = pick_model(rng, taxi);
    let year = rng.range(i64::from(model.years.0), i64::from(model.years.1)) as i32;
    let year = year.min(on.year());
    let age = f64::from((on.year() - year).max(0)) + 0.5;
    let km_per_day = if taxi {
        rng.range(220, 320) as f64
    } else {
        rng.range(25, 75) as f64
    };
    let km = (age * km_per_day * 365.0 * 0.8).round();
    let vehicle = json!({
        "customer": { "id": owner },
        "make": model.make,
        "model": model.model,
        "year": year,
        "usage": if taxi { "commercial" } else { "personal" },
        "mileage": km as u32,
        "at": at,
    });
    let id = register_vehicle(engine, rng, model, vehicle)?;
    let oil_every = if taxi { 8_000.0 } else { 10_000.0 };
    Ok(Car {
        id,
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

/// `vehicle.add` of `vehicle` with a drawn VIN and plate; returns the vehicle's id.
fn register_vehicle(
    engine: &Engine,
    rng: &mut Rng,
    model: &Model,
    mut vehicle: Value,
) -> Result<u64, Failure> {
    let year = vehicle["year"].as_i64().unwrap_or_default() as i32;
    // A plate may repeat by chance: draw again, as the registry would.
    for _ in 0..5 {
        vehicle["vin"] = json!(make_vin(rng, model, year));
        vehicle["plate"] = json!(make_plate(rng));
        match engine.execute("vehicle.add", vehicle.clone()) {
            Ok(reply) => return Ok(reply["id"].as_u64().unwrap_or_default()),
            Err(err) if err.code == ErrorCode::AlreadyExists => continue,
            Err(err) => return Err(fail("vehicle.add", err)),
        }
    }
    Err(Failure::new(
        ErrorCode::Internal,
        "no free plate after 5 draws",
    ))
}

/// Run the demo.
pub fn run(dir: &Path, options: &Options, json: bool) -> Outcome {
    if options.customers == 0 || options.customers > 200_000 {
        return Err(Failure::new(
            ErrorCode::InvalidArgument,
            "--customers must be 1..=200000",
        ));
    }
    if options.years == 0 || options.years > 10 {
        return Err(Failure::new(
            ErrorCode::InvalidArgument,
            "--years must be 1..=10",
        ));
    }
    if Engine::is_shared_store(dir) {
        refuse_existing(dir)?;
    } else {
        // A previous demo's store goes; anything else at the path is refused.
        Engine::remove_store(dir)?;
    }
    let started = Instant::now();
    let today = date(TODAY);
    let start = today
        .with_year(today.year() - options.years as i32)
        .unwrap_or(today - Duration::days(365 * i64::from(options.years)));
    let (mut shop, loaded) = migration::run(dir, options, (start, today), started)?;
    // The first day runs durable: the way a till runs.
    let engine = Engine::open(dir, EngineOptions::default())?;
    let day = first_day::run(&engine, &mut shop, today)?;
    let branch_day = second_branch::run(dir, &mut shop, today)?;
    let owner = owner::read(&engine, today, day.campaign_id)?;
    let dashboard = dashboard::write(&engine, dir, (start, today))?;
    let demo = Demo {
        dir,
        today,
        start,
        private_customers: options.customers,
        shop,
        loaded,
        day,
        branch_day,
        owner,
        dashboard,
        started,
    };
    if json {
        println!("{}", summary_json(&demo));
    } else {
        print_summary(&demo);
    }
    if demo.owner.problems > 0 {
        let mut failure = Failure::new(
            ErrorCode::Corrupted,
            format!("the demo store has {} problem(s)", demo.owner.problems),
        );
        failure.details = demo.owner.check["problems"].clone();
        return Err(failure);
    }
    Ok(0)
}

/// Everything the demo did and read, for the summary.
struct Demo<'a> {
    dir: &'a Path,
    today: NaiveDate,
    /// The first day of the history.
    start: NaiveDate,
    private_customers: usize,
    shop: Shop,
    loaded: Loaded,
    day: first_day::Day,
    /// The second branch's day (PostgreSQL stores only).
    branch_day: Option<second_branch::BranchDay>,
    owner: owner::OwnerView,
    /// The owner's dashboard, written beside the store.
    dashboard: dashboard::Written,
    started: Instant,
}

impl Demo<'_> {
    /// Visits imported per second.
    fn rate(&self) -> f64 {
        self.loaded.visits as f64 / self.loaded.import_seconds.max(1e-9)
    }

    /// Money taken and points paid at the till today.
    fn today_totals(&self) -> (f64, f64) {
        let receipts = &self.day.receipts;
        let net: f64 = receipts.iter().map(|r| dec(&r["totals"]["net"])).sum();
        let points: f64 = receipts.iter().map(|r| dec(&r["totals"]["points"])).sum();
        (net, points)
    }
}

/// The summary as one JSON object (`--json`).
fn summary_json(d: &Demo) -> Value {
    let (loaded, day, owner, pending) = (&d.loaded, &d.day, &d.owner, &d.shop.pending);
    let (today, (today_net, today_points)) = (d.today, d.today_totals());
    let recorded = &loaded.recorded;
    json!({
        "store": Engine::describe_store(d.dir), "date": today,
        "second_branch": d.branch_day.as_ref().map(second_branch::BranchDay::to_json),
        "customers": loaded.customers, "vehicles": loaded.vehicles,
        "history": { "from": d.start, "to": today - Duration::days(1), "visits": loaded.visits,
            "import_seconds": loaded.import_seconds, "visits_per_second": d.rate().round() },
        "opening_balances": loaded.opening_balances, "opening_points": loaded.opening_points,
        "plugins": loaded.plugins, "plugins_note": loaded.plugin_note,
        "today": { "checkouts": day.receipts.len(), "net": format!("{today_net:.2}"),
                   "points_paid": format!("{today_points:.2}") },
        "first_receipt": day.first_receipt, "customer": day.card,
        "customer_reminders": day.first_due,
        "cashier_messages": day.first_quote.as_ref().map(|q| q["messages"].clone()),
        "recommendation_messages": { "receipts": day.advised_receipts,
            "messages": day.advised.len() },
        "engagement": {
            "recommendations": recorded.recommendations,
            "recommendations_closed": recorded.closed,
            "feedback": recorded.feedback, "complaints": recorded.complaints,
            "sets_checked_in": pending.sets_checked_in,
            "sets_checked_out": pending.sets_checked_out,
        },
        "reminders": { "date": today, "total": owner.due.len(),
            "by_kind": owner.due_by_kind.iter().map(|(k, n)| (k.clone(), json!(n)))
                .collect::<serde_json::Map<String, Value>>(),
            "examples": owner.due_examples },
        "campaign": owner.campaign, "complaints": owner.complaints,
        "referrals": owner.referrals, "tiers": owner.tiers, "activity": owner.activity,
        "points": owner.points, "dashboard": d.dashboard.to_json(), "check": { "problems": owner.problems }, "stats": owner.stats,
        "seconds": d.started.elapsed().as_secs_f64(),
    })
}

/// The summary in the shop's language.
fn print_summary(d: &Demo) {
    let (loaded, day, owner) = (&d.loaded, &d.day, &d.owner);
    let (today_net, today_points) = d.today_totals();
    let program = owner.program.as_deref();
    let locale = program.map_or_else(Locale::default, Locale::of_program);
    let store = Engine::describe_store(d.dir);
    let report = summary::Report {
        shop: program.map_or("", |p| p.name.as_str()),
        dir: &store,
        today: d.today,
        start: d.start,
        private_customers: d.private_customers,
        drivers: d.shop.drivers,
        loaded,
        rate: d.rate(),
        recorded: &loaded.recorded,
        pending: &d.shop.pending,
        first_quote: day.first_quote.as_ref(),
        first_receipt: day.first_receipt.as_ref(),
        advised: &day.advised,
        advised_receipts: day.advised_receipts,
        card: &day.card,
        first_due: &day.first_due,
        receipts: day.receipts.len(),
        today_net,
        today_points,
        activity: &owner.activity,
        points: &owner.points,
        due: owner.due.len(),
        due_by_kind: &owner.due_by_kind,
        due_examples: &owner.due_examples,
        campaign: &owner.campaign,
        campaign_id: day.campaign_id,
        complaints: &owner.complaints,
        referrals: &owner.referrals,
        tiers: &owner.tiers,
        people: &owner.people,
        stats: &owner.stats,
        problems: owner.problems,
        dashboard: (&d.dashboard.file, d.dashboard.bytes, d.dashboard.seconds),
        seconds: d.started.elapsed().as_secs_f64(),
    };
    print!("{}", summary::text(&report, &locale));
    if let Some(branch_day) = &d.branch_day {
        print!("{}", branch_day.text(&locale));
    }
}

/// A demo on PostgreSQL needs a database (or schema) without a store: the demo never
/// deletes what a server holds.
fn refuse_existing(store: &Path) -> Result<(), Failure> {
    if Engine::store_exists(store) {
        return Err(Failure::new(
            ErrorCode::AlreadyExists,
            format!(
                "{} already holds a store; the demo needs an empty database (or schema)",
                Engine::describe_store(store)
            ),
        ));
    }
    Ok(())
}
