//! End-to-end tests of the `pitstop` binary's basics, run as a process: `init`, `exec`
//! (arguments, stdin, exit codes), the customer card, and the locales.

use crate::common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};

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

/// A reader that stops reading (`pitstop exec … | head`) ends the program as it ends any
/// Unix tool, by SIGPIPE: no panic, no backtrace on the terminal.
#[cfg(unix)]
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    exec(
        &store,
        "customer.register",
        json!({"full_name": "Кузнецова Ольга", "phone": "+7 916 555-00-01"}),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_pitstop"))
        .args(["exec", s(&store), "customer.list", "{}"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the program has printed anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // SIGPIPE is 13 on Linux and the BSDs.
    assert_eq!(out.status.signal(), Some(13), "{:?}", out.status);
}
