//! `report.referrals` from the referral totals against the scan of every link it did
//! before (a store without complete aggregates still answers that way), on one store:
//! referrers with referees who each paid one visit (signup rewards, cashback).
//!
//! `cargo run --release -p pitstop-core --example referral_bench [-- --quick]`
//!
//! Phases on the same store: totals; the aggregates' mark taken out through sled (as a
//! store written before them has none) and the scan; `store.rebuild_aggregates` (timed)
//! and the totals again. Each phase calls the report `RUNS` times, interleaving the
//! whole report with one referrer's; medians in ms.

use pitstop_core::{DurabilityOption, Engine, EngineOptions, Program};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Instant;

const RUNS: usize = 7;

fn open(path: &Path) -> Engine {
    let options = EngineOptions {
        durability: DurabilityOption::Import,
        ..EngineOptions::default()
    };
    Engine::open(path, options).expect("open store")
}

fn ok(engine: &Engine, op: &str, args: Value) -> Value {
    engine
        .execute(op, args.clone())
        .unwrap_or_else(|err| panic!("{op} {args}: {err:?}"))
}

fn build(engine: &Engine, referrers: usize, referees: usize) {
    ok(
        engine,
        "program.set",
        json!({ "program": Program::example() }),
    );
    let mut codes = Vec::new();
    for n in 0..referrers {
        let id = ok(
            engine,
            "customer.register",
            json!({ "full_name": format!("Реферер {n}"), "phone": format!("+7916{:07}", n),
                    "at": "2025-01-10T10:00:00Z" }),
        )["customer"]["id"]
            .clone();
        codes
            .push(ok(engine, "referral.code", json!({ "customer": { "id": id } }))["code"].clone());
    }
    for n in 0..referees {
        let id = ok(
            engine,
            "customer.register",
            json!({ "full_name": format!("Клиент {n}"), "phone": format!("+7926{:07}", n),
                    "referral_code": codes[n % referrers], "at": "2025-01-11T10:00:00Z" }),
        )["customer"]["id"]
            .clone();
        ok(
            engine,
            "checkout.commit",
            json!({ "customer": { "id": id }, "order_id": format!("R-{n}"),
                    "lines": [{ "sku": "LAB", "name": "Работа", "kind": "labor", "qty": "1",
                                "unit_price": (3000 + n % 5000).to_string() }],
                    "at": "2025-02-01T10:00:00Z" }),
        );
    }
}

/// Medians (ms) of the whole report and of the first referrer's, interleaved.
fn measure(engine: &Engine) -> (f64, f64, Value) {
    let (mut all, mut one) = (Vec::new(), Vec::new());
    let mut answer = Value::Null;
    for _ in 0..RUNS {
        let started = Instant::now();
        answer = ok(engine, "report.referrals", json!({}));
        all.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        ok(
            engine,
            "report.referrals",
            json!({ "referrer": { "id": 1 } }),
        );
        one.push(started.elapsed().as_secs_f64() * 1e3);
    }
    all.sort_by(f64::total_cmp);
    one.sort_by(f64::total_cmp);
    (all[RUNS / 2], one[RUNS / 2], answer)
}

fn forget_aggregates(path: &Path) {
    let db = sled::Config::new()
        .path(path)
        .mode(sled::Mode::LowSpace)
        .flush_every_ms(None)
        .open()
        .expect("open with sled");
    db.remove(b"*v").expect("remove");
    db.flush().expect("flush");
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (referrers, referees) = if quick { (50, 500) } else { (2_000, 20_000) };
    let path = std::env::temp_dir().join(format!("pitstop-referral-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    let started = Instant::now();
    let engine = open(&path);
    build(&engine, referrers, referees);
    println!(
        "report.referrals over {referees} referees of {referrers} referrers (built in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let (cells_all, cells_one, from_totals) = measure(&engine);
    engine.close().expect("close");
    forget_aggregates(&path);
    let engine = open(&path);
    let (scan_all, scan_one, scanned) = measure(&engine);
    assert_eq!(
        scanned, from_totals,
        "the scan and the totals answer the same"
    );
    let started = Instant::now();
    ok(&engine, "store.rebuild_aggregates", json!({}));
    let rebuild = started.elapsed().as_secs_f64() * 1e3;
    let (again_all, again_one, rebuilt) = measure(&engine);
    assert_eq!(rebuilt, from_totals, "the rebuilt totals answer the same");
    println!(
        "{:<34} {:>12} {:>12} {:>10}",
        "report.referrals", "totals ms", "scan ms", "scan/totals"
    );
    for (name, totals, again, scan) in [
        ("every referee (first page)", cells_all, again_all, scan_all),
        ("one referrer's", cells_one, again_one, scan_one),
    ] {
        let median = (totals + again) / 2.0;
        println!(
            "{name:<34} {median:>12.3} {scan:>12.3} {:>10.1}",
            scan / median
        );
    }
    println!(
        "store.rebuild_aggregates: {rebuild:.0} ms; totals before/after it: {cells_all:.3} / {again_all:.3} ms"
    );
    engine.close().expect("close");
    let _ = std::fs::remove_dir_all(&path);
}
