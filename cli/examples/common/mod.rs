//! What the benches share: a generated shop (customers registered with `import: true`,
//! one car each and a second car for every second customer: 1.5 cars per customer, the
//! full-size target's ratio) and three years of its history as `visit.import` batches,
//! generated one batch at a time (ten million visits held at once would not fit).

// Each bench uses its own part of this module.
#![allow(dead_code)]

use pitstop_core::{DurabilityOption, Engine, EngineOptions, Program};
use serde_json::{Value, json};
use std::path::Path;

/// The generated shop and how the bench runs.
pub struct Config {
    pub visits: usize,
    pub customers: usize,
    pub runs: usize,
    pub batch: usize,
    pub cache_mb: u64,
    pub lines: usize,
}

/// The number after `name` on the command line, or `default`.
pub fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} needs a number"))
        })
        .unwrap_or(default)
}

/// CPU seconds this process has used (Linux `/proc/self/stat`; 0 elsewhere): on a shared
/// machine, visits per CPU second say what the code costs, visits per second what the
/// machine gave it.
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// The VIN of customer `n`'s car.
pub fn vin(n: usize) -> String {
    format!("XTA{:014}", n)
}

/// The VIN of customer `n`'s second car (every second customer has one).
pub fn second_vin(n: usize) -> Option<String> {
    n.is_multiple_of(2).then(|| format!("XTB{:014}", n))
}

/// Open the store at `path` with the bench's cache and `durability`.
pub fn open(path: &Path, config: &Config, durability: DurabilityOption) -> Engine {
    Engine::open(
        path,
        EngineOptions {
            durability,
            cache_capacity_bytes: config.cache_mb * 1024 * 1024,
            ..EngineOptions::default()
        },
    )
    .expect("open")
}

/// Import the history batches; returns how many visits were imported.
pub fn import_history(engine: &Engine, work: impl IntoIterator<Item = Value>) -> u64 {
    work.into_iter()
        .map(|batch| {
            let result = engine.execute("visit.import", batch).expect("import");
            result["imported"].as_u64().unwrap_or(0)
        })
        .sum()
}

/// A fresh store in import durability with the example programme, the customers and
/// their cars.
pub fn setup(path: &Path, config: &Config) -> Engine {
    let _ = std::fs::remove_dir_all(path);
    let engine = open(path, config, DurabilityOption::Import);
    engine
        .execute(
            "program.set",
            json!({ "program": Program::example(), "at": "2020-01-01T09:00:00Z" }),
        )
        .expect("program");
    for n in 0..config.customers {
        engine
            .execute(
                "customer.register",
                json!({ "full_name": format!("Клиент {n}"), "external_id": format!("C{n}"),
                        "import": true, "at": "2020-01-02T09:00:00Z",
                        "phone": format!("+7 9{n:09}"), "consents": { "sms": true } }),
            )
            .expect("register");
        engine
            .execute(
                "vehicle.add",
                json!({ "customer": { "external_id": format!("C{n}") }, "vin": vin(n),
                        "make": "Lada", "model": "Vesta", "at": "2020-01-02T09:00:00Z" }),
            )
            .expect("vehicle");
        if let Some(vin) = second_vin(n) {
            engine
                .execute(
                    "vehicle.add",
                    json!({ "customer": { "external_id": format!("C{n}") }, "vin": vin,
                            "make": "Kia", "model": "Rio", "at": "2020-01-02T09:00:00Z" }),
                )
                .expect("second vehicle");
        }
    }
    engine
}

/// The history: visits spread over three years, in date order, in batches made as they
/// are taken. A customer with two cars brings them in turn.
pub fn batches(config: &Config) -> impl ExactSizeIterator<Item = Value> + use<> {
    let (visits, customers, per_batch, lines) = (
        config.visits,
        config.customers,
        config.batch.max(1),
        config.lines,
    );
    (0..visits.div_ceil(per_batch)).map(move |b| {
        let batch: Vec<Value> = (b * per_batch..((b + 1) * per_batch).min(visits))
            .map(|i| visit(i, visits, customers, lines))
            .collect();
        json!({ "visits": batch, "at": "2025-12-01T07:00:00Z" })
    })
}

/// Visit `i` of `visits`.
fn visit(i: usize, visits: usize, customers: usize, lines: usize) -> Value {
    let days = 3 * 365;
    let start = chrono::NaiveDate::from_ymd_opt(2022, 12, 1).expect("date");
    let customer = (i * 7919) % customers;
    let day = start + chrono::Duration::days((i * days / visits) as i64);
    let car = match second_vin(customer) {
        Some(second) if (i / customers) % 2 == 1 => second,
        _ => vin(customer),
    };
    json!({
        "order_id": format!("ЗН-{i:08}"),
        "customer": { "external_id": format!("C{customer}") },
        "vehicle": { "vin": car },
        "date": day.to_string(),
        "mileage": 10_000 + i / 10,
        "advisor": "Кравцов Д.",
        "lines": (0..lines).map(|l| match l % 3 {
            0 => json!({ "sku": "LAB-OIL", "name": "Замена масла", "kind": "labor",
                         "category": "oil_change", "qty": "1", "unit_price": "1200" }),
            1 => json!({ "sku": "OIL-5W30", "name": "Масло 5W-30, л", "kind": "goods",
                         "category": "oil", "qty": "4.5", "unit_price": "890", "discount": "400.50" }),
            _ => json!({ "sku": "FLT-OIL", "name": "Фильтр масляный", "kind": "part",
                         "category": "filters", "qty": "1", "unit_price": "650" }),
        }).collect::<Vec<Value>>(),
    })
}
