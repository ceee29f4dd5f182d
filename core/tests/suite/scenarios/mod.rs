//! Scenario tests: every operation of the foundation through the public JSON
//! operations, with its rejection paths. One module per area: customers (with cards,
//! vehicles and the programme), checkout (with refunds), points (with the daily job,
//! garbage requests and reports).

mod checkout;
mod customers;
mod points;

use crate::common::Shop;
use serde_json::{Value, json};

pub(super) fn commit(
    shop: &Shop,
    customer: u64,
    order: &str,
    lines: Value,
    redeem: Option<&str>,
    at: &str,
) -> Value {
    let mut args =
        json!({ "customer": { "id": customer }, "lines": lines, "order_id": order, "at": at });
    if let Some(redeem) = redeem {
        args["redeem"] = json!(redeem);
    }
    shop.ok("checkout.commit", args)
}

pub(super) fn adjust(shop: &Shop, customer: u64, points: &str, at: &str) -> Value {
    shop.ok(
        "points.adjust",
        json!({ "customer": { "id": customer }, "points": points, "reason": "test", "operator": "admin", "at": at }),
    )
}
