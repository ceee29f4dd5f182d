//! `report.changes`: filters by operator and customer through their indexes, pages that
//! join up to the whole list, limits and the `operator` field's checks, and a backup
//! carrying the log. Expected lists are the whole log filtered here, not copied results.

use crate::common;

use common::audit::*;
use common::{Shop, simple_program};
use pitstop_core::ErrorCode;
use serde_json::{Value, json};

#[test]
fn filters_use_operator_and_customer_and_pages_join_up_to_the_whole_list() {
    let shop = Shop::with_program("audit-filters", simple_program());
    let operators = [PETROVA, KIM, PETROVA, SOKOLOV, PETROVA, KIM, PETROVA];
    let mut customers = Vec::new();
    for (i, operator) in operators.iter().enumerate() {
        let reply = shop.ok(
            "customer.register",
            json!({ "full_name": format!("Клиентов Клиент {i}"), "phone": format!("+7916000{i:04}"),
                    "at": format!("2025-06-{:02}T10:00:00Z", 10 + i), "operator": operator }),
        );
        customers.push(reply["customer"]["id"].as_u64().unwrap());
    }
    // Ties: two adjustments of one customer at the same instant, by two operators.
    for operator in [PETROVA, KIM] {
        shop.ok(
            "points.adjust",
            json!({ "customer": { "id": customers[1] }, "points": "10", "reason": "акция",
                    "operator": operator, "at": "2025-06-20T12:00:00Z" }),
        );
    }
    let june = json!({ "from": "2025-06-01", "to": "2025-06-30" });
    let whole = all_changes(&shop, june.clone(), 1000);
    assert_eq!(whole.len(), operators.len() + 2);
    for limit in [1, 2, 3, 4, 9, 10] {
        assert_eq!(
            all_changes(&shop, june.clone(), limit),
            whole,
            "limit {limit}"
        );
    }
    // By operator: the model is the whole list filtered here.
    for operator in [PETROVA, KIM, SOKOLOV, "Никто"] {
        let mut args = june.clone();
        args["operator"] = json!(operator);
        let expected: Vec<Value> = whole
            .iter()
            .filter(|r| r["operator"] == operator)
            .cloned()
            .collect();
        for limit in [1, 2, 100] {
            assert_eq!(
                all_changes(&shop, args.clone(), limit),
                expected,
                "{operator} by {limit}"
            );
        }
    }
    // By customer, and by customer and operator together.
    let mut args = june.clone();
    args["customer"] = json!(customers[1]);
    let expected: Vec<Value> = whole
        .iter()
        .filter(|r| r["customer"] == customers[1])
        .cloned()
        .collect();
    assert_eq!(expected.len(), 3);
    assert_eq!(all_changes(&shop, args.clone(), 1), expected);
    args["operator"] = json!(PETROVA);
    let both: Vec<Value> = expected
        .iter()
        .filter(|r| r["operator"] == PETROVA)
        .cloned()
        .collect();
    assert_eq!(both.len(), 1);
    assert_eq!(all_changes(&shop, args, 1), both);
    // A period boundary: the last day is included, the day after is not.
    let one_day = all_changes(
        &shop,
        json!({ "from": "2025-06-12", "to": "2025-06-12" }),
        10,
    );
    assert_eq!(one_day.len(), 1);
    assert_eq!(one_day[0]["customer"], customers[2]);
    // An empty period, and a cursor from another query.
    assert!(
        all_changes(
            &shop,
            json!({ "from": "2024-01-01", "to": "2024-12-31" }),
            5
        )
        .is_empty()
    );
    let page = shop.ok(
        "report.changes",
        json!({ "from": "2025-06-01", "to": "2025-06-30", "limit": 1 }),
    );
    let cursor = page["next_after"].as_str().unwrap();
    let err = shop.err(
        "report.changes",
        json!({ "from": "2025-06-01", "to": "2025-06-30", "operator": KIM, "after": cursor }),
        ErrorCode::InvalidArgument,
    );
    assert_eq!(err.details["field"], "after");
}

