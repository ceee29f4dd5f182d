//! The bugs users of other loyalty systems report most, each as a named test, plus
//! concurrency and idempotency with real threads.

use crate::common;

use common::{Shop, dec, labor, part, simple_program};
use pitstop_core::ErrorCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::sync::{Arc, Barrier};
use std::thread;

fn commit_args(customer: u64, order: &str, lines: Value, at: &str) -> Value {
    json!({ "customer": { "id": customer }, "lines": lines, "order_id": order, "at": at })
}

#[test]
fn points_accrued_twice_when_the_pos_retries_or_syncs_twice() {
    let shop = Shop::with_program("retry", simple_program());
    let id = shop.customer("Клиент", "+79160000000");
    let mut args = commit_args(
        id,
        "ORDER-1",
        json!([labor("1000")]),
        "2025-01-11T10:00:00Z",
    );
    args["idempotency_key"] = json!("pos-17-ORDER-1");
    let first = shop.ok("checkout.commit", args.clone());
    for _ in 0..100 {
        assert_eq!(shop.ok("checkout.commit", args.clone()), first);
    }
    // The same order synced again under another key is refused, naming the visit.
    let mut resync = args.clone();
    resync["idempotency_key"] = json!("sync-ORDER-1");
    let err = shop.err("checkout.commit", resync, ErrorCode::AlreadyExists);
    assert_eq!(err.details["visit"], first["visit"]);
    // The same key with other arguments is a conflict, not a silent replay.
    let mut changed = args.clone();
    changed["lines"] = json!([labor("2000")]);
    shop.err("checkout.commit", changed, ErrorCode::IdempotencyConflict);
    assert_eq!(shop.balance_at(id, "2025-01-12T10:00:00Z")["total"], "100");
    let statement = shop.ok("points.statement", json!({ "customer": { "id": id } }));
    assert_eq!(statement["entries"].as_array().unwrap().len(), 1);
}

#[test]
fn the_same_commit_retried_concurrently_is_applied_once() {
    let shop = Arc::new(Shop::with_program("retry-threads", simple_program()));
    let id = shop.customer("Клиент", "+79160000000");
    let mut args = commit_args(
        id,
        "ORDER-9",
        json!([labor("1000")]),
        "2025-01-11T10:00:00Z",
    );
    args["idempotency_key"] = json!("key-9");
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let shop = Arc::clone(&shop);
            let args = args.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                (0..13)
                    .map(|_| shop.ok("checkout.commit", args.clone())["visit"].clone())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let visits: Vec<Value> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(visits.len(), 104);
    assert!(visits.iter().all(|v| *v == visits[0]));
    assert_eq!(shop.balance_at(id, "2025-01-12T10:00:00Z")["total"], "100");
}

#[test]
fn a_refund_neither_keeps_the_earned_points_nor_charges_spent_points_again() {
    let shop = Shop::with_program("refund-bug", simple_program());
    let id = shop.customer("Клиент", "+79160000000");
    shop.ok(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "500", "reason": "gift", "operator": "admin", "at": "2025-01-10T10:00:00Z" }),
    );
    let mut args = commit_args(id, "O-1", json!([labor("1000")]), "2025-01-11T10:00:00Z");
    args["redeem"] = json!("300");
    let receipt = shop.ok("checkout.commit", args);
    assert_eq!(receipt["balance"], "270", "500 - 300 + 10% of 700");
    let refund = shop.ok(
        "checkout.refund",
        json!({ "order_id": "O-1", "at": "2025-01-12T10:00:00Z" }),
    );
    assert_eq!(
        refund["refund"]["points_returned"], "300",
        "the spent points come back"
    );
    assert_eq!(
        refund["refund"]["accrual_taken"], "70",
        "the earned points go"
    );
    assert_eq!(
        refund["refund"]["money"], "700.00",
        "only the money part is paid back"
    );
    assert_eq!(refund["balance"], "500");
    shop.assert_sound();
}

