//! What the PostgreSQL tests share: the server they are given, a shop whose customers
//! start rich enough that no debit can fail (so effects commute), and the rule that the
//! tests of a file run one at a time (one of them restarts the server).

use pitstop_core::{Engine, EngineOptions};
use serde_json::{Value, json};
use std::sync::Mutex;

pub const CUSTOMERS: usize = 6;
pub const START_POINTS: i64 = 1_000_000;
pub const BIRTHDAY_POINTS: i64 = 500;
pub const DAY: &str = "2026-03-10";
pub const AT: &str = "2026-03-10T09:00:00Z";

/// The tests of a file run one at a time: one of them restarts the server.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn server() -> Option<String> {
    let found = std::env::var("PITSTOP_TEST_POSTGRES").ok();
    if found.is_none() {
        eprintln!("skipped: no PostgreSQL server (PITSTOP_TEST_POSTGRES); `make test` starts one");
    }
    found
}

pub fn program() -> Value {
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

pub fn open(store: &str) -> Engine {
    Engine::open(store, EngineOptions::default()).expect("open the shared store")
}

/// A store with the programme and `CUSTOMERS` customers born on `DAY`, each holding
/// `START_POINTS`. Returns the connection string and the customer ids.
pub fn shared_shop(name: &str) -> (String, Vec<u64>) {
    let base = server().expect("a server");
    let store = super::fresh_schema(&base, name);
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
