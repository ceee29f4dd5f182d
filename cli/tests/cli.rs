//! End-to-end tests of the `pitstop` binary: every command run as a process.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn pitstop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pitstop"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run pitstop")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn json_out(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn new_store(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    let out = pitstop(&["init", s(&store)]);
    assert!(out.status.success(), "{}", stderr(&out));
    store
}

fn exec(store: &Path, op: &str, args: Value) -> Value {
    let out = pitstop(&["exec", s(store), op, &args.to_string()]);
    assert!(out.status.success(), "{op}: {}", stderr(&out));
    json_out(&out)["result"].clone()
}

fn fixtures(dir: &Path) -> PathBuf {
    let to = dir.join("fixtures");
    std::fs::create_dir_all(&to).unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to
}

#[test]
fn init_then_exec_round_trip_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    // A second init refuses to overwrite.
    let again = pitstop(&["init", s(&store)]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("already_exists"));

    let registered = exec(
        &store,
        "customer.register",
        json!({"full_name": "Смирнов Алексей", "phone": "8 916 555-12-34", "card": "2000000000015"}),
    );
    assert_eq!(registered["customer"]["phone"], "+79165551234");

    // Arguments from stdin.
    let mut child = Command::new(env!("CARGO_BIN_EXE_pitstop"))
        .args(["exec", s(&store), "points.balance"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"customer": {"card": "2000000000015"}}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(json_out(&out)["result"]["available"], "300");

    // An operation error: JSON response on stdout, the code on stderr, exit 1.
    let out = pitstop(&[
        "exec",
        s(&store),
        "points.adjust",
        r#"{"customer": {"card": "2000000000015"}, "points": "-100000", "reason": "x", "operator": "y"}"#,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_out(&out)["ok"], false);
    assert_eq!(json_out(&out)["error"]["code"], "insufficient_points");
    assert!(stderr(&out).contains("insufficient_points"));

    let out = pitstop(&["exec", s(&store), "no.such", "{}"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unknown_operation"));

    // Bad JSON, a missing store, a usage error.
    let out = pitstop(&["exec", s(&store), "program.get", "{not json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("invalid_request"));
    // A key given twice is refused, as through every other door.
    let out = pitstop(&[
        "exec",
        s(&store),
        "points.balance",
        r#"{"customer": {"card": "2000000000015", "card": "no-such-card"}}"#,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("invalid_request"), "{}", stderr(&out));
    assert!(stderr(&out).contains("customer.card"), "{}", stderr(&out));
    let missing = dir.path().join("missing");
    let out = pitstop(&["check", s(&missing)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("error[not_found]"));
    assert!(!missing.exists(), "a typo must not create a store");
    let out = pitstop(&["--json", "check", s(&missing)]);
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "not_found");
    assert_eq!(pitstop(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn init_with_the_shipped_programme_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/program.example.json");
    let out = pitstop(&["--json", "init", s(&store), "--program", s(&file)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let program = exec(&store, "program.get", json!({}));
    assert_eq!(
        program["program"]["name"]
            .as_str()
            .or(program["name"].as_str()),
        Some("Клуб автосервиса")
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"name": "x", "expiry_months": -3}"#).unwrap();
    let other = dir.path().join("other");
    let out = pitstop(&["init", s(&other), "--program", s(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("invalid_program"), "{}", stderr(&out));
    assert!(!other.exists());
}

#[test]
fn customer_card_in_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    exec(
        &store,
        "customer.register",
        json!({"full_name": "Смирнов Алексей Петрович",
        "phone": "8 916 555-12-34", "card": "2000000000015"}),
    );
    exec(
        &store,
        "customer.register",
        json!({"full_name": "Смирнова Ольга",
        "phone": "8 916 555-00-00"}),
    );
    exec(
        &store,
        "vehicle.add",
        json!({"customer": {"card": "2000000000015"},
        "plate": "о777оо77", "make": "Skoda", "model": "Octavia", "year": 2017, "mileage": 98000}),
    );
    exec(
        &store,
        "checkout.commit",
        json!({"customer": {"card": "2000000000015"},
        "order_id": "ЗН-1", "lines": [{"sku": "TO-2", "name": "ТО-2", "kind": "labor",
        "qty": "1", "unit_price": "4500"}]}),
    );

    // By card (exact identifier).
    let out = pitstop(&["customer", s(&store), "2000000000015"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let card = stdout(&out);
    assert!(
        card.starts_with("Смирнов Алексей Петрович (#1)\n"),
        "{card}"
    );
    // The example programme speaks Russian: labels, numbers, dates, the tier's name.
    let line = |label: &str| {
        card.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("телефон ").ends_with(" +79165551234"), "{card}");
    assert!(line("уровень ").contains("Базовый"), "{card}");
    assert!(
        line("баллы ").contains("300 доступно") && line("баллы ").contains("315 ожидают"),
        "{card}"
    );
    let expiring = line("сгорят ");
    assert!(expiring.contains("300 — "), "{card}");
    assert!(
        card.contains("O777OO77") && card.contains("Skoda  Octavia"),
        "{card}"
    );
    let visit = card
        .lines()
        .find(|l| l.contains("ЗН-1"))
        .unwrap_or_default();
    assert!(
        visit.contains(" 4500,00 ") && visit.ends_with(" 315"),
        "{card}"
    );
    assert!(
        !card.contains("Last visits") && card.contains("Последние визиты"),
        "{card}"
    );
    assert!(!has_iso_date(&card), "{card}");
    // By plate, and as JSON.
    let out = pitstop(&["--json", "customer", s(&store), "O777OO77"]);
    assert_eq!(json_out(&out)["customer"]["id"], 1);
    // A name prefix matching two: the list.
    let out = pitstop(&["customer", s(&store), "Смирнов"]);
    assert!(
        stdout(&out).starts_with("2 клиента по запросу \"Смирнов\"; уточните запрос:"),
        "{}",
        stdout(&out)
    );
    // Nobody.
    let out = pitstop(&["customer", s(&store), "Кузнецов"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not_found"));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn import_both_encodings_with_exact_errors_and_a_second_run_changing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let fx = fixtures(dir.path());

    let out = pitstop(&[
        "--json",
        "import",
        s(&store),
        "customers",
        s(&fx.join("customers.csv")),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let summary = json_out(&out);
    assert_eq!(
        (summary["encoding"].as_str(), summary["separator"].as_str()),
        (Some("utf-8"), Some(";"))
    );
    assert_eq!(
        (
            summary["rows"].as_u64(),
            summary["added"].as_u64(),
            summary["rejected"].as_u64()
        ),
        (Some(7), Some(2), Some(5))
    );
    assert_eq!(
        read(&fx.join("customers.customers.errors.csv")),
        "row,id,code,reason\n\
        4,C003,invalid_argument,phone: '12345' is not a valid phone number\n\
        5,C004,invalid_argument,full_name: empty\n\
        6,C005,already_exists,phone +79031112233 already belongs to customer C002\n\
        7,C006,invalid_argument,\"birthday: \"\"31.02.1980\"\" is not a date (DD.MM.YYYY, DD.MM.YYYY HH:MM[:SS] or YYYY-MM-DD)\"\n\
        8,,invalid_argument,external_id: the source id is empty\n"
    );

    let out = pitstop(&[
        "--json",
        "import",
        s(&store),
        "customers",
        s(&fx.join("customers-cp1251.csv")),
    ]);
    let summary = json_out(&out);
    assert_eq!(summary["encoding"], "cp1251");
    assert_eq!(
        (summary["added"].as_u64(), summary["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        read(&fx.join("customers-cp1251.customers.errors.csv")),
        "row,id,code,reason\n3,K2,invalid_argument,phone: 'не знаю' is not a phone number\n"
    );
    let found = exec(
        &store,
        "customer.find",
        json!({"by": {"external_id": "K1"}}),
    );
    assert_eq!(found["items"][0]["full_name"], "Смирнова Ольга");

    let vehicles = fx.join("vehicles-cp1251.csv");
    let map = fx.join("vehicles-map.json");
    let out = pitstop(&[
        "--json",
        "import",
        s(&store),
        "vehicles",
        s(&vehicles),
        "--map",
        s(&map),
    ]);
    let summary = json_out(&out);
    assert_eq!(
        (summary["encoding"].as_str(), summary["separator"].as_str()),
        (Some("cp1251"), Some(","))
    );
    assert_eq!(
        (summary["added"].as_u64(), summary["rejected"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(
        read(&fx.join("vehicles-cp1251.vehicles.errors.csv")),
        "row,id,code,reason\n\
        4,V3,not_found,\"customer: no customer with source id \"\"C999\"\" (import customers first)\"\n\
        5,V4,invalid_argument,\"year: \"\"20x5\"\" is not a whole number\"\n\
        6,V5,invalid_argument,\"mileage: \"\"1500,5\"\" is not a whole number\"\n"
    );
    let lada = exec(
        &store,
        "vehicle.get",
        json!({"vehicle": {"plate": "В456ОР99"}}),
    );
    assert_eq!(
        (
            lada["vehicle"]["make"].as_str(),
            lada["vehicle"]["mileage_km"].as_u64()
        ),
        (Some("Лада"), Some(45000))
    );
    let card = exec(
        &store,
        "customer.get",
        json!({"customer": {"external_id": "C001"}}),
    );
    assert_eq!(card["customer"]["birthday"], "1984-05-17");
    assert_eq!(card["vehicles"][0]["mileage_km"], 98000);

    // Opening balances: dated lots through points.adjust.
    let balances = fx.join("balances.csv");
    let out = pitstop(&["--json", "import", s(&store), "balances", s(&balances)]);
    let summary = json_out(&out);
    assert_eq!(
        (summary["added"].as_u64(), summary["rejected"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        read(&fx.join("balances.balances.errors.csv")),
        "row,id,code,reason\n\
        4,C999,not_found,customer with external id C999 not found\n\
        5,C001,invalid_argument,\"points: \"\"много\"\" is not a number\"\n"
    );
    let statement = exec(
        &store,
        "points.statement",
        json!({"customer": {"external_id": "C001"}}),
    );
    let opening = statement["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "opening balance (import C001)")
        .unwrap()
        .clone();
    assert_eq!(
        (opening["amount"].as_str(), opening["date"].as_str()),
        (Some("1250"), Some("2024-12-31"))
    );
    let balance = exec(
        &store,
        "points.balance",
        json!({"customer": {"external_id": "C001"}}),
    );
    assert!(
        balance["next_expiries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["date"] != "2025-12-31"),
        "the opening lot expired on 2025-12-31: {balance}"
    );

    // The second run changes nothing.
    let before = exec(&store, "store.stats", json!({}))["records"].clone();
    let points = exec(&store, "report.points", json!({}));
    for (kind, file, extra) in [
        ("customers", fx.join("customers.csv"), None),
        ("customers", fx.join("customers-cp1251.csv"), None),
        ("vehicles", vehicles.clone(), Some(&map)),
        ("balances", balances.clone(), None),
    ] {
        let mut args = vec!["--json", "import", s(&store), kind, s(&file)];
        if let Some(map) = extra {
            args.extend(["--map", s(map)]);
        }
        let summary = json_out(&pitstop(&args));
        assert_eq!(summary["added"], 0, "{kind}: {summary}");
        assert!(summary["unchanged"].as_u64().unwrap() > 0);
    }
    assert_eq!(exec(&store, "store.stats", json!({}))["records"], before);
    assert_eq!(exec(&store, "report.points", json!({})), points);
    assert!(pitstop(&["check", s(&store)]).status.success());
}

#[test]
fn backup_restore_round_trip_and_check_finds_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    for i in 0..20 {
        exec(
            &store,
            "customer.register",
            json!({"full_name": format!("Клиент {i}"),
            "phone": format!("+7916000{i:04}")}),
        );
    }
    let backup = dir.path().join("store.backup");
    let out = pitstop(&["--json", "backup", s(&store), s(&backup)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(json_out(&out)["records"].as_u64().unwrap() > 20);

    let restored = dir.path().join("restored");
    let out = pitstop(&["restore", s(&backup), s(&restored)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("проблем ") && l.ends_with(" 0")),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        exec(
            &restored,
            "customer.get",
            json!({"customer": {"phone": "+79160000019"}})
        )["customer"]["full_name"],
        "Клиент 19"
    );
    assert_eq!(
        exec(&restored, "report.points", json!({})),
        exec(&store, "report.points", json!({}))
    );
    // Restoring over an existing store is refused.
    assert_eq!(
        pitstop(&["restore", s(&backup), s(&restored)])
            .status
            .code(),
        Some(1)
    );

    let out = pitstop(&["check", s(&store)]);
    assert!(out.status.success());
    // Flip bytes in the middle of the data file of a copy.
    let damaged = dir.path().join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    for entry in walk(&store) {
        let to = damaged.join(entry.strip_prefix(&store).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    let db = damaged.join("db");
    let mut bytes = std::fs::read(&db).unwrap();
    let len = bytes.len();
    // Everything past the first segment header: every record of a small store is there.
    for b in &mut bytes[64..len] {
        *b ^= 0x5a;
    }
    std::fs::write(&db, bytes).unwrap();
    let out = pitstop(&["check", s(&damaged)]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("corrupted"), "{}", stderr(&out));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn daily_reports_and_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let out = pitstop(&["--json", "daily", s(&store), "--date", "2026-01-10"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_out(&out)["date"], "2026-01-10");
    // A date not in YYYY-MM-DD is a usage error naming the option.
    let out = pitstop(&["daily", s(&store), "--date", "10.01.2026"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--date"), "{}", stderr(&out));

    exec(
        &store,
        "customer.register",
        json!({"full_name": "Иванов Иван", "at": "2025-03-01T09:00:00Z"}),
    );
    exec(
        &store,
        "checkout.commit",
        json!({"customer": {"id": 1}, "order_id": "1",
        "lines": [{"sku": "A", "name": "Работа", "kind": "labor", "qty": "1", "unit_price": "1000"}],
        "at": "2025-03-10T10:00:00Z"}),
    );
    let out = pitstop(&[
        "report",
        s(&store),
        "activity",
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-31",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("месяц  "), "{text}");
    assert!(
        text.lines().nth(1).unwrap().starts_with("03.2025"),
        "{text}"
    );
    let out = pitstop(&["--json", "report", s(&store), "points"]);
    assert_eq!(json_out(&out)["issued"], "370");

    let out = pitstop(&["plugin", s(&store), "list"]);
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("плагин"));
    let out = pitstop(&["plugin", s(&store), "disable", "nothing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not_found"), "{}", stderr(&out));
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"not wasm").unwrap();
    let out = pitstop(&["plugin", s(&store), "install", "junk", s(&junk)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("plugin_invalid"), "{}", stderr(&out));
}

#[test]
fn plugin_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let wasm = wat::parse_str(
        r#"(module (memory (export "memory") 1)
  (func (export "pitstop_abi_version_1"))
  (func (export "pitstop_alloc") (param i32) (result i32) (i32.const 8))
  (func (export "pitstop_checkout") (param i32 i32) (result i64) (i64.const 0)))"#,
    )
    .unwrap();
    let file = dir.path().join("noop.wasm");
    std::fs::write(&file, wasm).unwrap();
    let args = [
        "plugin",
        s(&store),
        "install",
        "noop",
        s(&file),
        "--priority",
        "5",
        "--config",
        r#"{"x": 1}"#,
        "--on-error",
        "fail",
    ];
    let out = pitstop(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    // A second install of the same name needs --replace.
    let out = pitstop(&args);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already_exists"), "{}", stderr(&out));
    let mut replace = args.to_vec();
    replace.push("--replace");
    assert!(pitstop(&replace).status.success());

    let out = pitstop(&["plugin", s(&store), "list"]);
    let text = stdout(&out);
    let row = text.lines().nth(1).unwrap_or_default().to_string();
    assert!(
        row.starts_with("noop ")
            && row.split_whitespace().nth(1) == Some("да")
            && row.contains(" fail "),
        "{text}"
    );
    assert!(
        pitstop(&["plugin", s(&store), "disable", "noop"])
            .status
            .success()
    );
    let list = json_out(&pitstop(&["--json", "plugin", s(&store), "list"]));
    let first = list
        .as_array()
        .map(|l| l[0].clone())
        .unwrap_or_else(|| list["plugins"][0].clone());
    assert_eq!(
        (first["enabled"].as_bool(), first["priority"].as_i64()),
        (Some(false), Some(5))
    );
    assert_eq!(first["config"], json!({"x": 1}));
    assert!(
        pitstop(&["plugin", s(&store), "enable", "noop"])
            .status
            .success()
    );
    assert!(
        pitstop(&["plugin", s(&store), "remove", "noop"])
            .status
            .success()
    );
    let list = json_out(&pitstop(&["--json", "plugin", s(&store), "list"]));
    let empty = list
        .as_array()
        .map(|l| l.is_empty())
        .unwrap_or_else(|| list["plugins"].as_array().unwrap().is_empty());
    assert!(empty, "{list}");
}

#[test]
fn visit_history_import_in_both_encodings_with_exact_errors_and_an_idempotent_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let fx = fixtures(dir.path());
    for (kind, file, map) in [
        ("customers", "customers.csv", None),
        ("customers", "customers-cp1251.csv", None),
        ("vehicles", "vehicles-cp1251.csv", Some("vehicles-map.json")),
    ] {
        let file = fx.join(file);
        let mut args = vec!["--json", "import", s(&store), kind, s(&file)];
        let map = map.map(|m| fx.join(m));
        if let Some(map) = &map {
            args.extend(["--map", s(map)]);
        }
        let out = pitstop(&args);
        assert!(out.status.code() == Some(3), "{kind}: {}", stderr(&out));
    }
    // Imported customers are not new: no welcome bonus.
    let balance = exec(
        &store,
        "points.balance",
        json!({"customer": {"external_id": "C001"}}),
    );
    assert_eq!(balance["total"], "0");

    let visits = fx.join("visits.csv");
    let out = pitstop(&["--json", "import", s(&store), "visits", s(&visits)]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let summary = json_out(&out);
    assert_eq!(
        (summary["encoding"].as_str(), summary["separator"].as_str()),
        (Some("utf-8"), Some(";"))
    );
    let counts = |s: &Value| {
        [
            "rows",
            "visits",
            "added",
            "unchanged",
            "rejected",
            "rejected_visits",
        ]
        .map(|k| s[k].as_u64().unwrap())
    };
    assert_eq!(counts(&summary), [11, 8, 3, 0, 7, 5], "{summary}");
    assert_eq!(
        read(&fx.join("visits.visits.errors.csv")),
        "row,id,code,reason\n\
        5,ЗН-1003,not_found,order ЗН-1003: customer with external id C999 not found\n\
        6,ЗН-1004,invalid_argument,\"order ЗН-1004: rejected with its row 7 (kind: \"\"штука\"\" is not labor/part/goods (работа/запчасть/товар))\"\n\
        7,ЗН-1004,invalid_argument,\"kind: \"\"штука\"\" is not labor/part/goods (работа/запчасть/товар)\"\n\
        8,ЗН-1005,invalid_argument,\"date: \"\"31.02.2024\"\" is not a date (DD.MM.YYYY, DD.MM.YYYY HH:MM[:SS] or YYYY-MM-DD)\"\n\
        9,,invalid_argument,order_id: the source order id is empty\n\
        10,ЗН-1006,invalid_argument,\"qty: \"\"много\"\" is not a number\"\n\
        11,ЗН-1007,invalid_argument,\"order ЗН-1007: vehicle: vehicle A123BC77 belongs to customer C001, not customer C002\"\n"
    );
    // The visit as recorded: decimal commas, the discount from price × qty − amount,
    // the mileage reading, no points.
    let visit = exec(&store, "visit.get", json!({"order_id": "ЗН-1001"}));
    assert_eq!(
        (
            visit["date"].as_str(),
            visit["mileage"].as_u64(),
            visit["advisor"].as_str()
        ),
        (Some("2024-03-15"), Some(99500), Some("Кравцов Д."))
    );
    assert_eq!(visit["lines"][1]["qty"], "4.5");
    assert_eq!(visit["lines"][1]["host_discount"], "400.50");
    assert_eq!(
        (
            visit["totals"]["net"].as_str(),
            visit["totals"]["accrual"].as_str()
        ),
        (Some("4804.50"), Some("0"))
    );
    let later = exec(&store, "visit.get", json!({"order_id": "ЗН-1008"}));
    assert_eq!(later["lines"][0]["unit_price"], "650");
    let car = exec(
        &store,
        "vehicle.get",
        json!({"vehicle": {"vin": "XW8ZZZ61ZHG012345"}}),
    );
    // History readings join the car's readings; the current figure stays the most
    // recent one (entered when the car was imported today).
    let km: Vec<u64> = car["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["km"].as_u64().unwrap())
        .collect();
    assert_eq!(km, [99500, 101000, 98000]);
    assert_eq!(car["vehicle"]["mileage_km"], 98000);
    let card = exec(
        &store,
        "customer.get",
        json!({"customer": {"external_id": "C001"}}),
    );
    assert_eq!(
        (
            card["customer"]["visits"].as_u64(),
            card["customer"]["total_spend"].as_str()
        ),
        (Some(2), Some("5454.50"))
    );
    assert_eq!(card["balance"]["total"], "0", "history creates no points");

    // Windows-1251, `,` separated, ISO dates, a mapping file for the odd column names.
    let cp = fx.join("visits-cp1251.csv");
    let map = fx.join("visits-map.json");
    let out = pitstop(&[
        "--json",
        "import",
        s(&store),
        "visits",
        s(&cp),
        "--map",
        s(&map),
    ]);
    let summary = json_out(&out);
    assert_eq!(
        (summary["encoding"].as_str(), summary["separator"].as_str()),
        (Some("cp1251"), Some(","))
    );
    assert_eq!(counts(&summary), [3, 3, 1, 0, 2, 2], "{summary}");
    assert_eq!(
        read(&fx.join("visits-cp1251.visits.errors.csv")),
        "row,id,code,reason\n\
        3,Р-2,invalid_argument,\"order Р-2: vehicle: vehicle B456OP99 belongs to customer C002, not customer K1\"\n\
        4,Р-3,invalid_argument,unit_price: empty (give a price or an amount)\n"
    );
    let wipers = exec(&store, "visit.get", json!({"order_id": "Р-1"}));
    assert_eq!(
        (
            wipers["lines"][0]["kind"].as_str(),
            wipers["totals"]["net"].as_str()
        ),
        (Some("goods"), Some("900.00"))
    );

    // The second run changes nothing.
    let before = exec(&store, "store.stats", json!({}))["records"].clone();
    let summary = json_out(&pitstop(&[
        "--json",
        "import",
        s(&store),
        "visits",
        s(&visits),
    ]));
    assert_eq!(counts(&summary), [11, 8, 0, 3, 7, 5], "{summary}");
    let summary = json_out(&pitstop(&[
        "--json",
        "import",
        s(&store),
        "visits",
        s(&cp),
        "--map",
        s(&map),
    ]));
    assert_eq!(
        (summary["added"].as_u64(), summary["unchanged"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(exec(&store, "store.stats", json!({}))["records"], before);
    assert!(pitstop(&["check", s(&store)]).status.success());

    // Human output: aligned key/value lines, the errors file named on stderr.
    let out = pitstop(&["import", s(&store), "visits", s(&visits)]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stdout(&out).contains("визитов отклонено  5"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("Отклонено строк: 7; причины в"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn export_round_trip_customers_and_streams_of_visits_and_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let fx = fixtures(dir.path());
    for file in ["customers.csv", "customers-cp1251.csv"] {
        pitstop(&["import", s(&store), "customers", s(&fx.join(file))]);
    }
    exec(
        &store,
        "customer.update",
        json!({"customer": {"external_id": "C001"}, "notes": "клиент с 2015 года; любит, когда звонят",
               "add_tags": ["vip", "такси"], "source": "Сайт"}),
    );
    exec(
        &store,
        "card.issue",
        json!({"customer": {"external_id": "C002"}, "number": "2000000000022"}),
    );
    pitstop(&[
        "import",
        s(&store),
        "vehicles",
        s(&fx.join("vehicles-cp1251.csv")),
        "--map",
        s(&fx.join("vehicles-map.json")),
    ]);
    pitstop(&["import", s(&store), "visits", s(&fx.join("visits.csv"))]);

    let file = dir.path().join("customers-export.csv");
    let out = pitstop(&[
        "--json",
        "export",
        s(&store),
        "customers",
        "--format",
        "csv",
        "-o",
        s(&file),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_out(&out)["exported"], 3);

    let other = dir.path().join("other");
    assert!(pitstop(&["init", s(&other)]).status.success());
    let out = pitstop(&["--json", "import", s(&other), "customers", s(&file)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_out(&out)["added"], 3);
    let list = |store: &Path| -> Vec<Value> {
        exec(store, "customer.list", json!({}))["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let fields = [
                    "external_id",
                    "full_name",
                    "phone",
                    "email",
                    "birthday",
                    "gender",
                    "kind",
                    "source",
                    "card",
                    "tags",
                    "notes",
                    "status",
                ];
                Value::Object(
                    fields
                        .iter()
                        .map(|f| (f.to_string(), c[*f].clone()))
                        .collect(),
                )
            })
            .collect()
    };
    let original = list(&store);
    assert_eq!(original.len(), 3);
    assert_eq!(list(&other), original);
    assert_eq!(original[0]["tags"], json!(["vip", "такси"]));

    // Visits, one CSV row per line, and the same as a JSON array streamed to stdout.
    let out = pitstop(&["export", s(&store), "visits", "--format", "csv"]);
    assert!(out.status.success());
    let text = stdout(&out);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("order_id,date,customer,"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 4, "{text}");
    assert!(
        rows[1].starts_with("ЗН-1001,2024-03-15,C001,1,XW8ZZZ61ZHG012345,A123BC77,99500,,Кравцов Д.,1,OIL-5W30,\"Масло 5W-30, л\",goods,,4.5,890,400.50,3604.50,"),
        "{}",
        rows[1]
    );
    let out = pitstop(&["export", s(&store), "visits", "--format", "json"]);
    let visits: Value = json_out(&out);
    assert_eq!(visits.as_array().unwrap().len(), 3);
    assert_eq!(visits[0]["order_id"], "ЗН-1001");

    // The ledger: nothing from history; a checkout adds entries.
    let out = pitstop(&["export", s(&store), "ledger", "--format", "json"]);
    assert_eq!(json_out(&out), json!([]));
    exec(
        &store,
        "checkout.commit",
        json!({"customer": {"external_id": "C001"}, "order_id": "T-1",
               "lines": [{"sku": "L", "name": "Работа", "kind": "labor", "qty": "1", "unit_price": "5000"}]}),
    );
    let out = pitstop(&["export", s(&store), "ledger"]);
    let text = stdout(&out);
    assert!(
        text.starts_with("customer_id,customer,seq,date,kind,amount,"),
        "{text}"
    );
    assert!(
        text.lines().nth(1).unwrap().starts_with("1,C001,1,"),
        "{text}"
    );
    let out = pitstop(&["export", s(&store), "ledger", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn demo_runs_small_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| -> Value {
        let store = dir.path().join(name);
        let out = pitstop(&[
            "--json",
            "demo",
            s(&store),
            "--customers",
            "150",
            "--years",
            "1",
            "--plugins",
            s(&dir.path().join("no-plugins")),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        json_out(&out)
    };
    let first = run("a");
    assert_eq!(first["check"]["problems"], 0);
    assert!(
        first["history"]["visits"].as_u64().unwrap() > 100,
        "{first}"
    );
    assert!(first["opening_balances"].as_u64().unwrap() > 0);
    assert!(first["today"]["checkouts"].as_u64().unwrap() >= 5);
    assert_eq!(first["plugins"], json!([]));
    assert!(
        first["plugins_note"]
            .as_str()
            .unwrap()
            .contains("make plugins")
    );
    assert!(first["first_receipt"]["visit"].is_u64());
    assert!(first["customer"]["customer"]["visits"].as_u64().unwrap() >= 2);
    // Imported history made tiers, and reports see it.
    let tiers = first["tiers"].as_object().unwrap();
    assert!(tiers.len() >= 2, "{tiers:?}");
    let months = first["activity"]["rows"].as_array().unwrap();
    assert!(months.len() >= 12);
    // The tools that bring customers back, migrated and used on the day.
    let engagement = &first["engagement"];
    for key in [
        "recommendations",
        "recommendations_closed",
        "feedback",
        "complaints",
        "sets_checked_in",
    ] {
        assert!(engagement[key].as_u64().unwrap() > 0, "{key}: {engagement}");
    }
    // The cashier sees the first customer's open recommendation at the till, and others'
    // over the day.
    let messages = first["cashier_messages"].as_array().unwrap();
    assert!(
        messages.iter().any(|m| m["kind"] == "recommendation"
            && m["text"].as_str().unwrap().starts_with("Рекомендовано ")),
        "{messages:?}"
    );
    assert!(
        first["recommendation_messages"]["receipts"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // The first customer's card: recommendation, the summer set, the arrived pads, and
    // the reminders due for them.
    let card = &first["customer"];
    assert_eq!(
        card["open_recommendations"][0]["work"],
        "Замена передних тормозных колодок"
    );
    assert_eq!(card["tyre_storage"][0]["season"], "summer");
    assert_eq!(card["special_orders"][0]["status"], "arrived");
    let own: Vec<&str> = first["customer_reminders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(own.contains(&"order_arrived:1"), "{own:?}");
    // The owner: today's reminders by kind with an example of each.
    let reminders = &first["reminders"];
    assert_eq!(reminders["date"], "2025-12-01");
    let by_kind = reminders["by_kind"].as_object().unwrap();
    assert_eq!(by_kind["order_arrived"], 1, "{reminders}");
    for kind in ["recommendation", "quality_call"] {
        assert!(by_kind[kind].as_u64().unwrap() >= 1, "{kind}: {reminders}");
    }
    let counted: u64 = by_kind.values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(reminders["total"], counted);
    let examples = reminders["examples"].as_array().unwrap();
    assert_eq!(examples.len(), by_kind.len());
    assert!(
        examples
            .iter()
            .all(|r| !r["text"].as_str().unwrap().is_empty())
    );
    // The campaign reached some and brought some; the complaints; the referral pair.
    let campaign = &first["campaign"];
    assert!(campaign["notified"].as_u64().unwrap() >= 1, "{campaign}");
    assert!(campaign["came"].as_u64().unwrap() >= 1, "{campaign}");
    assert!(first["complaints"]["complaints"].as_u64().unwrap() >= 1);
    let referrals = first["referrals"]["rows"].as_array().unwrap();
    assert_eq!(referrals.len(), 1);
    assert_eq!(referrals[0]["signup"], "rewarded");
    assert_eq!(referrals[0]["rewarded_referrer"], "500");

    // Deterministic: the same seed gives the same shop.
    let second = run("b");
    for key in [
        "history",
        "today",
        "tiers",
        "activity",
        "points",
        "engagement",
        "reminders",
        "campaign",
        "complaints",
        "referrals",
    ] {
        let (a, b) = (&first[key], &second[key]);
        if key == "history" {
            assert_eq!(a["visits"], b["visits"]);
        } else {
            assert_eq!(a, b, "{key}");
        }
    }
    // The owner's dashboard beside each store: every section drawn, the same page for the
    // same shop.
    let page = |name: &str| {
        std::fs::read_to_string(dir.path().join(format!("{name}-dashboard.html"))).unwrap()
    };
    assert_eq!(
        first["dashboard"]["file"],
        s(&dir.path().join("a-dashboard.html"))
    );
    let (a, b) = (page("a"), page("b"));
    assert!(a.starts_with("<!DOCTYPE html>"));
    for chart in [
        "revenue",
        "customers",
        "cohorts",
        "tiers",
        "liability",
        "campaigns",
        "complaints",
        "top-customers",
    ] {
        assert!(a.contains(&format!("data-chart=\"{chart}\"")), "{chart}");
    }
    assert_eq!(a, b);
    // What a person reads: the cashier's recommendation messages, the card's sections,
    // the owner's reminders, campaign, complaints and referrals.
    let out = pitstop(&[
        "demo",
        s(&dir.path().join("c")),
        "--customers",
        "150",
        "--years",
        "1",
        "--plugins",
        s(&dir.path().join("no-plugins")),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "\n  • Рекомендовано ",
        "за день касса показала ",
        "\nОткрытые рекомендации\n",
        "\nШины на хранении\nсезон ",
        "\nЗаказные запчасти\n",
        "\nНапоминания на сегодня\n",
        "С кем связаться сегодня (pitstop reminders): ",
        "\nSMS-кампания (pitstop report ",
        "SMS, сегмент «Не были 4 месяца»",
        "\nЖалобы за 90 дней (pitstop report complaints)\n",
        "\nПоследние жалобы\n",
        "\nРекомендации друзьям (pitstop report referrals)\n",
        // One referee: the Russian singular, not "1 referees".
        "\n1 реферал, награждено: 1",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("Колодки тормозные передние TRW GDB1550")
                && l.contains("прибыло")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("заказ прибыл ") && l.split_whitespace().nth(2) == Some("1")),
        "{text}"
    );
    // The shop's language throughout: no tier codes, no ISO dates, no English labels.
    for word in text.split(|c: char| !c.is_alphanumeric() && c != '_') {
        assert!(
            !["base", "silver", "gold", "platinum"].contains(&word),
            "tier code {word:?} in\n{text}"
        );
    }
    assert!(!has_iso_date(&text), "{text}");
    for english in [
        "Migration",
        "customers",
        "The day",
        "Last visits",
        "referees",
    ] {
        assert!(!text.contains(english), "{english:?} in\n{text}");
    }

    // The store is an ordinary store: the other commands work on it.
    let store = dir.path().join("a");
    let phone = first["customer"]["customer"]["phone"].as_str().unwrap();
    let out = pitstop(&["customer", s(&store), phone]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Последние визиты"));
    assert!(stdout(&out).contains("Открытые рекомендации"));
    let out = pitstop(&["--json", "reminders", s(&store), "--date", "2025-12-01"]);
    assert_eq!(
        json_out(&out)["items"].as_array().unwrap().len() as u64,
        first["reminders"]["total"].as_u64().unwrap()
    );
    let out = pitstop(&["report", s(&store), "campaign", "1"]);
    let first_line = stdout(&out).lines().next().unwrap_or_default().to_string();
    assert!(
        first_line.starts_with("кампания ") && first_line.ends_with(" #1 «Подготовка к зиме»"),
        "{first_line}"
    );
    assert!(pitstop(&["check", s(&store)]).status.success());
    // A directory that is not a store is never removed.
    let precious = dir.path().join("precious");
    std::fs::create_dir_all(&precious).unwrap();
    std::fs::write(precious.join("thesis.txt"), "x").unwrap();
    let out = pitstop(&["demo", s(&precious), "--customers", "10", "--years", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(precious.join("thesis.txt").exists());
}

/// Whether a text holds an ISO date (`2025-12-01`): human output writes dates the
/// shop's way.
fn has_iso_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(10).any(|w| {
        w.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
    })
}

/// A programme whose locale is not Russian gets English, with the same figures; the
/// machine-readable output does not change with the locale.
#[test]
fn other_locales_fall_back_to_english_and_json_stays_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let mut program = pitstop_core::Program::example();
    program["locale"] = json!("de-DE");
    let file = dir.path().join("program.json");
    std::fs::write(&file, program.to_string()).unwrap();
    let english = dir.path().join("en");
    let russian = dir.path().join("ru");
    assert!(
        pitstop(&["init", s(&english), "--program", s(&file)])
            .status
            .success()
    );
    assert!(pitstop(&["init", s(&russian)]).status.success());
    for store in [&english, &russian] {
        exec(
            store,
            "customer.register",
            json!({"full_name": "Смирнов Алексей", "phone": "+79165551234",
                "at": "2025-03-01T10:00:00+03:00"}),
        );
        exec(
            store,
            "checkout.commit",
            json!({"customer": {"phone": "+79165551234"}, "order_id": "ЗН-1",
                "at": "2025-03-02T10:00:00+03:00", "lines": [{"sku": "TO-2", "name": "ТО-2",
                "kind": "labor", "qty": "1", "unit_price": "12345.50"}]}),
        );
    }
    let card = |store: &Path| stdout(&pitstop(&["customer", s(store), "+79165551234"]));
    let (en, ru) = (card(&english), card(&russian));
    assert!(
        en.contains("\nLast visits\n") && en.contains("12,345.50"),
        "{en}"
    );
    assert!(en.contains("2025-03-02"), "{en}");
    assert!(
        ru.contains("\nПоследние визиты\n") && ru.contains("12\u{a0}345,50"),
        "{ru}"
    );
    assert!(ru.contains("02.03.2025") && !has_iso_date(&ru), "{ru}");
    let json_card = |store: &Path| {
        let mut value = json_out(&pitstop(&["--json", "customer", s(store), "+79165551234"]));
        value["balance"]["next_expiries"] = Value::Null;
        value["last_visits"][0]["date"].clone()
    };
    assert_eq!(json_card(&english), json_card(&russian));
    assert_eq!(json_card(&russian), "2025-03-02");
    let points = |store: &Path| json_out(&pitstop(&["--json", "report", s(store), "points"]));
    assert_eq!(points(&english), points(&russian));
}
