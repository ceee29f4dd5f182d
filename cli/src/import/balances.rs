//! Opening balances: one dated lot per customer (`points.adjust`).

use super::values::{DATE_FORMS, parse_date, parse_decimal, parse_moment};
use super::{Applied, Fields, Rejected, Row, error_to_rejection, invalid, refused};
use chrono::NaiveDate;
use chrono_tz::Tz;
use pitstop_core::Engine;
use serde_json::{Value, json};

pub const FIELDS: Fields = &[
    (
        "external_id",
        &["external_id", "customer", "id", "код", "код клиента"],
    ),
    (
        "points",
        &["points", "balance", "баллы", "остаток", "баланс", "бонусы"],
    ),
    ("date", &["date", "дата", "дата остатка"]),
    (
        "expires",
        &["expires", "expires_on", "сгорают", "срок действия"],
    ),
];

/// The reason written on an imported opening balance: also how a re-run recognises it.
fn balance_reason(id: &str) -> String {
    format!("opening balance (import {id})")
}

/// Whether an earlier run entered this customer's opening balance.
fn already_entered(engine: &Engine, row: &Row, id: &str) -> Result<bool, Rejected> {
    let reason = balance_reason(id);
    let mut before: Option<Value> = None;
    loop {
        let mut args = json!({ "customer": { "external_id": id }, "limit": 100 });
        if let Some(cursor) = &before {
            args["before"] = cursor.clone();
        }
        let page = engine
            .execute("points.statement", args)
            .map_err(|e| error_to_rejection(row, e))?;
        let entries = page["entries"].as_array().cloned().unwrap_or_default();
        if entries.iter().any(|e| e["reason"] == json!(reason)) {
            return Ok(true);
        }
        match page.get("next_before") {
            Some(next) if !next.is_null() && !entries.is_empty() => before = Some(next.clone()),
            _ => return Ok(false),
        }
    }
}

pub fn import(engine: &Engine, tz: Tz, row: &Row) -> Result<Applied, Rejected> {
    let Some(id) = row.get("external_id") else {
        return Err(invalid(
            row,
            "external_id: the customer's source id is empty",
        ));
    };
    let Some(text) = row.get("points") else {
        return Err(invalid(row, "points: empty"));
    };
    let points = parse_decimal(text)
        .ok_or_else(|| invalid(row, format!("points: {text:?} is not a number")))?;
    // A balance below zero is a fault in the old system, not a debt to carry over: as
    // a debit it would take points the customer earned since.
    if points.starts_with('-') && points.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        return Err(invalid(
            row,
            format!("points: the opening balance {text} is negative; correct it in the source"),
        ));
    }
    let moment =
        match row.get("date") {
            Some(text) => Some(parse_moment(text, tz).ok_or_else(|| {
                invalid(row, format!("date: {text:?} is not a date ({DATE_FORMS})"))
            })?),
            None => None,
        };
    if already_entered(engine, row, id)? {
        return Ok(Applied::Unchanged);
    }
    let mut args = json!({
        "customer": { "external_id": id },
        "points": points,
        "reason": balance_reason(id),
        "operator": "import",
        "idempotency_key": format!("import:balances:{id}"),
    });
    if let Some((day, at)) = moment {
        // A date alone is taken at noon, which is the same day in every Russian zone.
        let at = at.unwrap_or_else(|| day.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc());
        args["at"] = json!(at.to_rfc3339());
    }
    if let Some(text) = row.get("expires") {
        args["expiry_days"] = json!(expiry_days(row, text, moment.map(|(day, _)| day), tz)?);
    }
    engine
        .execute("points.adjust", args)
        .map(|_| Applied::Added)
        .map_err(|e| refused(engine, row, e))
}

/// The days from the balance's date (`day`; today without one) to the row's expiry
/// date `text`, which must come after it.
fn expiry_days(row: &Row, text: &str, day: Option<NaiveDate>, tz: Tz) -> Result<i64, Rejected> {
    let expires = parse_date(text)
        .and_then(|e| NaiveDate::parse_from_str(&e, "%Y-%m-%d").ok())
        .ok_or_else(|| {
            invalid(
                row,
                format!("expires: {text:?} is not a date ({DATE_FORMS})"),
            )
        })?;
    // Without a date the balance is entered today, and the core counts `expiry_days`
    // from the programme's local day, not UTC's (which is still yesterday in Moscow
    // until 03:00): the days must be counted from the same day.
    let from = day.unwrap_or_else(|| chrono::Utc::now().with_timezone(&tz).date_naive());
    let days = (expires - from).num_days();
    if days <= 0 {
        return Err(invalid(
            row,
            format!("expires: {text:?} is not after the balance date"),
        ));
    }
    Ok(days)
}
