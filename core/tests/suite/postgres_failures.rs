//! A shared store's failures and moves: the server restarted under load, connection
//! problems named, a newer format refused, a store moved between backends by copy and
//! by backup. Runs when the tests are given a server (`PITSTOP_TEST_POSTGRES`; `make
//! test` starts one); the tests run one at a time, as one of them restarts the server.

use crate::common;

use common::shared::{AT, START_POINTS, one_at_a_time, open, program, server, shared_shop};
use pitstop_core::{Engine, EngineOptions, ErrorCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn the_server_restarted_under_load_fails_cleanly_then_recovers() {
    let _serial = one_at_a_time();
    let Some(_) = server() else { return };
    let Ok(dir) = std::env::var("PITSTOP_TEST_PG_DIR") else {
        eprintln!("skipped: the cluster's directory is unknown (PITSTOP_TEST_PG_DIR)");
        return;
    };
    let (store, ids) = shared_shop("restart");
    let engine = Arc::new(open(&store));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let handles: Vec<_> = (0..4)
        .map(|thread| {
            let (engine, stop, failures) = (
                Arc::clone(&engine),
                Arc::clone(&stop),
                Arc::clone(&failures),
            );
            let id = ids[thread];
            std::thread::spawn(move || {
                let mut n = 0;
                let mut done = 0i64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let key = format!("r{thread}-{n}");
                    let args = json!({ "customer": { "id": id }, "points": "1", "reason": "r",
                                       "operator": "t", "at": AT, "idempotency_key": key });
                    // Retry the same key until it lands: exactly once, however the
                    // restart cut the first attempt.
                    loop {
                        match engine.execute("points.adjust", args.clone()) {
                            Ok(_) => break,
                            Err(err) => {
                                *failures
                                    .lock()
                                    .unwrap()
                                    .entry(err.code.to_string())
                                    .or_default() += 1;
                                assert!(
                                    matches!(err.code, ErrorCode::Unavailable),
                                    "a restart gives unavailable, not {err:?}"
                                );
                                std::thread::sleep(Duration::from_millis(50));
                            }
                        }
                    }
                    done += 1;
                }
                done
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/pg/cluster.sh");
    let status = Command::new(script)
        .args(["restart", &dir])
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl restart");
    let restarted = Instant::now();
    std::thread::sleep(Duration::from_millis(700));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let done: Vec<i64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(restarted.elapsed() < Duration::from_secs(60));
    for (thread, count) in done.iter().enumerate() {
        let balance = engine
            .execute(
                "points.balance",
                json!({ "customer": { "id": ids[thread] }, "at": AT }),
            )
            .unwrap();
        assert_eq!(balance["available"], (START_POINTS + count).to_string());
    }
    let check = engine.execute("store.check", json!({})).unwrap();
    assert_eq!(check["problems"], json!([]));
    eprintln!(
        "failures during the restart: {:?}",
        failures.lock().unwrap()
    );
}

fn port() -> Option<String> {
    let dir = std::env::var("PITSTOP_TEST_PG_DIR").ok()?;
    std::fs::read_to_string(format!("{dir}/port"))
        .ok()
        .map(|p| p.trim().to_string())
}

#[test]
fn connection_problems_are_named() {
    let _serial = one_at_a_time();
    let Some(base) = server() else { return };
    let Some(port) = port() else { return };
    let wrong_password = format!("postgresql://postgres:wrong@127.0.0.1:{port}/pitstop_test");
    let err = Engine::open(&wrong_password, EngineOptions::default())
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::AccessDenied, "{err:?}");
    assert!(
        !err.message.contains("wrong"),
        "the password is never shown: {}",
        err.message
    );

    let missing = format!("postgresql://postgres:pitstop@127.0.0.1:{port}/no_such_shop");
    let err = Engine::open(&missing, EngineOptions::default())
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::NotFound, "{err:?}");

    let started = Instant::now();
    let nobody = "postgresql://postgres@127.0.0.1:1/pitstop_test?connect_timeout=3";
    let err = Engine::open(nobody, EngineOptions::default())
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::Unavailable, "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));

    let other = common::fresh_schema(&base, "other");
    let mut admin = postgres::Client::connect(&other, postgres::NoTls).unwrap();
    admin
        .batch_execute("CREATE TABLE invoices (id int)")
        .unwrap();
    let err = Engine::open(&other, EngineOptions::default())
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::NotFound, "{err:?}");
    assert!(
        err.message.contains("not a Pitstop store"),
        "{}",
        err.message
    );

    // The URL form opens the same kind of store as the key=value form.
    let url = format!("postgresql://postgres:pitstop@127.0.0.1:{port}/pitstop_test");
    let schema = common::fresh_schema(&base, "url");
    let search_path = schema
        .rsplit("search_path=")
        .next()
        .unwrap()
        .trim_end_matches('\'');
    let url = format!("{url}?options=-csearch_path%3D{search_path}");
    let engine = Engine::open(&url, EngineOptions::default()).unwrap();
    assert!(
        !engine.label().contains("pitstop@"),
        "no password in the label: {}",
        engine.label()
    );
    engine
        .execute("program.set", json!({ "program": program() }))
        .unwrap();
}

#[test]
fn a_newer_format_is_refused() {
    let _serial = one_at_a_time();
    let Some(base) = server() else { return };
    let store = common::fresh_schema(&base, "format");
    drop(open(&store));
    let mut admin = postgres::Client::connect(&store, postgres::NoTls).unwrap();
    // The format record as the store writes it: crc32 of the payload, then bincode (99).
    let payload = [99u8];
    let mut sealed = crc32fast::hash(&payload).to_le_bytes().to_vec();
    sealed.extend_from_slice(&payload);
    let updated = admin
        .execute(
            "UPDATE pitstop_kv SET v = $1 WHERE k = $2",
            &[&sealed, &format_key()],
        )
        .unwrap();
    assert_eq!(updated, 1);
    let err = Engine::open(&store, EngineOptions::default())
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::UnsupportedVersion, "{err:?}");
}

