//! Quotes, commits, discounts, redemption and refunds.

use super::{adjust, commit};
use crate::common;
use common::{Shop, dec, labor, part, simple_program};
use pitstop_core::ErrorCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

// ---------------------------------------------------------------- checkout

#[test]
fn quote_is_what_commit_records() {
    let shop = Shop::new("quote");
    let id = shop.customer("Клиент", "+79160000000");
    let args = json!({ "customer": { "id": id }, "lines": [labor("2000"), part("3000")], "redeem": "max",
                       "at": "2025-01-20T10:00:00Z" });
    let quote = shop.ok("checkout.quote", args.clone());
    let quote_again = shop.ok("checkout.quote", args.clone());
    assert_eq!(quote, quote_again, "a quote changes nothing");
    let mut commit_args = args;
    commit_args["order_id"] = json!("O-1");
    let receipt = shop.ok("checkout.commit", commit_args);
    for field in [
        "lines",
        "totals",
        "redemption",
        "messages",
        "customer",
        "program_version",
    ] {
        assert_eq!(quote[field], receipt[field], "{field}");
    }
    // Welcome 300 pays the labour line (30% cap of 2000 = 600 ≥ 300), parts never.
    assert_eq!(receipt["totals"]["points"], "300");
    assert_eq!(receipt["lines"][0]["points"], "300");
    assert_eq!(receipt["lines"][1]["points"], "0");
    assert_eq!(receipt["lines"][0]["money"], "1700.00");
    // Accrual: labour 7% of 1700 = 119, part 3% of 3000 = 90, pending for 14 days.
    assert_eq!(receipt["totals"]["accrual"], "209");
    assert_eq!(receipt["pending"], "209");
    assert_eq!(receipt["available"], "0");
    assert_eq!(receipt["tier_after"], "base");
    let later = shop.balance_at(id, "2025-02-03T21:00:00Z");
    assert_eq!(later["available"], "209", "released on the 14th day");
    shop.err(
        "checkout.commit",
        json!({ "customer": { "id": id }, "lines": [labor("1")] }),
        ErrorCode::InvalidArgument,
    );
}

#[test]
fn published_station_rules_are_expressible() {
    // "Points pay at most 30% and only for labour; a minimum bill to earn and to pay;
    // earning only after 10 000 spent; nothing earned on discounted or promo lines;
    // different rates for parts and labour at each tier."
    let program = json!({
        "timezone": "Europe/Moscow",
        "accrual": { "rate_percent": "5", "min_bill": "1000", "start_after_total_spend": "10000",
                     "on_discounted_lines": false, "on_promo_lines": false },
        "redemption": { "kinds": ["labor"], "cap_percent": "30", "min_bill": "2000" },
        "tiers": { "levels": [
            { "code": "base", "rate_by_kind": { "labor": "5", "part": "2" } },
            { "code": "gold", "min_spend": "20000", "rate_by_kind": { "labor": "10", "part": "4" } }
        ] }
    });
    let shop = Shop::with_program("rules", program);
    let id = shop.customer("Клиент", "+79160000000");
    adjust(&shop, id, "5000", "2025-01-10T10:00:00Z");
    // Below the minimum bill to pay: points cannot pay at all.
    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [labor("1500")], "redeem": "max" }),
    );
    assert_eq!(quote["redemption"]["max"], "0");
    assert_eq!(quote["redemption"]["limited_by"], "min_bill");
    // Spend below 10 000 so far: nothing earned yet.
    let first = commit(
        &shop,
        id,
        "O-1",
        json!([labor("6000"), part("6000")]),
        Some("max"),
        "2025-01-11T10:00:00Z",
    );
    assert_eq!(
        first["totals"]["points"], "1800",
        "30% of the labour line only"
    );
    assert_eq!(first["lines"][1]["points"], "0");
    assert_eq!(first["totals"]["accrual"], "0");
    assert_eq!(first["accrual_note"], "start_after_total_spend");
    // Spend is now 12 000 (tier base): labour 5%, part 2%; the discounted and promo lines earn nothing.
    let lines = json!([
        labor("2000"),
        part("1000"),
        { "sku": "P-2", "name": "Масло по акции", "kind": "goods", "qty": "1", "unit_price": "900", "promo": true },
        { "sku": "P-3", "name": "Фильтр", "kind": "part", "qty": "1", "unit_price": "500", "discount": "50" }
    ]);
    let second = commit(&shop, id, "O-2", lines, None, "2025-01-12T10:00:00Z");
    assert_eq!(second["lines"][0]["accrual"], "100");
    assert_eq!(second["lines"][1]["accrual"], "20");
    assert_eq!(second["lines"][2]["accrual"], "0");
    assert_eq!(second["lines"][3]["accrual"], "0");
    assert_eq!(second["tier_after"], "base");
    // Below the minimum bill to earn.
    let small = commit(
        &shop,
        id,
        "O-3",
        json!([labor("900")]),
        None,
        "2025-01-13T10:00:00Z",
    );
    assert_eq!(small["totals"]["accrual"], "0");
    assert_eq!(small["accrual_note"], "min_bill");
    // Gold after 20 000 in the window: labour 10%, part 4%.
    commit(
        &shop,
        id,
        "O-4",
        json!([part("5000")]),
        None,
        "2025-01-14T10:00:00Z",
    );
    let gold = commit(
        &shop,
        id,
        "O-5",
        json!([labor("1000"), part("1000")]),
        None,
        "2025-01-15T10:00:00Z",
    );
    assert_eq!(gold["tier"], "gold");
    assert_eq!(gold["lines"][0]["accrual"], "100");
    assert_eq!(gold["lines"][1]["accrual"], "40");
}

