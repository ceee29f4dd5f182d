//! What only a shared store has: many processes writing one PostgreSQL store at once,
//! writers killed with `kill -9`, three workstations' daily job, a programme followed
//! across processes (failures and moves: `postgres_failures.rs`).
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

use crate::common;

use common::shared::{
    AT, BIRTHDAY_POINTS, CUSTOMERS, DAY, START_POINTS, one_at_a_time, open, program, server,
    shared_shop,
};
use pitstop_core::{Engine, ErrorCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
                let checkout = Sent {
                    key: key.clone(),
                    op: "checkout.commit".into(),
                    args,
                    customer,
                    delta: earned - redeem,
                };
                // Only an acknowledged order is refunded: one that ran out of retries
                // may not exist (the model applies it once all the same, by its key).
                if send(checkout).is_some() {
                    committed.push((key, customer, earned, redeem));
                }
                continue;
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
            &common::test_name(module_path!(), "pg_worker"),
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
    // A write that keeps meeting other writers' locks is run again a bounded number of
    // times, then fails `unavailable` (retryable, nothing applied). Under this
    // contention (16 writers, 8 customers) a few of ~960 may; sent again with their
    // keys below, they land once.
    let unacknowledged = log.sent.len() - log.acked.len();
    assert!(
        unacknowledged * 100 <= log.sent.len(),
        "{unacknowledged} of {} operations ran out of conflict retries",
        log.sent.len()
    );
    let engine = open(&store);
    settle_all(&engine, &log.sent);
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

/// A write does not look for a new programme before it runs: it checks, under its
/// locks, that it ran with the current one, and runs again when another process changed
/// the programme or the plugins. The till's commits after the office's changes earn by
/// the new rate and get the new plugin's bonus, and nothing is written twice.
#[test]
fn a_write_runs_with_the_programme_and_plugins_another_process_just_changed() {
    let _serial = one_at_a_time();
    let Some(_) = server() else { return };
    let (store, ids) = shared_shop("follow_writes");
    let till = open(&store);
    let office = open(&store);
    let balance = || {
        till.execute(
            "points.balance",
            json!({ "customer": { "id": ids[1] }, "at": AT }),
        )
        .unwrap()["available"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    let commit = |order: &str| {
        till.execute("checkout.commit", json!({ "customer": { "id": ids[1] }, "at": AT,
            "order_id": order,
            "lines": [{ "sku": "L", "name": "Работа", "kind": "labor", "qty": "1", "unit_price": "1000" }] }))
            .unwrap()
    };
    let start = balance();
    commit("ЗН-1");
    assert_eq!(balance() - start, 100, "10 % of 1000");
    let mut richer = program();
    richer["accrual"]["rate_percent"] = json!("15");
    office
        .execute("program.set", json!({ "program": richer }))
        .unwrap();
    commit("ЗН-2");
    assert_eq!(balance() - start, 100 + 150, "the new 15 % at once");
    let wasm = common::plugin_fixtures::effects(json!([
        { "type": "bonus_points", "points": "50", "reason": "акция", "expires_in_days": 30 }
    ]));
    office
        .execute(
            "plugin.install",
            json!({ "name": "bonus", "wasm": common::plugin_fixtures::b64(&wasm) }),
        )
        .unwrap();
    commit("ЗН-3");
    assert_eq!(
        balance() - start,
        100 + 150 + 150 + 50,
        "the plugin the office installed a moment ago"
    );
    let visits = till
        .execute("visit.list", json!({ "customer": { "id": ids[1] } }))
        .unwrap();
    assert_eq!(visits.as_array().unwrap().len(), 3, "each order once");
}

/// A till that registers customers one after another reserves ids in runs; a one-off
/// process takes one id and leaves no gap. Whatever the mix, no id is handed out twice.
#[test]
fn ids_never_collide_and_one_off_processes_leave_no_gap() {
    let _serial = one_at_a_time();
    let Some(_) = server() else { return };
    let (store, _) = shared_shop("ids");
    let register = |engine: &Engine, name: String| -> u64 {
        engine
            .execute("customer.register", json!({ "full_name": name }))
            .unwrap()["customer"]["id"]
            .as_u64()
            .unwrap()
    };
    let first = register(&open(&store), "Разовый Первый".into());
    let second = register(&open(&store), "Разовый Второй".into());
    assert_eq!(second, first + 1, "a one-off process reserves one id");

    const EACH: usize = 40;
    let tills: Vec<Arc<Engine>> = (0..2).map(|_| Arc::new(open(&store))).collect();
    let handles: Vec<_> = tills
        .iter()
        .enumerate()
        .map(|(till, engine)| {
            let engine = Arc::clone(engine);
            std::thread::spawn(move || {
                (0..EACH)
                    .map(|n| {
                        engine
                            .execute(
                                "customer.register",
                                json!({ "full_name": format!("Касса {till} Клиент {n}") }),
                            )
                            .unwrap()["customer"]["id"]
                            .as_u64()
                            .unwrap()
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let per_till: Vec<Vec<u64>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut all = BTreeSet::new();
    for ids in &per_till {
        assert!(
            ids.windows(2).all(|pair| pair[0] < pair[1]),
            "one process hands out increasing ids: {ids:?}"
        );
        for id in ids {
            assert!(*id > second, "ids only move forward");
            assert!(all.insert(*id), "id {id} handed out twice: {per_till:?}");
        }
    }
    // Each till leaves at most one run (32 ids) unused.
    let span = all.last().unwrap() - second;
    assert!(span <= (2 * EACH + 2 * 32) as u64, "gap too wide: {span}");
    // A process that starts now is given an id after every id handed out so far, and
    // the customers are all there.
    let later = open(&store);
    let next = register(&later, "После всех".into());
    assert!(next > *all.last().unwrap());
    for id in all.iter().chain([&first, &second, &next]) {
        later
            .execute("customer.get", json!({ "customer": { "id": id } }))
            .unwrap();
    }
}
