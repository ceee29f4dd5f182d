//! Durable checkouts on a shared store: Pitstop on PostgreSQL, Pitstop on sled, and the
//! same checkout written by hand in SQL on the same PostgreSQL (what a host team would
//! write instead of using Pitstop). Latency (median, p99) and throughput with 1, 8 and 32
//! concurrent clients, quote latency on both backends, and the server's bare commit rate
//! (one row, one COMMIT: the ceiling the disk's fsync sets). One run, one table.
//!
//! Needs a server: `make bench` starts a throwaway cluster and sets
//! `PITSTOP_TEST_POSTGRES` (a libpq `key=value` string). Run alone:
//! `tests/pg/with-cluster.sh $PWD/target/pg-bench cargo run --release -p pitstop-core --example pg_bench`
//! (the cluster's directory as an absolute path: the server runs from its own). With
//! `PG_BENCH_ONLY_PITSTOP=8` it runs Pitstop on PostgreSQL alone with 8 clients, to profile
//! (`PG_BENCH_ONLY_HAND=8`: the hand-written checkout alone).

use pitstop_core::{Engine, EngineOptions, Program};
use postgres::{Client as Sql, NoTls};
use serde_json::{Value, json};
use std::sync::Barrier;
use std::time::{Duration, Instant};

const CUSTOMERS: usize = 64;
const RUN: Duration = Duration::from_secs(3);
const CLIENT_COUNTS: [usize; 3] = [1, 8, 32];

fn lines(n: usize) -> Value {
    let labour = 1800 + (n % 7) * 150;
    json!([
        { "sku": "LAB-TO-1", "name": "ТО-1: замена масла и фильтра", "kind": "labor",
          "category": "maintenance", "qty": "1", "unit_price": format!("{labour}.00") },
        { "sku": "OF-W712", "name": "Фильтр масляный MANN W 712/95", "kind": "part",
          "category": "filters", "qty": "1", "unit_price": "690.00" },
        { "sku": "OIL-5W30-1L", "name": "Масло моторное 5W-30, л", "kind": "goods",
          "category": "oil", "qty": "4.5", "unit_price": "890.00" }
    ])
}

fn schema(base: &str, name: &str) -> String {
    let schema = format!("bench_{name}_{}", std::process::id());
    let mut admin = Sql::connect(base, NoTls).expect("connect");
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .expect("schema");
    format!("{base} options='-c search_path={schema}'")
}

fn shop(store: &str) -> (Engine, Vec<u64>) {
    let engine = Engine::open(store, EngineOptions::default()).expect("open");
    engine
        .execute("program.set", json!({ "program": Program::example() }))
        .expect("programme");
    let ids = (0..CUSTOMERS)
        .map(|i| {
            let reply = engine
                .execute(
                    "customer.register",
                    json!({ "full_name": format!("Клиент {i}"), "phone": format!("+7916555{i:04}") }),
                )
                .expect("register");
            reply["customer"]["id"].as_u64().expect("id")
        })
        .collect();
    (engine, ids)
}

/// Latencies (µs) of every operation `clients` threads made in `RUN`, and the run's length.
fn run_clients(clients: usize, op: impl Fn(usize, usize) + Sync) -> (Vec<f64>, Duration) {
    let barrier = Barrier::new(clients + 1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|client| {
                let (barrier, op) = (&barrier, &op);
                scope.spawn(move || {
                    barrier.wait();
                    let deadline = Instant::now() + RUN;
                    let mut samples = Vec::new();
                    let mut n = 0;
                    while Instant::now() < deadline {
                        let started = Instant::now();
                        op(client, n);
                        samples.push(started.elapsed().as_secs_f64() * 1e6);
                        n += 1;
                    }
                    samples
                })
            })
            .collect();
        barrier.wait();
        let started = Instant::now();
        let samples: Vec<f64> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("client"))
            .collect();
        (samples, started.elapsed())
    })
}

struct Figures {
    median_us: f64,
    p99_us: f64,
    per_second: f64,
}