#[test]
fn no_float_residue_in_points_or_money() {
    let program = json!({ "timezone": "Europe/Moscow", "points": { "value": "1", "scale": 2 },
                          "accrual": { "rate_percent": "10" } });
    let shop = Shop::with_program("float", program);
    let id = shop.customer("Клиент", "+79160000000");
    let lines = json!([{ "sku": "OIL", "name": "Масло 5W-40", "kind": "goods", "qty": "4.5", "unit_price": "596.18" }]);
    let receipt = shop.ok(
        "checkout.commit",
        commit_args(id, "O-1", lines, "2025-01-11T10:00:00Z"),
    );
    assert_eq!(receipt["lines"][0]["gross"], "2682.81");
    assert_eq!(receipt["totals"]["accrual"], "268.28");
    assert_eq!(receipt["balance"], "268.28");
    let text = serde_json::to_string(&receipt).unwrap();
    assert!(
        !text.contains("0000000"),
        "no binary-float residue anywhere: {text}"
    );
}

#[test]
fn expiry_is_neither_a_day_early_nor_late_around_midnight_in_the_programme_timezone() {
    let shop = Shop::with_program("midnight", simple_program());
    let id = shop.customer("Клиент", "+79160000000");
    // 2025-03-15 02:30 in Moscow is still 2025-03-14 23:30 UTC: the lot is dated by the local day.
    shop.ok(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "100", "reason": "gift", "operator": "admin", "at": "2025-03-14T23:30:00Z" }),
    );
    let balance = shop.balance_at(id, "2025-03-15T09:00:00Z");
    assert_eq!(balance["next_expiries"][0]["date"], "2026-03-15");
    assert_eq!(
        shop.balance_at(id, "2026-03-15T20:59:59Z")["available"],
        "100",
        "23:59:59 in Moscow on the last day"
    );
    assert_eq!(
        shop.balance_at(id, "2026-03-15T21:00:00Z")["available"],
        "0",
        "00:00 in Moscow the day after"
    );
    assert_eq!(
        shop.ok("jobs.daily", json!({ "date": "2026-03-15" }))["points_expired"],
        "0"
    );
    assert_eq!(
        shop.ok("jobs.daily", json!({ "date": "2026-03-16" }))["points_expired"],
        "100"
    );
}

#[test]
fn two_concurrent_redemptions_cannot_spend_the_same_points() {
    let shop = Arc::new(Shop::with_program("double-spend", simple_program()));
    for round in 0..10 {
        let id = shop.customer(&format!("Клиент {round}"), &format!("+7916000{round:04}"));
        shop.ok(
            "points.adjust",
            json!({ "customer": { "id": id }, "points": "100", "reason": "gift", "operator": "admin", "at": "2025-01-10T10:00:00Z" }),
        );
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|cashier| {
                let shop = Arc::clone(&shop);
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    let mut args = commit_args(
                        id,
                        &format!("R{round}-{cashier}"),
                        json!([labor("1000")]),
                        "2025-01-11T10:00:00Z",
                    );
                    args["redeem"] = json!("100");
                    barrier.wait();
                    shop.engine().execute("checkout.commit", args)
                })
            })
            .collect();
        // Spawn both before joining either: they must race.
        let outcomes: Vec<Result<Value, pitstop_core::Error>> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        let successes = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(successes, 1, "{outcomes:?}");
        let failure = outcomes.iter().find_map(|o| o.as_ref().err()).unwrap();
        assert_eq!(failure.code, ErrorCode::InsufficientPoints);
    }
    shop.assert_sound();
}

#[test]
fn the_tier_is_reevaluated_after_a_return() {
    let shop = Shop::new("tier-return");
    let id = shop.customer("Клиент", "+79160000000");
    shop.ok(
        "checkout.commit",
        commit_args(id, "O-1", json!([part("20000")]), "2025-02-01T10:00:00Z"),
    );
    let second = shop.ok(
        "checkout.commit",
        commit_args(id, "O-2", json!([part("15000")]), "2025-02-02T10:00:00Z"),
    );
    assert_eq!(second["tier_after"], "silver");
    let refund = shop.ok(
        "checkout.refund",
        json!({ "order_id": "O-2", "at": "2025-02-03T10:00:00Z" }),
    );
    assert_eq!(refund["tier_before"], "silver");
    assert_eq!(refund["tier_after"], "base");
    let customer = shop.ok(
        "customer.get",
        json!({ "customer": { "id": id }, "at": "2025-02-03T11:00:00Z" }),
    );
    assert_eq!(customer["customer"]["tier"], "base");
}

