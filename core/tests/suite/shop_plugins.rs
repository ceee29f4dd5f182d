//! The real shop plugins (`plugins/`, built for wasm32 by `make plugins`) through the
//! real runtime and the real checkout: each with its shipped config.

use crate::common;

use common::{Shop, simple_program};
use serde_json::{Value, json};
use std::path::PathBuf;

/// Where `make plugins` puts the modules (override with `PITSTOP_PLUGIN_DIR`).
fn plugin_dir() -> PathBuf {
    std::env::var_os("PITSTOP_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/wasm32-unknown-unknown/release")
        })
}

fn wasm_path(file: &str) -> String {
    let path = plugin_dir().join(file);
    assert!(
        path.exists(),
        "{} is missing: build the plugins first with `make plugins` \
         (or set PITSTOP_PLUGIN_DIR to where they are)",
        path.display()
    );
    path.display().to_string()
}

fn config(dir: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins")
        .join(dir)
        .join("config.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn install(shop: &Shop, name: &str, dir: &str, file: &str) -> Value {
    shop.ok(
        "plugin.install",
        json!({ "name": name, "path": wasm_path(file), "config": config(dir),
                "on_error": "fail" }),
    )
}

fn line(sku: &str, kind: &str, category: &str, price: &str) -> Value {
    json!({ "sku": sku, "name": sku, "kind": kind, "category": category, "qty": "1",
            "unit_price": price })
}

fn effects_of(quote: &Value, plugin: &str) -> Vec<Value> {
    quote["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["plugin"] == plugin)
        .unwrap_or_else(|| panic!("{plugin} not in {quote}"))["effects"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn combined_sale_discounts_additives_with_an_oil_change() {
    let shop = Shop::with_program("combined-sale", simple_program());
    let id = shop.customer("Иванов Иван", "+79160000001");
    install(
        &shop,
        "combined-sale",
        "combined-sale",
        "combined_sale.wasm",
    );
    let args = json!({ "customer": { "id": id }, "at": "2025-03-10T10:00:00Z", "lines": [
        line("TO-OIL", "labor", "oil_change", "1500"),
        line("ADD-1", "goods", "additives", "800"),
        line("FLT-1", "part", "filters", "650"),
        line("OIL-5W30", "goods", "oil", "4000")
    ]});
    let quote = shop.ok("checkout.quote", args.clone());
    assert_eq!(quote["lines"][1]["discount"], "120.00");
    assert_eq!(quote["lines"][2]["discount"], "97.50");
    assert_eq!(quote["lines"][3]["discount"], "0.00");
    let mut commit = args;
    commit["order_id"] = json!("CS-1");
    let receipt = shop.ok("checkout.commit", commit);
    assert_eq!(quote["totals"], receipt["totals"]);
    assert_eq!(quote["lines"], receipt["lines"]);

    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": id }, "at": "2025-03-11T10:00:00Z",
                "lines": [line("TO-OIL", "labor", "oil_change", "1500")] }),
    );
    let effects = effects_of(&quote, "combined-sale");
    assert_eq!(effects[0]["message"]["to"], "cashier");
    shop.assert_sound();
}

#[test]
fn fleet_terms_give_taxi_drivers_labour_discount_and_no_points() {
    let shop = Shop::with_program("fleet-terms", simple_program());
    let taxi = shop.ok(
        "customer.register",
        json!({ "full_name": "Таксист", "phone": "+79160000002", "tags": ["taxi"] }),
    )["customer"]["id"]
        .as_u64()
        .unwrap();
    let private = shop.customer("Частник", "+79160000003");
    install(&shop, "fleet-terms", "fleet-terms", "fleet_terms.wasm");
    let basket = |id: u64| {
        json!({ "customer": { "id": id }, "lines": [
            line("REP", "labor", "repair", "3000"), line("PAD", "part", "brakes", "2000")
        ]})
    };
    let quote = shop.ok("checkout.quote", basket(taxi));
    assert_eq!(quote["lines"][0]["discount"], "360.00");
    assert_eq!(quote["lines"][1]["discount"], "0.00");
    assert_eq!(quote["totals"]["accrual"], "0");
    assert_eq!(quote["accrual_note"], "plugin:fleet-terms");
    let quote = shop.ok("checkout.quote", basket(private));
    assert_eq!(quote["totals"]["discount"], "0.00");
    assert_eq!(quote["totals"]["accrual"], "500");
}

#[test]
fn old_car_care_makes_the_consultation_free() {
    let shop = Shop::with_program("old-car-care", simple_program());
    let id = shop.customer("Старый Автомобиль", "+79160000004");
    shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": id }, "plate": "А123АА77", "make": "Lada", "model": "2107",
                "year": 2008 }),
    );
    install(&shop, "old-car-care", "old-car-care", "old_car_care.wasm");
    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": id }, "vehicle": { "plate": "А123АА77" },
                "at": "2025-03-10T10:00:00Z",
                "lines": [line("DIAG-CONSULT", "labor", "diagnostics", "900"),
                          line("REP", "labor", "repair", "2000")] }),
    );
    assert_eq!(quote["lines"][0]["net"], "0.00");
    assert_eq!(quote["lines"][0]["discount_source"], "plugin:old-car-care");
    assert_eq!(quote["lines"][1]["discount"], "0.00");
}

