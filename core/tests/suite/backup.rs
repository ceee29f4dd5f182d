//! Backup and restore.
//!
//! What is proved:
//! - a restored backup reads exactly like the store it was taken from: balances,
//!   statements, customer cards, visits, the programme, `store.check`'s report, the
//!   sequence number, and remembered idempotency keys;
//! - a backup taken while another thread commits is one consistent state: it holds a
//!   prefix of the writer's commits (at least those acknowledged before the backup began),
//!   every visit in it has its ledger entries, and every balance is the sum of them;
//! - a damaged backup (flipped byte, truncated, extended, not a backup at all) is refused
//!   with `corrupted` before anything is created at the target path;
//! - restoring into a path that exists is refused with `already_exists` and leaves what
//!   is there untouched.

use crate::common;

use common::{all_entries, decimal, execute};
use pitstop_core::{DurabilityOption, Engine, EngineOptions, ErrorCode, Program};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const AT: &str = "2025-03-01T09:00:00Z";
/// Reads are made as of this instant, so the figures do not depend on the clock.
const READ_AT: &str = "2025-04-01T10:00:00Z";

fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("temp dir")
}

/// Names in a directory, to prove a refused restore created nothing.
fn listing(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn register(engine: &Engine, name: &str, index: usize) -> u64 {
    let reply = execute(
        engine,
        "customer.register",
        json!({ "full_name": name, "phone": format!("+791688800{index:02}"), "at": AT, "idempotency_key": format!("register-{index}") }),
    );
    reply["customer"]["id"].as_u64().expect("customer id")
}

fn visit_lines(n: usize) -> Value {
    json!([
        { "sku": "L-TO", "name": "Замена масла", "kind": "labor", "qty": "1", "unit_price": format!("{}.00", 1800 + n * 45) },
        { "sku": "P-FLT", "name": "Фильтр", "kind": "part", "qty": "1", "unit_price": "720.00" },
        { "sku": "G-WASH", "name": "Омыватель", "kind": "goods", "qty": "3", "unit_price": "150.00" }
    ])
}

/// A store with most kinds of records: customers, cards, visits (some paid partly with
/// points), adjustments, a refund, an active hold and idempotency records.
struct Shop {
    engine: Engine,
    customers: Vec<u64>,
    orders: Vec<String>,
}

fn build_shop(store: &Path) -> Shop {
    let engine = Engine::open(store, EngineOptions::default()).expect("create store");
    execute(
        &engine,
        "program.set",
        json!({ "program": Program::example(), "at": AT }),
    );
    let names = [
        "Иванов Иван",
        "Петров Пётр",
        "Сидоров Сидор",
        "Кузнецов Николай",
        "Смирнова Анна",
    ];
    let customers: Vec<u64> = names
        .iter()
        .enumerate()
        .map(|(index, name)| register(&engine, name, index))
        .collect();
    execute(
        &engine,
        "card.issue",
        json!({ "customer": { "id": customers[0] }, "at": AT }),
    );
    let mut orders = Vec::new();
    for n in 0..25 {
        let order = format!("ORD-{n:05}");
        let mut args = json!({
            "customer": { "id": customers[n % customers.len()] },
            "lines": visit_lines(n),
            "order_id": order,
            "at": format!("2025-03-{:02}T12:00:00Z", 2 + n % 20),
            "idempotency_key": format!("commit-{order}"),
        });
        if n % 3 == 2 {
            args["redeem"] = json!("max");
        }
        execute(&engine, "checkout.commit", args);
        orders.push(order);
    }
    execute(
        &engine,
        "points.adjust",
        json!({ "customer": { "id": customers[1] }, "points": "250", "reason": "компенсация", "operator": "admin", "at": "2025-03-22T10:00:00Z" }),
    );
    execute(
        &engine,
        "checkout.refund",
        json!({ "order_id": orders[4], "reason": "возврат", "at": "2025-03-23T10:00:00Z" }),
    );
    execute(
        &engine,
        "points.hold",
        json!({ "customer": { "id": customers[3] }, "points": "50", "reference": "POS-77", "ttl_minutes": 10080, "at": "2025-03-24T10:00:00Z" }),
    );
    Shop {
        engine,
        customers,
        orders,
    }
}

/// Everything compared between a store and its restored backup.
fn read_everything(
    engine: &Engine,
    customers: &[u64],
    orders: &[String],
) -> Vec<(String, Value, Value)> {
    let mut reads = Vec::new();
    let mut read = |op: &str, args: Value| {
        let result = execute(engine, op, args.clone());
        reads.push((op.to_string(), args, result));
    };
    for customer in customers {
        read(
            "points.balance",
            json!({ "customer": { "id": customer }, "at": READ_AT }),
        );
        read(
            "points.statement",
            json!({ "customer": { "id": customer }, "limit": 500 }),
        );
        read(
            "customer.get",
            json!({ "customer": { "id": customer }, "at": READ_AT }),
        );
        read(
            "visit.list",
            json!({ "customer": { "id": customer }, "limit": 200 }),
        );
    }
    for order in orders {
        read("visit.get", json!({ "order_id": order }));
    }
    read("program.get", json!({}));
    read("store.check", json!({}));
    reads
}

#[test]
fn a_restored_backup_reads_exactly_like_its_store() {
    let dir = temp_dir("pitstop-backup-");
    let shop = build_shop(&dir.path().join("store"));
    let before = read_everything(&shop.engine, &shop.customers, &shop.orders);
    let stats = execute(&shop.engine, "store.stats", json!({}));

    // Through the operation, as every front door reaches it.
    let backup_path = dir.path().join("shop.pitstop-backup");
    let summary = execute(
        &shop.engine,
        "store.backup",
        json!({ "path": backup_path.display().to_string() }),
    );
    assert_eq!(
        summary["seq"], stats["seq"],
        "the backup holds the last batch"
    );
    assert_eq!(
        summary["records"], stats["records"],
        "the backup holds every record"
    );
    assert_eq!(
        summary["bytes"].as_u64(),
        Some(fs::metadata(&backup_path).expect("backup file").len())
    );
    assert!(
        !dir.path().join("shop.pitstop-backup.partial").exists(),
        "no partial file is left behind"
    );

    let restored_path = dir.path().join("restored");
    let restored =
        Engine::restore(&backup_path, &restored_path, &EngineOptions::default()).expect("restore");
    assert_eq!(json!(restored.sha256), summary["sha256"]);
    assert_eq!(json!(restored.records), summary["records"]);
    assert_eq!(json!(restored.seq), summary["seq"]);

    let copy =
        Engine::open(&restored_path, EngineOptions::default()).expect("open the restored store");
    let after = read_everything(&copy, &shop.customers, &shop.orders);
    for ((op, args, expected), (_, _, got)) in before.iter().zip(&after) {
        assert_eq!(got, expected, "{op} {args} differs after restore");
    }
    assert_eq!(before.len(), after.len());
    let check = &after.last().expect("store.check read").2;
    assert_eq!(check["problems"], json!([]), "{check}");
    assert_eq!(
        execute(&copy, "store.stats", json!({}))["seq"],
        stats["seq"]
    );

    // Idempotency keys travel with the data: replaying one on the copy returns the first
    // result and changes nothing.
    let replay_args = json!({
        "customer": { "id": shop.customers[2] },
        "lines": visit_lines(2),
        "order_id": shop.orders[2],
        "at": "2025-03-04T12:00:00Z",
        "idempotency_key": format!("commit-{}", shop.orders[2]),
        "redeem": "max",
    });
    let on_original = execute(&shop.engine, "checkout.commit", replay_args.clone());
    let on_copy = execute(&copy, "checkout.commit", replay_args);
    assert_eq!(on_copy, on_original);
    assert_eq!(
        execute(&copy, "store.stats", json!({}))["seq"],
        stats["seq"],
        "the replay wrote nothing"
    );

    // The copy is a store of its own: a new visit there does not reach the original.
    execute(
        &copy,
        "checkout.commit",
        json!({ "customer": { "id": shop.customers[0] }, "lines": visit_lines(99), "order_id": "AFTER-RESTORE", "at": READ_AT }),
    );
    let err = shop
        .engine
        .execute("visit.get", json!({ "order_id": "AFTER-RESTORE" }))
        .expect_err("only in the copy");
    assert_eq!(err.code, ErrorCode::NotFound);
    assert_eq!(
        execute(&copy, "store.check", json!({}))["problems"],
        json!([])
    );
}

/// Orders the concurrent writer posts, in order.
fn live_order(n: u64) -> String {
    format!("LIVE-{n:06}")
}

/// Orders loaded before the writer starts.
fn preloaded_order(n: u64) -> String {
    format!("PRE-{n:06}")
}

/// Visits posted before the writer starts: enough that a backup spans several of its
/// 4096-record scan chunks, so one consistent view across chunks is under test.
const PRELOADED: u64 = 2000;

/// The visits of one series of orders, which must be a prefix of it (no gaps).
fn visit_prefix(engine: &Engine, order: impl Fn(u64) -> String) -> Vec<Value> {
    let mut visits: Vec<Value> = Vec::new();
    loop {
        match engine.execute(
            "visit.get",
            json!({ "order_id": order(visits.len() as u64) }),
        ) {
            Ok(visit) => visits.push(visit),
            Err(err) if err.code == ErrorCode::NotFound => break,
            Err(err) => panic!("visit.get: {err:?}"),
        }
    }
    for later in 1..4 {
        let missing = order(visits.len() as u64 + later);
        let err = engine
            .execute("visit.get", json!({ "order_id": missing }))
            .expect_err("no gap");
        assert_eq!(
            err.code,
            ErrorCode::NotFound,
            "{missing} is in the store after a missing order"
        );
    }
    visits
}

/// What a store restored from a backup taken under load must satisfy. Returns how many
/// of the writer's commits it holds.
fn verify_consistent(engine: &Engine, customers: &[u64]) -> u64 {
    let check = execute(engine, "store.check", json!({}));
    assert_eq!(check["problems"], json!([]), "store.check: {check}");

    // Everything preloaded is there; the writer commits one at a time, so a consistent
    // state holds a prefix of its orders.
    let mut visits = visit_prefix(engine, preloaded_order);
    assert_eq!(
        visits.len() as u64,
        PRELOADED,
        "every preloaded visit is in the store"
    );
    let live = visit_prefix(engine, live_order);
    let live_count = live.len() as u64;
    visits.extend(live);

    // Every visit has its ledger entries, and they move the balance by exactly what the
    // visit says it did.
    let mut entries_by_visit: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    let mut entries_total = 0u64;
    for customer in customers {
        let (entries, statement_balance) = all_entries(engine, *customer);
        entries_total += entries.len() as u64;
        let sum: Decimal = entries.iter().map(|entry| decimal(&entry["amount"])).sum();
        assert_eq!(
            sum, statement_balance,
            "customer {customer}: Σ entries against the balance"
        );
        let balance = execute(
            engine,
            "points.balance",
            json!({ "customer": { "id": customer }, "at": AT }),
        );
        assert_eq!(
            decimal(&balance["total"]),
            sum,
            "customer {customer}: points.balance against Σ entries"
        );
        let welcome: Decimal = entries
            .iter()
            .filter(|entry| entry["kind"] == "welcome")
            .map(|entry| decimal(&entry["amount"]))
            .sum();
        let own_visits = visits
            .iter()
            .filter(|visit| visit["customer"].as_u64() == Some(*customer));
        let from_visits: Decimal = own_visits
            .map(|visit| decimal(&visit["totals"]["accrual"]) - decimal(&visit["totals"]["points"]))
            .sum();
        assert_eq!(
            sum,
            welcome + from_visits,
            "customer {customer}: balance against welcome + visits"
        );
        for entry in &entries {
            if let Some(visit) = entry["visit"].as_u64() {
                entries_by_visit
                    .entry(visit)
                    .or_default()
                    .push(entry.clone());
            }
        }
    }
    assert_eq!(
        check["entries"].as_u64(),
        Some(entries_total),
        "store.check counts the same entries"
    );
    for visit in &visits {
        let id = visit["id"].as_u64().expect("visit id");
        let entries = entries_by_visit.remove(&id).unwrap_or_default();
        let accrual = decimal(&visit["totals"]["accrual"]);
        let points = decimal(&visit["totals"]["points"]);
        let has = |kind: &str| entries.iter().any(|entry| entry["kind"] == kind);
        assert_eq!(
            has("accrual"),
            accrual > Decimal::ZERO,
            "visit {id}: accrual entry for {accrual}"
        );
        assert_eq!(
            has("redemption"),
            points > Decimal::ZERO,
            "visit {id}: redemption entry for {points}"
        );
        let moved: Decimal = entries.iter().map(|entry| decimal(&entry["amount"])).sum();
        assert_eq!(
            moved,
            accrual - points,
            "visit {id}: its entries against its totals"
        );
    }
    assert!(
        entries_by_visit.is_empty(),
        "ledger entries of visits that are not in the backup: {entries_by_visit:?}"
    );
    live_count
}

#[test]
fn a_backup_taken_during_commits_is_one_consistent_state() {
    let dir = temp_dir("pitstop-backup-live-");
    let store = dir.path().join("store");
    // Preload in import mode (synced once, at close) to keep the test fast.
    let import = EngineOptions {
        durability: DurabilityOption::Import,
        ..EngineOptions::default()
    };
    let engine = Engine::open(&store, import).expect("create store");
    // No return window, so accruals are spendable at once and redemptions happen often.
    let program = json!({
        "name": "test", "timezone": "Europe/Moscow", "accrual": { "rate_percent": "10" },
        "redemption": { "cap_percent": "50" }, "expiry_months": 12, "pending_days": 0
    });
    execute(
        &engine,
        "program.set",
        json!({ "program": program, "at": AT }),
    );
    let customers: Vec<u64> = ["Иванов Иван", "Петров Пётр", "Сидоров Сидор"]
        .iter()
        .enumerate()
        .map(|(index, name)| register(&engine, name, index))
        .collect();
    for n in 0..PRELOADED {
        let mut args = json!({
            "customer": { "id": customers[n as usize % customers.len()] },
            "lines": visit_lines(n as usize % 40),
            "order_id": preloaded_order(n),
            "at": AT,
        });
        if n % 3 == 2 {
            args["redeem"] = json!("max");
        }
        execute(&engine, "checkout.commit", args);
    }
    let records = execute(&engine, "store.stats", json!({}))["records"]
        .as_u64()
        .expect("records");
    assert!(
        records > 2 * 4096,
        "the store spans several backup chunks ({records} records)"
    );
    drop(engine);
    let engine = Arc::new(Engine::open(&store, EngineOptions::default()).expect("reopen durable"));

    let acknowledged = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let engine = Arc::clone(&engine);
        let acknowledged = Arc::clone(&acknowledged);
        let stop = Arc::clone(&stop);
        let customers = customers.clone();
        thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let mut args = json!({
                    "customer": { "id": customers[n as usize % customers.len()] },
                    "lines": visit_lines(n as usize % 40),
                    "order_id": live_order(n),
                    "at": AT,
                });
                if n % 3 == 2 {
                    args["redeem"] = json!("max");
                }
                execute(&engine, "checkout.commit", args);
                n += 1;
                acknowledged.store(n, Ordering::SeqCst);
            }
        })
    };

    let wait_for = |count: u64| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while acknowledged.load(Ordering::SeqCst) < count {
            assert!(Instant::now() < deadline, "the writer stalled");
            thread::sleep(Duration::from_millis(1));
        }
    };
    let mut backups = Vec::new();
    for round in 0..4u64 {
        wait_for(15 + round * 25);
        let path = dir.path().join(format!("live-{round}.pitstop-backup"));
        let acknowledged_before = acknowledged.load(Ordering::SeqCst);
        let summary = engine.backup(&path).expect("backup under load");
        let acknowledged_after = acknowledged.load(Ordering::SeqCst);
        backups.push((path, summary, acknowledged_before, acknowledged_after));
    }
    stop.store(true, Ordering::SeqCst);
    writer.join().expect("writer thread");
    let total = acknowledged.load(Ordering::SeqCst);

    for (round, (path, summary, acknowledged_before, acknowledged_after)) in
        backups.iter().enumerate()
    {
        let restored_path = dir.path().join(format!("restored-{round}"));
        let restored =
            Engine::restore(path, &restored_path, &EngineOptions::default()).expect("restore");
        assert_eq!(restored.seq, summary.seq);
        let copy = Engine::open(&restored_path, EngineOptions::default()).expect("open restored");
        assert_eq!(
            execute(&copy, "store.stats", json!({}))["seq"].as_u64(),
            Some(summary.seq)
        );
        let held = verify_consistent(&copy, &customers);
        // Everything acknowledged before the backup began is in it; at most the one commit
        // in flight when it ended (applied, not yet acknowledged) is in it beyond that.
        assert!(
            *acknowledged_before <= held && held <= acknowledged_after + 1,
            "backup {round} holds {held} commits, acknowledged {acknowledged_before} before and {acknowledged_after} after"
        );
        eprintln!(
            "backup {round}: {held} of the writer's commits (acknowledged {acknowledged_before}..={acknowledged_after})"
        );
    }
    // And the live store itself, with everything.
    assert_eq!(verify_consistent(&engine, &customers), total);
}

