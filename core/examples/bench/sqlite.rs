//! g. The same checkout written by hand for SQLite (WAL, synchronous=FULL): the baseline.

use super::*;

pub(crate) const SQLITE_SCHEMA: &str = "
CREATE TABLE customer(id INTEGER PRIMARY KEY, full_name TEXT NOT NULL, phone TEXT UNIQUE,
    tier TEXT, total_spend INTEGER NOT NULL, visits INTEGER NOT NULL, last_visit TEXT);
CREATE TABLE vehicle(id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, plate TEXT UNIQUE,
    make TEXT, model TEXT, mileage INTEGER);
CREATE TABLE account(customer_id INTEGER PRIMARY KEY, balance INTEGER NOT NULL,
    pending INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE lot(customer_id INTEGER NOT NULL, id INTEGER NOT NULL, created TEXT NOT NULL,
    expires_on TEXT, pending_until TEXT, points INTEGER NOT NULL, remaining INTEGER NOT NULL,
    PRIMARY KEY(customer_id, id));
CREATE TABLE visit(id INTEGER PRIMARY KEY, order_id TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL, vehicle_id INTEGER, at TEXT NOT NULL, gross INTEGER NOT NULL,
    discount INTEGER NOT NULL, net INTEGER NOT NULL, points INTEGER NOT NULL,
    accrual INTEGER NOT NULL);
CREATE INDEX visit_by_customer ON visit(customer_id, at);
CREATE TABLE visit_line(visit_id INTEGER NOT NULL, idx INTEGER NOT NULL, sku TEXT NOT NULL,
    name TEXT NOT NULL, kind TEXT NOT NULL, category TEXT, qty_milli INTEGER NOT NULL,
    unit_price INTEGER NOT NULL, discount INTEGER NOT NULL, net INTEGER NOT NULL,
    PRIMARY KEY(visit_id, idx));
CREATE TABLE ledger(customer_id INTEGER NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL,
    kind TEXT NOT NULL, amount INTEGER NOT NULL, balance_after INTEGER NOT NULL,
    visit_id INTEGER, PRIMARY KEY(customer_id, seq));
";

/// A basket line in kopecks and thousandths of a unit.
pub(crate) struct SqlLine {
    pub(crate) sku: &'static str,
    pub(crate) name: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) category: &'static str,
    pub(crate) qty_milli: i64,
    pub(crate) unit_price: i64,
}

pub(crate) fn sqlite_lines(n: usize) -> [SqlLine; 3] {
    let labour = (1800 + (n % 7) as i64 * 150) * 100;
    [
        SqlLine {
            sku: "LAB-TO-1",
            name: "ТО-1: замена масла и фильтра",
            kind: "labor",
            category: "maintenance",
            qty_milli: 1000,
            unit_price: labour,
        },
        SqlLine {
            sku: "OF-W712",
            name: "Фильтр масляный MANN W 712/95",
            kind: "part",
            category: "filters",
            qty_milli: 1000,
            unit_price: 69_000,
        },
        SqlLine {
            sku: "OIL-5W30-1L",
            name: "Масло моторное 5W-30, л",
            kind: "goods",
            category: "oil",
            qty_milli: 4500,
            unit_price: 89_000,
        },
    ]
}

pub(crate) fn sqlite_open(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open sqlite");
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .expect("WAL");
    assert_eq!(mode.to_lowercase(), "wal");
    conn.execute_batch("PRAGMA synchronous=FULL;")
        .expect("synchronous");
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn
}

