//! `pitstop simulate` as a process: the comparison as a table in the shop's language,
//! the same figures in `--json`, and an invalid programme refused like `init` refuses it.

use crate::common;

use common::{exec, pitstop, s, text};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn example() -> Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/program.example.json");
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, program: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, program.to_string()).unwrap();
    path
}

#[test]
fn simulate_prints_the_comparison_and_the_same_figures_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = pitstop(&["init", s(&store)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = exec(
        &store,
        "customer.register",
        json!({ "full_name": "Григорьев Антон Павлович", "phone": "+79161234500",
                "at": "2025-01-10T09:00:00Z" }),
    )["customer"]["id"]
        .as_u64()
        .unwrap();
    for (order, at) in [
        ("ЗН-1", "2025-02-03T09:00:00Z"),
        ("ЗН-2", "2025-03-03T09:00:00Z"),
    ] {
        exec(
            &store,
            "checkout.commit",
            json!({ "customer": { "id": id }, "order_id": order, "at": at,
                    "lines": [{ "sku": "TO-1", "name": "ТО-1", "kind": "labor", "qty": "1", "unit_price": "4000" }] }),
        );
    }
    // The example programme earns 7% on labour: 280 a visit. The proposal earns 14%.
    let mut proposed = example();
    proposed["accrual"]["rate_by_kind"]["labor"] = json!("14");
    let file = write(dir.path(), "proposed.json", &proposed);
    let args = [
        "simulate",
        s(&store),
        s(&file),
        "--from",
        "2025-02-01",
        "--to",
        "2025-03-31",
    ];
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let out = pitstop(&with_json);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["in_force"]["issued"], json!("560"));
    assert_eq!(result["proposed"]["issued"], json!("1120"));
    assert_eq!(
        result["changes"][0]["name"],
        json!("Григорьев Антон Павлович")
    );

    let out = pitstop(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let issued = table
        .lines()
        .find(|line| line.starts_with("начислено баллов"))
        .unwrap_or_else(|| panic!("no issued row:\n{table}"));
    let cells: Vec<&str> = issued
        .split("  ")
        .filter(|c| !c.trim().is_empty())
        .collect();
    assert_eq!(
        cells.iter().map(|c| c.trim()).collect::<Vec<_>>()[2..],
        ["560", "1120", "+560"],
        "{table}"
    );
    assert!(table.contains("Моделирование программы за период 01.02.2025 — 31.03.2025"));
    assert!(table.contains("Григорьев Антон Павлович"), "{table}");
    assert!(table.contains("Допущение: те же визиты"), "{table}");

    // Nothing was written: the customer's ledger has the two accruals it had.
    let statement = exec(
        &store,
        "points.statement",
        json!({ "customer": { "id": id } }),
    );
    let accruals = statement["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "accrual")
        .count();
    assert_eq!(accruals, 2);

    let mut bad = example();
    bad["accrual"]["rate_percent"] = json!("-5");
    let file = write(dir.path(), "bad.json", &bad);
    let out = pitstop(&[
        "simulate",
        s(&store),
        s(&file),
        "--from",
        "2025-02-01",
        "--to",
        "2025-03-31",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error[invalid_program]"),
        "{}",
        text(&out.stderr)
    );
}
