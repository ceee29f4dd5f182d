//! The store's files through the `pitstop` binary: backup and restore, `check` finding
//! corruption, and the exports.

use crate::common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

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
