//! Fuzzing the execute entry through the C ABI: arbitrary bytes, arbitrary JSON, and
//! mutations of real requests go to `pitstop_execute` and `pitstop_validate` on one store.
//! Whatever comes in: no panic, no crash, a known status, and a well-formed response whose
//! `ok` and `error.code` agree with the status. `internal` (a core bug) fails the test.
//!
//! `PITSTOP_FUZZ_CASES=N` sets the cases per strategy (default 1500); each test prints how
//! many inputs it ran.

use pitstop::{
    PitstopEngine, PitstopStatus, pitstop_execute, pitstop_open, pitstop_status_name,
    pitstop_string_free, pitstop_validate,
};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::ffi::{CStr, CString, c_char};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The handle shared by every case and test thread (the ABI promises it may be shared);
/// it lives until the process ends.
struct Shared(*mut PitstopEngine);
// SAFETY: libpitstop documents the handle as usable from any thread at once.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

static ENGINE: OnceLock<(Shared, tempfile::TempDir)> = OnceLock::new();

fn cases() -> u32 {
    std::env::var("PITSTOP_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

/// Call an export that hands back a response, and return (status, response text).
fn call(
    export: unsafe extern "C" fn(
        *mut *mut c_char,
        *const PitstopEngine,
        *const c_char,
    ) -> PitstopStatus,
    request: &CStr,
) -> (PitstopStatus, String) {
    let engine = engine();
    let mut response: *mut c_char = std::ptr::null_mut();
    // SAFETY: valid out-parameter, live handle, NUL-terminated request.
    let status = unsafe { export(&mut response, engine, request.as_ptr()) };
    assert!(!response.is_null(), "no response for status {status:?}");
    // SAFETY: a NUL-terminated string from the library.
    let text = unsafe { CStr::from_ptr(response) }
        .to_str()
        .expect("responses are UTF-8")
        .to_string();
    // SAFETY: returned by the library, freed once.
    unsafe { pitstop_string_free(response) };
    (status, text)
}

fn engine() -> *const PitstopEngine {
    let (shared, _dir) = ENGINE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = CString::new(dir.path().join("store").to_str().unwrap()).unwrap();
        let options = CString::new(r#"{"durability": "import"}"#).unwrap();
        let mut engine: *mut PitstopEngine = std::ptr::null_mut();
        // SAFETY: valid out-parameter and strings.
        let status = unsafe {
            pitstop_open(
                &mut engine,
                std::ptr::null_mut(),
                path.as_ptr(),
                options.as_ptr(),
            )
        };
        assert_eq!(status, PitstopStatus::Ok);
        let shared = Shared(engine);
        for request in seed_requests() {
            let request = CString::new(request.to_string()).unwrap();
            let (status, text) = call_on(&shared, &request);
            assert_eq!(status, PitstopStatus::Ok, "{text}");
        }
        (shared, dir)
    });
    shared.0
}

fn call_on(shared: &Shared, request: &CStr) -> (PitstopStatus, String) {
    let mut response: *mut c_char = std::ptr::null_mut();
    // SAFETY: valid out-parameter, live handle, NUL-terminated request.
    let status = unsafe { pitstop_execute(&mut response, shared.0, request.as_ptr()) };
    // SAFETY: a NUL-terminated string from the library, freed once.
    let text = unsafe { CStr::from_ptr(response) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: as above.
    unsafe { pitstop_string_free(response) };
    (status, text)
}

fn seed_requests() -> Vec<Value> {
    vec![
        json!({"op": "program.set", "args": {"program": pitstop_core::Program::example()}}),
        json!({"op": "customer.register", "args": {"full_name": "Смирнов Алексей",
            "phone": "+79165551234", "card": "2000000000015", "at": "2025-03-01T09:00:00Z"}}),
        json!({"op": "vehicle.add", "args": {"customer": {"card": "2000000000015"},
            "vin": "XW8ZZZ61ZHG012345", "plate": "O777OO77", "make": "Skoda", "model": "Octavia", "mileage": 98000}}),
        json!({"op": "checkout.commit", "args": {"customer": {"card": "2000000000015"},
            "order_id": "SEED-1", "lines": [{"sku": "TO-2", "name": "ТО-2", "kind": "labor",
            "qty": "1", "unit_price": "4500"}], "at": "2025-03-10T10:00:00Z"}}),
    ]
}

/// Real requests of every shape, the material of the mutation strategy.
fn templates() -> Vec<String> {
    let lines = json!([{"sku": "TO-2", "name": "ТО-2", "kind": "labor", "qty": "1", "unit_price": "4500"},
        {"sku": "OIL", "name": "Масло", "kind": "goods", "qty": "4.5", "unit_price": "890"}]);
    [
        json!({"op": "customer.register", "args": {"full_name": "Иванов Иван", "phone": "8 916 000-00-01", "birthday": "1990-01-31", "tags": ["vip"]}}),
        json!({"op": "customer.get", "args": {"customer": {"card": "2000000000015"}}}),
        json!({"op": "customer.find", "args": {"query": "Смир", "limit": 5}}),
        json!({"op": "customer.update", "args": {"customer": {"id": 1}, "email": "a@b.ru", "add_tags": ["x"]}}),
        json!({"op": "card.issue", "args": {"customer": {"id": 1}, "replace": true}}),
        json!({"op": "vehicle.mileage", "args": {"vehicle": {"plate": "O777OO77"}, "km": 99000}}),
        json!({"op": "checkout.quote", "args": {"customer": {"phone": "+79165551234"}, "redeem": "max", "lines": lines}}),
        json!({"op": "checkout.commit", "args": {"customer": {"id": 1}, "redeem": "100", "order_id": "F-1", "idempotency_key": "f1", "lines": lines}}),
        json!({"op": "checkout.refund", "args": {"order_id": "SEED-1", "lines": [{"line": 0, "qty": "0.5"}]}}),
        json!({"op": "points.balance", "args": {"customer": {"id": 1}, "at": "2025-04-01T00:00:00Z"}}),
        json!({"op": "points.statement", "args": {"customer": {"id": 1}, "limit": 3, "before": 10}}),
        json!({"op": "points.adjust", "args": {"customer": {"id": 1}, "points": "-5", "reason": "r", "operator": "o"}}),
        json!({"op": "points.hold", "args": {"customer": {"id": 1}, "points": "10", "reference": "H", "ttl_minutes": 5}}),
        json!({"op": "points.capture", "args": {"hold": 1, "points": "5"}}),
        json!({"op": "points.release", "args": {"hold": 1}}),
        json!({"op": "visit.get", "args": {"order_id": "SEED-1"}}),
        json!({"op": "jobs.daily", "args": {"date": "2025-06-10"}}),
        json!({"op": "program.get", "args": {"version": 1}}),
    ]
    .iter()
    .map(Value::to_string)
    .collect()
}

/// Check one response against its status.
fn check(input: &[u8], status: PitstopStatus, response: &str) {
    let shown = String::from_utf8_lossy(&input[..input.len().min(300)]).into_owned();
    assert_ne!(
        status,
        PitstopStatus::Panic,
        "panic for {shown}\n→ {response}"
    );
    assert_ne!(
        status,
        PitstopStatus::Internal,
        "internal error for {shown}\n→ {response}"
    );
    assert_ne!(
        status,
        PitstopStatus::Error,
        "unnamed error for {shown}\n→ {response}"
    );
    let value: Value = serde_json::from_str(response)
        .unwrap_or_else(|err| panic!("response is not JSON ({err}) for {shown}: {response}"));
    assert_eq!(
        value["ok"],
        Value::Bool(status == PitstopStatus::Ok),
        "{response}"
    );
    if status != PitstopStatus::Ok {
        let code = value["error"]["code"].as_str().expect("error.code");
        assert!(value["error"]["message"].is_string(), "{response}");
        assert!(value["error"].get("details").is_some(), "{response}");
        assert!(pitstop_core::ErrorCode::from_name(code).is_some(), "{code}");
        if status as i32 >= 100 {
            // SAFETY: a static string from the library.
            let name = unsafe { CStr::from_ptr(pitstop_status_name(status as i32)) };
            assert_eq!(name.to_str().unwrap(), code);
        }
    }
}

/// What a C host would pass: the bytes up to the first NUL.
fn as_c_string(bytes: &[u8]) -> (Vec<u8>, CString) {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    let bytes = bytes[..end].to_vec();
    (bytes.clone(), CString::new(bytes).unwrap())
}

/// Run one input through execute and validate; returns the status of execute.
fn run(bytes: &[u8]) -> PitstopStatus {
    let (bytes, request) = as_c_string(bytes);
    let (executed, response) = call(pitstop_execute, &request);
    check(&bytes, executed, &response);
    let (status, response) = call(pitstop_validate, &request);
    check(&bytes, status, &response);
    executed
}

fn json_value() -> impl Strategy<Value = Value> {
    let words = prop::sample::select(vec![
        "op",
        "args",
        "customer",
        "id",
        "card",
        "phone",
        "lines",
        "qty",
        "unit_price",
        "kind",
        "labor",
        "points",
        "at",
        "idempotency_key",
        "order_id",
        "redeem",
        "max",
        "hold",
        "limit",
        "2025-03-01T09:00:00Z",
        "1",
        "-1",
        "0.001",
        "1e400",
        "",
        "2000000000015",
        "+79165551234",
        "full_name",
        "program",
        "date",
        "before",
        "after",
        "query",
        "by",
        "vehicle",
        "plate",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        words.clone().prop_map(|w| json!(w)),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(words.clone().prop_map(str::to_string), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn request() -> impl Strategy<Value = Value> {
    let ops: Vec<String> = pitstop_core::OPS
        .iter()
        .map(|op| op.name.to_string())
        .chain(["nope".to_string(), "".to_string(), "customer.".to_string()])
        .collect();
    (prop::sample::select(ops), json_value(), any::<bool>()).prop_map(|(op, args, with_args)| {
        if with_args {
            json!({"op": op, "args": args})
        } else {
            json!({"op": op})
        }
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len().max(1);
        match *mutation {
            Mutation::Flip(at, mask) => {
                if let Some(byte) = bytes.get_mut(at % len) {
                    *byte ^= mask;
                }
            }
            Mutation::Insert(at, byte) => bytes.insert((at % len).min(bytes.len()), byte),
            Mutation::Delete(at) => {
                if !bytes.is_empty() {
                    bytes.remove(at % len);
                }
            }
            Mutation::Truncate(at) => bytes.truncate(at % len),
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop::sample::select(vec![
        b'"', b'{', b'}', b'[', b']', b',', b':', b'\\', b'0', b'9', b'-', b'.', 0xff, 0xc3, 0x80,
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, mask)| Mutation::Flip(at, mask)),
        (any::<usize>(), interesting).prop_map(|(at, byte)| Mutation::Insert(at, byte)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// Run `cases()` inputs from `strategy` through `run`, and print how many ran.
fn fuzz<S: Strategy>(name: &str, strategy: S, to_bytes: impl Fn(S::Value) -> Vec<u8>) {
    let config = ProptestConfig {
        cases: cases(),
        max_shrink_iters: 500,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let ran = AtomicU64::new(0);
    let statuses = Mutex::new(BTreeMap::<i32, u64>::new());
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&strategy, |value| {
        let status = run(&to_bytes(value));
        ran.fetch_add(1, Ordering::Relaxed);
        *statuses.lock().unwrap().entry(status as i32).or_default() += 1;
        Ok(())
    });
    let tally: Vec<String> = statuses
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|(status, count)| {
            // SAFETY: a static string from the library.
            let name = unsafe { CStr::from_ptr(pitstop_status_name(status)) };
            format!("{} {count}", name.to_string_lossy())
        })
        .collect();
    eprintln!(
        "fuzz {name}: {} inputs, each through pitstop_execute and pitstop_validate ({})",
        ran.load(Ordering::Relaxed),
        tally.join(", ")
    );
    if let Err(err) = outcome {
        panic!("fuzz {name} failed: {err}");
    }
}

#[test]
fn arbitrary_bytes() {
    fuzz(
        "arbitrary bytes",
        prop::collection::vec(any::<u8>(), 0..400),
        |bytes| bytes,
    );
}

#[test]
fn arbitrary_requests() {
    fuzz("arbitrary requests", request(), |request| {
        request.to_string().into_bytes()
    });
}

#[test]
fn mutated_real_requests() {
    fuzz(
        "mutated real requests",
        (
            prop::sample::select(templates()),
            prop::collection::vec(mutation(), 1..6),
        ),
        |(template, mutations)| mutate(template.into_bytes(), &mutations),
    );
}

/// Every JSON pointer inside `value` (not the root).
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let path = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push(path.clone());
                pointers(inner, path, out);
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                let path = format!("{at}/{index}");
                out.push(path.clone());
                pointers(inner, path, out);
            }
        }
        _ => {}
    }
}

/// Replace (or, with `remove`, delete) the value at the `pick`-th pointer of `request`.
fn mutate_value(mut request: Value, edits: Vec<(usize, bool, Value)>) -> Value {
    for (pick, remove, replacement) in edits {
        let mut paths = Vec::new();
        pointers(&request, String::new(), &mut paths);
        let Some(path) = paths.get(pick % paths.len().max(1)).cloned() else {
            continue;
        };
        if remove {
            let (parent, key) = path.rsplit_once('/').unwrap();
            match request.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(items)) => {
                    let index: usize = key.parse().unwrap();
                    items.remove(index);
                }
                _ => {}
            }
        } else if let Some(slot) = request.pointer_mut(&path) {
            *slot = replacement;
        }
    }
    request
}

#[test]
fn real_requests_with_values_replaced() {
    let templates: Vec<Value> = templates()
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    fuzz(
        "real requests with values replaced",
        (
            prop::sample::select(templates),
            prop::collection::vec(
                (any::<usize>(), prop::bool::weighted(0.2), json_value()),
                1..4,
            ),
        ),
        |(template, edits)| mutate_value(template, edits).to_string().into_bytes(),
    );
}

#[test]
fn every_template_is_a_valid_request() {
    for template in templates() {
        let request = CString::new(template.clone()).unwrap();
        let (status, response) = call(pitstop_validate, &request);
        check(template.as_bytes(), status, &response);
        assert_eq!(status, PitstopStatus::Ok, "{template} → {response}");
    }
}
