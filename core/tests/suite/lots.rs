//! An account's open lots live in blocks of 64 lot ids (format 2): a store written in
//! format 1 (lots inline in the account record) opens, keeps its points and moves them
//! into blocks at the account's next change; a customer with lots in several blocks
//! redeems, is refunded, loses expired points and takes a merged customer's lots exactly
//! as the arithmetic below says. Runs on sled and, in `make postgres-test`, PostgreSQL.

use crate::common::{self, Shop, execute, simple_program, store_location};
use chrono::{Duration, NaiveDate};
use pitstop_core::{Engine, EngineOptions};
use serde_json::{Value, json};
use std::path::Path;

/// Written by the previous release (format 1): customer 1 registered 2026-01-10 with the
/// example programme, five visits on the 15th of January to May, a sixth on 2026-06-20
/// that redeemed 200 points; customer 2 registered and never came back.
const FORMAT_1_BACKUP: &str = "tests/fixtures/format1-store.backup";

fn balance(engine: &Engine, customer: u64, at: &str) -> Value {
    execute(
        engine,
        "points.balance",
        json!({ "customer": { "id": customer }, "at": at }),
    )
}

fn assert_sound(engine: &Engine) {
    let report = execute(engine, "store.check", json!({}));
    assert_eq!(report["problems"], json!([]), "{report}");
}

#[test]
fn a_format_1_store_keeps_its_points_and_moves_its_lots_into_blocks() {
    let backup = Path::new(env!("CARGO_MANIFEST_DIR")).join(FORMAT_1_BACKUP);
    let target = store_location("format1");
    Engine::restore(&backup, &target, &EngineOptions::default()).expect("restore");
    let engine = Engine::open(&target, EngineOptions::default()).expect("open format 1");
    // What the previous release answered for this store.
    let before = balance(&engine, 1, "2026-06-21T10:00:00Z");
    assert_eq!(before["available"], "1430", "{before}");
    assert_eq!(before["total"], "1591", "{before}");
    assert_eq!(before["pending"], "161", "{before}");
    assert_eq!(
        before["next_expiries"][0],
        json!({ "date": "2027-01-15", "points": "126" })
    );
    assert_eq!(balance(&engine, 2, "2026-06-21T10:00:00Z")["total"], "0");
    assert_sound(&engine);

    // Redeeming 500 spends the soonest lots first: what is left of January's (126), all
    // of February's (326) and 48 of March's.
    let receipt = execute(
        &engine,
        "checkout.commit",
        json!({ "customer": { "id": 1 }, "order_id": "Z-7", "at": "2026-07-10T10:00:00Z",
                "redeem": "500",
                "lines": [{ "sku": "LAB", "name": "ТО-3", "kind": "labor", "qty": "1", "unit_price": "2500.00" }] }),
    );
    let accrual = common::dec(&receipt["totals"]["accrual"]);
    let after = balance(&engine, 1, "2026-07-10T10:00:00Z");
    assert_eq!(
        common::dec(&after["total"]),
        common::dec(&before["total"]) - rust_decimal::Decimal::from(500) + accrual,
        "{after} {receipt}"
    );
    assert_eq!(
        after["next_expiries"][0],
        json!({ "date": "2027-03-15", "points": "278" }),
        "{after}"
    );
    assert_sound(&engine);
    drop(engine);

    let reopened = Engine::open(&target, EngineOptions::default()).expect("reopen");
    assert_eq!(balance(&reopened, 1, "2026-07-10T10:00:00Z"), after);
    assert_sound(&reopened);
}

fn checkout(shop: &Shop, customer: u64, order: &str, day: NaiveDate, price: u32) -> Value {
    shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": customer }, "order_id": order,
                "at": format!("{day}T10:00:00Z"),
                "lines": [common::labor(&format!("{price}.00"))] }),
    )
}

/// 150 visits make 150 lots in three blocks; everything that moves points across them
/// gives what the arithmetic says (simple programme: 10 % accrual, no pending period,
/// 12 months to expire, points pay up to half a line).
#[test]
fn lots_in_several_blocks_move_as_the_arithmetic_says() {
    let shop = Shop::with_program("lots-blocks", simple_program());
    let regular = shop.customer("Сидоров Пётр", "+79160000101");
    let first_day = NaiveDate::from_ymd_opt(2025, 2, 1).expect("date");
    for n in 0..150 {
        let day = first_day + Duration::days(n);
        checkout(&shop, regular, &format!("R-{n}"), day, 1000);
    }
    let mut expected: i64 = 150 * 100;
    let day = |n: i64| first_day + Duration::days(n);
    let available = |at: NaiveDate| {
        let value = shop.ok(
            "points.balance",
            json!({ "customer": { "id": regular }, "at": format!("{at}T12:00:00Z") }),
        );
        common::dec(&value["available"])
    };
    assert_eq!(available(day(149)), expected.into());

    // Redeem 7,050 on a 30,000 job: lots 1-70 and half of lot 71 (blocks 0 and 1).
    let receipt = shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": regular }, "order_id": "R-big", "redeem": "7050",
                "at": format!("{}T10:00:00Z", day(150)),
                "lines": [common::labor("30000.00")] }),
    );
    assert_eq!(receipt["totals"]["accrual"], "2295", "{receipt}");
    expected += -7050 + 2295;
    assert_eq!(available(day(150)), expected.into());

    // Refunding visit 140 (block 2) takes back its 100 points.
    shop.ok(
        "checkout.refund",
        json!({ "order_id": "R-139", "at": format!("{}T11:00:00Z", day(150)) }),
    );
    expected -= 100;
    assert_eq!(available(day(150)), expected.into());

    // A year and a day after visit 90 (2025-05-01), lots 1-90 have expired (each may be
    // used to the same date a year on): of them only lots 71 (50 left) to 90 held
    // points, 50 + 19 × 100.
    let expiry_day = day(89) + Duration::days(366);
    let daily = shop.ok("jobs.daily", json!({ "date": expiry_day.to_string() }));
    assert_eq!(daily["points_expired"], "1950", "{daily}");
    expected -= 1950;
    assert_eq!(available(expiry_day), expected.into());

    // A second customer's lots join the first's under new ids.
    let other = shop.customer("Сидорова Анна", "+79160000102");
    checkout(&shop, other, "A-1", expiry_day, 3000);
    shop.ok(
        "customer.merge",
        json!({ "keep": { "id": regular }, "merge": { "id": other },
                "at": format!("{expiry_day}T13:00:00Z") }),
    );
    expected += 300;
    assert_eq!(available(expiry_day), expected.into());

    // Spending everything empties every block.
    let rest = shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": regular }, "order_id": "R-all", "redeem": expected.to_string(),
                "at": format!("{expiry_day}T14:00:00Z"),
                "lines": [common::labor(&format!("{}.00", expected * 2))] }),
    );
    let earned = common::dec(&rest["totals"]["accrual"]);
    assert_eq!(available(expiry_day), earned);
    let report = shop.ok("store.check", json!({}));
    assert_eq!(report["problems"], json!([]), "{report}");
}