#[test]
fn redemption_is_allocated_pro_rata_to_the_kopeck() {
    let program = json!({ "timezone": "Europe/Moscow", "points": { "value": "1", "scale": 2 },
                          "accrual": { "rate_percent": "0" }, "redemption": { "cap_percent": "100" } });
    let shop = Shop::with_program("allocation", program);
    let id = shop.customer("Клиент", "+79160000000");
    adjust(&shop, id, "100.00", "2025-01-10T10:00:00Z");
    let lines = json!([labor("100.00"), labor("100.00"), labor("100.00")]);
    let receipt = commit(&shop, id, "O-1", lines, Some("100"), "2025-01-11T10:00:00Z");
    let points: Vec<Decimal> = receipt["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| dec(&l["points"]))
        .collect();
    assert_eq!(
        points,
        vec![
            Decimal::new(3334, 2),
            Decimal::new(3333, 2),
            Decimal::new(3333, 2)
        ]
    );
    let money: Vec<Decimal> = receipt["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| dec(&l["money"]))
        .collect();
    assert_eq!(money.iter().sum::<Decimal>(), Decimal::new(20000, 2));
    assert_eq!(receipt["balance"], "0.00");
}

#[test]
fn discounts_from_tier_agreement_and_cumulative_steps() {
    let shop = Shop::new("discounts");
    let fleet = shop.ok(
        "customer.register",
        json!({ "full_name": "ООО Такси", "kind": "corporate", "agreement": "taxi", "phone": "+74950000000" }),
    );
    let fleet_id = fleet["customer"]["id"].as_u64().unwrap();
    let driver = shop.ok(
        "customer.register",
        json!({ "full_name": "Водитель", "phone": "+79160000009", "company": { "id": fleet_id } }),
    );
    let driver_id = driver["customer"]["id"].as_u64().unwrap();
    let quote = shop.ok("checkout.quote", json!({ "customer": { "id": driver_id }, "lines": [labor("1000"), part("1000")], "redeem": "max" }));
    assert_eq!(quote["lines"][0]["discount"], "150.00");
    assert_eq!(quote["lines"][0]["discount_source"], "agreement");
    assert_eq!(quote["lines"][1]["discount"], "50.00");
    assert_eq!(
        quote["totals"]["accrual"], "0",
        "the agreement does not earn"
    );
    assert_eq!(quote["redemption"]["max"], "0");
    // Cumulative step at 50 000 lifetime spend gives 2%; the tier discount wins when higher.
    let id = shop.customer("Клиент", "+79160000000");
    commit(
        &shop,
        id,
        "O-1",
        json!([part("60000")]),
        None,
        "2025-01-11T10:00:00Z",
    );
    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [labor("1000")], "at": "2025-01-12T10:00:00Z" }),
    );
    assert_eq!(quote["lines"][0]["discount_percent"], "2");
    assert_eq!(quote["lines"][0]["discount_source"], "cumulative");
    commit(
        &shop,
        id,
        "O-2",
        json!([part("30000")]),
        None,
        "2025-01-13T10:00:00Z",
    );
    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [labor("1000")], "at": "2025-01-14T10:00:00Z" }),
    );
    assert_eq!(quote["tier"], "silver", "{quote}");
    assert_eq!(quote["lines"][0]["discount_percent"], "3");
    assert_eq!(quote["lines"][0]["discount_source"], "tier");
}

