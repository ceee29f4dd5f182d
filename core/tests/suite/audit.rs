//! Who changed what, as recorded: the `operator` of every state-changing operation and
//! the audit records written with each change (customers, cards, vehicles, balances,
//! the programme, plugins), and erasure scrubbing the log. `report.changes`' filters,
//! pages, limits and backups are in `audit_report.rs`. Every expected value is computed here from the requests
//! the test made (or read back through other operations), never copied from a run.

use crate::common;

use common::audit::*;
use common::plugin_fixtures::{effects, install};
use common::{Shop, dec, labor, part, simple_program};
use pitstop_core::ErrorCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

#[test]
fn a_day_at_the_till_records_who_registered_edited_adjusted_and_sold() {
    let shop = Shop::with_program("audit-day", simple_program());
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": "Смирнов Алексей Петрович", "phone": "8 916 123-45-67",
                "card": "2000000000015", "at": "2025-03-01T09:00:00Z", "operator": PETROVA }),
    );
    let id = reply["customer"]["id"].as_u64().unwrap();
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": id }, "email": "smirnov@mail.ru", "phone": null,
                "at": "2025-03-01T09:10:00Z", "operator": KIM }),
    );
    shop.ok(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "250", "reason": "перенос с бумажной карты",
                "operator": SOKOLOV, "at": "2025-03-02T10:00:00Z" }),
    );
    let before_sale = total(&shop, id, "2025-03-03T10:59:00Z");
    let receipt = shop.ok(
        "checkout.commit",
        json!({ "customer": { "card": "2000000000015" }, "order_id": "ЗН-0001",
                "lines": [labor("3000"), part("1500")], "redeem": "100",
                "at": "2025-03-03T11:00:00Z", "operator": PETROVA }),
    );
    let after_sale = total(&shop, id, "2025-03-03T11:01:00Z");

    let records = year(&shop);
    // The programme was set by the harness without an operator, before 2025: not here.
    let ops: Vec<(&str, Option<&str>)> = records
        .iter()
        .map(|r| (r["op"].as_str().unwrap(), r["operator"].as_str()))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("customer.register", Some(PETROVA)),
            ("customer.update", Some(KIM)),
            ("points.adjust", Some(SOKOLOV)),
            ("checkout.commit", Some(PETROVA)),
        ]
    );
    assert!(records.iter().all(|r| r["customer"] == id));
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // Registration: the card as filled in, the card issued, and nothing before.
    let register = fields(&records[0], "customer");
    let get = |name: &str| register.iter().find(|c| c.1 == name).cloned();
    assert_eq!(
        get("full_name"),
        Some((
            id.to_string(),
            "full_name".into(),
            None,
            Some("Смирнов Алексей Петрович".into())
        ))
    );
    assert_eq!(get("phone").unwrap().3.as_deref(), Some("+79161234567"));
    assert_eq!(get("card").unwrap().3.as_deref(), Some("2000000000015"));
    assert!(register.iter().all(|c| c.2.is_none()), "{register:?}");
    assert!(get("visits").is_none() && get("total_spend").is_none());
    let card = fields(&records[0], "card");
    assert!(card.contains(&(
        "2000000000015".into(),
        "active".into(),
        None,
        Some("true".into())
    )));

    // The update: exactly the two fields the administrator changed.
    let update = fields(&records[1], "customer");
    assert_eq!(
        update,
        vec![
            (
                id.to_string(),
                "email".into(),
                None,
                Some("smirnov@mail.ru".into())
            ),
            (
                id.to_string(),
                "phone".into(),
                Some("+79161234567".into()),
                None
            ),
        ]
    );

    // The adjustment: 0 → 250, and its ledger entry names the same operator.
    assert_eq!(
        fields(&records[2], "balance"),
        vec![(
            id.to_string(),
            "adjustment".into(),
            Some("0".into()),
            Some("250".into())
        )]
    );
    let statement = shop.ok("points.statement", json!({ "customer": { "id": id } }));
    let adjustment = statement["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "adjustment")
        .expect("adjustment entry");
    assert_eq!(adjustment["operator"], SOKOLOV);

    // The checkout: its movements chain from the balance before the sale to the one after.
    let sale = fields(&records[3], "balance");
    assert_eq!(sale.first().unwrap().2, Some(before_sale.to_string()));
    assert_eq!(
        dec(&json!(sale.last().unwrap().3.clone().unwrap())),
        after_sale
    );
    for pair in sale.windows(2) {
        assert_eq!(pair[0].3, pair[1].2, "movements chain: {sale:?}");
    }
    let kinds: Vec<&str> = sale.iter().map(|c| c.1.as_str()).collect();
    assert!(
        kinds.contains(&"redemption") && kinds.contains(&"accrual"),
        "{kinds:?}"
    );
    let totals = &receipt["totals"];
    assert_eq!(dec(&totals["points"]), Decimal::from(100));
    assert_eq!(
        before_sale - dec(&totals["points"]) + dec(&totals["accrual"]) + dec(&totals["bonus"]),
        after_sale
    );
    assert_eq!(dec(&receipt["balance"]), after_sale);
}

