//! Pitstop benchmarks: the figures of SPEC.md "Targets", measured as medians and as
//! ratios taken in one run on one machine (the reference machine has 2 shared, noisy
//! cores, so every comparison is interleaved round by round and the median round wins).
//!
//! ```text
//! cargo run --release -p pitstop-core --example bench            # full run, < 2 min
//! cargo run --release -p pitstop-core --example bench -- --quick # smoke test, seconds
//! options: --dir PATH (where stores and the fsync probe live; default: system temp dir)
//!          --no-sqlite (skip the SQLite baseline)
//!          --profile-commits N (build the fixtures, then only N durable commits on one
//!          thread and their medians: a loop to run under `perf record`)
//! ```
//!
//! What is measured:
//! a. one fsync of the same disk: 4 KiB write + `File::sync_data`, appended to a log file
//!    and overwritten in place (both shown; the verdicts use the stricter, in-place one);
//! b. durable `checkout.commit` latency on one thread, and its ratio to (a); the CPU
//!    this thread spends per commit; bytes written to disk per commit against the size
//!    of the batch itself. Every figure of b and c is taken twice, interleaved: with the
//!    store's write-ahead log (the default) and with sled's flush (`write_ahead_log:
//!    false`, the path before issue 15), on two copies of the same store;
//! c. durable commits per second with 1 and 8 threads (group commit), and the ratio;
//! d. `checkout.quote` per second on one thread (5-line basket, customer with history);
//! e. `checkout.commit` per second in import mode (the later bulk importer has the
//!    50,000 visits/s target; this is what the plain operation achieves);
//! f. store size on disk against the raw size of its data (`store.stats`);
//! g. the same checkout in SQLite (WAL, synchronous=FULL) side by side, 1 and 8 threads.

use pitstop_core::{DurabilityOption, Engine, EngineOptions, Program};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::{Value, json};
use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

mod fixtures;
mod measure;
mod sled_alone;
mod sqlite;
mod table;

use fixtures::*;
use measure::*;
use sled_alone::{logged_batches, sled_alone};
use sqlite::*;
use table::*;

const THREADS: usize = 8;

/// The latency run alternates between the two sync paths this many times.
const LATENCY_BLOCKS: usize = 10;

/// Iteration counts: the full run and the `--quick` smoke test.
struct Config {
    quick: bool,
    fsync_samples: usize,
    latency_commits: usize,
    rounds: usize,
    round_time: Duration,
    quote_time: Duration,
    import_visits: usize,
    import_customers: usize,
    customers_per_group: usize,
    history_visits: usize,
    /// Visits of one heavy customer (a fleet) before its commits are timed.
    fleet_visits: usize,
    sqlite: bool,
}

impl Config {
    fn new(quick: bool, sqlite: bool) -> Config {
        if quick {
            Config {
                quick,
                fsync_samples: 100,
                latency_commits: 100,
                rounds: 2,
                round_time: Duration::from_millis(150),
                quote_time: Duration::from_millis(100),
                import_visits: 1_000,
                import_customers: 200,
                customers_per_group: 40,
                history_visits: 1,
                fleet_visits: 40,
                sqlite,
            }
        } else {
            Config {
                quick,
                fsync_samples: 1_000,
                latency_commits: 1_500,
                rounds: 5,
                round_time: Duration::from_millis(1_200),
                quote_time: Duration::from_millis(400),
                import_visits: 30_000,
                import_customers: 5_000,
                customers_per_group: 400,
                history_visits: 3,
                fleet_visits: 300,
                sqlite,
            }
        }
    }
}

fn median(samples: &[f64]) -> f64 {
    percentile(samples, 0.5)
}

fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ok(engine: &Engine, op: &str, args: Value) -> Value {
    match engine.execute(op, args.clone()) {
        Ok(value) => value,
        Err(err) => panic!("{op} failed: {err:?}\nargs: {args}"),
    }
}