#[test]
fn birthday_week_doubles_accrual() {
    let shop = Shop::with_program("birthday-week", simple_program());
    let id = shop.ok(
        "customer.register",
        json!({ "full_name": "Именинник", "phone": "+79160000005", "birthday": "1990-03-12" }),
    )["customer"]["id"]
        .as_u64()
        .unwrap();
    install(
        &shop,
        "birthday-week",
        "birthday-week",
        "birthday_week.wasm",
    );
    let quote_on = |at: &str| {
        shop.ok(
            "checkout.quote",
            json!({ "customer": { "id": id }, "at": at,
                    "lines": [line("REP", "labor", "repair", "1000")] }),
        )
    };
    assert_eq!(quote_on("2025-03-10T10:00:00Z")["totals"]["accrual"], "200");
    assert_eq!(quote_on("2025-03-15T10:00:00Z")["totals"]["accrual"], "200");
    assert_eq!(quote_on("2025-03-20T10:00:00Z")["totals"]["accrual"], "100");
}

#[test]
fn tyre_storage_discounts_storage_and_records_the_season_reminder() {
    let shop = Shop::with_program("tyre-storage", simple_program());
    let id = shop.customer("Шиномонтаж", "+79160000006");
    install(&shop, "tyre-storage", "tyre-storage", "tyre_storage.wasm");
    let receipt = shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": id }, "order_id": "TS-1", "at": "2025-04-20T10:00:00Z",
                "lines": [line("TYRE-CHANGE", "labor", "tyre_change", "2400"),
                          line("STORAGE", "goods", "tyre_storage", "4000")] }),
    );
    assert_eq!(receipt["lines"][1]["discount"], "800.00");
    let visit = shop.ok("visit.get", json!({ "order_id": "TS-1" }));
    let reminder = visit["plugins"][0]["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| e.get("reminder"))
        .expect("a reminder recorded on the visit")
        .clone();
    assert_eq!(reminder["kind"], "tyre_season");
    assert_eq!(reminder["due_on"], "2025-09-17");
}

#[test]
fn c_plugin_rewards_every_fifth_visit_and_welcomes_referrals() {
    let shop = Shop::with_program("loyal-visit", simple_program());
    let installed = install(&shop, "loyal-visit", "c/loyal-visit", "loyal_visit.wasm");
    assert_eq!(installed["hooks"], json!(["checkout", "registration"]));
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": "По рекомендации", "phone": "+79160000007", "source": "referral" }),
    );
    assert_eq!(reply["welcome_bonus"], "0");
    assert_eq!(reply["balance"]["available"], "200");
    assert_eq!(reply["customer"]["tags"], json!(["referral"]));
    let id = reply["customer"]["id"].as_u64().unwrap();
    let other = shop.ok(
        "customer.register",
        json!({ "full_name": "Сам пришёл", "phone": "+79160000008", "source": "street" }),
    );
    assert_eq!(other["balance"]["available"], "0");

    let mut bonuses = Vec::new();
    for visit in 1..=5 {
        let receipt = shop.ok(
            "checkout.commit",
            json!({ "customer": { "id": id }, "order_id": format!("LV-{visit}"),
                    "at": format!("2025-03-{:02}T10:00:00Z", 10 + visit),
                    "lines": [line("REP", "labor", "repair", "100")] }),
        );
        bonuses.push(receipt["totals"]["bonus"].as_str().unwrap().to_string());
        if visit == 4 {
            assert!(
                receipt["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["kind"] == "promotion")
            );
        }
    }
    assert_eq!(bonuses, ["0", "0", "0", "0", "500"]);
    shop.assert_sound();
}

#[test]
fn all_six_together_quote_equals_commit() {
    let shop = Shop::with_program("all-plugins", simple_program());
    let id = shop.ok(
        "customer.register",
        json!({ "full_name": "Все акции", "phone": "+79160000009", "birthday": "1980-04-21" }),
    )["customer"]["id"]
        .as_u64()
        .unwrap();
    shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": id }, "plate": "В777ВВ77", "make": "Toyota",
                "model": "Corolla", "year": 2009 }),
    );
    for (name, dir, file) in [
        ("combined-sale", "combined-sale", "combined_sale.wasm"),
        ("fleet-terms", "fleet-terms", "fleet_terms.wasm"),
        ("old-car-care", "old-car-care", "old_car_care.wasm"),
        ("birthday-week", "birthday-week", "birthday_week.wasm"),
        ("tyre-storage", "tyre-storage", "tyre_storage.wasm"),
        ("loyal-visit", "c/loyal-visit", "loyal_visit.wasm"),
    ] {
        install(&shop, name, dir, file);
    }
    let args = json!({ "customer": { "id": id }, "vehicle": { "plate": "В777ВВ77" },
        "at": "2025-04-20T10:00:00Z", "lines": [
        line("TO-OIL", "labor", "oil_change", "1500"),
        line("ADD-1", "goods", "additives", "800"),
        line("DIAG-CONSULT", "labor", "diagnostics", "900"),
        line("TYRE-CHANGE", "labor", "tyre_change", "2400"),
        line("STORAGE", "goods", "tyre_storage", "4000")
    ]});
    let quote = shop.ok("checkout.quote", args.clone());
    assert_eq!(quote["plugins"].as_array().unwrap().len(), 6);
    assert!(
        quote["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "applied")
    );
    let mut commit = args;
    commit["order_id"] = json!("ALL-1");
    let receipt = shop.ok("checkout.commit", commit);
    for field in ["lines", "totals", "messages", "redemption", "accrual_note"] {
        assert_eq!(quote[field], receipt[field], "{field}");
    }
    // Birthday week: 10% of the money, doubled.
    let money = common::dec(&receipt["totals"]["money"]);
    assert_eq!(
        common::dec(&receipt["totals"]["accrual"]),
        (money * rust_decimal::Decimal::new(2, 1)).floor()
    );
    shop.assert_sound();
}
