//! The sled store's write-ahead log (issue 15): acknowledged commits that reached only
//! the log survive a crash, a torn unacknowledged tail is dropped, and damage inside
//! the acknowledged part is `corrupted`, never a shorter store.
//!
//! A crash is taken as an image: the store's files copied while it is open, after its
//! commits returned. That is what `kill -9` leaves (the page cache survives it): the log
//! synced, sled's pages of the latest batches still in sled's memory. `crash.rs` kills
//! real processes; this file looks inside the log, which a kill cannot aim at.

use pitstop_core::{Engine, EngineOptions, ErrorCode, Program};
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};

const AT: &str = "2025-03-10T09:00:00Z";
const COMMITS: u64 = 30;
const WAL_FILE: &str = "pitstop.wal";
const HWM_FILE: &str = "pitstop.hwm";
const MAGIC: u32 = 0x4c41_5750;
const HEADER_BYTES: usize = 20;

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn checkout(engine: &Engine, customer: u64, n: u64) -> Value {
    engine
        .execute(
            "checkout.commit",
            json!({
                "customer": { "id": customer },
                "lines": [
                    { "sku": "L-TO", "name": "Техническое обслуживание", "kind": "labor", "qty": "1",
                      "unit_price": format!("{}.00", 1000 + n * 10) },
                ],
                "order_id": format!("order-{n}"),
                "at": AT,
            }),
        )
        .expect("checkout.commit")
}

