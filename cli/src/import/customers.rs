//! Customers: `customer.register` for a new source id, `customer.update` of the fields a
//! corrected file changed for a known one.

use super::values::{DATE_FORMS, parse_date, parse_decimal, parse_moment, parse_yes_no};
use super::{Applied, Fields, Rejected, Row, invalid, refused};
use chrono::{NaiveTime, TimeZone};
use chrono_tz::Tz;
use pitstop_core::Engine;
use serde_json::{Map, Value, json};

pub const FIELDS: Fields = &[
    ("external_id", &["external_id", "id", "код", "код клиента"]),
    ("full_name", &["full_name", "name", "фио", "клиент"]),
    ("phone", &["phone", "телефон"]),
    ("email", &["email", "e-mail", "почта"]),
    ("birthday", &["birthday", "дата рождения", "день рождения"]),
    ("gender", &["gender", "пол"]),
    ("kind", &["kind"]),
    ("source", &["source", "источник"]),
    ("card", &["card", "карта", "номер карты"]),
    ("tags", &["tags", "метки"]),
    ("notes", &["notes", "комментарий", "примечание"]),
    (
        "total_spend",
        &["total_spend", "сумма покупок", "сумма продаж"],
    ),
    (
        "consent_sms",
        &["consent_sms", "согласие на sms", "согласие sms", "sms"],
    ),
    (
        "consent_email",
        &[
            "consent_email",
            "согласие на email",
            "согласие на e-mail",
            "согласие email",
        ],
    ),
    (
        "consent_call",
        &["consent_call", "согласие на звонки", "звонки"],
    ),
    (
        "consent_messenger",
        &[
            "consent_messenger",
            "согласие на мессенджеры",
            "мессенджеры",
        ],
    ),
    (
        "consent_push",
        &["consent_push", "согласие на push", "push"],
    ),
    ("consent_date", &["consent_date", "дата согласия"]),
    (
        "consent_source",
        &["consent_source", "источник согласия", "основание согласия"],
    ),
];

/// Consent columns and the contract's channel of each.
const CONSENTS: [(&str, &str); 5] = [
    ("consent_sms", "sms"),
    ("consent_email", "email"),
    ("consent_call", "call"),
    ("consent_messenger", "messenger"),
    ("consent_push", "push"),
];

