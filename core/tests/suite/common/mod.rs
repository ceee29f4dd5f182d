//! Shared test harness: a store in a fresh temporary directory with a programme.
#![allow(dead_code)]

pub mod analytics_history;
pub mod audit;
pub mod plugin_fixtures;
pub mod shared;

use pitstop_core::{Engine, EngineOptions, Error, ErrorCode, Program};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

/// A unique directory path (not created) under the system temp dir.
pub fn temp_path(name: &str) -> PathBuf {
    let n = NEXT_DIR.fetch_add(1, Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!("pitstop-test-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    path
}

/// Where a test's store lives: a fresh directory, or, when the tests are given a
/// PostgreSQL server (`PITSTOP_TEST_POSTGRES`, a libpq `key=value` string; `make test`
/// starts a throwaway cluster and runs the shared suites again with it), a fresh schema
/// of that server's database. The suites that call this run unchanged on both backends.
pub fn store_location(name: &str) -> PathBuf {
    match std::env::var("PITSTOP_TEST_POSTGRES") {
        Ok(base) => PathBuf::from(fresh_schema(&base, name)),
        Err(_) => temp_path(name),
    }
}

/// A new empty schema; returns the connection string that opens it.
pub fn fresh_schema(base: &str, name: &str) -> String {
    let n = NEXT_DIR.fetch_add(1, Ordering::SeqCst);
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let schema = format!("t_{}_{cleaned}_{n}", std::process::id());
    let mut admin =
        postgres::Client::connect(base, postgres::NoTls).expect("connect to PostgreSQL");
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .expect("create a schema");
    format!("{base} options='-c search_path={schema}'")
}

/// An open store that removes itself when dropped.
pub struct Shop {
    pub engine: Option<Engine>,
    pub path: PathBuf,
}

impl Drop for Shop {
    fn drop(&mut self) {
        self.engine.take();
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A simple programme whose arithmetic is easy to follow in tests:
/// 10% accrual on everything, points pay up to 50% of any line, 12 months expiry,
/// no pending period, no bonuses, no tiers.
pub fn simple_program() -> Value {
    json!({
        "name": "test",
        "timezone": "Europe/Moscow",
        "accrual": { "rate_percent": "10" },
        "redemption": { "cap_percent": "50" },
        "expiry_months": 12,
        "pending_days": 0
    })
}

impl Shop {
    pub fn new(name: &str) -> Shop {
        Shop::with_program(name, Program::example())
    }

    pub fn with_program(name: &str, program: Value) -> Shop {
        let path = store_location(name);
        let engine = Engine::open(&path, EngineOptions::default()).expect("open store");
        let shop = Shop {
            engine: Some(engine),
            path,
        };
        shop.ok("program.set", json!({ "program": program }));
        shop
    }

    pub fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("engine is open")
    }

    /// Execute and expect success.
    pub fn ok(&self, op: &str, args: Value) -> Value {
        execute(self.engine(), op, args)
    }

    /// Execute and expect failure with `code`.
    pub fn err(&self, op: &str, args: Value, code: ErrorCode) -> Error {
        match self.engine().execute(op, args.clone()) {
            Ok(value) => panic!("{op} {args} should fail with {code} but returned {value}"),
            Err(err) => {
                assert_eq!(err.code, code, "{op} {args}: {err:?}");
                err
            }
        }
    }

    /// Register a customer by name and phone; returns the id.
    pub fn customer(&self, name: &str, phone: &str) -> u64 {
        let reply = self.ok(
            "customer.register",
            json!({ "full_name": name, "phone": phone, "at": "2025-01-10T10:00:00Z" }),
        );
        reply["customer"]["id"].as_u64().expect("id")
    }

    /// Available points of a customer.
    pub fn available(&self, id: u64) -> String {
        self.balance(id)["available"]
            .as_str()
            .expect("available")
            .to_string()
    }

    /// Balance object of a customer (as of now).
    pub fn balance(&self, id: u64) -> Value {
        self.ok("points.balance", json!({ "customer": { "id": id } }))
    }

    /// Balance object as of an instant.
    pub fn balance_at(&self, id: u64, at: &str) -> Value {
        self.ok(
            "points.balance",
            json!({ "customer": { "id": id }, "at": at }),
        )
    }

    /// Verify the whole store.
    pub fn assert_sound(&self) {
        let report = self.ok("store.check", json!({}));
        assert_eq!(report["problems"], json!([]), "store.check: {report}");
    }
}

/// One labour line.
pub fn labor(price: &str) -> Value {
    json!({ "sku": "L-1", "name": "Работа", "kind": "labor", "qty": "1", "unit_price": price })
}

/// One part line.
pub fn part(price: &str) -> Value {
    json!({ "sku": "P-1", "name": "Запчасть", "kind": "part", "qty": "1", "unit_price": price })
}

/// Decimal string as f64-free comparison helper: parse to rust_decimal.
pub fn dec(value: &Value) -> rust_decimal::Decimal {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {value}"))
        .parse()
        .expect("decimal")
}

/// Execute and expect success, naming the operation on failure.
pub fn execute(engine: &Engine, op: &str, args: Value) -> Value {
    match engine.execute(op, args.clone()) {
        Ok(value) => value,
        Err(err) => panic!("{op} {args} failed: {err:?}"),
    }
}

/// A decimal string from a result.
pub fn decimal(value: &Value) -> rust_decimal::Decimal {
    dec(value)
}

/// Every ledger entry of a customer, newest first, and the statement's balance.
pub fn all_entries(engine: &Engine, customer: u64) -> (Vec<Value>, rust_decimal::Decimal) {
    let mut entries = Vec::new();
    let mut before: Option<u64> = None;
    loop {
        let mut args = json!({ "customer": { "id": customer }, "limit": 500 });
        if let Some(before) = before {
            args["before"] = json!(before);
        }
        let page = execute(engine, "points.statement", args);
        entries.extend(page["entries"].as_array().expect("entries").iter().cloned());
        match page["next_before"].as_u64() {
            Some(next) => before = Some(next),
            None => return (entries, decimal(&page["balance"])),
        }
    }
}

/// The name libtest gives the test `name` of the module at `module_path` (what
/// `module_path!()` says there): the path without the crate, as `--exact` wants it. A test
/// that re-executes its own binary to run one test as a child process names it with this.
pub fn test_name(module_path: &str, name: &str) -> String {
    match module_path.split_once("::") {
        Some((_crate, module)) => format!("{module}::{name}"),
        None => name.to_string(),
    }
}

/// Every `.rs` file and module directory in `dir` (a test binary's folder) is declared
/// with `mod NAME;` in its main.rs: a file nobody declares compiles into nothing, and its
/// tests would silently stop running.
pub fn assert_every_file_is_a_module(dir: &std::path::Path) {
    let main = std::fs::read_to_string(dir.join("main.rs")).expect("read main.rs");
    let declared: std::collections::BTreeSet<&str> = main
        .lines()
        .filter_map(|line| line.strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("read the test folder") {
        let path = entry.expect("read the test folder").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file name")
            .to_string();
        let module = match name.strip_suffix(".rs") {
            Some("main") => continue,
            Some(module) => module.to_string(),
            None if path.is_dir() => name,
            None => continue,
        };
        assert!(
            declared.contains(module.as_str()),
            "{} is not declared in main.rs: add `mod {module};` or its tests never run",
            path.display()
        );
        checked += 1;
    }
    assert!(checked > 1, "no test files found in {}", dir.display());
}
