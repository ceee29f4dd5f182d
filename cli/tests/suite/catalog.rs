//! `pitstop catalog STORE duplicates|alias|aliases|unalias` and `pitstop report STORE
//! completeness`: Russian text, JSON equal to the operation's result, refusals with the
//! reason and a failing exit code.

use crate::common;

use common::{exec, pitstop, s, text};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A Russian shop with two customers and one work order whose lines carry the engine-oil
/// change under three names and the gearbox oil change under two.
fn shop(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    assert!(pitstop(&["init", s(&store)]).status.success());
    exec(
        &store,
        "program.set",
        json!({ "program": { "name": "Сервис", "locale": "ru-RU", "timezone": "Europe/Moscow",
                             "accrual": { "rate_percent": "5" } } }),
    );
    for (name, phone, by) in [
        (
            "сергеев антон ВИКТОРОВИЧ",
            Some("+79035550101"),
            Some("Ольга"),
        ),
        ("Cемёнова Анна Петровна", None, Some("Игорь")),
        ("Орлов Игорь Петрович", Some("+79035550103"), None),
    ] {
        let mut args = json!({ "full_name": name, "at": "2025-01-01T09:00:00Z" });
        if let Some(phone) = phone {
            args["phone"] = json!(phone);
        }
        if let Some(by) = by {
            args["registered_by"] = json!(by);
        }
        exec(&store, "customer.register", args);
    }
    let lines: Vec<Value> = [
        ("A", "Замена масла в двигателе"),
        ("A2", "Замена масла в двигателе"),
        ("B", "Масло моторное — замена"),
        ("C", "Зам. масла двиг."),
        ("D", "Замена масла в АКПП"),
        ("E", "АКПП замена масла"),
        ("F", "Замена масла"),
    ]
    .iter()
    .map(|(sku, name)| {
        json!({ "sku": sku, "name": name, "kind": "labor", "qty": "1", "unit_price": "1500" })
    })
    .collect();
    exec(
        &store,
        "checkout.commit",
        json!({ "customer": { "id": 1 }, "order_id": "ЗН-1", "lines": lines,
                "at": "2025-03-10T10:00:00Z" }),
    );
    store
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = pitstop(args);
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn catalog_proposes_confirms_lists_and_undoes_in_russian() {
    let dir = tempfile::tempdir().unwrap();
    let store = shop(dir.path());
    let period = ["--from", "2025-01-01", "--to", "2025-12-31"];
    let mut args = vec!["catalog", s(&store), "duplicates"];
    args.extend(period);
    let (ok, out, err) = run(&args);
    assert!(ok, "{err}");
    assert!(out.contains("групп     2"), "{out}");
    assert!(
        out.contains("Предлагаемое название: «Замена масла в двигателе» (строк: 4)"),
        "{out}"
    );
    assert!(out.contains("Зам. масла двиг."), "{out}");
    // «Замена масла» (which unit?) is no one's duplicate.
    assert!(!out.contains("Замена масла  "), "{out}");
    assert!(out.contains(&format!(
        "подтвердить: pitstop catalog {} alias 'Замена масла в двигателе' 'Масло моторное — замена' 'Зам. масла двиг.'",
        s(&store)
    )));
    // JSON is the operation's result.
    let mut json_args = args.clone();
    json_args.push("--json");
    let (ok, out, _) = run(&json_args);
    assert!(ok);
    let printed: Value = serde_json::from_str(&out).unwrap();
    let direct = exec(
        &store,
        "catalog.duplicates",
        json!({ "from": "2025-01-01", "to": "2025-12-31" }),
    );
    assert_eq!(printed, direct);
    // Confirm as the line proposes.
    let (ok, out, err) = run(&[
        "catalog",
        s(&store),
        "alias",
        "Замена масла в двигателе",
        "Масло моторное — замена",
        "Зам. масла двиг.",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("услуга"), "{out}");
    assert!(
        out.contains("Замена масла в двигателе  Масло моторное — замена; Зам. масла двиг."),
        "{out}"
    );
    let (_, out, _) = run(&args);
    assert!(out.contains("групп     1"), "{out}");
    assert!(!out.contains("Масло моторное"), "{out}");
    // A name of another service: refused with the reason, non-zero exit.
    let (ok, _, err) = run(&[
        "catalog",
        s(&store),
        "alias",
        "Замена масла ДВС",
        "масло моторное — замена",
    ]);
    assert!(!ok);
    assert!(err.contains("already_exists"), "{err}");
    assert!(err.contains("Замена масла в двигателе"), "{err}");
    // Listed; one undone.
    let (ok, out, _) = run(&["catalog", s(&store), "aliases"]);
    assert!(ok);
    assert!(out.contains("Замена масла в двигателе"), "{out}");
    let (ok, out, _) = run(&["catalog", s(&store), "aliases", "--json"]);
    assert!(ok);
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed["groups"].as_array().unwrap().len(), 1);
    let (ok, out, err) = run(&["catalog", s(&store), "unalias", "ЗАМ. МАСЛА ДВИГ."]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Больше не псевдонимы: «Зам. масла двиг.»"),
        "{out}"
    );
    let (ok, _, err) = run(&["catalog", s(&store), "unalias", "Шиномонтаж"]);
    assert!(!ok);
    assert!(err.contains("not_found"), "{err}");
    // The services report now counts the confirmed names as one service.
    let (ok, out, _) = run(&[
        "report",
        s(&store),
        "services",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--json",
    ]);
    assert!(ok);
    let services: Value = serde_json::from_str(&out).unwrap();
    let oil = services["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service"] == "Замена масла в двигателе")
        .unwrap_or_else(|| panic!("{services:#}"));
    assert_eq!(oil["lines"], 3, "A, A2 and B; C was undone");
}

#[test]
fn completeness_prints_shares_registrars_and_proposals() {
    let dir = tempfile::tempdir().unwrap();
    let store = shop(dir.path());
    let (ok, out, err) = run(&["report", s(&store), "completeness"]);
    assert!(ok, "{err}");
    assert!(out.contains("Клиентов: 3"), "{out}");
    // One of three has no phone: 33,3 % in the shop's number format.
    assert!(out.contains("телефон"), "{out}");
    assert!(out.contains("33,3"), "{out}");
    assert!(out.contains("не указан"), "{out}");
    assert!(
        out.contains("сергеев антон ВИКТОРОВИЧ  Сергеев Антон Викторович  регистр букв"),
        "{out}"
    );
    assert!(
        out.contains("Семёнова Анна Петровна    латинские буквы"),
        "{out}"
    );
    assert!(out.contains("женский  Петровна"), "{out}");
    assert!(out.contains("мужской  Викторович"), "{out}");
    assert!(out.contains("ничего не изменено"), "{out}");
    let (ok, out, _) = run(&[
        "report",
        s(&store),
        "completeness",
        "--registered-by",
        "ольга",
        "--top",
        "1",
        "--json",
    ]);
    assert!(ok);
    let printed: Value = serde_json::from_str(&out).unwrap();
    let direct = exec(
        &store,
        "report.completeness",
        json!({ "registered_by": "ольга", "top": 1 }),
    );
    assert_eq!(printed, direct);
    assert_eq!(printed["total"]["customers"], 1);
    let (ok, _, err) = run(&["report", s(&store), "completeness", "--top", "0"]);
    assert!(!ok);
    assert!(err.contains("top"), "{err}");
}