/// The row as `customer.register` arguments (without the import's own keys).
fn arguments(row: &Row, tz: Tz) -> Result<Map<String, Value>, Rejected> {
    let mut args = Map::new();
    for (field, value) in &row.fields {
        let value = match *field {
            "external_id" | "total_spend" | "consent_date" | "consent_source" => continue,
            f if f.starts_with("consent_") => continue,
            "birthday" => json!(parse_date(value).ok_or_else(|| invalid(
                row,
                format!("birthday: {value:?} is not a date ({DATE_FORMS})")
            ))?),
            "tags" => json!(
                value
                    .split([',', ';', '|'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
            ),
            "gender" => json!(match value.to_lowercase().as_str() {
                "м" | "муж" | "мужской" | "m" | "male" => "male",
                "ж" | "жен" | "женский" | "f" | "female" => "female",
                other =>
                    return Err(invalid(
                        row,
                        format!("gender: {other:?} is not м/ж or male/female")
                    )),
            }),
            _ => json!(value),
        };
        args.insert(field.to_string(), value);
    }
    let mut consents = Map::new();
    for (column, channel) in CONSENTS {
        if let Some(text) = row.get(column) {
            let granted = parse_yes_no(text).ok_or_else(|| {
                invalid(
                    row,
                    format!("{column}: {text:?} is not да/нет (yes/no, 1/0)"),
                )
            })?;
            consents.insert(channel.into(), json!(granted));
        }
    }
    if !consents.is_empty() {
        args.insert("consents".into(), Value::Object(consents));
        let source = row.get("consent_source").unwrap_or("import");
        args.insert("consent_source".into(), json!(source));
        if let Some(text) = row.get("consent_date") {
            let (day, at) = parse_moment(text, tz).ok_or_else(|| {
                invalid(
                    row,
                    format!("consent_date: {text:?} is not a date ({DATE_FORMS})"),
                )
            })?;
            // A date alone: the consent held from the start of that day.
            let at = at.or_else(|| {
                tz.from_local_datetime(&day.and_time(NaiveTime::MIN))
                    .earliest()
                    .map(|t| t.with_timezone(&chrono::Utc))
            });
            if let Some(at) = at {
                args.insert("consents_at".into(), json!(at.to_rfc3339()));
            }
        }
    }
    Ok(args)
}

pub fn import(engine: &Engine, tz: Tz, row: &Row) -> Result<Applied, Rejected> {
    let Some(id) = row.get("external_id") else {
        return Err(invalid(row, "external_id: the source id is empty"));
    };
    let mut args = arguments(row, tz)?;
    let spend = match row.get("total_spend") {
        Some(text) => Some(parse_decimal(text).ok_or_else(|| {
            invalid(
                row,
                format!("total_spend: {text:?} is not an amount (like 125 400,50)"),
            )
        })?),
        None => None,
    };
    let existing = engine
        .execute("customer.get", json!({ "customer": { "external_id": id } }))
        .ok();
    if let Some(view) = existing {
        return correct(engine, row, id, &view["customer"], args, spend.as_deref());
    }
    if !args.contains_key("full_name") {
        return Err(invalid(row, "full_name: empty"));
    }
    if let Some(spend) = spend {
        args.insert("opening_spend".into(), json!(spend));
    }
    args.insert("external_id".into(), json!(id));
    // A migrated customer is not new: no welcome bonus, no registration plugins.
    args.insert("import".into(), json!(true));
    args.insert(
        "idempotency_key".into(),
        json!(format!("import:customers:{id}")),
    );
    engine
        .execute("customer.register", Value::Object(args))
        .map(|_| Applied::Added)
        .map_err(|e| refused(engine, row, e))
}

/// A customer already imported: the fields whose value in the file differs from the
/// store's are updated (an earlier import with the wrong encoding, a fixed phone).
fn correct(
    engine: &Engine,
    row: &Row,
    id: &str,
    stored: &Value,
    args: Map<String, Value>,
    spend: Option<&str>,
) -> Result<Applied, Rejected> {
    let mut update = Map::new();
    let mut changed = Vec::new();
    for (field, value) in &args {
        if differs(row, field, value, stored)? {
            changed.push(field.clone());
            update.insert(field.clone(), value.clone());
        }
    }
    if spend.is_some_and(|s| {
        let stored = stored["total_spend"].as_str().unwrap_or("0");
        s.parse::<rust_decimal::Decimal>().ok() != stored.parse().ok()
    }) && stored["visits"].as_u64() == Some(0)
    {
        return Err(invalid(
            row,
            "total_spend: differs from the lifetime spend imported before; it is set once, when the customer is first imported",
        ));
    }
    if changed.is_empty() {
        return Ok(Applied::Unchanged);
    }
    if update.contains_key("consents") {
        for key in ["consent_source", "consents_at"] {
            if let Some(value) = args.get(key) {
                update.insert(key.into(), value.clone());
            }
        }
    }
    update.insert("customer".into(), json!({ "external_id": id }));
    engine
        .execute("customer.update", Value::Object(update))
        .map(|_| Applied::Updated(changed))
        .map_err(|e| refused(engine, row, e))
}

/// Whether the file's value of one field differs from the store's. The card is not
/// corrected this way: a different one is the row's error.
fn differs(row: &Row, field: &str, value: &Value, stored: &Value) -> Result<bool, Rejected> {
    Ok(match field {
        "consents" => consents_differ(value, stored),
        // Not compared: they say where and when the consents were given, so they are
        // sent only along with changed consents.
        "consent_source" | "consents_at" => false,
        // The store keeps them normalised: compare what it would store.
        "phone" | "email" => !same_contact(stored[field].as_str(), value.as_str()),
        "card" => {
            if stored["card"] != *value {
                return Err(invalid(
                    row,
                    "card: the customer's card differs from the one imported before; change cards with card.issue",
                ));
            }
            false
        }
        "tags" => {
            let mut wanted: Vec<String> = value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_lowercase))
                .collect();
            wanted.sort();
            wanted.dedup();
            stored["tags"] != json!(wanted)
        }
        _ => stored[field] != *value,
    })
}

/// Whether any channel the file gives a consent for is absent from the store or
/// granted differently there.
fn consents_differ(value: &Value, stored: &Value) -> bool {
    value
        .as_object()
        .into_iter()
        .flatten()
        .any(|(ch, granted)| {
            let current = stored["consents"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["channel"] == json!(ch));
            current.is_none_or(|c| c["granted"] != *granted)
        })
}

/// Whether a stored phone or email is the one the file gives (the store normalises:
/// "8 (916) 123-45-67" is "+79161234567", emails are lower-cased).
fn same_contact(stored: Option<&str>, given: Option<&str>) -> bool {
    let digits = |s: &str| -> String {
        let d: String = s.chars().filter(char::is_ascii_digit).collect();
        match d.strip_prefix('8') {
            Some(rest) if d.len() == 11 => format!("7{rest}"),
            _ => d,
        }
    };
    match (stored, given) {
        (Some(a), Some(b)) if a.contains('@') => a.eq_ignore_ascii_case(b.trim()),
        (Some(a), Some(b)) => digits(a) == digits(b),
        (None, None) => true,
        _ => false,
    }
}