fn main() {
    let mut quick = false;
    let mut sqlite = true;
    let mut dir: Option<PathBuf> = None;
    let mut profile_commits: Option<usize> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--no-sqlite" => sqlite = false,
            "--dir" => dir = Some(PathBuf::from(args.next().expect("--dir needs a path"))),
            "--profile-commits" => {
                let count = args.next().and_then(|n| n.parse().ok());
                profile_commits = Some(count.expect("--profile-commits needs a count"));
            }
            "--help" | "-h" => {
                println!("usage: bench [--quick] [--no-sqlite] [--dir PATH] [--profile-commits N]");
                return;
            }
            other => {
                eprintln!("unknown argument {other}; try --help");
                std::process::exit(2);
            }
        }
    }
    let config = Config::new(quick, sqlite);
    let base = dir
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("pitstop-bench-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    fs::create_dir_all(&base).expect("create the bench directory");
    let started = Instant::now();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "Pitstop bench ({}) — pitstop-core {}, {cpus} CPUs, stores in {}",
        if config.quick { "quick" } else { "full" },
        pitstop_core::VERSION,
        base.display()
    );
    let mut rows = Vec::new();

    // a. fsync
    let (fsync_append, fsync_in_place) = fsync_probe(&base, config.fsync_samples);
    rows.push(row(
        "a",
        "fsync: 4 KiB in place + sync_data",
        us(fsync_in_place),
    ));
    rows.push(row(
        "a",
        "fsync: 4 KiB appended + sync_data",
        us(fsync_append),
    ));
    if fsync_in_place < 20.0 {
        println!(
            "note: {} µs per fsync looks like a disk that does not sync (tmpfs, cache): latency ratios mean little",
            fsync_in_place.round()
        );
    }

    // Fixtures: customers with cars and history, loaded in import mode, then reopened
    // durable as a host would run.
    let store_path = base.join("store");
    let (groups, fleet): (Vec<Vec<Client>>, Vec<Client>) = {
        let engine = Engine::open(
            &store_path,
            EngineOptions {
                durability: DurabilityOption::Import,
                ..EngineOptions::default()
            },
        )
        .expect("open the store");
        ok(
            &engine,
            "program.set",
            json!({ "program": Program::example() }),
        );
        let groups = (0..THREADS)
            .map(|g| {
                register_clients(
                    &engine,
                    g,
                    config.customers_per_group,
                    config.history_visits,
                    180,
                )
            })
            .collect();
        let fleet = register_clients(&engine, 90, 1, config.fleet_visits, 330);
        engine.close().expect("close");
        (groups, fleet)
    };
    let flush_path = base.join("store-flush");
    copy_dir(&store_path, &flush_path);
    let alone_path = base.join("sled-alone");
    copy_dir(&store_path, &alone_path);
    let alone_fast_path = base.join("sled-alone-high-throughput");
    copy_dir(&store_path, &alone_fast_path);
    let engine = Engine::open(&store_path, EngineOptions::default()).expect("reopen durable");
    if let Some(count) = profile_commits {
        let costs = commit_costs(&engine, &groups[0], 0..count, "P");
        println!(
            "{count} durable commits, one thread: CPU {:.0} µs, latency {:.0} µs (medians)",
            median(&costs.cpu),
            median(&costs.latency)
        );
        return;
    }
    let flush_engine = Engine::open(
        &flush_path,
        EngineOptions {
            write_ahead_log: false,
            ..EngineOptions::default()
        },
    )
    .expect("reopen the copy durable");
    let sqlite_path = base.join("baseline.sqlite");
    let sqlite_groups = if config.sqlite {
        sqlite_setup(&sqlite_path, THREADS, config.customers_per_group)
    } else {
        Vec::new()
    };

    // b. latency (with a short warm-up of each), the log and sled's flush interleaved in
    // blocks so both see the same neighbours.
    let warm = (config.latency_commits / 10).max(10);
    commit_latency(&engine, &groups[0], warm, "W");
    commit_latency(&flush_engine, &groups[0], warm, "W");
    let mut wal_costs = Costs::default();
    let mut flush_costs = Costs::default();
    // The disk's fsync is probed again beside each block: on a shared machine it moves
    // by 25x within a minute (150 µs to 4 ms when a neighbour floods the disk), so the
    // verdict takes each block's commit against the fsync measured next to it.
    let block = (config.latency_commits / LATENCY_BLOCKS).max(1);
    let probes = (config.fsync_samples / LATENCY_BLOCKS).max(10);
    let mut block_ratios = Vec::new();
    let mut flush_block_ratios = Vec::new();
    for b in 0..LATENCY_BLOCKS {
        let range = b * block..(b + 1) * block;
        let (_, before) = fsync_probe(&base, probes);
        let wal_block = commit_costs(&engine, &groups[0], range.clone(), "L");
        let flush_block = commit_costs(&flush_engine, &groups[0], range, "L");
        let (_, after) = fsync_probe(&base, probes);
        let fsync_here = median(&[before, after]);
        block_ratios.push(median(&wal_block.latency) / fsync_here);
        flush_block_ratios.push(median(&flush_block.latency) / fsync_here);
        wal_costs.add(wal_block);
        flush_costs.add(flush_block);
    }
    // The same batches written into sled alone (a third copy of the store): sled's own
    // CPU and bytes per batch, the floor under Pitstop's figures.
    let (batches, log_bytes) = logged_batches(&store_path);
    let alone = sled_alone(&alone_path, &batches, sled::Mode::LowSpace);
    let alone_fast = sled_alone(&alone_fast_path, &batches, sled::Mode::HighThroughput);
    let lat = &wal_costs.latency;
    let (lat_median, lat_p99) = (median(lat), percentile(lat, 0.99));
    let fleet_lat = median(&commit_latency(
        &engine,
        &fleet,
        (config.latency_commits / 5).max(20),
        "F",
    ));
    let sqlite_lat = if config.sqlite {
        sqlite_latency(&sqlite_path, &sqlite_groups[0], warm, "W");
        let samples = sqlite_latency(&sqlite_path, &sqlite_groups[0], config.latency_commits, "L");
        Some((median(&samples), percentile(&samples, 0.99)))
    } else {
        None
    };

    // c. and g. throughput, interleaved round by round.
    let mut one = Vec::new();
    let mut eight = Vec::new();
    let mut flush_one = Vec::new();
    let mut flush_eight = Vec::new();
    let mut sq_one = Vec::new();
    let mut sq_eight = Vec::new();
    let mut sq_eight_shared = Vec::new();
    for r in 0..config.rounds {
        one.push(commit_throughput(
            &engine,
            &groups[..1],
            config.round_time,
            &format!("R{r}-1"),
        ));
        eight.push(commit_throughput(
            &engine,
            &groups,
            config.round_time,
            &format!("R{r}-8"),
        ));
        flush_one.push(commit_throughput(
            &flush_engine,
            &groups[..1],
            config.round_time,
            &format!("R{r}-1"),
        ));
        flush_eight.push(commit_throughput(
            &flush_engine,
            &groups,
            config.round_time,
            &format!("R{r}-8"),
        ));
        if config.sqlite {
            sq_one.push(sqlite_throughput(
                &sqlite_path,
                &sqlite_groups[..1],
                config.round_time,
                &format!("R{r}-1"),
                false,
            ));
            sq_eight.push(sqlite_throughput(
                &sqlite_path,
                &sqlite_groups,
                config.round_time,
                &format!("R{r}-8"),
                false,
            ));
            sq_eight_shared.push(sqlite_throughput(
                &sqlite_path,
                &sqlite_groups,
                config.round_time,
                &format!("R{r}-8s"),
                true,
            ));
        }
    }
    let ratio_threads: Vec<f64> = eight.iter().zip(&one).map(|(e, o)| e / o).collect();
    let flush_ratio_threads: Vec<f64> = flush_eight
        .iter()
        .zip(&flush_one)
        .map(|(e, o)| e / o)
        .collect();

    // d. quotes for a customer with history.
    let mut quotes = Vec::new();
    let mut quote_latency = Vec::new();
    for _ in 0..config.rounds {
        let (per_second, latency) = quote_rate(&engine, &groups[0][0], config.quote_time);
        quotes.push(per_second);
        quote_latency.push(latency);
    }

    // f. amplification of the durable store (after every commit above).
    let stats = ok(&engine, "store.stats", json!({}));
    let check = ok(&engine, "store.check", json!({}));
    let flush_check = ok(&flush_engine, "store.check", json!({}));
    let problems = check["problems"].as_array().map_or(0, Vec::len)
        + flush_check["problems"].as_array().map_or(0, Vec::len);
    drop(engine);
    drop(flush_engine);

    // e. import mode: back-dated visits over many customers.
    let import_path = base.join("import");
    let (import_rate, import_rate_synced, import_stats, import_written, import_cpu) = {
        let engine = Engine::open(
            &import_path,
            EngineOptions {
                durability: DurabilityOption::Import,
                ..EngineOptions::default()
            },
        )
        .expect("open the import store");
        ok(
            &engine,
            "program.set",
            json!({ "program": Program::example() }),
        );
        let clients = register_clients(&engine, 100, config.import_customers, 0, 400);
        let writes_before = disk_writes();
        let cpu_before = thread_cpu();
        let start = Instant::now();
        for n in 0..config.import_visits {
            let client = &clients[n % clients.len()];
            // Spread over 2025, in order: one visit every few minutes.
            let minutes = (n as i64) * 365 * 24 * 60 / config.import_visits as i64;
            let at = chrono::DateTime::parse_from_rfc3339("2025-01-01T06:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc)
                + chrono::Duration::minutes(minutes);
            ok(
                &engine,
                "checkout.commit",
                commit_args(client, format!("I-{n}"), n, Some(at.to_rfc3339())),
            );
        }
        let applied = start.elapsed();
        let cpu = micros(thread_cpu() - cpu_before) / config.import_visits as f64;
        engine.close().expect("close (sync)");
        let synced = start.elapsed();
        let written = disk_writes()
            .zip(writes_before)
            .map(|(after, before)| (after - before) as f64 / config.import_visits as f64);
        drop(engine);
        let engine = Engine::open(&import_path, EngineOptions::default()).expect("reopen");
        let stats = ok(&engine, "store.stats", json!({}));
        (
            config.import_visits as f64 / applied.as_secs_f64(),
            config.import_visits as f64 / synced.as_secs_f64(),
            stats,
            written,
            cpu,
        )
    };

    // The table.
    let ratio_latency = median(&block_ratios);
    let flush_lat = median(&flush_costs.latency);
    let flush_ratio = median(&flush_block_ratios);
    rows.push(
        row(
            "b",
            "durable checkout.commit, 1 thread (p99)",
            format!("{} ({})", us(lat_median), us(lat_p99)),
        )
        .note("", ""),
    );
    rows.push(
        row(
            "b",
            "  commit / fsync in place (median of blocks, fsync probed beside each)",
            format!("{ratio_latency:.2}x"),
        )
        .target("≤ 1.5x", ratio_latency <= 1.5),
    );
    rows.push(row(
        "b",
        "  commit / fsync appended",
        format!("{:.2}x", lat_median / fsync_append),
    ));
    rows.push(
        row(
            "b",
            "  before (sled flush): commit (p99), / fsync in place (same blocks)",
            format!(
                "{} ({}), {flush_ratio:.2}x",
                us(flush_lat),
                us(percentile(&flush_costs.latency, 0.99))
            ),
        )
        .note("", "info"),
    );
    rows.push(
        row(
            "b",
            format!(
                "  same, one customer with {}+ visits in the window",
                config.fleet_visits
            ),
            us(fleet_lat),
        )
        .note("", "info"),
    );
    let cpu = median(&wal_costs.cpu);
    rows.push(
        row(
            "b",
            "  CPU per durable commit (this thread, sync included)",
            us(cpu),
        )
        .target("≤ 100 µs", cpu <= 100.0),
    );
    rows.push(
        row(
            "b",
            "  before (sled flush): CPU per durable commit",
            us(median(&flush_costs.cpu)),
        )
        .note("", "info"),
    );
    let batch = wal_costs.per_commit(wal_costs.batch_bytes);
    let written = wal_costs.per_commit(wal_costs.disk_bytes);
    rows.push(
        row(
            "b",
            format!(
                "  disk writes per durable commit / batch size ({:.1} KiB / {:.1} KiB)",
                written / 1024.0,
                batch / 1024.0
            ),
            format!("{:.2}x", written / batch),
        )
        .target("≤ 3x", written <= 3.0 * batch),
    );
    rows.push(
        row(
            "b",
            "  of which the log: record bytes per commit (exact, from pitstop.wal)",
            format!(
                "{:.1} KiB, {:.2}x",
                log_bytes as f64 / batches.len().max(1) as f64 / 1024.0,
                log_bytes as f64 / batches.len().max(1) as f64 / batch
            ),
        )
        .note("", "info"),
    );
    rows.push(
        row(
            "b",
            "  before (sled flush): disk writes per commit / batch size",
            format!(
                "{:.1} KiB, {:.2}x",
                flush_costs.per_commit(flush_costs.disk_bytes) / 1024.0,
                flush_costs.disk_bytes as f64 / flush_costs.batch_bytes.max(1) as f64
            ),
        )
        .note("", "info"),
    );
    rows.push(
        row(
            "b",
            format!(
                "  sled alone, the same {} batches: apply CPU; KiB written, no flush / flush each",
                alone.batches
            ),
            format!(
                "{}; {:.1}, {:.1} KiB",
                us(alone.apply_cpu),
                alone.written_unflushed / 1024.0,
                alone.written_flushed / 1024.0
            ),
        )
        .note("", "floor"),
    );
    rows.push(
        row(
            "b",
            "  same in sled's HighThroughput mode (Pitstop uses LowSpace)",
            format!(
                "{}; {:.1}, {:.1} KiB",
                us(alone_fast.apply_cpu),
                alone_fast.written_unflushed / 1024.0,
                alone_fast.written_flushed / 1024.0
            ),
        )
        .note("", "info"),
    );
    let one_m = median(&one);
    let eight_m = median(&eight);
    let ratio_m = median(&ratio_threads);
    rows.push(row("c", "durable commits, 1 thread", rate(one_m)));
    rows.push(row("c", "durable commits, 8 threads", rate(eight_m)));
    rows.push(
        row(
            "c",
            "  8 threads / 1 thread (median of rounds)",
            format!("{ratio_m:.2}x"),
        )
        .target("≥ 4x", ratio_m >= 4.0),
    );
    rows.push(
        row(
            "c",
            "  before (sled flush): 1 thread, 8 threads, ratio",
            format!(
                "{}, {}, {:.2}x",
                rate(median(&flush_one)),
                rate(median(&flush_eight)),
                median(&flush_ratio_threads)
            ),
        )
        .note("", "info"),
    );
    let quote_m = median(&quotes);
    rows.push(
        row(
            "d",
            format!(
                "checkout.quote, 1 thread, 5 lines ({} each)",
                us(median(&quote_latency))
            ),
            rate(quote_m),
        )
        .note(
            "≥ 20,000/s with 2 plugins",
            if quote_m >= 20_000.0 {
                "PASS (no plugins yet)"
            } else {
                "FAIL (no plugins yet)"
            },
        ),
    );
    rows.push(
        row(
            "e",
            format!(
                "import mode: checkout.commit ({} visits)",
                config.import_visits
            ),
            rate(import_rate),
        )
        .note(
            "≥ 50,000/s (bulk importer)",
            if import_rate >= 50_000.0 {
                "PASS"
            } else {
                "FAIL (op path)"
            },
        ),
    );
    rows.push(row(
        "e",
        "  including the final sync",
        rate(import_rate_synced),
    ));
    if let Some(bytes_per_visit) = import_written {
        rows.push(
            row(
                "e",
                "  bytes written to disk per imported visit",
                format!("{:.1} KiB", bytes_per_visit / 1024.0),
            )
            .note("", "info"),
        );
    }
    rows.push(
        row(
            "e",
            "  CPU per imported visit (no sync: the commit's own work)",
            us(import_cpu),
        )
        .target("≤ 100 µs", import_cpu <= 100.0),
    );
    let amp = amplification(&stats);
    let amp_import = amplification(&import_stats);
    rows.push(
        row(
            "f",
            format!(
                "size on disk / raw, durable store ({} / {})",
                bytes(stats["disk_bytes"].as_u64().unwrap_or(0)),
                bytes(stats["raw_bytes"].as_u64().unwrap_or(0))
            ),
            format!("{amp:.2}x"),
        )
        .target("≤ 3x", amp <= 3.0),
    );
    rows.push(
        row(
            "f",
            format!(
                "size on disk / raw, import store ({} / {})",
                bytes(import_stats["disk_bytes"].as_u64().unwrap_or(0)),
                bytes(import_stats["raw_bytes"].as_u64().unwrap_or(0))
            ),
            format!("{amp_import:.2}x"),
        )
        .target("≤ 3x", amp_import <= 3.0),
    );
    if let Some((sq_median, sq_p99)) = sqlite_lat {
        let sq_one_m = median(&sq_one);
        let sq_eight_m = median(&sq_eight);
        let sq_shared_m = median(&sq_eight_shared);
        let sq_best8 = sq_eight_m.max(sq_shared_m);
        rows.push(row(
            "g",
            "SQLite checkout, 1 thread (p99)",
            format!("{} ({})", us(sq_median), us(sq_p99)),
        ));
        rows.push(
            row(
                "g",
                "  pitstop latency / SQLite latency",
                format!("{:.2}x", lat_median / sq_median),
            )
            .target("≤ 1x", lat_median <= sq_median),
        );
        rows.push(row("g", "SQLite checkouts, 1 thread", rate(sq_one_m)));
        rows.push(row(
            "g",
            "SQLite checkouts, 8 threads (own connections)",
            rate(sq_eight_m),
        ));
        rows.push(row(
            "g",
            "SQLite checkouts, 8 threads (one shared connection)",
            rate(sq_shared_m),
        ));
        let ratio_one = one_m / sq_one_m;
        let ratio_eight = eight_m / sq_best8;
        rows.push(
            row(
                "g",
                "  pitstop / SQLite, 1 thread",
                format!("{ratio_one:.2}x"),
            )
            .target("≥ 1.5x", ratio_one >= 1.5),
        );
        rows.push(
            row(
                "g",
                "  pitstop / best SQLite, 8 threads",
                format!("{ratio_eight:.2}x"),
            )
            .target("≥ 1.5x", ratio_eight >= 1.5),
        );
        rows.push(
            row(
                "g",
                "  before (sled flush): pitstop / SQLite, 1 and 8 threads",
                format!(
                    "{:.2}x, {:.2}x",
                    median(&flush_one) / sq_one_m,
                    median(&flush_eight) / sq_best8
                ),
            )
            .note("", "info"),
        );
        rows.push(row(
            "g",
            format!("  SQLite file size ({} commits)", ok_count(&sqlite_path)),
            bytes(sqlite_size(&sqlite_path)),
        ));
    }
    println!();
    print_table(&rows);
    println!(
        "rounds: {}; per round: 1 thread {}; 8 threads {}; ratio {}",
        config.rounds,
        list(&one, rate),
        list(&eight, rate),
        list(&ratio_threads, |x| format!("{x:.2}x"))
    );
    println!(
        "commit / fsync per latency block: log {}; sled flush {}",
        list(&block_ratios, |x| format!("{x:.2}x")),
        list(&flush_block_ratios, |x| format!("{x:.2}x"))
    );
    println!(
        "before (sled flush) per round: 1 thread {}; 8 threads {}; ratio {}",
        list(&flush_one, rate),
        list(&flush_eight, rate),
        list(&flush_ratio_threads, |x| format!("{x:.2}x"))
    );
    if config.sqlite {
        println!(
            "SQLite per round: 1 thread {}; 8 threads {}; 8 threads shared {}",
            list(&sq_one, rate),
            list(&sq_eight, rate),
            list(&sq_eight_shared, rate)
        );
    }
    println!(
        "store.check after the run: {} records, {} accounts, {} problems; total time {:.1} s",
        check["records"],
        check["accounts"],
        problems,
        started.elapsed().as_secs_f64()
    );
    let _ = fs::remove_dir_all(&base);
    if problems > 0 {
        eprintln!("store.check found problems: {}", check["problems"]);
        std::process::exit(1);
    }
}
/// Copy a closed store's directory (the second store of the interleaved comparison).
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create the copy");
    for entry in fs::read_dir(from).expect("list the store") {
        let entry = entry.expect("list the store");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy a store file");
        }
    }
}

fn list(values: &[f64], show: impl Fn(f64) -> String) -> String {
    values
        .iter()
        .map(|v| show(*v))
        .collect::<Vec<_>>()
        .join(" ")
}

fn ok_count(path: &Path) -> i64 {
    sqlite_open(path)
        .query_row("SELECT COUNT(*) FROM visit", [], |r| r.get(0))
        .unwrap_or(0)
}
