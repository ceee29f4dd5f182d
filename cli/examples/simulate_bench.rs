//! `program.simulate` over three years of a shop's history: how long a what-if takes.
//!
//! ```text
//! cargo run --release -p pitstop-cli --example simulate_bench -- [--customers N] [--visits N] [--runs N]
//! ```
//!
//! It builds a shop the size of the demo (3,000 customers with a car each, 30,000 visits of
//! three lines over three years through `visit.import`), then replays the three years
//! under a proposal (double the accrual rate, points expiring after six months, silver at
//! 20,000 ₽) beside the example programme: the median of `--runs`, visits replayed per
//! second (each side replays every visit) and the peak resident memory of the process.

mod common;

use common::{Config, arg, batches, import_history, open, setup};
use pitstop_core::{DurabilityOption, Program};
use serde_json::json;
use std::time::Instant;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let config = Config {
        customers: arg(&args, "--customers", 3_000),
        visits: arg(&args, "--visits", 30_000),
        runs: arg(&args, "--runs", 3).max(1),
        batch: 2000,
        cache_mb: 256,
        lines: 3,
    };
    let path = std::env::temp_dir().join(format!("pitstop-simulate-bench-{}", std::process::id()));
    let started = Instant::now();
    let engine = setup(&path, &config);
    let imported = import_history(&engine, batches(&config));
    assert_eq!(imported as usize, config.visits, "every visit imported");
    engine.close().expect("close");
    println!(
        "built {} customers and {} visits in {:.0} s",
        config.customers,
        config.visits,
        started.elapsed().as_secs_f64()
    );
    let engine = open(&path, &config, DurabilityOption::Durable);
    let mut proposal = serde_json::to_value(Program::example()).expect("programme");
    proposal["accrual"]["rate_percent"] = json!("10");
    proposal["expiry_months"] = json!(6);
    for level in proposal["tiers"]["levels"].as_array_mut().expect("tiers") {
        if level["code"] == "silver" {
            level["min_spend"] = json!("20000");
        }
    }
    let request = json!({ "program": proposal, "from": "2022-12-01", "to": "2025-11-30" });
    let mut seconds = Vec::new();
    let mut last = serde_json::Value::Null;
    for _ in 0..config.runs {
        let started = Instant::now();
        last = engine
            .execute("program.simulate", request.clone())
            .expect("simulate");
        seconds.push(started.elapsed().as_secs_f64());
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    let replayed = last["proposed"]["visits"].as_u64().unwrap_or(0);
    println!();
    println!("program.simulate, 3 years, two sides replayed");
    println!("  visits in the period        {}", last["actual"]["visits"]);
    println!("  customers touched           {}", last["customers"]);
    println!("  median of {} runs            {median:.2} s", config.runs);
    println!(
        "  visits replayed per second  {:.0} (both sides)",
        2.0 * replayed as f64 / median
    );
    if let Some(peak) = peak_rss_mib() {
        println!("  peak resident memory        {peak:.0} MiB");
    }
    println!(
        "  points issued in force → proposed: {} → {}",
        last["in_force"]["issued"], last["proposed"]["issued"]
    );
    drop(engine);
    let _ = std::fs::remove_dir_all(&path);
}