/// A small store and its backup file, for the damage cases.
fn small_backup(dir: &Path) -> PathBuf {
    let engine = Engine::open(dir.join("store"), EngineOptions::default()).expect("create store");
    execute(
        &engine,
        "program.set",
        json!({ "program": Program::example(), "at": AT }),
    );
    let customer = register(&engine, "Иванов Иван", 0);
    for n in 0..5 {
        execute(
            &engine,
            "checkout.commit",
            json!({ "customer": { "id": customer }, "lines": visit_lines(n), "order_id": format!("ORD-{n}"), "at": AT }),
        );
    }
    let path = dir.join("good.pitstop-backup");
    engine.backup(&path).expect("backup");
    path
}

/// Restore `backup` into a fresh path in `dir` and expect it refused with one of `codes`,
/// leaving the directory exactly as it was.
fn assert_refused(dir: &Path, backup: &Path, codes: &[ErrorCode], case: &str) {
    let before = listing(dir);
    let target = dir.join("target");
    let err = match Engine::restore(backup, &target, &EngineOptions::default()) {
        Ok(summary) => panic!("{case}: a damaged backup was restored: {summary:?}"),
        Err(err) => err,
    };
    assert!(
        codes.contains(&err.code),
        "{case}: refused with {} ({}), expected one of {codes:?}",
        err.code,
        err.message
    );
    assert!(!target.exists(), "{case}: the target was created");
    assert_eq!(
        listing(dir),
        before,
        "{case}: the refused restore left files behind"
    );
}