/// A store with a customer and [`COMMITS`] durable checkouts, and the image of it taken
/// while it was still open. Returns the image's path and the balance after each commit.
fn crash_image(dir: &Path) -> (PathBuf, Vec<String>) {
    let store = dir.join("store");
    let engine = Engine::open(&store, EngineOptions::default()).expect("open");
    engine
        .execute("program.set", json!({ "program": Program::example() }))
        .expect("program.set");
    let reply = engine
        .execute(
            "customer.register",
            json!({ "full_name": "Смирнов Иван", "phone": "+79160000001", "at": AT }),
        )
        .expect("customer.register");
    let customer = reply["customer"]["id"].as_u64().expect("id");
    let balances = (0..COMMITS)
        .map(|n| {
            checkout(&engine, customer, n)["balance"]
                .as_str()
                .expect("balance")
                .to_string()
        })
        .collect();
    let image = dir.join("image");
    copy_dir(&store, &image);
    engine.close().expect("close");
    (image, balances)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create copy");
    for entry in fs::read_dir(from).expect("read store dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// The records of the log's chain: (offset, seq, payload length).
fn chain(log: &[u8]) -> Vec<(usize, u64, usize)> {
    let read_u32 = |at: usize| u32::from_le_bytes(log[at..at + 4].try_into().expect("4"));
    let mut out: Vec<(usize, u64, usize)> = Vec::new();
    let mut offset = 0;
    while offset + HEADER_BYTES <= log.len() && read_u32(offset) == MAGIC {
        let seq = u64::from_le_bytes(log[offset + 4..offset + 12].try_into().expect("8"));
        let len = read_u32(offset + 12) as usize;
        if out.last().is_some_and(|(_, last, _)| seq != last + 1) {
            break;
        }
        out.push((offset, seq, len));
        offset += HEADER_BYTES + len;
    }
    out
}

fn write_hwm(store: &Path, seq: u64) {
    let mut record = seq.to_le_bytes().to_vec();
    record.extend_from_slice(&crc32fast::hash(&seq.to_le_bytes()).to_le_bytes());
    fs::write(store.join(HWM_FILE), record).expect("write hwm");
}

fn flip_byte(path: &Path, offset: usize) {
    let mut bytes = fs::read(path).expect("read");
    bytes[offset] ^= 0x20;
    fs::write(path, bytes).expect("write");
}

fn balance_of_last_order(engine: &Engine) -> Option<String> {
    let account = engine
        .execute(
            "points.balance",
            json!({ "customer": { "phone": "+79160000001" }, "at": AT }),
        )
        .expect("points.balance");
    account["total"].as_str().map(str::to_string)
}

fn order_exists(engine: &Engine, n: u64) -> bool {
    match engine.execute("visit.get", json!({ "order_id": format!("order-{n}") })) {
        Ok(_) => true,
        Err(err) if err.code == ErrorCode::NotFound => false,
        Err(err) => panic!("visit.get: {err:?}"),
    }
}

#[test]
fn acknowledged_commits_only_in_the_log_are_replayed() {
    let dir = temp_dir();
    let (image, balances) = crash_image(dir.path());
    let log = fs::read(image.join(WAL_FILE)).expect("read log");
    let records = chain(&log);
    assert!(
        records.len() as u64 >= COMMITS,
        "the log holds the commits since the last checkpoint: {} records",
        records.len()
    );
    // Without its log the image is behind what was acknowledged: the commits were in
    // the log only, and the high-water mark tells.
    let no_log = dir.path().join("no-log");
    copy_dir(&image, &no_log);
    fs::remove_file(no_log.join(WAL_FILE)).expect("remove log");
    let err = Engine::open(&no_log, EngineOptions::default())
        .err()
        .expect("a store without its log lost acknowledged commits");
    assert_eq!(err.code, ErrorCode::Corrupted, "{err:?}");

    let engine = Engine::open(&image, EngineOptions::default()).expect("reopen the image");
    for n in 0..COMMITS {
        assert!(order_exists(&engine, n), "order-{n} was acknowledged");
    }
    assert_eq!(balance_of_last_order(&engine).as_ref(), balances.last());
    let check = engine.execute("store.check", json!({})).expect("check");
    assert_eq!(check["problems"], json!([]), "{check}");
    // Replayed, checkpointed and closed cleanly: the log is empty and the store opens
    // the same again.
    engine.close().expect("close");
    assert_eq!(fs::metadata(image.join(WAL_FILE)).expect("log").len(), 0);
    let engine = Engine::open(&image, EngineOptions::default()).expect("open again");
    assert!(order_exists(&engine, COMMITS - 1));
}

#[test]
fn a_torn_unacknowledged_last_record_is_ignored() {
    let dir = temp_dir();
    let (image, balances) = crash_image(dir.path());
    let log_path = image.join(WAL_FILE);
    let records = chain(&fs::read(&log_path).expect("read log"));
    let &(offset, seq, len) = records.last().expect("a record");
    // The last commit's record torn halfway, and its sync never acknowledged: the
    // high-water mark stops one batch before it.
    flip_byte(&log_path, offset + HEADER_BYTES + len / 2);
    write_hwm(&image, seq - 1);
    let engine = Engine::open(&image, EngineOptions::default()).expect("reopen the image");
    for n in 0..COMMITS - 1 {
        assert!(order_exists(&engine, n), "order-{n} survives");
    }
    assert!(
        !order_exists(&engine, COMMITS - 1),
        "the torn commit is gone"
    );
    assert_eq!(
        balance_of_last_order(&engine).as_ref(),
        balances.get(balances.len() - 2)
    );
    let check = engine.execute("store.check", json!({})).expect("check");
    assert_eq!(check["problems"], json!([]), "{check}");
}

#[test]
fn a_damaged_acknowledged_record_is_corrupted_not_skipped() {
    let dir = temp_dir();
    let (image, _) = crash_image(dir.path());
    let log_path = image.join(WAL_FILE);
    let records = chain(&fs::read(&log_path).expect("read log"));
    let &(offset, _, len) = &records[records.len() / 2];
    flip_byte(&log_path, offset + HEADER_BYTES + len / 2);
    let err = Engine::open(&image, EngineOptions::default())
        .err()
        .expect("a damaged acknowledged record must not open as a shorter store");
    assert_eq!(err.code, ErrorCode::Corrupted, "{err:?}");
}

#[test]
fn a_store_without_the_log_reads_and_writes_as_before() {
    let dir = temp_dir();
    let store = dir.path().join("store");
    let options = EngineOptions {
        write_ahead_log: false,
        ..EngineOptions::default()
    };
    let engine = Engine::open(&store, options.clone()).expect("open");
    engine
        .execute("program.set", json!({ "program": Program::example() }))
        .expect("program.set");
    let reply = engine
        .execute(
            "customer.register",
            json!({ "full_name": "Смирнов Иван", "phone": "+79160000001", "at": AT }),
        )
        .expect("customer.register");
    let customer = reply["customer"]["id"].as_u64().expect("id");
    checkout(&engine, customer, 0);
    // Nothing went to the log: the image needs none.
    let image = dir.path().join("image");
    copy_dir(&store, &image);
    assert_eq!(fs::metadata(image.join(WAL_FILE)).expect("log").len(), 0);
    fs::remove_file(image.join(WAL_FILE)).expect("remove log");
    engine.close().expect("close");
    let engine = Engine::open(&image, EngineOptions::default()).expect("open the image");
    assert!(order_exists(&engine, 0));
    checkout(&engine, customer, 1);
    engine.close().expect("close");
    let engine = Engine::open(&image, options).expect("reopen without the log");
    assert!(order_exists(&engine, 1));
}
