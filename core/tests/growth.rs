//! Growth scenarios: the exclusive catalogue and tier benefits, referrals (rewards,
//! cashback, fraud cases, refunds), segments and campaigns, personal data export and
//! erasure. Every step goes through the public operations with explicit dates.

mod common;

use common::{Shop, labor};
use pitstop_core::{ErrorCode, Program};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn commit(shop: &Shop, customer: u64, order: &str, lines: Value, at: &str) -> Value {
    shop.ok(
        "checkout.commit",
        json!({ "customer": { "id": customer }, "lines": lines, "order_id": order, "at": at }),
    )
}

fn register(shop: &Shop, args: Value) -> u64 {
    shop.ok("customer.register", args)["customer"]["id"]
        .as_u64()
        .expect("id")
}

// ---------------------------------------------------------------- exclusive catalogue

/// The example programme's tiers (base, silver, gold, platinum) with an exclusive
/// catalogue: a Motul line from gold, a category from platinum.
fn tiered_program() -> Value {
    let mut program = Program::example();
    program["pending_days"] = json!(0);
    program["exclusive"] = json!([
        { "sku": "MOTUL-300V*", "min_tier": "gold" },
        { "category": "эксклюзив", "min_tier": "platinum" },
        { "sku": "CERAMIC-KIT", "category": "кузов", "min_tier": "silver" }
    ]);
    program
}

#[test]
fn exclusive_lines_are_refused_below_their_tier_and_priority_follows_the_tier() {
    let shop = Shop::with_program("exclusive", tiered_program());
    let id = shop.customer("Эксклюзивов Егор", "+79160001001");
    let motul = json!({ "sku": "motul-300v-5w40", "name": "Motul 300V", "kind": "goods",
        "qty": "4", "unit_price": "2500" });
    let exclusive_cat = json!({ "sku": "X-1", "name": "Брызговики", "kind": "part",
        "category": "Эксклюзив", "qty": "1", "unit_price": "9000" });
    // Base customer: both exclusive lines refused, each named with the tier it needs.
    let err = shop.err(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [labor("1000"), motul.clone(), exclusive_cat.clone()],
                "at": "2025-02-01T10:00:00Z" }),
        ErrorCode::TierRequired,
    );
    let lines = err.details["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{}", err.details);
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[0]["min_tier"], "gold");
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["min_tier"], "platinum");
    assert!(err.message.contains("line 1"), "{}", err.message);
    // The rule with both sku and category needs both to match.
    let ceramic_other = json!({ "sku": "CERAMIC-KIT", "name": "Керамика", "kind": "labor",
        "category": "салон", "qty": "1", "unit_price": "5000" });
    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [ceramic_other], "at": "2025-02-01T10:00:00Z" }),
    );
    assert_eq!(quote["priority_service"], false);
    // Commit is refused the same way and changes nothing.
    shop.err(
        "checkout.commit",
        json!({ "customer": { "id": id }, "lines": [motul.clone()], "order_id": "EX-0",
                "at": "2025-02-01T10:00:00Z" }),
        ErrorCode::TierRequired,
    );
    shop.err(
        "visit.get",
        json!({ "order_id": "EX-0" }),
        ErrorCode::NotFound,
    );
    // Reach gold (80 000 and 4 visits in the window): Motul is sold, priority shows.
    for (n, day) in ["03", "04", "05", "06"].iter().enumerate() {
        commit(
            &shop,
            id,
            &format!("EX-{}", n + 1),
            json!([labor("25000")]),
            &format!("2025-02-{day}T10:00:00Z"),
        );
    }
    let view = shop.ok("customer.get", json!({ "customer": { "id": id } }));
    assert_eq!(view["customer"]["tier"], "gold");
    let quote = shop.ok(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [motul.clone()], "at": "2025-02-07T10:00:00Z" }),
    );
    assert_eq!(quote["priority_service"], true);
    assert!(
        quote["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"] == "priority_service")
    );
    // Platinum lines stay refused for gold.
    let err = shop.err(
        "checkout.quote",
        json!({ "customer": { "id": id }, "lines": [motul, exclusive_cat],
                "at": "2025-02-07T10:00:00Z" }),
        ErrorCode::TierRequired,
    );
    assert_eq!(err.details["lines"].as_array().unwrap().len(), 1);
    assert_eq!(err.details["tier"], "gold");
    shop.assert_sound();
}

#[test]
fn exclusive_rules_are_validated() {
    let mut program = tiered_program();
    program["exclusive"] = json!([{ "sku": "A*B", "min_tier": "diamond" }, { "min_tier": "gold" }]);
    let shop = Shop::new("exclusive-invalid");
    let err = shop.err(
        "program.set",
        json!({ "program": program }),
        ErrorCode::InvalidProgram,
    );
    assert_eq!(err.details["problems"].as_array().unwrap().len(), 3, "{}", err.details);
}
