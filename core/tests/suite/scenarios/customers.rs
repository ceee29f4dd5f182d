//! Customers, cards, vehicles and programme versions.

use super::{adjust, commit};
use crate::common;
use common::{Shop, dec, labor, simple_program};
use pitstop_core::ErrorCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

// ---------------------------------------------------------------- customers

#[test]
fn register_get_and_find_customers() {
    let shop = Shop::new("register");
    let reply = shop.ok(
        "customer.register",
        json!({
            "full_name": "Петров Пётр Сергеевич", "phone": "8 (916) 123-45-67", "email": "Petrov@Mail.ru",
            "birthday": "1985-03-02", "gender": "male", "source": "Яндекс.Карты",
            "consents": { "sms": true, "email": false }, "tags": ["Такси", "такси"], "external_id": "1C-0042",
            "issue_card": true, "at": "2025-01-10T10:00:00Z"
        }),
    );
    let customer = &reply["customer"];
    assert_eq!(customer["phone"], "+79161234567");
    assert_eq!(customer["email"], "petrov@mail.ru");
    assert_eq!(customer["tags"], json!(["такси"]));
    assert_eq!(reply["welcome_bonus"], "300");
    let card = customer["card"].as_str().unwrap().to_string();
    assert_eq!(card.len(), 13, "generated EAN-13");
    let id = customer["id"].as_u64().unwrap();
    for reference in [
        json!({ "id": id }),
        json!({ "card": card }),
        json!({ "phone": "+7 916 123 45 67" }),
        json!({ "email": "PETROV@mail.ru" }),
        json!({ "external_id": "1C-0042" }),
    ] {
        let view = shop.ok("customer.get", json!({ "customer": reference }));
        assert_eq!(view["customer"]["id"], id, "{reference}");
    }
    let view = shop.ok(
        "customer.get",
        json!({ "customer": { "id": id }, "at": "2025-01-11T10:00:00Z" }),
    );
    assert_eq!(view["balance"]["available"], "300");
    shop.customer("Петрова Анна Ивановна", "+79160000001");
    shop.customer("Сидоров Иван", "+79261234567");
    let found = shop.ok("customer.find", json!({ "query": "петр" }));
    let names: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{found}");
    let found = shop.ok("customer.find", json!({ "query": "Пётр Серг" }));
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let found = shop.ok("customer.find", json!({ "query": "8916" }));
    assert_eq!(found["items"].as_array().unwrap().len(), 2, "{found}");
    let first = shop.ok("customer.find", json!({ "query": "+7916", "limit": 1 }));
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let second = shop.ok(
        "customer.find",
        json!({ "query": "+7916", "limit": 1, "after": first["next"] }),
    );
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    let none = shop.ok(
        "customer.find",
        json!({ "by": { "phone": "+79999999999" } }),
    );
    assert_eq!(none["items"], json!([]));
    shop.err(
        "customer.find",
        json!({ "query": "ab", "limit": 1000 }),
        ErrorCode::InvalidArgument,
    );
}

#[test]
fn duplicates_are_refused_naming_the_existing_customer() {
    let shop = Shop::new("duplicates");
    let first = shop.ok(
        "customer.register",
        json!({ "full_name": "Иванов Иван", "phone": "+79160000000", "email": "i@x.ru", "external_id": "E1", "card": "CARD0001" }),
    );
    let first_id = first["customer"]["id"].as_u64().unwrap();
    for (field, args) in [
        (
            "phone",
            json!({ "full_name": "Другой", "phone": "8 916 000 00 00" }),
        ),
        ("email", json!({ "full_name": "Другой", "email": "I@X.RU" })),
        (
            "external_id",
            json!({ "full_name": "Другой", "external_id": "E1" }),
        ),
        ("card", json!({ "full_name": "Другой", "card": "card0001" })),
    ] {
        let err = shop.err("customer.register", args, ErrorCode::AlreadyExists);
        assert_eq!(err.details["customer"], first_id, "{field}: {err:?}");
        assert!(err.message.contains(&first_id.to_string()), "{err:?}");
    }
    // Nothing of the failed registrations was kept: on sled the next id follows the
    // first. A shared store takes ids outside the transaction, as a database sequence
    // does, so a failed registration leaves a gap there, but no customer.
    let next = shop.customer("Третий", "+79160000003");
    if std::env::var_os("PITSTOP_TEST_POSTGRES").is_some() {
        for id in first_id + 1..next {
            shop.err(
                "customer.get",
                json!({ "customer": { "id": id } }),
                ErrorCode::NotFound,
            );
        }
    } else {
        assert_eq!(next, first_id + 1);
    }
}