pub(crate) fn sqlite_setup(path: &Path, groups: usize, per_group: usize) -> Vec<Vec<i64>> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut conn = sqlite_open(path);
    conn.execute_batch(SQLITE_SCHEMA).expect("schema");
    let tx = conn.transaction().unwrap();
    let mut out = Vec::new();
    for g in 0..groups {
        let mut ids = Vec::new();
        for i in 0..per_group {
            tx.execute(
                "INSERT INTO customer(full_name, phone, tier, total_spend, visits)
                 VALUES (?1, ?2, NULL, 0, 0)",
                params![format!("Клиент {g}-{i}"), format!("+7916{g:03}{i:04}")],
            )
            .unwrap();
            let id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO vehicle(id, customer_id, plate, make, model) VALUES (?1, ?1, ?2, 'Lada', 'Vesta')",
                params![id, format!("A{g:03}{i:04}")],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO account(customer_id, balance, pending, seq) VALUES (?1, 300, 0, 1)",
                [id],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO lot(customer_id, id, created, expires_on, points, remaining)
                 VALUES (?1, 1, '2025-01-01', '2025-04-01', 300, 300)",
                [id],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO ledger(customer_id, seq, at, kind, amount, balance_after)
                 VALUES (?1, 1, '2025-01-01T09:00:00Z', 'welcome', 300, 300)",
                [id],
            )
            .unwrap();
            ids.push(id);
        }
        out.push(ids);
    }
    tx.commit().unwrap();
    out
}