#[test]
fn program_set_records_the_version_and_only_the_fields_that_changed() {
    let shop = Shop::with_program("audit-program", simple_program());
    let mut program = simple_program();
    program["accrual"] = json!({ "rate_percent": "7" });
    program["expiry_months"] = json!(24);
    shop.ok(
        "program.set",
        json!({ "program": program, "operator": SOKOLOV, "at": "2025-05-05T07:00:00Z" }),
    );
    let v1 = shop.ok("program.get", json!({ "version": 1 }));
    let v2 = shop.ok("program.get", json!({ "version": 2 }));
    // An independent model: every top-level key whose value differs between versions.
    let mut expected: Vec<String> = v1
        .as_object()
        .unwrap()
        .keys()
        .chain(v2.as_object().unwrap().keys())
        .filter(|k| v1.get(*k) != v2.get(*k))
        .cloned()
        .collect();
    expected.sort();
    expected.dedup();
    assert!(expected.contains(&"accrual".to_string()) && expected.contains(&"version".to_string()));

    let records = all_changes(
        &shop,
        json!({ "from": "2025-05-01", "to": "2025-05-31", "operator": SOKOLOV }),
        10,
    );
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["op"], "program.set");
    assert_eq!(records[0]["customer"], Value::Null);
    let changes = fields(&records[0], "program");
    let names: Vec<String> = changes.iter().map(|c| c.1.clone()).collect();
    assert_eq!(names, expected);
    let version = changes.iter().find(|c| c.1 == "version").unwrap();
    assert_eq!(
        (version.2.as_deref(), version.3.as_deref()),
        (Some("1"), Some("2"))
    );
    let months = changes.iter().find(|c| c.1 == "expiry_months").unwrap();
    assert_eq!(
        (months.2.as_deref(), months.3.as_deref()),
        (Some("12"), Some("24"))
    );
    let accrual = changes.iter().find(|c| c.1 == "accrual").unwrap();
    let after: Value = serde_json::from_str(accrual.3.as_deref().unwrap()).unwrap();
    assert_eq!(after, v2["accrual"]);
}