#[test]
fn a_tier_falls_when_its_visits_leave_the_window() {
    let shop = Shop::new("tier-window");
    let id = shop.customer("Клиент", "+79160000000");
    shop.ok(
        "checkout.commit",
        commit_args(id, "O-1", json!([part("20000")]), "2025-02-01T10:00:00Z"),
    );
    shop.ok(
        "checkout.commit",
        commit_args(id, "O-2", json!([part("15000")]), "2025-02-02T10:00:00Z"),
    );
    let kept = shop.ok("jobs.daily", json!({ "date": "2026-01-31" }));
    assert_eq!(kept["tiers_changed"], 0);
    let fell = shop.ok("jobs.daily", json!({ "date": "2026-02-01" }));
    assert_eq!(fell["tiers_changed"], 1, "{fell}");
    let customer = shop.ok(
        "customer.get",
        json!({ "customer": { "id": id }, "at": "2026-02-01T10:00:00Z" }),
    );
    assert_eq!(customer["customer"]["tier"], "base");
}

#[test]
fn a_second_card_for_the_same_customer_is_refused_and_never_splits_the_customer() {
    let shop = Shop::with_program("second-card", simple_program());
    let first = shop.ok(
        "customer.register",
        json!({ "full_name": "Клиент", "phone": "+79160000000", "card": "5000001" }),
    );
    let id = first["customer"]["id"].as_u64().unwrap();
    let err = shop.err(
        "card.issue",
        json!({ "customer": { "id": id }, "number": "5000002" }),
        ErrorCode::AlreadyExists,
    );
    assert_eq!(err.details["value"], "5000001");
    // The cashier who tries to register the same person with a new card is sent to the existing one.
    let err = shop.err(
        "customer.register",
        json!({ "full_name": "Клиент", "phone": "8-916-000-00-00", "card": "5000002" }),
        ErrorCode::AlreadyExists,
    );
    assert_eq!(err.details["customer"], id);
    let replaced = shop.ok(
        "card.issue",
        json!({ "customer": { "phone": "+79160000000" }, "number": "5000002", "replace": true }),
    );
    assert_eq!(replaced["customer"]["card"], "5000002");
    let err = shop.err(
        "customer.get",
        json!({ "customer": { "card": "5000001" } }),
        ErrorCode::Blocked,
    );
    assert_eq!(err.details["replaced_by"], "5000002");
    let found = shop.ok("customer.find", json!({ "query": "клиент" }));
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
}

#[test]
fn eight_cashiers_on_overlapping_customers_balance_to_their_receipts() {
    let shop = Arc::new(Shop::with_program("concurrency", simple_program()));
    let customers: Vec<u64> = (0..4)
        .map(|i| shop.customer(&format!("Клиент {i}"), &format!("+7916100{i:04}")))
        .collect();
    for id in &customers {
        shop.ok(
            "points.adjust",
            json!({ "customer": { "id": id }, "points": "1000", "reason": "start", "operator": "admin", "at": "2025-01-10T10:00:00Z" }),
        );
    }
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|cashier| {
            let shop = Arc::clone(&shop);
            let customers = customers.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                let mut receipts = Vec::new();
                for n in 0..25 {
                    let customer = customers[(cashier + n) % customers.len()];
                    let mut args = commit_args(
                        customer,
                        &format!("C{cashier}-{n}"),
                        json!([labor("500"), part("300")]),
                        "2025-01-11T10:00:00Z",
                    );
                    if n % 3 == 0 {
                        args["redeem"] = json!("max");
                    }
                    receipts.push(shop.ok("checkout.commit", args));
                }
                receipts
            })
        })
        .collect();
    let receipts: Vec<Value> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(receipts.len(), 200);
    for id in &customers {
        let mine = receipts.iter().filter(|r| r["customer"] == *id);
        let change: Decimal = mine
            .map(|r| dec(&r["totals"]["accrual"]) - dec(&r["totals"]["points"]))
            .sum();
        let balance = shop.balance_at(*id, "2025-01-11T12:00:00Z");
        assert_eq!(
            dec(&balance["total"]),
            Decimal::new(1000, 0) + change,
            "customer {id}"
        );
    }
    shop.assert_sound();
}