fn format_key() -> Vec<u8> {
    let mut key = vec![0u8];
    key.extend_from_slice(b"format_version");
    key
}

/// Every visit and customer of a store, as exported.
fn exported(engine: &Engine) -> (Vec<Value>, Vec<Value>) {
    let mut all = (Vec::new(), Vec::new());
    for (op, into) in [("visit.export", &mut all.0), ("customer.list", &mut all.1)] {
        let mut after = Value::Null;
        loop {
            let page = engine
                .execute(op, json!({ "after": after, "limit": 1000 }))
                .unwrap();
            into.extend(page["items"].as_array().unwrap().iter().cloned());
            after = page["next_after"].clone();
            if after.is_null() {
                break;
            }
        }
    }
    all
}

#[test]
fn stores_move_between_backends_by_copy_and_by_backup() {
    let _serial = one_at_a_time();
    let Some(base) = server() else { return };
    // A till's sled store with some history...
    let dir = common::temp_path("move");
    let till = open(dir.to_str().unwrap());
    till.execute("program.set", json!({ "program": program() }))
        .unwrap();
    for n in 0..40 {
        let id = till
            .execute(
                "customer.register",
                json!({ "full_name": format!("Пётр Иванович Сидоров {n}"),
                      "phone": format!("+7926000{n:04}"), "at": AT }),
            )
            .unwrap()["customer"]["id"]
            .as_u64()
            .unwrap();
        till.execute("checkout.commit", json!({ "customer": { "id": id }, "order_id": format!("М-{n}"), "at": AT,
            "lines": [{ "sku": "TO-1", "name": "ТО-1 «Лада Веста»", "kind": "labor", "qty": "1", "unit_price": "2500" }] }))
            .unwrap();
    }
    let before = exported(&till);
    // ... moves to PostgreSQL, and a branch takes a copy back to sled.
    let shared = common::fresh_schema(&base, "moved");
    let copied = till.copy_to(std::path::Path::new(&shared)).unwrap();
    assert!(copied.records > 100);
    let err = till.copy_to(std::path::Path::new(&shared)).unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::AlreadyExists,
        "a copy never lands on a store: {err:?}"
    );
    drop(till);
    let on_pg = open(&shared);
    assert_eq!(exported(&on_pg), before);
    assert_eq!(
        on_pg.execute("store.check", json!({})).unwrap()["problems"],
        json!([])
    );
    let back = common::temp_path("back");
    on_pg.copy_to(&back).unwrap();
    assert_eq!(exported(&open(back.to_str().unwrap())), before);

    // A backup of the PostgreSQL store restores into another schema, and into sled.
    let file = common::temp_path("backup.bin");
    let summary = on_pg.backup(&file).unwrap();
    let restored = common::fresh_schema(&base, "restored");
    Engine::restore(
        &file,
        std::path::Path::new(&restored),
        &EngineOptions::default(),
    )
    .unwrap();
    let err = Engine::restore(
        &file,
        std::path::Path::new(&restored),
        &EngineOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::AlreadyExists, "{err:?}");
    let restored = open(&restored);
    assert_eq!(exported(&restored), before);
    assert_eq!(
        restored
            .backup(&common::temp_path("again.bin"))
            .unwrap()
            .records,
        summary.records
    );
    let sled_restored = common::temp_path("restored-sled");
    Engine::restore(&file, &sled_restored, &EngineOptions::default()).unwrap();
    assert_eq!(exported(&open(sled_restored.to_str().unwrap())), before);
    for path in [dir, back, file, sled_restored] {
        let _ = std::fs::remove_dir_all(&path);
        let _ = std::fs::remove_file(&path);
    }
}

