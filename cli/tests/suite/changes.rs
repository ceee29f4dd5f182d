//! `pitstop report STORE changes` and `--operator`: who changed what, as a table in the
//! shop's language and as JSON equal to the operation's pages joined.

use crate::common;

use common::{exec, pitstop, s, text};
use serde_json::{Value, json};

#[test]
fn changes_report_shows_who_did_what_and_exec_passes_the_operator() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    assert!(pitstop(&["init", s(&store)]).status.success());
    exec(
        &store,
        "program.set",
        json!({ "program": { "name": "Сервис", "locale": "ru-RU", "timezone": "Europe/Moscow",
                             "accrual": { "rate_percent": "5" } } }),
    );
    // The operator given on the command line.
    let args = json!({ "full_name": "Орлов Игорь Петрович", "phone": "+79161110001",
                       "at": "2025-01-01T09:00:00Z" });
    let out = pitstop(&[
        "exec",
        s(&store),
        "customer.register",
        &args.to_string(),
        "--operator",
        "Кассир Петрова",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // One named in the arguments wins over the option.
    let args = json!({ "customer": { "id": 1 }, "points": "120", "reason": "перенос баланса",
                       "operator": "Старший мастер Лебедев", "at": "2025-01-02T09:00:00Z" });
    let out = pitstop(&[
        "exec",
        s(&store),
        "points.adjust",
        &args.to_string(),
        "--operator",
        "Кассир Петрова",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A read refuses it: exit 1 with the reason.
    let out = pitstop(&[
        "exec",
        s(&store),
        "points.balance",
        r#"{"customer": {"id": 1}}"#,
        "--operator",
        "Кассир Петрова",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("operator"),
        "{}",
        text(&out.stderr)
    );

    let period = ["--from", "2025-01-01", "--to", "2025-01-31"];
    let mut args = vec!["report", s(&store), "changes"];
    args.extend(period);
    let out = pitstop(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    for expected in [
        "кто",
        "было",
        "стало",
        "Кассир Петрова",
        "Старший мастер Лебедев",
        "customer.register",
        "Орлов Игорь Петрович",
        "adjustment",
        "120",
    ] {
        assert!(printed.contains(expected), "{expected} missing: {printed}");
    }

    // --json: the records, the same as the operation's with the same filter.
    let mut args = vec![
        "--json",
        "report",
        s(&store),
        "changes",
        "--operator",
        "Старший мастер Лебедев",
    ];
    args.extend(period);
    let out = pitstop(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let direct = exec(
        &store,
        "report.changes",
        json!({ "from": "2025-01-01", "to": "2025-01-31", "operator": "Старший мастер Лебедев" }),
    );
    assert_eq!(printed["records"], direct["records"]);
    let records = printed["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["op"], "points.adjust");

    // By customer: both records; a customer with none: an empty table, success.
    let mut args = vec!["--json", "report", s(&store), "changes", "--customer", "1"];
    args.extend(period);
    let printed: Value = serde_json::from_slice(&pitstop(&args).stdout).unwrap();
    assert_eq!(printed["records"].as_array().unwrap().len(), 2);
    let mut args = vec!["report", s(&store), "changes", "--customer", "99"];
    args.extend(period);
    assert!(pitstop(&args).status.success());

    // `daily --operator` records the job's operator (nothing to expire: no record).
    let out = pitstop(&[
        "daily",
        s(&store),
        "--date",
        "2025-01-05",
        "--operator",
        "Планировщик",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}