#[test]
fn limits_and_the_operator_field_are_checked() {
    let shop = Shop::with_program("audit-limits", simple_program());
    let id = shop.customer("Лимитов Лев", "+79160002000");
    for (args, field) in [
        (
            json!({ "from": "2025-01-01", "to": "2025-01-01", "limit": 0 }),
            "limit",
        ),
        (
            json!({ "from": "2025-01-01", "to": "2025-01-01", "limit": 1001 }),
            "limit",
        ),
        (json!({ "from": "2025-02-01", "to": "2025-01-01" }), "to"),
        (json!({ "from": "2010-01-01", "to": "2025-01-01" }), "to"),
        (
            json!({ "from": "2025-01-01", "to": "2025-01-02", "operator": " " }),
            "operator",
        ),
    ] {
        let err = shop.err("report.changes", args.clone(), ErrorCode::InvalidArgument);
        assert_eq!(err.details["field"], field, "{args}");
    }
    let long = "Ж".repeat(65);
    for operator in [
        json!(""),
        json!("   "),
        json!("Пет\u{7}рова"),
        json!(42),
        json!(long),
        json!("\u{200b}"),
    ] {
        let args =
            json!({ "customer": { "id": id }, "notes": "звонить вечером", "operator": operator });
        let err = shop
            .engine()
            .execute("customer.update", args)
            .expect_err("refused");
        assert!(
            matches!(err.code, ErrorCode::InvalidArgument | ErrorCode::TooLarge),
            "{operator}: {err:?}"
        );
        assert_eq!(err.details["field"], "operator", "{operator}");
    }
    // Sixty-four Cyrillic letters are fine; trimmed like any name.
    let longest = "Ж".repeat(64);
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": id }, "notes": "звонить вечером", "operator": format!(" {longest} "),
                "at": "2025-01-11T10:00:00Z" }),
    );
    let records = all_changes(
        &shop,
        json!({ "from": "2025-01-11", "to": "2025-01-11" }),
        10,
    );
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["operator"], longest);
    // A read refuses it; points.adjust cannot do without it.
    let err = shop.err(
        "points.balance",
        json!({ "customer": { "id": id }, "operator": PETROVA }),
        ErrorCode::InvalidArgument,
    );
    assert!(err.message.contains("operator"), "{}", err.message);
    let err = shop.err(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "5", "reason": "без оператора" }),
        ErrorCode::InvalidArgument,
    );
    assert_eq!(err.details["field"], "operator");
}

#[test]
fn a_backup_restores_the_log_with_its_indexes() {
    let shop = Shop::with_program("audit-backup", simple_program());
    let id = shop.customer("Резервов Роман", "+79160007000");
    shop.ok(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "30", "reason": "акция",
                "operator": PETROVA, "at": "2025-08-01T10:00:00Z" }),
    );
    let before = year(&shop);
    let dir = common::temp_path("audit-backup-files");
    std::fs::create_dir_all(&dir).unwrap();
    let backup = dir.join("backup.bin");
    shop.ok("store.backup", json!({ "path": backup.to_str().unwrap() }));
    let restored_path = dir.join("restored");
    pitstop_core::Engine::restore(
        &backup,
        &restored_path,
        &pitstop_core::EngineOptions::default(),
    )
    .expect("restore");
    let restored = Shop {
        engine: Some(
            pitstop_core::Engine::open(&restored_path, pitstop_core::EngineOptions::default())
                .unwrap(),
        ),
        path: restored_path,
    };
    assert_eq!(year(&restored), before);
    let by_operator = all_changes(
        &restored,
        json!({ "from": "2025-08-01", "to": "2025-08-01", "operator": PETROVA }),
        10,
    );
    assert_eq!(by_operator.len(), 1);
    let check = restored.ok("store.check", json!({}));
    assert_eq!(check["problems"], json!([]));
    assert_eq!(
        check["audit_records"],
        shop.ok("store.check", json!({}))["audit_records"]
    );
    drop(restored);
    let _ = std::fs::remove_dir_all(&dir);
}
