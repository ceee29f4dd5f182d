//! What the audit tests share: operators, `report.changes` every page, a record's
//! changes as tuples, a balance at an instant.

use super::{Shop, dec};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub const PETROVA: &str = "Кассир Петрова";
pub const SOKOLOV: &str = "Управляющий Соколов";
pub const KIM: &str = "Администратор Ким";

/// Every record of `report.changes` for `args`, following the pages.
pub fn all_changes(shop: &Shop, mut args: Value, limit: usize) -> Vec<Value> {
    args["limit"] = json!(limit);
    let mut records = Vec::new();
    loop {
        let page = shop.ok("report.changes", args.clone());
        let got = page["records"].as_array().expect("records").clone();
        assert!(got.len() <= limit, "a page longer than its limit: {page}");
        records.extend(got);
        match page["next_after"].as_str() {
            Some(cursor) => args["after"] = json!(cursor),
            None => return records,
        }
    }
}

pub fn year(shop: &Shop) -> Vec<Value> {
    all_changes(
        shop,
        json!({ "from": "2025-01-01", "to": "2025-12-31" }),
        1000,
    )
}

/// The changes of one record with `entity` as (id, field, before, after).
pub fn fields(
    record: &Value,
    entity: &str,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    record["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["entity"] == entity)
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["field"].as_str().unwrap().to_string(),
                c["before"].as_str().map(str::to_string),
                c["after"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// A customer's balance at an instant (the test's dates are long past: as of now the
/// points would have expired).
pub fn total(shop: &Shop, customer: u64, at: &str) -> Decimal {
    dec(&shop.ok(
        "points.balance",
        json!({ "customer": { "id": customer }, "at": at }),
    )["total"])
}
