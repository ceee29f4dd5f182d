//! Holds, adjustments, the daily job, garbage requests and reports.

use super::{adjust, commit};
use crate::common;
use common::{Shop, labor, simple_program};
use pitstop_core::ErrorCode;
use serde_json::{Value, json};

// ---------------------------------------------------------------- points

#[test]
fn holds_reserve_capture_release_and_lapse() {
    let shop = Shop::with_program("holds", simple_program());
    let id = shop.customer("Клиент", "+79160000000");
    adjust(&shop, id, "500", "2025-01-10T10:00:00Z");
    let hold = shop.ok(
        "points.hold",
        json!({ "customer": { "id": id }, "points": "300", "at": "2025-01-10T11:00:00Z" }),
    );
    let hold_id = hold["hold"]["id"].as_u64().unwrap();
    assert_eq!(hold["balance"]["available"], "200");
    assert_eq!(hold["balance"]["held"], "300");
    shop.err(
        "points.hold",
        json!({ "customer": { "id": id }, "points": "201", "at": "2025-01-10T11:01:00Z" }),
        ErrorCode::InsufficientPoints,
    );
    shop.err(
        "points.capture",
        json!({ "hold": hold_id, "points": "301", "at": "2025-01-10T11:02:00Z" }),
        ErrorCode::InvalidArgument,
    );
    let captured = shop.ok(
        "points.capture",
        json!({ "hold": hold_id, "points": "200", "at": "2025-01-10T11:05:00Z" }),
    );
    assert_eq!(captured["hold"]["status"], "captured");
    assert_eq!(captured["balance"]["total"], "300");
    assert_eq!(captured["balance"]["held"], "0");
    shop.err(
        "points.capture",
        json!({ "hold": hold_id, "at": "2025-01-10T11:06:00Z" }),
        ErrorCode::HoldNotActive,
    );
    shop.err(
        "points.release",
        json!({ "hold": hold_id, "at": "2025-01-10T11:06:00Z" }),
        ErrorCode::HoldNotActive,
    );
    let second = shop.ok("points.hold", json!({ "customer": { "id": id }, "points": "100", "ttl_minutes": 1, "at": "2025-01-10T12:00:00Z" }));
    let second_id = second["hold"]["id"].as_u64().unwrap();
    assert_eq!(
        shop.balance_at(id, "2025-01-10T12:02:00Z")["held"],
        "0",
        "a lapsed hold frees its points"
    );
    let err = shop.err(
        "points.capture",
        json!({ "hold": second_id, "at": "2025-01-10T12:02:00Z" }),
        ErrorCode::HoldNotActive,
    );
    assert_eq!(err.details["status"], "expired");
    let third = shop.ok(
        "points.hold",
        json!({ "customer": { "id": id }, "points": "50", "at": "2025-01-10T13:00:00Z" }),
    );
    let released = shop.ok(
        "points.release",
        json!({ "hold": third["hold"]["id"], "at": "2025-01-10T13:01:00Z" }),
    );
    assert_eq!(released["balance"]["available"], "300");
    shop.err(
        "points.release",
        json!({ "hold": 999 }),
        ErrorCode::NotFound,
    );
    shop.assert_sound();
}

#[test]
fn held_points_survive_their_lot_expiry_until_released() {
    let shop = Shop::with_program("held-expiry", simple_program());
    let id = shop.customer("Клиент", "+79160000000");
    shop.ok(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "100", "reason": "gift", "operator": "admin", "expiry_days": 1,
                "at": "2025-01-10T10:00:00Z" }),
    );
    let hold = shop.ok("points.hold", json!({ "customer": { "id": id }, "points": "100", "ttl_minutes": 10080, "at": "2025-01-10T11:00:00Z" }));
    let after_expiry = shop.balance_at(id, "2025-01-13T10:00:00Z");
    assert_eq!(after_expiry["total"], "100");
    assert_eq!(after_expiry["held"], "100");
    assert_eq!(after_expiry["available"], "0");
    let released = shop.ok(
        "points.release",
        json!({ "hold": hold["hold"]["id"], "at": "2025-01-13T10:00:00Z" }),
    );
    assert_eq!(
        released["balance"]["total"], "0",
        "released points of an expired lot burn"
    );
    shop.assert_sound();
}