#[test]
fn a_damaged_backup_is_refused_and_creates_nothing() {
    let dir = temp_dir("pitstop-backup-damage-");
    let good = small_backup(dir.path());
    let bytes = fs::read(&good).expect("read backup");
    let length = bytes.len();
    let damaged_path = dir.path().join("damaged.pitstop-backup");
    // The magic is 15 bytes, then a u32 format version.
    let version_field = 15..19;

    let mut offsets: Vec<usize> = vec![
        0,
        7,
        14,
        15,
        16,
        19,
        20,
        23,
        length - 45,
        length - 41,
        length - 33,
        length - 32,
        length - 1,
    ];
    for i in 1..=20 {
        offsets.push(length * i / 21);
    }
    offsets.sort_unstable();
    offsets.dedup();
    for offset in offsets {
        for mask in [0x01u8, 0xFF] {
            let mut damaged = bytes.clone();
            damaged[offset] ^= mask;
            fs::write(&damaged_path, &damaged).expect("write damaged");
            // A flipped version field reads as another version: refusing it as
            // `unsupported_version` is just as safe.
            let codes: &[ErrorCode] = if version_field.contains(&offset) {
                &[ErrorCode::Corrupted, ErrorCode::UnsupportedVersion]
            } else {
                &[ErrorCode::Corrupted]
            };
            assert_refused(
                dir.path(),
                &damaged_path,
                codes,
                &format!("byte {offset} ^ {mask:#04x}"),
            );
        }
    }
    for cut in [
        0,
        1,
        14,
        15,
        18,
        19,
        30,
        length / 3,
        length / 2,
        length - 40,
        length - 33,
        length - 32,
        length - 1,
    ] {
        fs::write(&damaged_path, &bytes[..cut]).expect("write truncated");
        assert_refused(
            dir.path(),
            &damaged_path,
            &[ErrorCode::Corrupted],
            &format!("truncated to {cut} of {length}"),
        );
    }
    let mut extended = bytes.clone();
    extended.extend_from_slice(b"\n");
    fs::write(&damaged_path, &extended).expect("write extended");
    assert_refused(
        dir.path(),
        &damaged_path,
        &[ErrorCode::Corrupted],
        "one byte appended",
    );
    fs::write(
        &damaged_path,
        b"this is not a backup at all, just some text\n",
    )
    .expect("write text");
    assert_refused(
        dir.path(),
        &damaged_path,
        &[ErrorCode::Corrupted],
        "not a backup",
    );
    assert_refused(
        dir.path(),
        &dir.path().join("missing.pitstop-backup"),
        &[ErrorCode::NotFound],
        "no such file",
    );

    // The undamaged file still restores: the refusals above were about the damage.
    let target = dir.path().join("target");
    Engine::restore(&good, &target, &EngineOptions::default()).expect("the good backup restores");
    let engine = Engine::open(&target, EngineOptions::default()).expect("open restored");
    assert_eq!(
        execute(&engine, "store.check", json!({}))["problems"],
        json!([])
    );
}