#[test]
fn a_retry_is_recorded_once_and_a_failed_operation_records_nothing() {
    let shop = Shop::with_program("audit-retry", simple_program());
    let id = shop.customer("Повторов Пётр", "+79160003000");
    let adjust = json!({ "customer": { "id": id }, "points": "40", "reason": "бонус",
        "operator": PETROVA, "idempotency_key": "adj-1", "at": "2025-02-01T10:00:00Z" });
    let first = shop.ok("points.adjust", adjust.clone());
    assert_eq!(shop.ok("points.adjust", adjust.clone()), first);
    let mut other = adjust.clone();
    other["operator"] = json!(KIM);
    shop.err("points.adjust", other, ErrorCode::IdempotencyConflict);
    // More than the balance: refused, and no record of it.
    shop.err(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "-41", "reason": "списание",
                "operator": KIM, "at": "2025-02-01T11:00:00Z" }),
        ErrorCode::InsufficientPoints,
    );
    let records = all_changes(
        &shop,
        json!({ "from": "2025-02-01", "to": "2025-02-01" }),
        10,
    );
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        fields(&records[0], "balance"),
        vec![(
            id.to_string(),
            "adjustment".into(),
            Some("0".into()),
            Some("40".into())
        )]
    );
    assert_eq!(shop.ok("store.check", json!({}))["problems"], json!([]));
}

#[test]
fn a_refund_and_the_daily_expiry_are_recorded_per_customer() {
    let shop = Shop::with_program("audit-refund", simple_program());
    let id = shop.customer("Возвратов Роман", "+79160004000");
    let other = shop.customer("Другой Дмитрий", "+79160004001");
    for (customer, order) in [(id, "ЗН-1"), (other, "ЗН-2")] {
        shop.ok(
            "checkout.commit",
            json!({ "customer": { "id": customer }, "order_id": order, "lines": [labor("2000")],
                    "at": "2025-02-10T10:00:00Z", "operator": PETROVA }),
        );
    }
    let before = total(&shop, id, "2025-02-11T09:00:00Z");
    shop.ok(
        "checkout.refund",
        json!({ "order_id": "ЗН-1", "at": "2025-02-11T10:00:00Z", "operator": KIM }),
    );
    let after = total(&shop, id, "2025-02-11T11:00:00Z");
    let refund = all_changes(
        &shop,
        json!({ "from": "2025-02-11", "to": "2025-02-11" }),
        10,
    );
    assert_eq!(refund.len(), 1);
    assert_eq!(refund[0]["op"], "checkout.refund");
    let moves = fields(&refund[0], "balance");
    assert_eq!(moves.first().unwrap().2, Some(before.to_string()));
    assert_eq!(moves.last().unwrap().3, Some(after.to_string()));
    // Twelve months on, the other customer's 200 points burn: one record for them alone.
    let left = total(&shop, other, "2026-02-10T12:00:00Z");
    assert!(left > Decimal::ZERO);
    shop.ok(
        "jobs.daily",
        json!({ "date": "2026-02-11", "at": "2026-02-11T01:00:00Z", "operator": "Планировщик" }),
    );
    let expiry = all_changes(
        &shop,
        json!({ "from": "2026-01-01", "to": "2026-03-01", "operator": "Планировщик" }),
        10,
    );
    assert_eq!(expiry.len(), 1, "{expiry:?}");
    assert_eq!(expiry[0]["customer"], other);
    assert_eq!(
        fields(&expiry[0], "balance"),
        vec![(
            other.to_string(),
            "expiry".into(),
            Some(left.to_string()),
            Some(total(&shop, other, "2026-02-11T12:00:00Z").to_string())
        )]
    );
}

