//! What only a shared store has: many processes writing one PostgreSQL store at once,
//! writers killed with `kill -9`, the server restarted under load, connection errors.
//! The shared suites (scenarios, model, docs, ...) run on PostgreSQL too: `make test`
//! runs them with `PITSTOP_TEST_POSTGRES` set (see the Makefile's `postgres-test`).
//!
//! The money is checked against a model kept here, independent of the engine: every
//! operation the workers send has a known effect on its customer's available points
//! (a checkout earns 10 % of what was paid in money, a refund takes that back and returns
//! what was redeemed, an adjustment moves its amount, a captured hold takes its points,
//! the birthday bonus comes once). Customers start with enough points that no debit
//! can fail, so the effects commute and the final balances do not depend on the order
//! in which PostgreSQL let the writers in.
//!
//! Worker processes are this test binary run again on the ignored test `pg_worker`,
//! told what to do by environment variables; they print `@@SENT` before and `@@ACK`
//! after each operation.

mod common;

use pitstop_core::{Engine, EngineOptions, ErrorCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CUSTOMERS: usize = 6;
const START_POINTS: i64 = 1_000_000;
const BIRTHDAY_POINTS: i64 = 500;
const DAY: &str = "2026-03-10";
const AT: &str = "2026-03-10T09:00:00Z";

/// The tests of this file run one at a time: one of them restarts the server.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn server() -> Option<String> {
    let found = std::env::var("PITSTOP_TEST_POSTGRES").ok();
    if found.is_none() {
        eprintln!("skipped: no PostgreSQL server (PITSTOP_TEST_POSTGRES); `make test` starts one");
    }
    found
}

fn program() -> Value {
    json!({
        "name": "shared",
        "timezone": "Europe/Moscow",
        "accrual": { "rate_percent": "10" },
        "redemption": { "cap_percent": "50" },
        "expiry_months": 12,
        "pending_days": 0,
        "hold_ttl_minutes": 30,
        "birthday_bonus": { "points": BIRTHDAY_POINTS.to_string(), "days_before": 0, "days_after": 7 }
    })
}

fn open(store: &str) -> Engine {
    Engine::open(store, EngineOptions::default()).expect("open the shared store")
}

/// A store with the programme and `CUSTOMERS` customers born on `DAY`, each holding
/// `START_POINTS`. Returns the connection string and the customer ids.
fn shared_shop(name: &str) -> (String, Vec<u64>) {
    let base = server().expect("a server");
    let store = common::fresh_schema(&base, name);
    let engine = open(&store);
    engine
        .execute("program.set", json!({ "program": program() }))
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..CUSTOMERS {
        let reply = engine
            .execute(
                "customer.register",
                json!({ "full_name": format!("Клиент Общий {n}"), "phone": format!("+7900555{n:04}"),
                        "birthday": "1980-03-10", "at": AT }),
            )
            .unwrap();
        let id = reply["customer"]["id"].as_u64().unwrap();
        engine
            .execute(
                "points.adjust",
                json!({ "customer": { "id": id }, "points": START_POINTS.to_string(),
                        "reason": "start", "operator": "test", "at": AT }),
            )
            .unwrap();
        ids.push(id);
    }
    (store, ids)
}

/// One operation a worker sends, with its effect on the model.
#[derive(Debug, Clone)]
struct Sent {
    key: String,
    op: String,
    args: Value,
    customer: usize,
    delta: i64,
}