/// A scheduler that retries the daily job gets the first run's report back, not an
/// empty "nothing to do" one, and the same key for another date is refused.
#[test]
fn daily_job_retried_with_its_key_returns_the_first_report() {
    let shop = Shop::new("daily-retry");
    shop.ok(
        "customer.register",
        json!({ "full_name": "Клиент", "phone": "+79160000000", "at": "2025-01-10T10:00:00Z" }),
    );
    let args = json!({ "date": "2025-04-11", "idempotency_key": "cron-2025-04-11" });
    let first = shop.ok("jobs.daily", args.clone());
    assert_eq!(first["points_expired"], "300");
    let engine = shop.engine();
    let retries: Vec<Value> = thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| engine.execute("jobs.daily", args.clone()).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for retry in retries {
        assert_eq!(retry, first);
    }
    let without_key = shop.ok("jobs.daily", json!({ "date": "2025-04-11" }));
    assert_eq!(without_key["points_expired"], "0");
    shop.err(
        "jobs.daily",
        json!({ "date": "2025-04-12", "idempotency_key": "cron-2025-04-11" }),
        ErrorCode::IdempotencyConflict,
    );
    shop.assert_sound();
}

/// Visit A earns 100 points (their last day is 2026-01-10); visit B on 2025-06-01
/// redeems `redeem` of them on a labour bill of `bill`. Returns the customer.
fn earn_then_spend(shop: &Shop, phone: &str, tag: &str, bill: &str, redeem: &str) -> u64 {
    let id = shop.customer("Клиент", phone);
    shop.ok(
        "checkout.commit",
        commit_args(
            id,
            &format!("A-{tag}"),
            json!([labor("500"), labor("500")]),
            "2025-01-10T10:00:00Z",
        ),
    );
    let mut spend = commit_args(
        id,
        &format!("B-{tag}"),
        json!([labor(bill)]),
        "2025-06-01T10:00:00Z",
    );
    spend["redeem"] = json!(redeem);
    let receipt = shop.ok("checkout.commit", spend);
    assert_eq!(receipt["totals"]["points"], redeem);
    id
}

fn refund_figures(refund: &Value) -> [&Value; 5] {
    let r = &refund["refund"];
    [
        &r["money"],
        &r["accrual_taken"],
        &r["shortfall_points"],
        &r["shortfall_money"],
        &r["accrual_expired"],
    ]
}

#[test]
fn spent_points_are_charged_back_when_the_refund_comes_after_their_lot_date() {
    let shop = Shop::with_program("refund-late", simple_program());
    // B spends all 100 on a bill of 200 and earns 10 of its own.
    let late = earn_then_spend(&shop, "+79160000001", "late", "200", "100");
    let on_time = earn_then_spend(&shop, "+79160000002", "on-time", "200", "100");
    // 23:00 in Moscow on the lot's last day, and ten days after it.
    let before = shop.ok(
        "checkout.refund",
        json!({ "order_id": "A-on-time", "at": "2026-01-10T20:00:00Z" }),
    );
    let after = shop.ok(
        "checkout.refund",
        json!({ "order_id": "A-late", "at": "2026-01-20T10:00:00Z" }),
    );
    // None of A's points expired: they were spent. The refund takes the 10 the
    // customer has and deducts 90 points' worth from the money, whenever it comes.
    assert_eq!(
        refund_figures(&after),
        [
            &json!("910.00"),
            &json!("10"),
            &json!("90"),
            &json!("90.00"),
            &json!("0")
        ],
        "{after}"
    );
    assert_eq!(refund_figures(&after), refund_figures(&before));
    for id in [late, on_time] {
        assert_eq!(shop.balance_at(id, "2026-01-21T10:00:00Z")["total"], "0");
    }
    assert_eq!(shop.ok("report.points", json!({}))["expired"], "0");
    shop.assert_sound();
}