#[test]
fn checkout_rejections_change_nothing() {
    let shop = Shop::with_program("rejections", simple_program());
    let id = shop.customer("Клиент", "+79160000000");
    adjust(&shop, id, "100", "2025-01-10T10:00:00Z");
    let base = json!({ "customer": { "id": id }, "lines": [labor("1000")], "order_id": "O-1", "at": "2025-01-11T10:00:00Z" });
    let cases: Vec<(Value, ErrorCode)> = vec![
        (json!({ "lines": [] }), ErrorCode::InvalidArgument),
        (
            json!({ "lines": [{ "sku": "x", "name": "y", "kind": "fuel", "qty": "1", "unit_price": "1" }] }),
            ErrorCode::InvalidArgument,
        ),
        (
            json!({ "lines": [{ "sku": "x", "name": "y", "kind": "labor", "qty": "-1", "unit_price": "1" }] }),
            ErrorCode::InvalidArgument,
        ),
        (
            json!({ "lines": [{ "sku": "x", "name": "y", "kind": "labor", "qty": "1", "unit_price": "1.001" }] }),
            ErrorCode::InvalidArgument,
        ),
        (
            json!({ "lines": [{ "sku": "x", "name": "y", "kind": "labor", "qty": 1, "unit_price": "1" }] }),
            ErrorCode::InvalidArgument,
        ),
        (
            json!({ "lines": [{ "sku": "x", "name": "y", "kind": "labor", "qty": "1", "unit_price": "10", "discount": "11" }] }),
            ErrorCode::InvalidArgument,
        ),
        (
            json!({ "lines": vec![labor("1"); 101] }),
            ErrorCode::TooLarge,
        ),
        (json!({ "redeem": "101" }), ErrorCode::InsufficientPoints),
        (
            json!({ "redeem": "100", "lines": [labor("100")] }),
            ErrorCode::InvalidArgument,
        ),
        (json!({ "redeem": "-5" }), ErrorCode::InvalidArgument),
        (json!({ "redeem": "1.5" }), ErrorCode::InvalidArgument),
        (json!({ "customer": { "id": 999 } }), ErrorCode::NotFound),
        (json!({ "customer": {} }), ErrorCode::InvalidArgument),
        (json!({ "vehicle": { "id": 999 } }), ErrorCode::NotFound),
        (json!({ "mileage": 1000 }), ErrorCode::InvalidArgument),
        (json!({ "at": "yesterday" }), ErrorCode::InvalidArgument),
        (json!({ "extra": true }), ErrorCode::InvalidArgument),
    ];
    // Points granted on 2025-01-10 expire on 2026-01-10: after that nothing may be redeemed.
    let mut late = base.clone();
    late["at"] = json!("2026-01-11T10:00:00Z");
    late["redeem"] = json!("1");
    shop.err("checkout.commit", late, ErrorCode::InsufficientPoints);
    for (patch, code) in cases {
        let mut args = base.clone();
        for (key, value) in patch.as_object().unwrap() {
            args[key] = value.clone();
        }
        shop.err("checkout.commit", args, code);
    }
    assert_eq!(
        shop.balance_at(id, "2025-01-11T10:00:00Z")["available"],
        "100"
    );
    shop.err(
        "visit.get",
        json!({ "order_id": "O-1" }),
        ErrorCode::NotFound,
    );
    shop.ok(
        "customer.update",
        json!({ "customer": { "id": id }, "status": "blocked" }),
    );
    shop.err("checkout.commit", base, ErrorCode::Blocked);
    shop.assert_sound();
}

// ---------------------------------------------------------------- refunds

