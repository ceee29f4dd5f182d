//! History import (`visit.import`), registration of migrated customers, and the paged
//! exports (`customer.list`, `visit.export`, `ledger.export`).

use crate::common;

use common::{Shop, dec};
use pitstop_core::ErrorCode;
use serde_json::{Value, json};

fn line(sku: &str, kind: &str, qty: &str, price: &str) -> Value {
    json!({ "sku": sku, "name": format!("{sku} item"), "kind": kind, "qty": qty, "unit_price": price })
}

fn migrated(shop: &Shop, external_id: &str, name: &str, phone: &str) -> u64 {
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": name, "phone": phone, "external_id": external_id,
                "import": true, "at": "2023-01-10T10:00:00Z" }),
    );
    assert_eq!(
        reply["welcome_bonus"], "0",
        "a migrated customer gets no welcome bonus"
    );
    reply["customer"]["id"].as_u64().unwrap()
}

#[test]
fn imported_history_counts_for_tiers_and_mileage_but_never_touches_the_ledger() {
    let shop = Shop::new("history-import");
    let ivanov = migrated(&shop, "C1", "Иванов Иван", "+79161234567");
    let petrov = migrated(&shop, "C2", "Петров Пётр", "+79161234568");
    shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": ivanov }, "vin": "XTA21700000000001", "plate": "А123ВС77",
                "make": "Lada", "model": "Vesta", "mileage": 10000, "at": "2023-01-10T10:00:00Z" }),
    );
    // Three visits of Иванов spread over the last year (80 000 ₽ in 4 visits makes gold
    // in the example programme), one old visit of Петров outside the window.
    let visits = json!([
        { "order_id": "ЗН-1", "customer": { "external_id": "C1" }, "vehicle": { "vin": "XTA21700000000001" },
          "date": "2024-12-20", "mileage": 31000,
          "lines": [ line("LAB", "labor", "1", "30000"), line("OIL", "goods", "4", "1000.50") ] },
        { "order_id": "ЗН-2", "customer": { "external_id": "C1" }, "vehicle": { "plate": "А123ВС77" },
          "at": "2025-03-01T09:30:00Z", "mileage": 38000,
          "lines": [ { "sku": "PAD", "name": "Колодки", "kind": "part", "qty": "1",
                       "unit_price": "25000", "discount": "1000" } ] },
        { "order_id": "ЗН-3", "customer": { "external_id": "C1" }, "vehicle": { "plate": "А123ВС77" },
          "date": "2025-02-01", "mileage": 35000, "lines": [ line("LAB", "labor", "1", "22000") ] },
        { "order_id": "ЗН-4", "customer": { "external_id": "C1" }, "date": "2025-04-01",
          "lines": [ line("WIPER", "goods", "2", "500") ] },
        { "order_id": "ЗН-5", "customer": { "phone": "+79161234568" }, "date": "2023-05-01",
          "lines": [ line("LAB", "labor", "1", "900000") ] },
    ]);
    let at = "2025-06-01T10:00:00Z";
    let result = shop.ok("visit.import", json!({ "visits": visits, "at": at }));
    assert_eq!(result["imported"], 5, "{result}");
    assert_eq!(result["already_present"], json!([]));
    assert_eq!(
        result["tiers_changed"], 2,
        "none → gold for Иванов, none → base for Петров"
    );

    let card = shop.ok(
        "customer.get",
        json!({ "customer": { "id": ivanov }, "at": at }),
    );
    let c = &card["customer"];
    // 30000 + 4002 + 24000 + 22000 + 1000
    assert_eq!(dec(&c["total_spend"]), "81002.00".parse().unwrap());
    assert_eq!(
        (c["visits"].as_u64(), c["tier"].as_str()),
        (Some(4), Some("gold"))
    );
    assert_eq!(
        (c["first_visit"].as_str(), c["last_visit"].as_str()),
        (Some("2024-12-20"), Some("2025-04-01"))
    );
    assert_eq!(card["tier"]["window"]["visits"], 4);
    assert_eq!(card["balance"]["total"], "0", "no points from history");
    // Readings arrived out of order; the car shows the latest, km/day from all of them.
    let car = shop.ok("vehicle.get", json!({ "vehicle": { "plate": "А123ВС77" } }));
    assert_eq!(car["vehicle"]["mileage_km"], 38000);
    assert_eq!(car["readings"].as_array().unwrap().len(), 4);
    assert!(car["daily_km"].is_string(), "{car}");
    let old = shop.ok(
        "customer.get",
        json!({ "customer": { "id": petrov }, "at": at }),
    );
    assert_eq!(
        old["customer"]["tier"], "base",
        "spend outside the window does not count"
    );
    assert_eq!(old["customer"]["visits"], 1);

    let visit = shop.ok("visit.get", json!({ "order_id": "ЗН-2" }));
    assert_eq!(
        (
            visit["totals"]["net"].as_str(),
            visit["totals"]["accrual"].as_str(),
            visit["date"].as_str()
        ),
        (Some("24000.00"), Some("0"), Some("2025-03-01"))
    );
    let ledger = shop.ok("ledger.export", json!({}));
    assert_eq!(
        ledger["items"],
        json!([]),
        "history creates no ledger entries"
    );

    // The same batch again changes nothing and names what was already there.
    let stats = shop.ok("store.stats", json!({}))["records"].clone();
    let again = shop.ok("visit.import", json!({ "visits": visits, "at": at }));
    assert_eq!(again["imported"], 0);
    assert_eq!(
        again["already_present"],
        json!(["ЗН-1", "ЗН-2", "ЗН-3", "ЗН-4", "ЗН-5"])
    );
    assert_eq!(shop.ok("store.stats", json!({}))["records"], stats);
    let card_again = shop.ok(
        "customer.get",
        json!({ "customer": { "id": ivanov }, "at": at }),
    );
    assert_eq!(card_again["customer"], card["customer"]);

    // A checkout after the import is priced at the tier the history earned.
    let receipt = shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": ivanov }, "order_id": "ЗН-6", "at": at,
                "lines": [ line("LAB", "labor", "1", "1000") ] }),
    );
    assert_eq!(receipt["tier_before"], "gold");
    assert_eq!(receipt["totals"]["discount"], "50.00");
    shop.assert_sound();
}