#[test]
fn only_the_points_that_burned_unused_go_uncharged_and_the_report_agrees() {
    // The burn happens at the refund (no daily job) or before it (daily job): the same.
    for daily in [false, true] {
        let shop = Shop::with_program("refund-partly-burned", simple_program());
        // B spends 40 on a bill of 400 and earns 36; 60 of A's 100 burn after 2026-01-10.
        let id = earn_then_spend(&shop, "+79160000003", "x", "400", "40");
        if daily {
            let burned = shop.ok("jobs.daily", json!({ "date": "2026-01-11" }));
            assert_eq!(burned["points_expired"], "60");
        }
        // Refund A's first line (50 points earned): the unused points go first, as
        // they would from the lot before its date, so all 50 are uncharged.
        let first = shop.ok(
            "checkout.refund",
            json!({ "order_id": "A-x", "lines": [{ "line": 0 }], "at": "2026-01-20T10:00:00Z" }),
        );
        assert_eq!(
            refund_figures(&first),
            [
                &json!("500.00"),
                &json!("0"),
                &json!("0"),
                &json!("0.00"),
                &json!("50")
            ],
            "{first}"
        );
        // The second line: 10 more burned unused, 40 were spent: 36 taken, 4 charged.
        let second = shop.ok(
            "checkout.refund",
            json!({ "order_id": "A-x", "at": "2026-01-21T10:00:00Z" }),
        );
        assert_eq!(
            refund_figures(&second),
            [
                &json!("496.00"),
                &json!("36"),
                &json!("4"),
                &json!("4.00"),
                &json!("10")
            ],
            "{second}"
        );
        let report = shop.ok("report.points", json!({}));
        assert_eq!(report["expired"], "60", "{report}");
        assert_eq!(shop.balance_at(id, "2026-01-22T10:00:00Z")["total"], "0");
        shop.assert_sound();
    }
}

#[test]
fn the_redemption_cap_is_never_exceeded_by_rounding() {
    let program = json!({ "timezone": "Europe/Moscow", "accrual": { "rate_percent": "10" },
                          "redemption": { "cap_percent": "30" } });
    let shop = Shop::with_program("cap", program);
    let id = shop.customer("Клиент", "+79160000000");
    shop.ok(
        "points.adjust",
        json!({ "customer": { "id": id }, "points": "1000", "reason": "gift", "operator": "admin", "at": "2025-01-10T10:00:00Z" }),
    );
    let mut args = commit_args(
        id,
        "CAP-1",
        json!([labor("666.66")]),
        "2025-01-11T10:00:00Z",
    );
    args["redeem"] = json!("max");
    let quote = shop.ok("checkout.quote", args.clone());
    // 30 % of 666.66 is 199.998: 200 points (200.00) would be 30.0006 %.
    assert_eq!(quote["redemption"]["max"], "199", "{quote}");
    let mut over = args.clone();
    over["redeem"] = json!("200");
    shop.err("checkout.quote", over, ErrorCode::InvalidArgument);
    let receipt = shop.ok("checkout.commit", args);
    assert_eq!(receipt["totals"]["points_money"], "199.00");
}