#[test]
fn restore_into_an_existing_path_is_refused() {
    let dir = temp_dir("pitstop-backup-exists-");
    let good = small_backup(dir.path());
    let store = dir.path().join("store");

    // An existing store (closed): refused, and it still reads as before.
    let engine = Engine::open(&store, EngineOptions::default()).expect("open store");
    let check_before = execute(&engine, "store.check", json!({}));
    let visit_before = execute(&engine, "visit.get", json!({ "order_id": "ORD-3" }));
    drop(engine);
    let files_before = listing(&store);
    let err = Engine::restore(&good, &store, &EngineOptions::default())
        .expect_err("restore over a store");
    assert_eq!(err.code, ErrorCode::AlreadyExists, "{err:?}");
    assert!(
        err.message.contains(&store.display().to_string()),
        "the message names the path: {err:?}"
    );
    assert_eq!(err.details["path"], json!(store.display().to_string()));
    assert_eq!(
        listing(&store),
        files_before,
        "the existing store's files were touched"
    );
    let engine = Engine::open(&store, EngineOptions::default()).expect("reopen store");
    assert_eq!(execute(&engine, "store.check", json!({})), check_before);
    assert_eq!(
        execute(&engine, "visit.get", json!({ "order_id": "ORD-3" })),
        visit_before
    );

    // An open store: refused the same way (it exists), and the open handle is unharmed.
    let err = Engine::restore(&good, &store, &EngineOptions::default())
        .expect_err("restore over an open store");
    assert_eq!(err.code, ErrorCode::AlreadyExists, "{err:?}");
    assert_eq!(execute(&engine, "store.check", json!({})), check_before);
    drop(engine);

    // An empty directory and a plain file are refused too and left as they were.
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).expect("create empty dir");
    let err = Engine::restore(&good, &empty, &EngineOptions::default())
        .expect_err("restore over an empty dir");
    assert_eq!(err.code, ErrorCode::AlreadyExists, "{err:?}");
    assert!(listing(&empty).is_empty(), "the empty directory got files");
    let file = dir.path().join("a-file");
    fs::write(&file, b"keep me").expect("write file");
    let err =
        Engine::restore(&good, &file, &EngineOptions::default()).expect_err("restore over a file");
    assert_eq!(err.code, ErrorCode::AlreadyExists, "{err:?}");
    assert_eq!(fs::read(&file).expect("read file"), b"keep me");
}

#[test]
fn remove_store_takes_a_store_or_an_empty_directory_and_nothing_else() {
    let store = common::temp_path("remove-store");
    let engine = Engine::open(&store, EngineOptions::default()).unwrap();
    let err = Engine::remove_store(&store).unwrap_err();
    assert_eq!(err.code, ErrorCode::Locked, "an open store stays: {err:?}");
    drop(engine);
    Engine::remove_store(&store).unwrap();
    assert!(!store.exists());
    Engine::remove_store(&store).unwrap(); // nothing there: nothing to do

    // A directory that only looks like a store (a `db` folder of a web project) stays.
    let project = common::temp_path("web-project");
    std::fs::create_dir_all(project.join("db")).unwrap();
    let err = Engine::remove_store(&project).unwrap_err();
    assert_eq!(err.code, ErrorCode::AlreadyExists, "{err:?}");
    assert!(project.join("db").exists());
    std::fs::remove_dir_all(&project).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    Engine::remove_store(&project).unwrap();
    assert!(!project.exists());

    let err = Engine::remove_store(std::path::Path::new(
        "postgresql://pitstop:secret@db.shop.local/shop",
    ))
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(!err.message.contains("secret"), "{}", err.message);
}