fn figures(mut samples: Vec<f64>, elapsed: Duration) -> Figures {
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    Figures {
        median_us: at(0.5),
        p99_us: at(0.99),
        per_second: samples.len() as f64 / elapsed.as_secs_f64(),
    }
}

fn pitstop_checkouts(engine: &Engine, ids: &[u64], clients: usize, tag: &str) -> Figures {
    let (samples, elapsed) = run_clients(clients, |client, n| {
        // Each client serves its own customers, as tills serve the car in front of them.
        let customer = ids[(client + n * clients) % ids.len()];
        engine
            .execute(
                "checkout.commit",
                json!({ "customer": { "id": customer }, "lines": lines(n),
                        "order_id": format!("{tag}-{clients}-{client}-{n}") }),
            )
            .expect("checkout");
    });
    figures(samples, elapsed)
}

fn quote_latency(engine: &Engine, ids: &[u64]) -> f64 {
    let (samples, elapsed) = run_clients(1, |_, n| {
        engine
            .execute(
                "checkout.quote",
                json!({ "customer": { "id": ids[n % ids.len()] }, "lines": lines(n), "redeem": "max" }),
            )
            .expect("quote");
    });
    figures(samples, elapsed).median_us
}

const HAND_SCHEMA: &str = "
CREATE TABLE customer (id bigint PRIMARY KEY, tier text, total_spend numeric NOT NULL, visits bigint NOT NULL);
CREATE TABLE account (customer_id bigint PRIMARY KEY REFERENCES customer, balance numeric NOT NULL, seq bigint NOT NULL);
CREATE TABLE visit (id bigserial PRIMARY KEY, order_id text UNIQUE NOT NULL, customer_id bigint NOT NULL,
                    at timestamptz NOT NULL, gross numeric NOT NULL, net numeric NOT NULL, accrual numeric NOT NULL);
CREATE TABLE visit_line (visit_id bigint NOT NULL, line int NOT NULL, sku text NOT NULL, name text NOT NULL,
                         kind text NOT NULL, qty numeric NOT NULL, unit_price numeric NOT NULL, net numeric NOT NULL,
                         PRIMARY KEY (visit_id, line));
CREATE TABLE lot (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, remaining numeric NOT NULL, expires_on date NOT NULL);
CREATE TABLE ledger (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, kind text NOT NULL, amount numeric NOT NULL,
                     visit_id bigint, at timestamptz NOT NULL);
";

/// The checkout a host team would write by hand: lock the account row, price the lines
/// (7 % of labour, 3 % of parts, 5 % of goods), record the visit, its lines, the lot and
/// the ledger entry, update the account and the customer's totals. One transaction, ten
/// prepared statements.
fn hand_checkout(hand: &mut Hand, customer: i64, order_id: &str, n: usize) {
    let labour = 1800 + (n % 7) as i64 * 150;
    let priced: [(&str, &str, &str, &str, i64, i64); 3] = [
        (
            "LAB-TO-1",
            "ТО-1: замена масла и фильтра",
            "labor",
            "1",
            labour * 100,
            7,
        ),
        (
            "OF-W712",
            "Фильтр масляный MANN W 712/95",
            "part",
            "1",
            69_000,
            3,
        ),
        (
            "OIL-5W30-1L",
            "Масло моторное 5W-30, л",
            "goods",
            "4.5",
            400_500,
            5,
        ),
    ];
    let net: i64 = priced.iter().map(|line| line.4).sum();
    let accrual: i64 = priced.iter().map(|line| line.4 * line.5 / 100 / 100).sum();
    let to_numeric = |kopecks: i64| format!("{}.{:02}", kopecks / 100, kopecks % 100);
    let (sql, statements) = (&mut hand.sql, &hand.statements);
    let mut txn = sql.transaction().expect("begin");
    txn.query_one(&statements.lock_account, &[&customer])
        .expect("account");
    txn.query_one(&statements.customer, &[&customer])
        .expect("customer");
    let visit: i64 = txn
        .query_one(
            &statements.visit,
            &[&order_id, &customer, &to_numeric(net), &accrual.to_string()],
        )
        .expect("visit")
        .get(0);
    for (index, (sku, name, kind, qty, line_net, _)) in priced.iter().enumerate() {
        txn.execute(
            &statements.line,
            &[
                &visit,
                &(index as i32),
                sku,
                name,
                kind,
                qty,
                &to_numeric(*line_net),
            ],
        )
        .expect("line");
    }
    txn.execute(&statements.lot, &[&customer, &accrual.to_string()])
        .expect("lot");
    txn.execute(
        &statements.ledger,
        &[&customer, &accrual.to_string(), &visit],
    )
    .expect("ledger");
    txn.execute(&statements.account, &[&customer, &accrual.to_string()])
        .expect("account update");
    txn.execute(&statements.totals, &[&customer, &to_numeric(net)])
        .expect("customer update");
    txn.commit().expect("commit");
}

