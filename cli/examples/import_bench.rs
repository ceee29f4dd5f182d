//! Bulk import of history: `visit.import` in import durability, the path `pitstop import
//! visits` and `pitstop demo` take. Prints a table; the figure that counts is the median
//! of the runs (target: ≥ 50,000 visits per second).
//!
//! ```text
//! cargo run --release -p pitstop-cli --example import_bench -- [--visits N] [--customers N] [--runs N] [--batch N] [--cache-mb N] [--lines N]
//! ```
//!
//! Each run creates a fresh store with the customers (registered with `import: true`) and
//! one car each, then times only the history: batches of `--batch` visits (`--lines` lines,
//! a mileage reading, the customer by external id and the car by VIN, as the CSV import
//! sends them), prepared before the clock starts, through `Engine::execute`, plus the
//! single sync at the end (`Engine::close`).

use pitstop_core::{DurabilityOption, Engine, EngineOptions, Program};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Instant;

struct Config {
    visits: usize,
    customers: usize,
    runs: usize,
    batch: usize,
    cache_mb: u64,
    lines: usize,
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
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
fn cpu_seconds() -> f64 {
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

fn vin(n: usize) -> String {
    format!("XTA{:014}", n)
}

fn setup(path: &Path, config: &Config) -> Engine {
    let _ = std::fs::remove_dir_all(path);
    let engine = Engine::open(
        path,
        EngineOptions {
            durability: DurabilityOption::Import,
            cache_capacity_bytes: config.cache_mb * 1024 * 1024,
            ..EngineOptions::default()
        },
    )
    .expect("open");
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
                        "import": true, "at": "2020-01-02T09:00:00Z" }),
            )
            .expect("register");
        engine
            .execute(
                "vehicle.add",
                json!({ "customer": { "external_id": format!("C{n}") }, "vin": vin(n),
                        "make": "Lada", "model": "Vesta", "at": "2020-01-02T09:00:00Z" }),
            )
            .expect("vehicle");
    }
    engine
}

/// The history: visits spread over three years, in date order, in batches.
fn batches(config: &Config) -> Vec<Value> {
    let days = 3 * 365;
    let mut out = Vec::new();
    let mut batch = Vec::with_capacity(config.batch);
    let start = chrono::NaiveDate::from_ymd_opt(2022, 12, 1).expect("date");
    for i in 0..config.visits {
        let customer = (i * 7919) % config.customers;
        let day = start + chrono::Duration::days((i * days / config.visits) as i64);
        batch.push(json!({
            "order_id": format!("ЗН-{i:08}"),
            "customer": { "external_id": format!("C{customer}") },
            "vehicle": { "vin": vin(customer) },
            "date": day.to_string(),
            "mileage": 10_000 + i / 10,
            "advisor": "Кравцов Д.",
            "lines": (0..config.lines).map(|l| match l % 3 {
                0 => json!({ "sku": "LAB-OIL", "name": "Замена масла", "kind": "labor",
                             "category": "oil_change", "qty": "1", "unit_price": "1200" }),
                1 => json!({ "sku": "OIL-5W30", "name": "Масло 5W-30, л", "kind": "goods",
                             "category": "oil", "qty": "4.5", "unit_price": "890", "discount": "400.50" }),
                _ => json!({ "sku": "FLT-OIL", "name": "Фильтр масляный", "kind": "part",
                             "category": "filters", "qty": "1", "unit_price": "650" }),
            }).collect::<Vec<Value>>(),
        }));
        if batch.len() == config.batch {
            out.push(json!({ "visits": std::mem::take(&mut batch), "at": "2025-12-01T07:00:00Z" }));
        }
    }
    if !batch.is_empty() {
        out.push(json!({ "visits": batch, "at": "2025-12-01T07:00:00Z" }));
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let config = Config {
        visits: arg(&args, "--visits", 100_000),
        customers: arg(&args, "--customers", 10_000),
        runs: arg(&args, "--runs", 3),
        batch: arg(&args, "--batch", 1000),
        cache_mb: arg(&args, "--cache-mb", 64) as u64,
        lines: arg(&args, "--lines", 3).clamp(1, 100),
    };
    let base = std::env::temp_dir().join(format!("pitstop-import-bench-{}", std::process::id()));
    std::fs::create_dir_all(&base).expect("create the bench directory");
    println!(
        "History import (visit.import, import durability): {} visits of {} lines, {} customers, batches of {}, {} MiB cache",
        config.visits, config.lines, config.customers, config.batch, config.cache_mb
    );
    println!(
        "{:>4}  {:>10}  {:>9}  {:>9}  {:>9}  {:>12}  {:>14}",
        "run", "import s", "sync s", "total s", "cpu s", "visits/s", "visits/cpu s"
    );
    let mut rates = Vec::new();
    let mut cpu_rates = Vec::new();
    for run in 1..=config.runs {
        let path = base.join(format!("run-{run}"));
        let engine = setup(&path, &config);
        let work = batches(&config);
        let started = Instant::now();
        let cpu_before = cpu_seconds();
        let mut imported = 0u64;
        for batch in work {
            let result = engine.execute("visit.import", batch).expect("import");
            imported += result["imported"].as_u64().unwrap_or(0);
        }
        let imported_at = started.elapsed().as_secs_f64();
        engine.close().expect("sync");
        let total = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_before;
        assert_eq!(imported as usize, config.visits, "every visit imported");
        let rate = config.visits as f64 / total;
        rates.push(rate);
        let cpu_rate = config.visits as f64 / cpu.max(0.01);
        cpu_rates.push(cpu_rate);
        println!(
            "{run:>4}  {imported_at:>10.3}  {:>9.3}  {total:>9.3}  {cpu:>9.2}  {rate:>12.0}  {cpu_rate:>14.0}",
            total - imported_at
        );
        drop(engine);
        let _ = std::fs::remove_dir_all(&path);
    }
    rates.sort_by(f64::total_cmp);
    cpu_rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!(
        "median {median:.0} visits/s, {:.0} visits per CPU second (target ≥ 50,000 visits/s): {}",
        cpu_rates[cpu_rates.len() / 2],
        if median >= 50_000.0 { "met" } else { "missed" }
    );
    let _ = std::fs::remove_dir_all(&base);
}