/// The same checkout as one SQLite transaction: read the customer, account and tier
/// window, price, insert the visit with its lines and ledger entries (spending lots
/// soonest-expiring first), update the account and the customer.
pub(crate) fn sqlite_checkout(
    conn: &mut Connection,
    customer: i64,
    order_id: &str,
    n: usize,
) -> rusqlite::Result<()> {
    let now = chrono::Utc::now();
    let at = now.to_rfc3339();
    let today = now.date_naive();
    let window_from = (today - chrono::Duration::days(364)).to_string();
    let today_text = today.to_string();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (tier, total_spend, visits): (Option<String>, i64, i64) = tx
        .prepare_cached("SELECT tier, total_spend, visits FROM customer WHERE id = ?1")?
        .query_row([customer], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let (mut balance, mut seq): (i64, i64) = tx
        .prepare_cached("SELECT balance, seq FROM account WHERE customer_id = ?1")?
        .query_row([customer], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let exists: Option<i64> = tx
        .prepare_cached("SELECT id FROM visit WHERE order_id = ?1")?
        .query_row([order_id], |r| r.get(0))
        .optional()?;
    assert!(exists.is_none(), "order ids are unique");
    let discount_percent = match tier.as_deref() {
        Some("gold") => 5,
        Some("silver") => 3,
        _ => 0,
    };
    let lines = sqlite_lines(n);
    let mut gross = 0i64;
    let mut discount = 0i64;
    let mut net = 0i64;
    let mut labour_net = 0i64;
    let mut accrual = 0i64;
    let mut priced = Vec::with_capacity(lines.len());
    for line in &lines {
        let line_gross = line.qty_milli * line.unit_price / 1000;
        let line_discount = line_gross * discount_percent / 100;
        let line_net = line_gross - line_discount;
        let rate = match line.kind {
            "labor" => 7,
            "part" => 3,
            _ => 5,
        };
        accrual += line_net * rate / 100 / 100;
        if line.kind == "labor" {
            labour_net += line_net;
        }
        gross += line_gross;
        discount += line_discount;
        net += line_net;
        priced.push((line_discount, line_net));
    }
    // Redemption: up to 30% of labour, from lots that expire soonest.
    let mut points = 0i64;
    if n % 4 == 3 {
        let cap = labour_net * 30 / 100 / 100;
        let mut want = cap.min(balance);
        let lots: Vec<(i64, i64)> = tx
            .prepare_cached(
                "SELECT id, remaining FROM lot WHERE customer_id = ?1 AND remaining > 0
                 AND (pending_until IS NULL OR pending_until <= ?2)
                 ORDER BY expires_on, id LIMIT 16",
            )?
            .query_map(params![customer, today_text], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for (lot, remaining) in lots {
            if want == 0 {
                break;
            }
            let take = remaining.min(want);
            tx.prepare_cached(
                "UPDATE lot SET remaining = remaining - ?3 WHERE customer_id = ?1 AND id = ?2",
            )?
            .execute(params![customer, lot, take])?;
            want -= take;
            points += take;
        }
    }
    tx.prepare_cached(
        "INSERT INTO visit(order_id, customer_id, vehicle_id, at, gross, discount, net, points, accrual)
         VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![order_id, customer, at, gross, discount, net, points, accrual])?;
    let visit = tx.last_insert_rowid();
    for (idx, (line, (line_discount, line_net))) in lines.iter().zip(&priced).enumerate() {
        tx.prepare_cached(
            "INSERT INTO visit_line(visit_id, idx, sku, name, kind, category, qty_milli,
             unit_price, discount, net) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            visit,
            idx as i64,
            line.sku,
            line.name,
            line.kind,
            line.category,
            line.qty_milli,
            line.unit_price,
            line_discount,
            line_net
        ])?;
    }
    let mut ledger = tx.prepare_cached(
        "INSERT INTO ledger(customer_id, seq, at, kind, amount, balance_after, visit_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    if points > 0 {
        seq += 1;
        balance -= points;
        ledger.execute(params![
            customer,
            seq,
            at,
            "redemption",
            -points,
            balance,
            visit
        ])?;
    }
    if accrual > 0 {
        seq += 1;
        balance += accrual;
        ledger.execute(params![
            customer, seq, at, "accrual", accrual, balance, visit
        ])?;
        let expires = (today + chrono::Months::new(12)).to_string();
        let pending = (today + chrono::Duration::days(14)).to_string();
        tx.prepare_cached(
            "INSERT INTO lot(customer_id, id, created, expires_on, pending_until, points, remaining)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )?
        .execute(params![customer, seq, today_text, expires, pending, accrual])?;
    }
    drop(ledger);
    tx.prepare_cached("UPDATE account SET balance = ?2, seq = ?3 WHERE customer_id = ?1")?
        .execute(params![customer, balance, seq])?;
    // Tier over the rolling window, as pitstop re-evaluates it after every visit.
    let (window_spend, window_visits): (i64, i64) = tx
        .prepare_cached(
            "SELECT COALESCE(SUM(net), 0), COUNT(*) FROM visit WHERE customer_id = ?1 AND at >= ?2",
        )?
        .query_row(params![customer, window_from], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let new_tier = if window_spend >= 8_000_000 && window_visits >= 4 {
        Some("gold")
    } else if window_spend >= 3_000_000 && window_visits >= 2 {
        Some("silver")
    } else {
        Some("base")
    };
    tx.prepare_cached(
        "UPDATE customer SET total_spend = ?2, visits = ?3, last_visit = ?4, tier = ?5 WHERE id = ?1",
    )?
    .execute(params![
        customer,
        total_spend + net,
        visits + 1,
        today_text,
        new_tier
    ])?;
    tx.commit()
}

pub(crate) fn sqlite_latency(path: &Path, customers: &[i64], count: usize, tag: &str) -> Vec<f64> {
    let mut conn = sqlite_open(path);
    let mut samples = Vec::with_capacity(count);
    for n in 0..count {
        let customer = customers[n % customers.len()];
        let start = Instant::now();
        sqlite_checkout(&mut conn, customer, &format!("{tag}-{n}"), n).expect("sqlite checkout");
        samples.push(micros(start.elapsed()));
    }
    samples
}

/// SQLite checkouts per second, one thread per group. `shared`: every thread uses one
/// connection behind a mutex (instead of its own connection waiting on the busy handler).
pub(crate) fn sqlite_throughput(
    path: &Path,
    groups: &[Vec<i64>],
    time: Duration,
    tag: &str,
    shared: bool,
) -> f64 {
    let barrier = Barrier::new(groups.len() + 1);
    let shared_conn = Arc::new(Mutex::new(sqlite_open(path)));
    let (total, elapsed) = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .iter()
            .enumerate()
            .map(|(t, customers)| {
                let barrier = &barrier;
                let shared_conn = Arc::clone(&shared_conn);
                scope.spawn(move || {
                    let mut own = (!shared).then(|| sqlite_open(path));
                    barrier.wait();
                    let deadline = Instant::now() + time;
                    let mut n = 0usize;
                    while Instant::now() < deadline {
                        let customer = customers[n % customers.len()];
                        let order = format!("{tag}-t{t}-{n}");
                        match own.as_mut() {
                            Some(conn) => sqlite_checkout(conn, customer, &order, n),
                            None => {
                                let mut conn = shared_conn.lock().unwrap();
                                sqlite_checkout(&mut conn, customer, &order, n)
                            }
                        }
                        .expect("sqlite checkout");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        (total, start.elapsed())
    });
    total as f64 / elapsed.as_secs_f64()
}

pub(crate) fn sqlite_size(path: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}