#[test]
fn refund_by_lines_reverses_exactly_and_never_exceeds_the_visit() {
    let shop = Shop::with_program("refund", simple_program());
    let id = shop.customer("Клиент", "+79160000000");
    adjust(&shop, id, "1000", "2025-01-10T10:00:00Z");
    let receipt = commit(
        &shop,
        id,
        "O-1",
        json!([labor("1000"), part("1000")]),
        Some("400"),
        "2025-01-11T10:00:00Z",
    );
    assert_eq!(receipt["lines"][0]["points"], "200");
    assert_eq!(receipt["totals"]["accrual"], "160");
    assert_eq!(receipt["balance"], "760");
    let refund = shop.ok(
        "checkout.refund",
        json!({ "order_id": "O-1", "lines": [{ "line": 1 }], "at": "2025-01-12T10:00:00Z" }),
    );
    assert_eq!(refund["refund"]["points_returned"], "200");
    assert_eq!(refund["refund"]["accrual_taken"], "80");
    assert_eq!(refund["refund"]["money"], "800.00");
    assert_eq!(refund["balance"], "880");
    shop.err(
        "checkout.refund",
        json!({ "order_id": "O-1", "lines": [{ "line": 1 }] }),
        ErrorCode::RefundExceedsVisit,
    );
    shop.err(
        "checkout.refund",
        json!({ "order_id": "O-1", "lines": [{ "line": 5 }] }),
        ErrorCode::InvalidArgument,
    );
    shop.err(
        "checkout.refund",
        json!({ "order_id": "O-404" }),
        ErrorCode::NotFound,
    );
    let rest = shop.ok(
        "checkout.refund",
        json!({ "order_id": "O-1", "at": "2025-01-12T11:00:00Z" }),
    );
    assert_eq!(rest["balance"], "1000", "back to where it started");
    shop.err(
        "checkout.refund",
        json!({ "order_id": "O-1" }),
        ErrorCode::RefundExceedsVisit,
    );
    let customer = shop.ok(
        "customer.get",
        json!({ "customer": { "id": id }, "at": "2025-01-12T12:00:00Z" }),
    );
    assert_eq!(customer["customer"]["visits"], 0);
    assert_eq!(customer["customer"]["total_spend"], "0.00");
    shop.assert_sound();
}

#[test]
fn partial_quantity_refunds_add_up_to_the_line() {
    let shop = Shop::with_program("partial", simple_program());
    let id = shop.customer("Клиент", "+79160000000");
    let tyres = json!([{ "sku": "T-1", "name": "Шина 205/55 R16", "kind": "goods", "qty": "3", "unit_price": "3333.33" }]);
    let receipt = commit(&shop, id, "O-1", tyres, None, "2025-01-11T10:00:00Z");
    assert_eq!(receipt["totals"]["accrual"], "999");
    let mut money = Decimal::ZERO;
    let mut taken = Decimal::ZERO;
    for at in [
        "2025-01-12T10:00:00Z",
        "2025-01-13T10:00:00Z",
        "2025-01-14T10:00:00Z",
    ] {
        let refund = shop.ok(
            "checkout.refund",
            json!({ "order_id": "O-1", "lines": [{ "line": 0, "qty": "1" }], "at": at }),
        );
        money += dec(&refund["refund"]["money"]);
        taken += dec(&refund["refund"]["accrual_taken"]);
    }
    assert_eq!(money, Decimal::new(999999, 2));
    assert_eq!(taken, Decimal::new(999, 0));
    assert_eq!(
        shop.balance_at(id, "2025-01-15T10:00:00Z")["available"],
        "0"
    );
}

#[test]
fn refund_of_spent_earned_points_deducts_their_value_from_the_money() {
    let shop = Shop::with_program("shortfall", simple_program());
    let id = shop.customer("Клиент", "+79160000000");
    commit(
        &shop,
        id,
        "O-1",
        json!([labor("1000")]),
        None,
        "2025-01-11T10:00:00Z",
    );
    commit(
        &shop,
        id,
        "O-2",
        json!([labor("1000")]),
        Some("100"),
        "2025-01-12T10:00:00Z",
    );
    let refund = shop.ok(
        "checkout.refund",
        json!({ "order_id": "O-1", "at": "2025-01-13T10:00:00Z" }),
    );
    // O-2 spent 100 of O-1's points but earned 90 of its own, so 90 are taken back and 10 settled in money.
    assert_eq!(refund["refund"]["accrual_taken"], "90");
    assert_eq!(refund["refund"]["shortfall_points"], "10");
    assert_eq!(refund["refund"]["money"], "990.00");
    assert_eq!(refund["balance"], "0");
    shop.assert_sound();
}
