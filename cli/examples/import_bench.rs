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
//!
//! Then the backend's ceiling: the records one import wrote (read back from the store and
//! compared with the store before the history) are written again into an empty sled
//! database with the store's settings, in the same number of batches, sorted by key (the
//! kindest order for a B-tree) and shuffled. No domain code runs there, so that rate is
//! what sled alone allows for this history, whatever the import code does.

mod common;

use common::{Config, arg, batches, cpu_seconds, import_history, open, setup};
use pitstop_core::DurabilityOption;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

fn open_sled(path: &Path, config: &Config) -> sled::Db {
    // The store's own settings (core/src/store/sled_backend.rs).
    sled::Config::new()
        .path(path)
        .cache_capacity(config.cache_mb * 1024 * 1024)
        .flush_every_ms(None)
        .mode(sled::Mode::LowSpace)
        .open()
        .expect("open sled")
}

fn all_pairs(path: &Path, config: &Config) -> HashMap<Vec<u8>, Vec<u8>> {
    let db = open_sled(path, config);
    db.iter()
        .map(|pair| {
            let (key, value) = pair.expect("read sled");
            (key.to_vec(), value.to_vec())
        })
        .collect()
}

/// Visits per second sled alone gives when writing `records` in `batches` batches.
fn sled_alone(path: &Path, config: &Config, records: &[(Vec<u8>, Vec<u8>)], batches: usize) -> f64 {
    let _ = std::fs::remove_dir_all(path);
    let db = open_sled(path, config);
    let per_batch = records.len().div_ceil(batches.max(1)).max(1);
    let started = Instant::now();
    for chunk in records.chunks(per_batch) {
        let mut batch = sled::Batch::default();
        for (key, value) in chunk {
            batch.insert(key.as_slice(), value.as_slice());
        }
        db.apply_batch(batch).expect("apply");
    }
    db.flush().expect("flush");
    let rate = config.visits as f64 / started.elapsed().as_secs_f64();
    drop(db);
    let _ = std::fs::remove_dir_all(path);
    rate
}

/// The records one history import writes, replayed into sled with no domain code.
fn backend_ceiling(base: &Path, config: &Config) {
    let path = base.join("ceiling");
    setup(&path, config).close().expect("close");
    let before = all_pairs(&path, config);
    let engine = open(&path, config, DurabilityOption::Import);
    let work = batches(config).collect::<Vec<_>>();
    let batch_count = work.len();
    import_history(&engine, work);
    engine.close().expect("close");
    drop(engine);
    let mut written: Vec<(Vec<u8>, Vec<u8>)> = all_pairs(&path, config)
        .into_iter()
        .filter(|(key, value)| before.get(key) != Some(value))
        .collect();
    let _ = std::fs::remove_dir_all(&path);
    let bytes: usize = written.iter().map(|(k, v)| k.len() + v.len()).sum();
    written.sort();
    let sorted = sled_alone(&base.join("sorted"), config, &written, batch_count);
    // Fisher-Yates with a fixed xorshift, so every run shuffles alike.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..written.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        written.swap(i, (state % (i as u64 + 1)) as usize);
    }
    let shuffled = sled_alone(&base.join("shuffled"), config, &written, batch_count);
    println!(
        "sled alone, the same {} records ({:.1} per visit, {:.0} bytes each) in {batch_count} batches: \
         {sorted:.0} visits/s sorted by key, {shuffled:.0} visits/s shuffled",
        written.len(),
        written.len() as f64 / config.visits as f64,
        bytes as f64 / written.len().max(1) as f64,
    );
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
        let work = batches(&config).collect::<Vec<_>>();
        let started = Instant::now();
        let cpu_before = cpu_seconds();
        let imported = import_history(&engine, work);
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
    backend_ceiling(&base, &config);
    let _ = std::fs::remove_dir_all(&base);
}