#[test]
fn erasure_leaves_no_personal_value_in_the_log_but_keeps_who_and_when() {
    let shop = Shop::with_program("audit-erase", simple_program());
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": "Кузнецова Марина Игоревна", "phone": "+7 (903) 555-01-02",
                "email": "Marina.K@yandex.ru", "birthday": "1988-02-29", "gender": "female",
                "external_id": "1С-000731", "notes": "ездит на Ладе Весте А123ВС77",
                "source": "Авито", "card": "2000000000022",
                "at": "2025-04-01T09:00:00Z", "operator": PETROVA }),
    );
    let id = reply["customer"]["id"].as_u64().unwrap();
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": id }, "full_name": "Кузнецова-Орлова Марина Игоревна",
                "tags": ["такси"], "at": "2025-04-02T09:00:00Z", "operator": KIM }),
    );
    shop.ok(
        "card.block",
        json!({ "card": "2000000000022", "reason": "потеряна", "reissue": true, "new_number": "2000000000039",
                "at": "2025-04-03T09:00:00Z", "operator": PETROVA }),
    );
    shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": id }, "order_id": "ЗН-77", "lines": [labor("1000")],
                "at": "2025-04-04T09:00:00Z", "operator": PETROVA }),
    );
    let car = shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": id }, "plate": "К456МР199", "vin": "XTA21990012345678", "make": "Lada",
                "model": "Vesta", "year": 2019, "at": "2025-04-05T09:00:00Z", "operator": KIM }),
    );
    // The plate as stored (normalised), which is what the log would hold.
    let plate = car["plate"].as_str().unwrap().to_string();
    let bystander = shop.customer("Свидетелев Семён", "+79160005000");
    let balance = total(&shop, id, "2025-04-30T09:00:00Z");
    let before = year(&shop);
    let text = serde_json::to_string(&before).unwrap();
    // The values are there before the erasure (else the test below proves nothing).
    for value in [
        "Кузнецова Марина Игоревна",
        "+79035550102",
        "marina.k@yandex.ru",
        "2000000000022",
        &plate,
        "XTA21990012345678",
    ] {
        assert!(
            text.contains(value),
            "{value} not in the log before erasure"
        );
    }
    shop.ok(
        "customer.erase",
        json!({ "customer": { "id": id }, "reason": "заявление №15", "at": "2025-05-01T09:00:00Z", "operator": SOKOLOV }),
    );
    let after = year(&shop);
    assert_eq!(after.len(), before.len() + 1);
    let text = serde_json::to_string(&after).unwrap();
    for value in [
        "Кузнецова",
        "Марина",
        "+79035550102",
        "9035550102",
        "marina.k@yandex.ru",
        "Marina.K",
        "1988-02-29",
        "1С-000731",
        "А123ВС77",
        "Авито",
        "такси",
        "2000000000022",
        "2000000000039",
        "female",
        "К456МР199",
        &plate,
        "XTA21990012345678",
    ] {
        assert!(!text.contains(value), "{value} is still in the log: {text}");
    }
    // Who did what, and when, stays; so do the balance figures and the bystander's card.
    let facts: Vec<(&str, &str, Option<&str>)> = after
        .iter()
        .filter(|r| r["customer"] == id)
        .map(|r| {
            (
                r["op"].as_str().unwrap(),
                r["at"].as_str().unwrap(),
                r["operator"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        facts,
        vec![
            ("customer.register", "2025-04-01T09:00:00Z", Some(PETROVA)),
            ("customer.update", "2025-04-02T09:00:00Z", Some(KIM)),
            ("card.block", "2025-04-03T09:00:00Z", Some(PETROVA)),
            ("checkout.commit", "2025-04-04T09:00:00Z", Some(PETROVA)),
            ("vehicle.add", "2025-04-05T09:00:00Z", Some(KIM)),
            ("customer.erase", "2025-05-01T09:00:00Z", Some(SOKOLOV)),
        ]
    );
    let update = after.iter().find(|r| r["op"] == "customer.update").unwrap();
    let changed: Vec<(String, Option<String>)> = fields(update, "customer")
        .into_iter()
        .map(|c| (c.1, c.2))
        .collect();
    assert!(
        changed.contains(&("full_name".into(), Some("[erased]".into()))),
        "{changed:?}"
    );
    let sale = after.iter().find(|r| r["op"] == "checkout.commit").unwrap();
    assert_eq!(
        fields(sale, "balance").last().unwrap().3,
        Some(balance.to_string())
    );
    let erase = after.iter().find(|r| r["op"] == "customer.erase").unwrap();
    let erased_status = fields(erase, "customer")
        .into_iter()
        .find(|c| c.1 == "status")
        .unwrap();
    assert_eq!(
        (erased_status.2.as_deref(), erased_status.3.as_deref()),
        (Some("active"), Some("erased"))
    );
    let bystander_record = after.iter().find(|r| r["customer"] == bystander).unwrap();
    assert!(
        serde_json::to_string(bystander_record)
            .unwrap()
            .contains("Свидетелев Семён")
    );
    // Filtering by the erased customer's id still finds the facts.
    let by_id = all_changes(
        &shop,
        json!({ "from": "2025-01-01", "to": "2025-12-31", "customer": id }),
        2,
    );
    assert_eq!(by_id.len(), 6);
    let check = shop.ok("store.check", json!({}));
    assert_eq!(check["problems"], json!([]));
    assert_eq!(
        check["audit_records"].as_u64().unwrap() as usize,
        after.len() + 1
    );
}

#[test]
fn a_replaced_card_is_recorded_on_both_cards_and_on_the_customer() {
    let shop = Shop::with_program("audit-cards", simple_program());
    let id = shop.customer("Карточкин Карп", "+79160006000");
    shop.ok(
        "card.issue",
        json!({ "customer": { "id": id }, "number": "2000000000046", "at": "2025-07-01T10:00:00Z", "operator": PETROVA }),
    );
    shop.ok(
        "card.issue",
        json!({ "customer": { "id": id }, "number": "2000000000053", "replace": true,
                "at": "2025-07-02T10:00:00Z", "operator": KIM }),
    );
    let records = all_changes(
        &shop,
        json!({ "from": "2025-07-01", "to": "2025-07-31" }),
        10,
    );
    assert_eq!(records.len(), 2);
    let replaced = fields(&records[1], "card");
    assert!(replaced.contains(&(
        "2000000000046".into(),
        "active".into(),
        Some("true".into()),
        Some("false".into())
    )));
    assert!(replaced.contains(&(
        "2000000000046".into(),
        "replaced_by".into(),
        None,
        Some("2000000000053".into())
    )));
    assert!(replaced.contains(&(
        "2000000000053".into(),
        "active".into(),
        None,
        Some("true".into())
    )));
    assert_eq!(
        fields(&records[1], "customer"),
        vec![(
            id.to_string(),
            "card".into(),
            Some("2000000000046".into()),
            Some("2000000000053".into())
        )]
    );
}

#[test]
fn plugin_install_disable_and_remove_are_recorded_with_what_changed() {
    let shop = Shop::with_program("audit-plugins", simple_program());
    let wasm = effects(json!([{ "type": "accrual", "multiplier": "2" }]));
    let installed = install(
        &shop,
        "double-points",
        &wasm,
        json!({ "priority": 5, "operator": SOKOLOV, "at": "2025-09-01T10:00:00Z" }),
    );
    shop.ok(
        "plugin.disable",
        json!({ "name": "double-points", "operator": KIM, "at": "2025-09-02T10:00:00Z" }),
    );
    shop.ok(
        "plugin.remove",
        json!({ "name": "double-points", "operator": SOKOLOV, "at": "2025-09-03T10:00:00Z" }),
    );
    let records = all_changes(
        &shop,
        json!({ "from": "2025-09-01", "to": "2025-09-30" }),
        10,
    );
    let ops: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["op"].as_str().unwrap(), r["operator"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("plugin.install", SOKOLOV),
            ("plugin.disable", KIM),
            ("plugin.remove", SOKOLOV)
        ]
    );
    assert!(records.iter().all(|r| r["customer"].is_null()));
    let install_fields = fields(&records[0], "plugin");
    let value = |name: &str| {
        install_fields
            .iter()
            .find(|c| c.1 == name)
            .map(|c| c.3.clone())
    };
    assert_eq!(
        value("sha256"),
        Some(installed["sha256"].as_str().map(str::to_string))
    );
    assert_eq!(value("priority"), Some(Some("5".to_string())));
    assert!(
        install_fields
            .iter()
            .all(|c| c.0 == "double-points" && c.2.is_none())
    );
    assert_eq!(
        fields(&records[1], "plugin"),
        vec![(
            "double-points".into(),
            "enabled".into(),
            Some("true".into()),
            Some("false".into())
        )]
    );
    let removed = fields(&records[2], "plugin");
    assert!(removed.iter().all(|c| c.3.is_none()), "{removed:?}");
    assert!(removed.contains(&(
        "double-points".into(),
        "sha256".into(),
        installed["sha256"].as_str().map(str::to_string),
        None
    )));
}

#[test]
fn tags_a_plugin_adds_at_a_checkout_are_recorded() {
    let shop = Shop::with_program("audit-plugin-tags", simple_program());
    let id = shop.customer("Тегов Тимур", "+79160008000");
    let wasm = effects(json!([{ "type": "add_tags", "tags": ["масло-акция"] }]));
    install(
        &shop,
        "oil-tag",
        &wasm,
        json!({ "at": "2025-10-01T09:00:00Z" }),
    );
    shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": id }, "order_id": "ЗН-Т1", "lines": [labor("2000")],
                "at": "2025-10-02T10:00:00Z", "operator": PETROVA }),
    );
    let tags =
        shop.ok("customer.get", json!({ "customer": { "id": id } }))["customer"]["tags"].clone();
    assert_eq!(tags, json!(["масло-акция"]));
    let records = all_changes(
        &shop,
        json!({ "from": "2025-10-02", "to": "2025-10-02" }),
        10,
    );
    assert_eq!(records.len(), 1);
    assert_eq!(
        fields(&records[0], "customer"),
        vec![(id.to_string(), "tags".into(), None, Some(tags.to_string()))]
    );
    // A second checkout adds nothing new: no tag change recorded.
    shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": id }, "order_id": "ЗН-Т2", "lines": [labor("2000")],
                "at": "2025-10-03T10:00:00Z", "operator": PETROVA }),
    );
    let records = all_changes(
        &shop,
        json!({ "from": "2025-10-03", "to": "2025-10-03" }),
        10,
    );
    assert!(fields(&records[0], "customer").is_empty(), "{records:?}");
}