#[test]
fn next_expiries_never_show_a_date_already_past() {
    let shop = Shop::with_program("next-expiries", simple_program());
    let id = shop.customer("Клиент", "+79160000000");
    for (n, day) in ["11", "12", "13", "14", "15", "16", "17"]
        .iter()
        .enumerate()
    {
        shop.ok(
            "points.adjust",
            json!({ "customer": { "id": id }, "points": "10", "reason": format!("gift {n}"), "operator": "admin",
                    "at": format!("2025-01-{day}T10:00:00Z") }),
        );
    }
    let balance = shop.balance_at(id, "2025-02-01T10:00:00Z");
    let dates: Vec<&str> = balance["next_expiries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["date"].as_str().unwrap())
        .collect();
    // Seven dates, five listed (the documented limit), soonest first.
    assert_eq!(
        dates,
        [
            "2026-01-11",
            "2026-01-12",
            "2026-01-13",
            "2026-01-14",
            "2026-01-15"
        ]
    );
    // A hold taken at 23:50 on the first lot's last day keeps those points past it.
    shop.ok(
        "points.hold",
        json!({ "customer": { "id": id }, "points": "10", "ttl_minutes": 60, "at": "2026-01-11T20:50:00Z" }),
    );
    let balance = shop.balance_at(id, "2026-01-11T21:10:00Z");
    assert_eq!(balance["held"], "10", "{balance}");
    assert_eq!(
        balance["next_expiries"][0]["date"], "2026-01-12",
        "a past date is not a next expiry: {balance}"
    );
}

#[test]
fn errors_name_the_order_and_the_customer_as_the_caller_did() {
    let shop = Shop::with_program("caller-terms", simple_program());
    let id = shop.customer("Клиент", "+79160000000");
    let other = shop.customer("Другой", "+79160000001");
    shop.ok(
        "vehicle.add",
        json!({ "customer": { "id": other }, "plate": "А123ВС77", "make": "Lada", "model": "Vesta" }),
    );
    // Visit ids and order numbers differ: visit 1 is another order.
    shop.ok(
        "checkout.commit",
        commit_args(other, "ЗН-1", json!([labor("100")]), "2025-01-11T10:00:00Z"),
    );
    let args = commit_args(id, "ЗН-123", json!([labor("1000")]), "2025-01-11T10:00:00Z");
    shop.ok("checkout.commit", args.clone());
    let err = shop.err(
        "checkout.refund",
        json!({ "order_id": "ЗН-123", "lines": [{ "line": 3 }] }),
        ErrorCode::InvalidArgument,
    );
    assert!(
        err.message.contains("order ЗН-123 has no line 3"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("visit"), "{}", err.message);
    let again = shop.err("checkout.commit", args, ErrorCode::AlreadyExists);
    assert!(!again.message.contains("visit"), "{}", again.message);
    let by_phone = json!({ "customer": { "phone": "+7 916 000-00-00" }, "lines": [labor("1000")],
                           "order_id": "ЗН-124", "redeem": "1000", "at": "2025-01-12T10:00:00Z" });
    let poor = shop.err("checkout.commit", by_phone, ErrorCode::InsufficientPoints);
    assert!(
        poor.message
            .contains("customer with phone +7 916 000-00-00"),
        "{}",
        poor.message
    );
    let foreign_car = json!({ "customer": { "phone": "+79160000000" }, "vehicle": { "plate": "А123ВС77" },
                              "lines": [labor("1000")], "order_id": "ЗН-125" });
    let wrong = shop.err("checkout.commit", foreign_car, ErrorCode::InvalidArgument);
    assert!(
        wrong.message.contains("vehicle with plate А123ВС77")
            && wrong.message.contains("customer with phone +79160000000"),
        "{}",
        wrong.message
    );
}

/// The cashier's notes are Russian texts: their numbers are written the Russian way and
/// their counts take the right form («29 000,00 ₽ и 1 визит», not «29000.00 ₽ и 1
/// визит(а)»), while the amounts in the result stay canonical decimals.
#[test]
fn cashier_notes_write_numbers_and_counts_in_the_programmes_language() {
    let shop = Shop::with_program(
        "notes-language",
        serde_json::to_value(pitstop_core::Program::example()).unwrap(),
    );
    let id = shop.customer("Кузнецова Мария", "+79161234001");
    shop.ok(
        "recommendation.add",
        json!({ "customer": { "id": id }, "work": "Замена ремня ГРМ", "price": "12345.50" }),
    );
    // One visit of 1,000 places her at the base tier, 29,000 and one visit short of silver.
    shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": id }, "lines": [labor("1000")], "order_id": "ЗН-1" }),
    );
    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [labor("1000")] }),
    );
    let text = |kind: &str| -> String {
        quote["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["kind"] == kind)
            .map(|m| m["text"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {kind} note in {quote}"))
    };
    assert_eq!(
        text("tier_progress"),
        "До уровня Серебро осталось: 29\u{a0}000,00 ₽ и 1 визит"
    );
    assert!(
        text("recommendation").contains("(≈12\u{a0}345,50)"),
        "{}",
        text("recommendation")
    );
    assert_eq!(quote["totals"]["net"], "1000.00", "{quote}");
}