/// A tiny deterministic generator (xorshift), so a worker's sequence follows from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// The worker's loop: `ops` operations on shared customers, each keyed, each printed.
fn work(
    engine: &Engine,
    ids: &[u64],
    name: &str,
    seed: u64,
    ops: usize,
    out: &Mutex<std::io::Stdout>,
) {
    let mut rng = Rng(seed | 1);
    let mut committed: Vec<(String, usize, i64, i64)> = Vec::new();
    let mut n = 0;
    let send = |sent: Sent| -> Option<Value> {
        {
            let mut out = out.lock().unwrap();
            writeln!(out, "@@SENT {}", encode(&sent)).unwrap();
            out.flush().unwrap();
        }
        let mut args = sent.args.clone();
        args["idempotency_key"] = json!(sent.key);
        match engine.execute(&sent.op, args) {
            Ok(result) => {
                let mut out = out.lock().unwrap();
                writeln!(out, "@@ACK {}", sent.key).unwrap();
                out.flush().unwrap();
                Some(result)
            }
            Err(err) if err.code == ErrorCode::Unavailable => None,
            Err(err) => panic!("{} {}: {err:?}", sent.op, sent.args),
        }
    };
    while n < ops {
        n += 1;
        let key = format!("{name}-{n}");
        let customer = rng.next(CUSTOMERS as u64) as usize;
        let id = ids[customer];
        let sent = match rng.next(10) {
            0..=3 => {
                let price = 100 + 10 * rng.next(490) as i64;
                let redeem = if rng.next(2) == 0 {
                    0
                } else {
                    10 * (1 + rng.next(5) as i64)
                };
                let mut args = json!({ "customer": { "id": id }, "order_id": key.clone(), "at": AT,
                    "lines": [{ "sku": "L", "name": "Замена масла", "kind": "labor", "qty": "1", "unit_price": price.to_string() }] });
                if redeem > 0 {
                    args["redeem"] = json!(redeem.to_string());
                }
                let earned = (price - redeem) / 10;
                committed.push((key.clone(), customer, earned, redeem));
                Sent {
                    key,
                    op: "checkout.commit".into(),
                    args,
                    customer,
                    delta: earned - redeem,
                }
            }
            4 if !committed.is_empty() => {
                let index = rng.next(committed.len() as u64) as usize;
                let (order, customer, earned, redeem) = committed.swap_remove(index);
                Sent {
                    key,
                    op: "checkout.refund".into(),
                    args: json!({ "order_id": order, "at": AT }),
                    customer,
                    delta: redeem - earned,
                }
            }
            4..=6 => {
                let points = rng.next(1000) as i64 - 400;
                let points = if points == 0 { 1 } else { points };
                Sent {
                    key,
                    op: "points.adjust".into(),
                    args: json!({ "customer": { "id": id }, "points": points.to_string(),
                                  "reason": "касса", "operator": name, "at": AT }),
                    customer,
                    delta: points,
                }
            }
            7 | 8 => {
                let points = 10 + rng.next(300) as i64;
                let hold = Sent {
                    key: key.clone(),
                    op: "points.hold".into(),
                    args: json!({ "customer": { "id": id }, "points": points.to_string(), "at": AT }),
                    customer,
                    delta: 0,
                };
                let Some(reply) = send(hold) else { continue };
                let hold_id = reply["hold"]["id"].as_u64().unwrap();
                let capture = rng.next(2) == 0;
                n += 1;
                Sent {
                    key: format!("{name}-{n}"),
                    op: if capture {
                        "points.capture"
                    } else {
                        "points.release"
                    }
                    .into(),
                    args: json!({ "hold": hold_id, "at": AT }),
                    customer,
                    delta: if capture { -points } else { 0 },
                }
            }
            _ => Sent {
                key,
                op: "jobs.daily".into(),
                args: json!({ "date": DAY, "at": AT }),
                customer,
                delta: 0,
            },
        };
        send(sent);
    }
}

fn encode(sent: &Sent) -> String {
    json!({ "key": sent.key, "op": sent.op, "args": sent.args, "customer": sent.customer, "delta": sent.delta })
        .to_string()
}

fn decode(line: &str) -> Sent {
    let value: Value = serde_json::from_str(line).unwrap();
    Sent {
        key: value["key"].as_str().unwrap().to_string(),
        op: value["op"].as_str().unwrap().to_string(),
        args: value["args"].clone(),
        customer: value["customer"].as_u64().unwrap() as usize,
        delta: value["delta"].as_i64().unwrap(),
    }
}