/// One client of the hand-written checkout: its connection and its statements, prepared
/// once (what a careful host team does).
struct Hand {
    sql: Sql,
    statements: HandStatements,
}

struct HandStatements {
    lock_account: postgres::Statement,
    customer: postgres::Statement,
    visit: postgres::Statement,
    line: postgres::Statement,
    lot: postgres::Statement,
    ledger: postgres::Statement,
    account: postgres::Statement,
    totals: postgres::Statement,
}

impl Hand {
    fn connect(store: &str) -> Hand {
        let mut sql = Sql::connect(store, NoTls).expect("connect");
        let mut prepare = |text: &str| sql.prepare(text).expect("prepare");
        let statements = HandStatements {
            lock_account: prepare("SELECT balance, seq FROM account WHERE customer_id = $1 FOR UPDATE"),
            customer: prepare("SELECT tier, total_spend FROM customer WHERE id = $1"),
            visit: prepare(
                "INSERT INTO visit (order_id, customer_id, at, gross, net, accrual)
                 VALUES ($1, $2, now(), $3::text::numeric, $3::text::numeric, $4::text::numeric) RETURNING id",
            ),
            line: prepare(
                "INSERT INTO visit_line VALUES ($1, $2, $3, $4, $5, $6::text::numeric, $7::text::numeric, $7::text::numeric)",
            ),
            lot: prepare(
                "INSERT INTO lot (customer_id, remaining, expires_on) VALUES ($1, $2::text::numeric, current_date + 365)",
            ),
            ledger: prepare(
                "INSERT INTO ledger (customer_id, kind, amount, visit_id, at) VALUES ($1, 'accrual', $2::text::numeric, $3, now())",
            ),
            account: prepare(
                "UPDATE account SET balance = balance + $2::text::numeric, seq = seq + 1 WHERE customer_id = $1",
            ),
            totals: prepare(
                "UPDATE customer SET total_spend = total_spend + $2::text::numeric, visits = visits + 1 WHERE id = $1",
            ),
        };
        Hand { sql, statements }
    }
}

fn hand_setup(store: &str) {
    let mut sql = Sql::connect(store, NoTls).expect("connect");
    sql.batch_execute(HAND_SCHEMA).expect("hand schema");
    for id in 0..CUSTOMERS as i64 {
        sql.execute("INSERT INTO customer VALUES ($1, NULL, 0, 0)", &[&id])
            .expect("customer");
        sql.execute("INSERT INTO account VALUES ($1, 0, 0)", &[&id])
            .expect("account");
    }
}

fn hand_checkouts(store: &str, clients: usize) -> Figures {
    let connections: Vec<std::sync::Mutex<Hand>> = (0..clients)
        .map(|_| std::sync::Mutex::new(Hand::connect(store)))
        .collect();
    let (samples, elapsed) = run_clients(clients, |client, n| {
        let customer = ((client + n * clients) % CUSTOMERS) as i64;
        let mut hand = connections[client].lock().expect("connection");
        hand_checkout(&mut hand, customer, &format!("{clients}-{client}-{n}"), n);
    });
    figures(samples, elapsed)
}