#[test]
fn adjust_and_statement() {
    let shop = Shop::with_program("adjust", simple_program());
    let id = shop.customer("Клиент", "+79160000000");
    adjust(&shop, id, "150", "2025-01-10T10:00:00Z");
    adjust(&shop, id, "-50", "2025-01-11T10:00:00Z");
    shop.err(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "-101", "reason": "x", "operator": "y" }),
        ErrorCode::InsufficientPoints,
    );
    shop.err(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "10", "reason": "", "operator": "y" }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "0", "reason": "x", "operator": "y" }),
        ErrorCode::InvalidArgument,
    );
    let statement = shop.ok("points.statement", json!({ "customer": { "id": id } }));
    let entries = statement["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["amount"], "-50");
    assert_eq!(entries[0]["balance_after"], "100");
    assert_eq!(entries[0]["operator"], "admin");
    let page = shop.ok(
        "points.statement",
        json!({ "customer": { "id": id }, "limit": 1 }),
    );
    assert_eq!(page["next_before"], 2);
    let older = shop.ok(
        "points.statement",
        json!({ "customer": { "id": id }, "limit": 1, "before": 2 }),
    );
    assert_eq!(older["entries"][0]["seq"], 1);
}

// ---------------------------------------------------------------- daily job

#[test]
fn daily_job_expires_releases_grants_birthdays_and_is_idempotent() {
    let shop = Shop::new("daily");
    let reply = shop.ok(
        "customer.register",
        json!({ "full_name": "Именинник", "phone": "+79160000000", "birthday": "1990-06-20", "at": "2025-01-10T10:00:00Z" }),
    );
    let id = reply["customer"]["id"].as_u64().unwrap();
    let before = shop.ok("jobs.daily", json!({ "date": "2025-04-10" }));
    assert_eq!(
        before["points_expired"], "0",
        "the welcome bonus lives through 2025-04-10"
    );
    let expired = shop.ok("jobs.daily", json!({ "date": "2025-04-11" }));
    assert_eq!(expired["points_expired"], "300");
    let again = shop.ok("jobs.daily", json!({ "date": "2025-04-11" }));
    assert_eq!(again["points_expired"], "0");
    assert_eq!(again["accounts_settled"], 0);
    let birthday = shop.ok("jobs.daily", json!({ "date": "2025-06-17" }));
    assert_eq!(birthday["birthday_bonuses"], 1);
    let twice = shop.ok("jobs.daily", json!({ "date": "2025-06-17" }));
    assert_eq!(twice["birthday_bonuses"], 0);
    let next_day = shop.ok("jobs.daily", json!({ "date": "2025-06-18" }));
    assert_eq!(next_day["birthday_bonuses"], 0);
    let balance = shop.balance_at(id, "2025-06-18T10:00:00Z");
    assert_eq!(balance["available"], "500");
    assert_eq!(balance["next_expiries"][0]["date"], "2025-06-27");
    let statement = shop.ok("points.statement", json!({ "customer": { "id": id } }));
    assert_eq!(
        statement["entries"].as_array().unwrap().len(),
        3,
        "welcome, expiry, birthday"
    );
    // Pending points are released by the daily job on their day.
    commit(
        &shop,
        id,
        "O-1",
        json!([labor("10000")]),
        None,
        "2025-06-18T10:00:00Z",
    );
    let released = shop.ok("jobs.daily", json!({ "date": "2025-07-02" }));
    assert_eq!(released["points_released"], "700");
    shop.assert_sound();
}

// ---------------------------------------------------------------- requests