/// Entry point of a worker process (run by the tests below, ignored otherwise).
#[test]
#[ignore]
fn pg_worker() {
    let Ok(store) = std::env::var("PITSTOP_PG_WORKER_STORE") else {
        return;
    };
    let ids: Vec<u64> =
        serde_json::from_str(&std::env::var("PITSTOP_PG_WORKER_IDS").unwrap()).unwrap();
    let name = std::env::var("PITSTOP_PG_WORKER_NAME").unwrap();
    let ops: usize = std::env::var("PITSTOP_PG_WORKER_OPS")
        .unwrap()
        .parse()
        .unwrap();
    let threads: u64 = std::env::var("PITSTOP_PG_WORKER_THREADS")
        .unwrap()
        .parse()
        .unwrap();
    let engine = Arc::new(open(&store));
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let handles: Vec<_> = (0..threads)
        .map(|thread| {
            let (engine, ids, out) = (Arc::clone(&engine), ids.clone(), Arc::clone(&out));
            let name = format!("{name}t{thread}");
            let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            std::thread::spawn(move || work(&engine, &ids, &name, seed, ops, &out))
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

fn spawn_worker(store: &str, ids: &[u64], name: &str, ops: usize, threads: u64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "pg_worker",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PITSTOP_PG_WORKER_STORE", store)
        .env("PITSTOP_PG_WORKER_IDS", serde_json::to_string(ids).unwrap())
        .env("PITSTOP_PG_WORKER_NAME", name)
        .env("PITSTOP_PG_WORKER_OPS", ops.to_string())
        .env("PITSTOP_PG_WORKER_THREADS", threads.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn a worker")
}

/// What a worker printed: every operation it sent, and the keys acknowledged.
#[derive(Default)]
struct Log {
    sent: Vec<Sent>,
    acked: BTreeSet<String>,
}

fn collect(child: &mut Child, log: &Arc<Mutex<Log>>) -> std::thread::JoinHandle<()> {
    let stdout = child.stdout.take().unwrap();
    let log = Arc::clone(log);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let mut log = log.lock().unwrap();
            // libtest prints "test pg_worker ... " before the test runs: the first line
            // a worker prints follows it on the same line.
            let line = match line.find("@@") {
                Some(start) => &line[start..],
                None => continue,
            };
            if let Some(rest) = line.strip_prefix("@@SENT ") {
                // A line cut by kill -9 is not valid JSON: that operation was never sent.
                if serde_json::from_str::<Value>(rest).is_ok() {
                    log.sent.push(decode(rest));
                }
            } else if let Some(key) = line.strip_prefix("@@ACK ") {
                log.acked.insert(key.to_string());
            }
        }
    })
}

/// Send every operation again with its key from a fresh engine: an operation that
/// landed returns its first result, one that did not lands now. Afterwards each sent
/// operation is applied exactly once.
fn settle_all(engine: &Engine, sent: &[Sent]) {
    for op in sent {
        let mut args = op.args.clone();
        args["idempotency_key"] = json!(op.key);
        if let Err(err) = engine.execute(&op.op, args) {
            // A refund or capture whose visit or hold the store never got: the commit
            // or hold was cut off before it was sent. Both are in `sent` before it, so
            // this only happens for an operation the model counts as applied: fail.
            panic!("replaying {} {}: {err:?}", op.op, op.args);
        }
    }
}

/// Every balance equals the model; the store is sound; no key made two visits.
fn assert_matches_model(engine: &Engine, ids: &[u64], applied: &[&Sent]) {
    engine
        .execute("jobs.daily", json!({ "date": DAY, "at": AT }))
        .unwrap();
    // The next day lapses the holds a killed worker left open.
    engine
        .execute(
            "jobs.daily",
            json!({ "date": "2026-03-11", "at": "2026-03-11T09:00:00Z" }),
        )
        .unwrap();
    let mut expected = [START_POINTS + BIRTHDAY_POINTS; CUSTOMERS];
    for op in applied {
        expected[op.customer] += op.delta;
    }
    for (n, id) in ids.iter().enumerate() {
        let balance = engine
            .execute(
                "points.balance",
                json!({ "customer": { "id": id }, "at": "2026-03-11T10:00:00Z" }),
            )
            .unwrap();
        assert_eq!(balance["held"], "0", "customer {n}: {balance}");
        assert_eq!(
            balance["available"],
            expected[n].to_string(),
            "customer {n}: the balance differs from the model of {} operations",
            applied.len()
        );
    }
    let check = engine.execute("store.check", json!({})).unwrap();
    assert_eq!(check["problems"], json!([]), "store.check: {check}");
    let commits: BTreeSet<&str> = applied
        .iter()
        .filter(|op| op.op == "checkout.commit")
        .map(|op| op.key.as_str())
        .collect();
    let mut visits = 0;
    let mut after = Value::Null;
    loop {
        let page = engine
            .execute("visit.export", json!({ "after": after, "limit": 1000 }))
            .unwrap();
        visits += page["items"].as_array().unwrap().len();
        after = page["next_after"].clone();
        if after.is_null() {
            break;
        }
    }
    assert_eq!(visits, commits.len(), "one visit per committed key");
}

#[test]
fn four_processes_of_four_threads_agree_with_the_model() {
    let _serial = one_at_a_time();
    let Some(_) = server() else { return };
    let (store, ids) = shared_shop("contention");
    let log = Arc::new(Mutex::new(Log::default()));
    let mut children: Vec<Child> = (0..4)
        .map(|p| spawn_worker(&store, &ids, &format!("p{p}"), 60, 4))
        .collect();
    let readers: Vec<_> = children
        .iter_mut()
        .map(|child| collect(child, &log))
        .collect();
    for child in &mut children {
        assert!(child.wait().unwrap().success(), "a worker failed");
    }
    for reader in readers {
        reader.join().unwrap();
    }
    let log = log.lock().unwrap();
    assert!(log.sent.len() >= 4 * 4 * 60, "every operation was sent");
    assert_eq!(log.acked.len(), log.sent.len(), "no operation failed");
    let engine = open(&store);
    let applied: Vec<&Sent> = log.sent.iter().collect();
    assert_matches_model(&engine, &ids, &applied);
    // A retry sent by another process gets the first result.
    let first = &log.sent[0];
    let mut args = first.args.clone();
    args["idempotency_key"] = json!(first.key);
    engine.execute(&first.op, args).unwrap();
    assert_matches_model(&engine, &ids, &applied);
}

#[test]
fn writers_killed_mid_operation_lose_nothing_acknowledged() {
    let _serial = one_at_a_time();
    let Some(_) = server() else { return };
    let (store, ids) = shared_shop("kill9");
    let log = Arc::new(Mutex::new(Log::default()));
    let mut readers = Vec::new();
    let mut kills = 0;
    let mut generation = 0;
    let mut running: Vec<Child> = Vec::new();
    let mut delay = Rng(0x9e37_79b9_7f4a_7c15);
    while kills < 50 {
        while running.len() < 2 {
            let mut child = spawn_worker(&store, &ids, &format!("g{generation}"), 400, 2);
            generation += 1;
            readers.push(collect(&mut child, &log));
            running.push(child);
        }
        std::thread::sleep(Duration::from_millis(40 + delay.next(120)));
        let mut victim = running.remove(0);
        if victim.try_wait().unwrap().is_none() {
            victim.kill().unwrap();
            kills += 1;
        }
        victim.wait().unwrap();
    }
    for mut child in running {
        child.kill().ok();
        child.wait().unwrap();
    }
    for reader in readers {
        reader.join().unwrap();
    }
    let log = log.lock().unwrap();
    assert!(
        log.acked.len() > 100,
        "the workers got work done between kills"
    );
    let engine = open(&store);
    // Before any replay: every acknowledged commit is there.
    for op in log
        .sent
        .iter()
        .filter(|op| op.op == "checkout.commit" && log.acked.contains(&op.key))
    {
        engine
            .execute("visit.get", json!({ "order_id": op.key }))
            .unwrap_or_else(|err| panic!("acknowledged visit {} is lost: {err:?}", op.key));
    }
    settle_all(&engine, &log.sent);
    let applied: Vec<&Sent> = log.sent.iter().collect();
    assert_matches_model(&engine, &ids, &applied);
    eprintln!(
        "{kills} workers killed; {} operations sent, {} acknowledged",
        log.sent.len(),
        log.acked.len()
    );
}

#[test]
fn three_workstations_run_the_daily_job_once_per_date() {
    let _serial = one_at_a_time();
    let Some(_) = server() else { return };
    let (store, ids) = shared_shop("daily");
    let engines: Vec<Arc<Engine>> = (0..3).map(|_| Arc::new(open(&store))).collect();
    let barrier = Arc::new(std::sync::Barrier::new(3));
    let handles: Vec<_> = engines
        .iter()
        .map(|engine| {
            let (engine, barrier) = (Arc::clone(engine), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                engine
                    .execute("jobs.daily", json!({ "date": DAY, "at": AT }))
                    .unwrap()
            })
        })
        .collect();
    let reports: Vec<Value> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let granted: u64 = reports
        .iter()
        .map(|r| r["birthday_bonuses"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        granted, CUSTOMERS as u64,
        "each birthday bonus once: {reports:?}"
    );
    for id in &ids {
        let balance = engines[0]
            .execute(
                "points.balance",
                json!({ "customer": { "id": id }, "at": AT }),
            )
            .unwrap();
        assert_eq!(
            balance["available"],
            (START_POINTS + BIRTHDAY_POINTS).to_string()
        );
    }
}

#[test]
fn a_programme_set_in_one_process_is_used_by_the_others() {
    let _serial = one_at_a_time();
    let Some(_) = server() else { return };
    let (store, ids) = shared_shop("follow");
    let till = open(&store);
    let office = open(&store);
    let quote = |engine: &Engine| {
        engine
            .execute("checkout.quote", json!({ "customer": { "id": ids[0] }, "at": AT,
                "lines": [{ "sku": "L", "name": "Работа", "kind": "labor", "qty": "1", "unit_price": "1000" }] }))
            .unwrap()["totals"]["accrual"]
            .clone()
    };
    assert_eq!(quote(&till), "100");
    let mut richer = program();
    richer["accrual"]["rate_percent"] = json!("15");
    office
        .execute("program.set", json!({ "program": richer }))
        .unwrap();
    assert_eq!(
        quote(&till),
        "150",
        "the till follows the office's programme"
    );
}

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
