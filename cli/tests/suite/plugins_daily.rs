//! `pitstop daily`, the reports it prints, and the plugin commands, run as a process.

use crate::common;

use common::*;
use serde_json::json;

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
    // A config with a key given twice is refused like any request, and installs nothing.
    let mut twice = args.to_vec();
    twice[8] = r#"{"x": 1, "x": 2}"#;
    let out = pitstop(&twice);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid_argument") && stderr(&out).contains("x"),
        "{}",
        stderr(&out)
    );
    let listed = stdout(&pitstop(&["plugin", s(&store), "list"]));
    assert!(!listed.contains("noop"), "{listed}");
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