#[test]
fn invalid_customer_input_is_rejected_and_changes_nothing() {
    let shop = Shop::new("invalid");
    let cases = [
        json!({ "full_name": "" }),
        json!({ "full_name": "X", "phone": "12" }),
        json!({ "full_name": "X", "phone": "позвоните" }),
        json!({ "full_name": "X", "email": "not-an-email" }),
        json!({ "full_name": "X", "birthday": "2999-01-01" }),
        json!({ "full_name": "X", "birthday": "31.12.1990" }),
        json!({ "full_name": "X", "unknown": 1 }),
        json!({ "full_name": "X".repeat(201) }),
        json!({ "full_name": "X", "tags": vec!["t"; 0].into_iter().chain((0..40).map(|_| "t")).enumerate().map(|(i, _)| format!("t{i}")).collect::<Vec<_>>() }),
        json!({ "full_name": "X", "agreement": "nope" }),
        json!({ "phone": "+79160000000" }),
    ];
    for args in cases {
        let err = shop
            .engine()
            .execute("customer.register", args.clone())
            .unwrap_err();
        assert!(
            matches!(
                err.code,
                ErrorCode::InvalidArgument | ErrorCode::TooLarge | ErrorCode::NotFound
            ),
            "{args}: {err:?}"
        );
    }
    let found = shop.ok("customer.find", json!({ "query": "x" }));
    assert_eq!(found["items"], json!([]));
    shop.assert_sound();
}

#[test]
fn update_keeps_indexes_in_step() {
    let shop = Shop::new("update");
    let id = shop.customer("Иванов Иван", "+79160000000");
    let other = shop.customer("Петров Пётр", "+79160000001");
    let updated = shop.ok(
        "customer.update",
        json!({ "customer": { "id": id }, "full_name": "Иванов Иван Ильич", "phone": "+79160000002",
                "email": "ivan@mail.ru", "add_tags": ["vip"], "consents": { "sms": true }, "blacklisted": true,
                "blacklist_reason": "грубил" }),
    );
    assert_eq!(updated["phone"], "+79160000002");
    shop.err(
        "customer.get",
        json!({ "customer": { "phone": "+79160000000" } }),
        ErrorCode::NotFound,
    );
    assert_eq!(
        shop.ok(
            "customer.get",
            json!({ "customer": { "phone": "+79160000002" } })
        )["customer"]["id"],
        id
    );
    assert_eq!(
        shop.ok("customer.find", json!({ "query": "ильич" }))["items"][0]["id"],
        id
    );
    let err = shop.err(
        "customer.update",
        json!({ "customer": { "id": other }, "phone": "+79160000002" }),
        ErrorCode::AlreadyExists,
    );
    assert_eq!(err.details["customer"], id);
    let cleared = shop.ok(
        "customer.update",
        json!({ "customer": { "id": id }, "email": null, "remove_tags": ["vip"] }),
    );
    assert_eq!(cleared["email"], Value::Null);
    assert_eq!(cleared["tags"], json!([]));
    shop.err(
        "customer.update",
        json!({ "customer": { "id": 999 }, "full_name": "Никто" }),
        ErrorCode::NotFound,
    );
    shop.err(
        "customer.update",
        json!({ "customer": { "id": id, "phone": "+79160000002" } }),
        ErrorCode::InvalidArgument,
    );
}

// ---------------------------------------------------------------- cards

#[test]
fn lost_card_is_blocked_and_reissued_with_the_balance_kept() {
    let shop = Shop::with_program("cards", simple_program());
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": "Клиент", "phone": "+79160000000", "card": "1000001" }),
    );
    let id = reply["customer"]["id"].as_u64().unwrap();
    adjust(&shop, id, "250", "2025-01-10T10:00:00Z");
    let blocked = shop.ok(
        "card.block",
        json!({ "card": "1000001", "reason": "lost", "reissue": true, "new_number": "1000002" }),
    );
    assert_eq!(blocked["new_card"]["number"], "1000002");
    let err = shop.err(
        "customer.get",
        json!({ "customer": { "card": "1000001" } }),
        ErrorCode::Blocked,
    );
    assert_eq!(err.details["replaced_by"], "1000002");
    assert_eq!(err.details["customer"], id);
    let found = shop.ok("customer.get", json!({ "customer": { "card": "1000002" } }));
    assert_eq!(found["customer"]["id"], id);
    assert_eq!(
        shop.balance_at(id, "2025-01-11T10:00:00Z")["available"],
        "250"
    );
    shop.err(
        "card.block",
        json!({ "card": "1000001", "reason": "again" }),
        ErrorCode::Blocked,
    );
    shop.err(
        "card.block",
        json!({ "card": "404404", "reason": "x" }),
        ErrorCode::NotFound,
    );
}

// ---------------------------------------------------------------- vehicles