/// An administrator (or a network fault) kills the writers' connections over and over
/// while they work: each cut operation fails with `unavailable` and changes nothing (or,
/// when the cut fell on its COMMIT, says the outcome is unknown), the next call
/// reconnects by itself, and a retry with the same key lands it exactly once.
#[test]
fn connections_killed_mid_operation_fail_cleanly_and_reconnect() {
    let _serial = one_at_a_time();
    let Some(base) = server() else { return };
    let (store, ids) = shared_shop("terminate");
    let engine = Arc::new(open(&store));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cut = Arc::new(Mutex::new(0usize));
    let handles: Vec<_> = (0..3)
        .map(|thread| {
            let (engine, stop, cut) = (Arc::clone(&engine), Arc::clone(&stop), Arc::clone(&cut));
            let id = ids[thread];
            std::thread::spawn(move || {
                let mut done = 0i64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let key = format!("cut{thread}-{done}");
                    let args = json!({ "customer": { "id": id }, "order_id": key, "at": AT,
                        "idempotency_key": key,
                        "lines": [{ "sku": "TO-1", "name": "ТО-1", "kind": "labor", "qty": "1", "unit_price": "1000" }] });
                    loop {
                        match engine.execute("checkout.commit", args.clone()) {
                            Ok(_) => break,
                            Err(err) => {
                                assert_eq!(err.code, ErrorCode::Unavailable, "{err:?}");
                                *cut.lock().unwrap() += 1;
                            }
                        }
                    }
                    done += 1;
                }
                done
            })
        })
        .collect();
    // Kill every other connection of the test database, ten times.
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(80));
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let done: Vec<i64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(*cut.lock().unwrap() > 0, "the kills cut operations");
    for (thread, count) in done.iter().enumerate() {
        // 10 % of 1000 per checkout, once per key however many times it was cut.
        let balance = engine
            .execute(
                "points.balance",
                json!({ "customer": { "id": ids[thread] }, "at": "2026-03-11T09:00:00Z" }),
            )
            .unwrap();
        assert_eq!(
            balance["available"],
            (START_POINTS + 100 * count).to_string()
        );
    }
    let day = engine
        .execute(
            "report.activity",
            json!({ "from": "2026-03-10", "to": "2026-03-10" }),
        )
        .unwrap();
    assert_eq!(
        day["total"]["visits"],
        done.iter().sum::<i64>(),
        "one visit per key"
    );
    assert_eq!(
        engine.execute("store.check", json!({})).unwrap()["problems"],
        json!([])
    );
    eprintln!("operations cut by the kills: {}", cut.lock().unwrap());
}

/// Closing does not wait for another process's write: nothing is left to sync.
#[test]
fn closing_does_not_wait_for_other_processes() {
    let _serial = one_at_a_time();
    let Some(base) = server() else { return };
    let store = common::fresh_schema(&base, "close");
    let engine = open(&store);
    engine
        .execute("program.set", json!({ "program": program() }))
        .unwrap();
    // Another process holds the store's writer lock (an open transaction that took it).
    let mut other = postgres::Client::connect(&store, postgres::NoTls).unwrap();
    let mut holding = other.transaction().unwrap();
    holding
        .execute(
            "SELECT pg_advisory_xact_lock(20563, hashtext(current_schema()))",
            &[],
        )
        .unwrap();
    let started = Instant::now();
    engine.close().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "close waited for the lock"
    );
    holding.rollback().unwrap();
}