#[test]
fn an_invalid_visit_fails_the_call_or_is_listed_with_skip_invalid() {
    let shop = Shop::new("history-invalid");
    migrated(&shop, "C1", "Иванов Иван", "+79161234567");
    let good = json!({ "order_id": "A-1", "customer": { "external_id": "C1" }, "date": "2025-01-05",
                       "lines": [ line("LAB", "labor", "1", "100") ] });
    let bad = [
        (
            json!({ "order_id": "A-2", "customer": { "external_id": "NOPE" }, "date": "2025-01-05",
                 "lines": [ line("LAB", "labor", "1", "100") ] }),
            "not_found",
        ),
        (
            json!({ "order_id": "A-3", "customer": { "external_id": "C1" }, "date": "2030-01-05",
                 "lines": [ line("LAB", "labor", "1", "100") ] }),
            "invalid_argument",
        ),
        (
            json!({ "order_id": "A-4", "customer": { "external_id": "C1" }, "date": "2025-01-05",
                 "lines": [ line("LAB", "labor", "0", "100") ] }),
            "invalid_argument",
        ),
        (
            json!({ "order_id": "A-5", "customer": { "external_id": "C1" }, "date": "2025-01-05",
                 "mileage": 1000, "lines": [ line("LAB", "labor", "1", "100") ] }),
            "invalid_argument",
        ),
        (
            json!({ "order_id": "A-1", "customer": { "external_id": "C1" }, "date": "2025-01-06",
                 "lines": [ line("LAB", "labor", "1", "100") ] }),
            "invalid_argument",
        ),
    ];
    let at = "2025-02-01T10:00:00Z";
    for (visit, code) in &bad {
        let err = shop.err(
            "visit.import",
            json!({ "visits": [good, visit], "at": at }),
            ErrorCode::from_name(code).unwrap(),
        );
        assert_eq!(err.details["index"], 1, "{err:?}");
        assert!(err.message.starts_with("visits[1]"), "{}", err.message);
    }
    assert!(
        shop.engine()
            .execute("visit.get", json!({ "order_id": "A-1" }))
            .is_err(),
        "a failed call changes nothing"
    );
    let mut all = vec![good.clone()];
    all.extend(bad.iter().map(|(v, _)| v.clone()));
    let result = shop.ok(
        "visit.import",
        json!({ "visits": all, "skip_invalid": true, "at": at }),
    );
    assert_eq!(result["imported"], 1);
    let rejected: Vec<(u64, &str)> = result["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (1, "not_found"),
            (2, "invalid_argument"),
            (3, "invalid_argument"),
            (4, "invalid_argument"),
            (5, "invalid_argument")
        ]
    );
    shop.err(
        "visit.import",
        json!({ "visits": [] }),
        ErrorCode::InvalidArgument,
    );
    let many: Vec<Value> = (0..2001).map(|_| good.clone()).collect();
    shop.err(
        "visit.import",
        json!({ "visits": many }),
        ErrorCode::TooLarge,
    );
    shop.assert_sound();
}

#[test]
fn exports_page_through_everything() {
    let shop = Shop::new("history-export");
    for n in 0..7 {
        shop.customer(&format!("Клиент {n}"), &format!("+7916000000{n}"));
    }
    let mut seen = Vec::new();
    let mut after: Option<u64> = None;
    loop {
        let mut args = json!({ "limit": 3 });
        if let Some(a) = after {
            args["after"] = json!(a);
        }
        let page = shop.ok("customer.list", args);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_u64().unwrap()),
        );
        match page["next_after"].as_u64() {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, (1..=7).collect::<Vec<u64>>());
    // Every customer got a welcome bonus entry: the ledger export pages over customers.
    let mut entries = 0;
    let mut cursor = Value::Null;
    loop {
        let page = shop.ok("ledger.export", json!({ "after": cursor, "limit": 2 }));
        entries += page["items"].as_array().unwrap().len();
        for row in page["items"].as_array().unwrap() {
            assert!(
                row["customer"].is_u64() && row["kind"] == "welcome",
                "{row}"
            );
        }
        cursor = page["next_after"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(entries, 7);
    shop.err(
        "visit.export",
        json!({ "limit": 0 }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "customer.list",
        json!({ "limit": 1001 }),
        ErrorCode::InvalidArgument,
    );
    assert_eq!(shop.ok("visit.export", json!({}))["items"], json!([]));
}