#[test]
fn vehicles_validate_unify_and_transfer() {
    let shop = Shop::new("vehicles");
    let first = shop.customer("Первый", "+79160000000");
    let second = shop.customer("Второй", "+79160000001");
    let added = shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": first }, "vin": "xta21703080123456", "plate": "а 123 вс 77", "make": "Lada",
                "model": "Vesta", "year": 2019, "mileage": 45000, "at": "2025-01-10T10:00:00Z" }),
    );
    assert_eq!(added["vin"], "XTA21703080123456");
    assert_eq!(added["plate"], "A123BC77");
    let vehicle = added["id"].as_u64().unwrap();
    assert_eq!(
        shop.ok(
            "customer.get",
            json!({ "customer": { "plate": "A123BC77" } })
        )["customer"]["id"],
        first
    );
    assert_eq!(
        shop.ok(
            "customer.get",
            json!({ "customer": { "vin": "XTA21703080123456" } })
        )["customer"]["id"],
        first
    );
    for bad in [
        json!({ "customer": { "id": first }, "vin": "XTA2170308012345", "make": "Lada", "model": "Vesta" }),
        json!({ "customer": { "id": first }, "vin": "XTA2170308012345O", "make": "Lada", "model": "Vesta" }),
        json!({ "customer": { "id": first }, "plate": "!!", "make": "Lada", "model": "Vesta" }),
        json!({ "customer": { "id": first }, "make": "Lada", "model": "Vesta" }),
        json!({ "customer": { "id": first }, "plate": "B777OP99", "make": "Lada", "model": "Vesta", "year": 1800 }),
    ] {
        shop.err("vehicle.add", bad, ErrorCode::InvalidArgument);
    }
    let err = shop.err(
        "vehicle.add",
        json!({ "customer": { "id": second }, "vin": "XTA21703080123456", "make": "Lada", "model": "Vesta" }),
        ErrorCode::AlreadyExists,
    );
    assert_eq!(err.details["customer"], first);
    let err = shop.err(
        "vehicle.add",
        json!({ "customer": { "id": second }, "plate": "А123ВС77", "make": "Kia", "model": "Rio" }),
        ErrorCode::AlreadyExists,
    );
    assert_eq!(err.details["vehicle"], vehicle);
    let moved = shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": second }, "vin": "XTA21703080123456", "plate": "B777OP99", "make": "Lada",
                "model": "Vesta", "transfer": true, "at": "2025-06-01T10:00:00Z" }),
    );
    assert_eq!(moved["id"], vehicle);
    assert_eq!(moved["owners"].as_array().unwrap().len(), 2);
    assert_eq!(moved["owners"][0]["to"], "2025-06-01");
    shop.err(
        "customer.get",
        json!({ "customer": { "plate": "A123BC77" } }),
        ErrorCode::NotFound,
    );
    let mileage = shop.ok(
        "vehicle.mileage",
        json!({ "vehicle": { "id": vehicle }, "km": 48000, "at": "2025-06-01T10:00:00Z" }),
    );
    assert_eq!(
        dec(&mileage["daily_km"]),
        Decimal::new(211, 1),
        "3000 km over 142 days"
    );
    shop.err(
        "vehicle.mileage",
        json!({ "vehicle": { "id": vehicle }, "km": 47000 }),
        ErrorCode::InvalidArgument,
    );
    shop.ok(
        "vehicle.mileage",
        json!({ "vehicle": { "id": vehicle }, "km": 47000, "correction": true }),
    );
    shop.err(
        "vehicle.mileage",
        json!({ "vehicle": { "id": 999 }, "km": 1 }),
        ErrorCode::NotFound,
    );
}

// ---------------------------------------------------------------- programme

#[test]
fn programme_versions_and_problems() {
    let shop = Shop::new("program");
    let current = shop.ok("program.get", json!({}));
    assert_eq!(current["version"], 1);
    let err = shop.err(
        "program.set",
        json!({ "program": { "timezone": "Nowhere/City", "redemption": { "cap_percent": "120" }, "expiry_months": 0 } }),
        ErrorCode::InvalidProgram,
    );
    let problems = err.details["problems"].as_array().unwrap();
    assert_eq!(
        problems.len(),
        4,
        "timezone, cap, expiry and the pending days it implies: {err:?}"
    );
    assert_eq!(
        shop.ok("program.get", json!({}))["version"],
        1,
        "a rejected programme changes nothing"
    );
    shop.ok("program.set", json!({ "program": simple_program() }));
    assert_eq!(shop.ok("program.get", json!({}))["version"], 2);
    assert_eq!(
        shop.ok("program.get", json!({ "version": 1 }))["name"],
        "Клуб автосервиса"
    );
    let id = shop.customer("Клиент", "+79160000000");
    let receipt = commit(
        &shop,
        id,
        "O-1",
        json!([labor("1000")]),
        None,
        "2025-02-01T10:00:00Z",
    );
    let visit = shop.ok("visit.get", json!({ "order_id": "O-1" }));
    assert_eq!(visit["program_version"], 2);
    assert_eq!(receipt["program_version"], 2);
}
