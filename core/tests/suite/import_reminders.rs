//! Imported history feeds the reminders: a shop that migrates years of work orders gets
//! the same service and lapse predictions as if those orders had gone through the till.

use crate::common;

use chrono::{Duration, NaiveDate};
use common::Shop;
use serde_json::{Value, json};

fn oil(mileage: u32) -> Value {
    json!([{ "sku": "LAB-OIL", "name": "Замена масла и масляного фильтра", "kind": "labor",
             "qty": "1", "unit_price": "1200" },
           { "sku": format!("KM-{mileage}"), "name": "Масло 5W-30, л", "kind": "goods",
             "qty": "4", "unit_price": "900" }])
}

fn diagnostics() -> Value {
    json!([{ "sku": "LAB-DIAG", "name": "Диагностика ходовой", "kind": "labor", "qty": "1",
             "unit_price": "1200" }])
}

/// A customer with SMS consent and a car read at 50 000 km on 10.01.2024.
fn owner(shop: &Shop, name: &str, phone: &str, plate: &str, import: bool) -> u64 {
    let id = shop.ok(
        "customer.register",
        json!({ "full_name": name, "phone": phone, "consents": { "sms": true },
                "import": import, "at": "2024-01-10T09:00:00Z" }),
    )["customer"]["id"]
        .as_u64()
        .unwrap();
    shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": id }, "plate": plate, "make": "Kia", "model": "Rio",
                "year": 2018, "mileage": 50000, "at": "2024-01-10T09:05:00Z" }),
    )["id"]
        .as_u64()
        .unwrap()
}

/// The first day from `from` on which the car has a `kind` reminder, and its id.
fn first_due(
    shop: &Shop,
    car: u64,
    kind: &str,
    from: NaiveDate,
    days: i64,
) -> Option<(NaiveDate, String)> {
    (0..days)
        .map(|d| from + Duration::days(d))
        .find_map(|date| {
            let page = shop.ok(
                "reminders.due",
                json!({ "date": date.to_string(), "kinds": [kind], "limit": 500 }),
            );
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["vehicle"].as_u64() == Some(car))
                .map(|r| (date, r["id"].as_str().unwrap().to_string()))
        })
}

#[test]
fn imported_visits_predict_service_like_checkouts() {
    let shop = Shop::new("import-reminders");
    let tilled = owner(&shop, "Смирнов Алексей", "+79165551234", "А111АА77", false);
    let imported = owner(&shop, "Кузнецова Марина", "+79035552233", "В222ВВ77", true);
    // The same four visits: through the till in date order, and imported in one batch
    // out of order (the diagnostics after the oil changes).
    let visits = [
        ("2024-02-20", 52500, oil(52500)),
        ("2024-05-15", 57800, diagnostics()),
        ("2024-08-01", 62000, oil(62000)),
        ("2024-11-05", 67300, diagnostics()),
    ];
    for (n, (date, km, lines)) in visits.iter().enumerate() {
        shop.ok(
            "checkout.commit",
            json!({ "customer": { "plate": "А111АА77" }, "vehicle": { "plate": "А111АА77" },
                    "mileage": km, "order_id": format!("T-{n}"), "lines": lines,
                    "at": format!("{date}T10:00:00+03:00") }),
        );
    }
    let mut batch: Vec<Value> = visits
        .iter()
        .enumerate()
        .map(|(n, (date, km, lines))| {
            json!({ "order_id": format!("I-{n}"), "customer": { "plate": "В222ВВ77" },
                    "vehicle": { "plate": "В222ВВ77" }, "date": date, "mileage": km,
                    "lines": lines })
        })
        .collect();
    batch.swap(0, 3);
    let before = first_due(
        &shop,
        imported,
        "service_due",
        NaiveDate::from_ymd_opt(2024, 11, 6).unwrap(),
        120,
    );
    assert_eq!(before, None, "nothing known of the car before the import");
    let result = shop.ok(
        "visit.import",
        json!({ "visits": batch, "at": "2024-11-06T08:00:00Z" }),
    );
    assert_eq!(result["imported"], 4, "{result}");

    // Oil change: the same prediction for both cars, from the later oil change.
    let from = NaiveDate::from_ymd_opt(2024, 11, 6).unwrap();
    let (tilled_on, tilled_id) =
        first_due(&shop, tilled, "service_due", from, 300).expect("the till's car is due");
    let (imported_on, imported_id) =
        first_due(&shop, imported, "service_due", from, 300).expect("the imported car is due");
    assert_eq!(imported_on, tilled_on);
    assert_eq!(
        tilled_id,
        format!("service_due:{tilled}:oil_change:2024-08-01")
    );
    assert_eq!(
        imported_id,
        format!("service_due:{imported}:oil_change:2024-08-01")
    );

    // A second run of the file changes nothing, the prediction included.
    let again = shop.ok(
        "visit.import",
        json!({ "visits": batch, "at": "2024-11-06T08:05:00Z" }),
    );
    assert_eq!(again["imported"], 0);
    assert_eq!(
        first_due(&shop, imported, "service_due", from, 300).map(|d| d.0),
        Some(imported_on)
    );
    shop.assert_sound();
}