#[test]
fn a_car_added_and_moved_to_a_new_owner_is_recorded_under_the_new_owner() {
    let shop = Shop::with_program("audit-vehicle", simple_program());
    let seller = shop.customer("Продавцов Павел", "+79160009000");
    let buyer = shop.customer("Покупателев Борис", "+79160009001");
    let car = shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": seller }, "plate": "А123ВС77", "vin": "XTA21990098765432", "make": "Lada",
                "model": "Granta", "at": "2025-11-01T09:00:00Z", "operator": PETROVA }),
    );
    let car_id = car["id"].as_u64().unwrap();
    shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": buyer }, "vin": "XTA21990098765432", "make": "Lada", "model": "Granta",
                "transfer": true, "at": "2025-11-02T09:00:00Z", "operator": KIM }),
    );
    let records = all_changes(
        &shop,
        json!({ "from": "2025-11-01", "to": "2025-11-30" }),
        10,
    );
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["customer"], seller);
    let added = fields(&records[0], "vehicle");
    let plate = car["plate"].as_str().map(str::to_string);
    assert!(plate.is_some());
    assert!(
        added.contains(&(car_id.to_string(), "plate".into(), None, plate)),
        "{added:?}"
    );
    assert!(added.contains(&(
        car_id.to_string(),
        "customer".into(),
        None,
        Some(seller.to_string())
    )));
    assert_eq!(records[1]["customer"], buyer);
    let moved = fields(&records[1], "vehicle");
    assert!(
        moved.contains(&(
            car_id.to_string(),
            "customer".into(),
            Some(seller.to_string()),
            Some(buyer.to_string())
        )),
        "{moved:?}"
    );
}

