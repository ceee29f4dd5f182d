//! `pitstop import`, run as a process: customers and visit history from files in both
//! encodings, with exact error rows and reruns that change nothing.

use crate::common;

use common::*;
use serde_json::{Value, json};

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
    // A mapping that names one target twice is refused before a row is read.
    let twice = dir.path().join("twice-map.json");
    std::fs::write(&twice, r#"{"plate": "Госномер", "plate": "VIN"}"#).unwrap();
    let out = pitstop(&[
        "import",
        s(&store),
        "vehicles",
        s(&vehicles),
        "--map",
        s(&twice),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid_argument") && stderr(&out).contains("plate"),
        "{}",
        stderr(&out)
    );
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
