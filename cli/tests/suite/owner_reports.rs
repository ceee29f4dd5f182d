//! `pitstop report STORE <name>` for the owner's reports: tables in the shop's language,
//! JSON equal to the operation's result, refusals with the reason.

use crate::common;

use common::{exec, pitstop, s, text};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A store (a Russian programme without discounts) with two customers: Орлов three
/// times, Зайцева once, and a birthday on New Year's Eve.
fn shop(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    assert!(pitstop(&["init", s(&store)]).status.success());
    exec(
        &store,
        "program.set",
        json!({ "program": { "name": "Сервис", "locale": "ru-RU", "timezone": "Europe/Moscow",
                             "accrual": { "rate_percent": "5" } } }),
    );
    for (name, phone, birthday) in [
        ("Орлов Игорь Петрович", "+79161110001", "1984-12-31"),
        ("Зайцева Ольга Ивановна", "+79161110002", "1990-06-03"),
    ] {
        exec(
            &store,
            "customer.register",
            json!({ "full_name": name, "phone": phone, "birthday": birthday,
                    "consents": { "sms": true }, "at": "2025-01-01T09:00:00Z" }),
        );
    }
    for (n, (who, day)) in [
        (1, "2025-01-10"),
        (2, "2025-01-20"),
        (1, "2025-02-10"),
        (1, "2025-03-10"),
    ]
    .into_iter()
    .enumerate()
    {
        exec(
            &store,
            "checkout.commit",
            json!({ "customer": { "id": who }, "order_id": format!("ЗН-{n}"),
                    "lines": [{ "sku": "OIL-1", "name": "Замена масла", "kind": "labor", "qty": "1", "unit_price": "4000" }],
                    "at": format!("{day}T10:00:00Z") }),
        );
    }
    store
}

#[test]
fn owner_reports_print_tables_in_russian_and_json_as_the_operation() {
    let dir = tempfile::tempdir().unwrap();
    let store = shop(dir.path());
    let period = ["--from", "2025-01-01", "--to", "2025-03-31"];
    let run = |name: &str, extra: &[&str]| {
        let mut args = vec!["report", s(&store), name];
        args.extend(period);
        args.extend(extra);
        pitstop(&args)
    };
    let out = run("customers", &["--top", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.contains("лучшие по выручке"), "{printed}");
    assert!(printed.contains("Орлов Игорь Петрович"), "{printed}");
    // 12 000,00 with the shop's thousands separator.
    let orlov = printed.lines().find(|l| l.contains("Орлов")).unwrap();
    assert!(
        orlov.contains("12") && orlov.contains("000,00") && !orlov.contains("12000"),
        "Russian number format: {printed}"
    );
    assert!(
        !printed.contains("Зайцева"),
        "--top 1 lists one customer per list: {printed}"
    );

    // --json prints exactly what the operation returns.
    let mut args = vec!["--json", "report", s(&store), "pareto"];
    args.extend(period);
    let out = pitstop(&args);
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let direct = exec(
        &store,
        "report.pareto",
        json!({ "from": "2025-01-01", "to": "2025-03-31" }),
    );
    assert_eq!(printed, direct);
    // Орлов brings 12 000 of 16 000: 75%, short of 80%, so the core is both.
    assert_eq!(direct["core_customers"], 2);

    // The cohort triangle: one column per month after the cohort's.
    let printed = text(&run("cohorts", &[]).stdout);
    let header = printed
        .lines()
        .find(|l| l.starts_with("когорта"))
        .expect(&printed);
    assert!(header.contains("+0") && header.contains("+2"), "{printed}");
    assert!(printed.contains("01.2025"), "{printed}");

    // The points by month and the rest run too.
    for name in ["lapsed", "tiers", "sources", "points-monthly", "services"] {
        let out = run(name, &[]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
    }
    let out = pitstop(&[
        "report",
        s(&store),
        "birthdays",
        "--from",
        "2025-12-25",
        "--to",
        "2026-01-05",
    ]);
    let printed = text(&out.stdout);
    assert!(
        printed.contains("31.12.2025") && printed.contains("SMS"),
        "{printed}"
    );

    // A filter a report does not take: refused, naming it and why.
    let out = run("tiers", &["--branch", "north"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("branch") && err.contains("one tier across"),
        "{err}"
    );
}

#[test]
fn the_dashboard_is_written_to_the_file_as_the_operation_returns_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = shop(dir.path());
    let file = dir.path().join("owner.html");
    let out = pitstop(&[
        "report",
        s(&store),
        "dashboard",
        "--html",
        s(&file),
        "--from",
        "2025-01-01",
        "--to",
        "2025-03-31",
        "--date",
        "2025-04-01",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("Панель владельца записана") && printed.contains(s(&file)),
        "{printed}"
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let direct = exec(
        &store,
        "report.dashboard",
        json!({ "from": "2025-01-01", "to": "2025-03-31", "at": "2025-04-01T12:00:00Z" }),
    );
    assert_eq!(written, direct["html"].as_str().unwrap());
    // Орлов's 12 000 in Russian figures, the header dated by --date.
    assert!(
        written.contains("<td>12\u{a0}000,00\u{a0}₽</td>"),
        "{written}"
    );
    assert!(written.contains("Сформировано: 01.04.2025"));

    // --json says where and how much; the default period ends on --date.
    let out = pitstop(&[
        "--json",
        "report",
        s(&store),
        "dashboard",
        "--html",
        s(&file),
        "--date",
        "2025-03-15",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(printed["bytes"], written.len());
    assert!(
        written.contains("01.04.2024 — 15.03.2025"),
        "default period"
    );

    // A period that runs backwards writes nothing and says why.
    let bad = dir.path().join("bad.html");
    let out = pitstop(&[
        "report",
        s(&store),
        "dashboard",
        "--html",
        s(&bad),
        "--from",
        "2025-03-01",
        "--to",
        "2025-01-01",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("invalid_argument"),
        "{}",
        text(&out.stderr)
    );
    assert!(!bad.exists());
}