/// A merge is a change like any other: who merged, the fields the kept card adopted,
/// which customer went into which, and the points that moved, one balance change on
/// each side.
#[test]
fn a_merge_records_who_merged_what_the_card_took_and_the_points_that_moved() {
    let shop = Shop::with_program("audit-merge", simple_program());
    let keep = shop.ok(
        "customer.register",
        json!({ "full_name": "Семёнов Игорь", "phone": "8 916 123-45-67",
                "at": "2025-04-01T09:00:00Z", "operator": PETROVA }),
    )["customer"]["id"]
        .as_u64()
        .unwrap();
    let gone = shop.ok(
        "customer.register",
        json!({ "full_name": "Семенов Игорь", "email": "semenov@yandex.ru",
                "at": "2025-04-02T09:00:00Z", "operator": PETROVA }),
    )["customer"]["id"]
        .as_u64()
        .unwrap();
    shop.ok(
        "points.adjust",
        json!({ "customer": { "id": gone }, "points": "120", "reason": "бумажная карта",
                "operator": SOKOLOV, "at": "2025-04-03T10:00:00Z" }),
    );
    shop.ok(
        "customer.merge",
        json!({ "keep": { "id": keep }, "merge": { "id": gone },
                "at": "2025-04-05T12:00:00Z", "operator": KIM }),
    );
    let merges: Vec<Value> = year(&shop)
        .into_iter()
        .filter(|r| r["op"] == "customer.merge")
        .collect();
    assert!(merges.iter().all(|r| r["operator"] == KIM), "{merges:?}");
    let on = |id: u64| -> Vec<(String, String, Option<String>, Option<String>)> {
        merges
            .iter()
            .filter(|r| r["customer"] == id)
            .flat_map(|r| fields(r, "customer"))
            .collect()
    };
    let kept = on(keep);
    assert!(
        kept.contains(&(
            keep.to_string(),
            "merged_from".into(),
            None,
            Some(gone.to_string())
        )),
        "{kept:?}"
    );
    assert!(
        kept.iter().any(|(_, field, before, after)| field == "email"
            && before.is_none()
            && after.as_deref() == Some("semenov@yandex.ru")),
        "the adopted e-mail: {kept:?}"
    );
    assert!(
        on(gone).contains(&(
            gone.to_string(),
            "merged_into".into(),
            None,
            Some(keep.to_string())
        )),
        "{:?}",
        on(gone)
    );
    let balances: Vec<(String, Option<String>, Option<String>)> = merges
        .iter()
        .flat_map(|r| fields(r, "balance"))
        .map(|(id, _, before, after)| (id, before, after))
        .collect();
    assert!(
        balances.contains(&(gone.to_string(), Some("120".into()), Some("0".into())))
            && balances.contains(&(keep.to_string(), Some("0".into()), Some("120".into()))),
        "{balances:?}"
    );
}

/// An operation that changes none of the audited things is still recorded, without
/// changes, when a person did it; without an operator it leaves nothing.
#[test]
fn an_operation_without_audited_changes_records_who_did_it() {
    let shop = Shop::with_program("audit-plain", simple_program());
    shop.ok(
        "segment.save",
        json!({ "name": "Шкоды с SMS", "filter": { "makes": ["Skoda"], "consent": "sms" },
                "at": "2025-05-01T08:00:00Z" }),
    );
    shop.ok(
        "segment.save",
        json!({ "name": "Киа", "filter": { "makes": ["Kia"] },
                "at": "2025-05-02T08:00:00Z", "operator": SOKOLOV }),
    );
    let records = year(&shop);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["op"], "segment.save");
    assert_eq!(records[0]["operator"], SOKOLOV);
    assert_eq!(records[0]["customer"], Value::Null);
    assert_eq!(records[0]["changes"], json!([]));
}