#[test]
fn garbage_requests_get_structured_errors() {
    let shop = Shop::new("garbage");
    let engine = shop.engine();
    for (request, code) in [
        ("", "invalid_request"),
        ("not json", "invalid_request"),
        ("[]", "invalid_request"),
        ("{\"op\": 5}", "invalid_request"),
        (
            "{\"op\": \"customer.get\", \"args\": []}",
            "invalid_request",
        ),
        (
            "{\"op\": \"customer.get\", \"args\": {}, \"x\": 1}",
            "invalid_request",
        ),
        ("{\"op\": \"no.such\", \"args\": {}}", "unknown_operation"),
        (
            "{\"op\": \"customer.get\", \"args\": {\"customer\": {\"id\": -1}}}",
            "invalid_argument",
        ),
        (
            "{\"op\": \"customer.get\", \"args\": {\"customer\": {\"id\": 1}, \"idempotency_key\": \"k\"}}",
            "invalid_argument",
        ),
        (
            "{\"op\": \"customer.register\", \"args\": {\"full_name\": \"\\u0000\"}}",
            "invalid_argument",
        ),
    ] {
        let response: Value = serde_json::from_str(&engine.execute_json(request)).unwrap();
        assert_eq!(response["ok"], false, "{request}");
        assert_eq!(response["error"]["code"], code, "{request}: {response}");
        assert!(response["error"]["message"].as_str().unwrap().len() > 5);
    }
    let huge = format!(
        "{{\"op\": \"customer.register\", \"args\": {{\"full_name\": \"{}\"}}}}",
        "x".repeat(2_000_000)
    );
    let response: Value = serde_json::from_str(&engine.execute_json(&huge)).unwrap();
    assert_eq!(response["error"]["code"], "too_large");
    let valid = engine
        .validate_json(
            "{\"op\": \"checkout.commit\", \"args\": {\"customer\": {\"id\": 1}, \"lines\": []}}",
        )
        .unwrap();
    assert_eq!(valid["mutates"], true);
    assert!(
        engine
            .validate_json("{\"op\": \"checkout.commit\", \"args\": {\"lines\": 5}}")
            .is_err()
    );
}

#[test]
fn closed_engine_refuses_work() {
    let shop = Shop::new("closed");
    shop.engine().close().unwrap();
    shop.err("program.get", json!({}), ErrorCode::Closed);
}

// ---------------------------------------------------------------- reports

#[test]
fn activity_and_points_reports() {
    let shop = Shop::with_program("reports", simple_program());
    let first = shop.customer("Первый", "+79160000000");
    let second = shop.customer("Второй", "+79160000001");
    commit(
        &shop,
        first,
        "O-1",
        json!([labor("1000")]),
        None,
        "2025-01-15T10:00:00Z",
    );
    commit(
        &shop,
        first,
        "O-2",
        json!([labor("2000")]),
        Some("50"),
        "2025-02-10T10:00:00Z",
    );
    commit(
        &shop,
        second,
        "O-3",
        json!([labor("500")]),
        None,
        "2025-02-11T10:00:00Z",
    );
    shop.ok(
        "checkout.refund",
        json!({ "order_id": "O-3", "at": "2025-02-12T10:00:00Z" }),
    );
    let report = shop.ok(
        "report.activity",
        json!({ "from": "2025-01-01", "to": "2025-02-28" }),
    );
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{report}");
    assert_eq!(rows[0]["month"], "2025-01");
    assert_eq!(rows[0]["visits"], 1);
    assert_eq!(rows[0]["new_customers"], 1);
    assert_eq!(rows[0]["revenue"], "1000.00");
    assert_eq!(
        rows[1]["visits"], 1,
        "the fully refunded visit does not count"
    );
    assert_eq!(rows[1]["returning_customers"], 1);
    assert_eq!(rows[1]["returning_share"], "100.0");
    assert_eq!(rows[1]["revenue"], "2000.00");
    assert_eq!(rows[1]["points_redeemed"], "50");
    assert_eq!(rows[1]["points_accrued"], "195");
    assert_eq!(report["total"]["customers"], 1);
    assert_eq!(report["total"]["average_check"], "1500.00");
    let points = shop.ok("report.points", json!({}));
    assert_eq!(
        points["issued"], "295",
        "100 + 195; the refunded visit's 50 were taken back"
    );
    assert_eq!(points["redeemed"], "50");
    assert_eq!(points["outstanding"], "245");
    assert_eq!(points["liability"], "245.00");
    assert_eq!(points["accounts_with_balance"], 1);
    shop.err(
        "report.activity",
        json!({ "from": "2025-03-01", "to": "2025-01-01" }),
        ErrorCode::InvalidArgument,
    );
}