fn bare_commits(store: &str) -> Figures {
    let mut sql = Sql::connect(store, NoTls).expect("connect");
    sql.batch_execute("CREATE TABLE bare (id bigserial PRIMARY KEY, n int)")
        .expect("bare");
    let sql = std::sync::Mutex::new(sql);
    let (samples, elapsed) = run_clients(1, |_, n| {
        sql.lock()
            .expect("connection")
            .execute("INSERT INTO bare (n) VALUES ($1)", &[&(n as i32)])
            .expect("insert");
    });
    figures(samples, elapsed)
}

fn main() {
    let Ok(base) = std::env::var("PITSTOP_TEST_POSTGRES") else {
        eprintln!(
            "pg_bench needs a PostgreSQL server: run it through `make bench` (or tests/pg/with-cluster.sh)"
        );
        std::process::exit(2);
    };
    let pg_store = schema(&base, "pitstop");
    let hand_store = schema(&base, "hand");
    let bare_store = schema(&base, "bare");
    let sled_dir = std::env::temp_dir().join(format!("pitstop-pg-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&sled_dir);
    let (pg, pg_ids) = shop(&pg_store);
    // For profiling: `PG_BENCH_ONLY_PITSTOP=8` runs Pitstop on PostgreSQL alone, with
    // that many clients, and prints its one line.
    if let Some(clients) = std::env::var("PG_BENCH_ONLY_PITSTOP")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        let f = pitstop_checkouts(&pg, &pg_ids, clients, "pg");
        println!(
            "Pitstop on PostgreSQL, {clients} clients: median {:.0} µs, p99 {:.0} µs, {:.0}/s",
            f.median_us, f.p99_us, f.per_second
        );
        return;
    }
    hand_setup(&hand_store);
    // `PG_BENCH_ONLY_HAND=8`: the hand-written checkout alone, to compare profiles.
    if let Some(clients) = std::env::var("PG_BENCH_ONLY_HAND")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        let f = hand_checkouts(&hand_store, clients);
        println!(
            "hand-written SQL, {clients} clients: median {:.0} µs, p99 {:.0} µs, {:.0}/s",
            f.median_us, f.p99_us, f.per_second
        );
        return;
    }
    let (sled, sled_ids) = shop(sled_dir.to_str().expect("utf-8 temp dir"));

    println!(
        "durable checkout (3 lines), {CUSTOMERS} customers, {} s per cell",
        RUN.as_secs()
    );
    println!(
        "{:<34} {:>8} {:>11} {:>11} {:>10}",
        "store", "clients", "median µs", "p99 µs", "per second"
    );
    let mut ratios = Vec::new();
    for clients in CLIENT_COUNTS {
        let on_pg = pitstop_checkouts(&pg, &pg_ids, clients, "pg");
        let on_sled = pitstop_checkouts(&sled, &sled_ids, clients, "sled");
        let by_hand = hand_checkouts(&hand_store, clients);
        for (name, f) in [
            ("Pitstop on PostgreSQL", &on_pg),
            ("Pitstop on sled", &on_sled),
            ("hand-written SQL on PostgreSQL", &by_hand),
        ] {
            println!(
                "{name:<34} {clients:>8} {:>11.0} {:>11.0} {:>10.0}",
                f.median_us, f.p99_us, f.per_second
            );
        }
        ratios.push((
            clients,
            on_pg.median_us / by_hand.median_us,
            by_hand.per_second / on_pg.per_second,
        ));
    }
    let bare = bare_commits(&bare_store);
    println!(
        "{:<34} {:>8} {:>11.0} {:>11.0} {:>10.0}",
        "bare commit (1 row) on PostgreSQL", 1, bare.median_us, bare.p99_us, bare.per_second
    );
    println!(
        "quote median: {:.0} µs on PostgreSQL, {:.0} µs on sled",
        quote_latency(&pg, &pg_ids),
        quote_latency(&sled, &sled_ids)
    );
    for (clients, latency, throughput) in ratios {
        println!(
            "{clients:>2} clients: Pitstop/hand latency {latency:.2}x, hand/Pitstop throughput {throughput:.2}x (target <= 1.5x both)"
        );
    }
    drop(sled);
    let _ = std::fs::remove_dir_all(&sled_dir);
}
