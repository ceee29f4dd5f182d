//! Visit history: one row per line, grouped into visits by order id and loaded through
//! `visit.import`.

use super::values::{DATE_FORMS, parse_decimal, parse_moment, parse_whole};
use super::{Fields, Rejected, Row, Tally, invalid, source_terms};
use crate::Failure;
use chrono_tz::Tz;
use pitstop_core::{Engine, ErrorCode};
use serde_json::{Map, Value, json};

pub const FIELDS: Fields = &[
    (
        "order_id",
        &[
            "order_id",
            "order",
            "заказ-наряд",
            "номер заказ-наряда",
            "номер заказа",
            "документ",
        ],
    ),
    (
        "customer",
        &["customer", "customer_id", "код клиента", "клиент"],
    ),
    ("date", &["date", "дата", "дата документа"]),
    ("vin", &["vin"]),
    ("plate", &["plate", "госномер", "гос. номер"]),
    ("mileage", &["mileage", "пробег"]),
    ("branch", &["branch", "филиал", "подразделение"]),
    (
        "advisor",
        &["advisor", "мастер", "мастер-приёмщик", "менеджер"],
    ),
    ("sku", &["sku", "артикул", "код товара", "код работы"]),
    ("name", &["name", "наименование", "номенклатура"]),
    ("kind", &["kind", "тип", "вид"]),
    ("category", &["category", "категория", "группа"]),
    ("qty", &["qty", "quantity", "количество", "кол-во"]),
    ("unit_price", &["unit_price", "price", "цена"]),
    ("discount", &["discount", "скидка"]),
    ("amount", &["amount", "sum", "сумма"]),
];

/// Visits per `visit.import` call: large enough to amortise a call, small enough that
/// the request stays well under the engine's 1 MiB request limit for typical visits.
pub const VISITS_PER_CALL: usize = 500;

/// A visit being assembled from its rows.
struct Group {
    order_id: String,
    rows: Vec<u64>,
    visit: Map<String, Value>,
    lines: Vec<Value>,
    /// The first bad row and why.
    error: Option<Rejected>,
}

fn parse_kind(text: &str) -> Option<&'static str> {
    Some(match text.to_lowercase().as_str() {
        "labor" | "labour" | "работа" | "работы" | "услуга" | "услуги" => {
            "labor"
        }
        "part" | "parts" | "запчасть" | "запчасти" | "деталь" => "part",
        "goods" | "товар" | "товары" | "материал" | "материалы" => {
            "goods"
        }
        _ => return None,
    })
}

/// The line of one row, or why the row is unusable.
fn visit_line(row: &Row) -> Result<Value, Rejected> {
    use rust_decimal::Decimal;
    let fields = &row.fields;
    let invalid = |message: String| invalid(row, message);
    let number = |field: &str| -> Result<Option<Decimal>, Rejected> {
        match fields.get(field) {
            None => Ok(None),
            Some(text) => parse_decimal(text)
                .and_then(|d| d.parse::<Decimal>().ok())
                .map(Some)
                .ok_or_else(|| invalid(format!("{field}: {text:?} is not a number"))),
        }
    };
    let name = fields
        .get("name")
        .ok_or_else(|| invalid("name: empty".into()))?;
    let kind_text = fields
        .get("kind")
        .ok_or_else(|| invalid("kind: empty (labor/part/goods or работа/запчасть/товар)".into()))?;
    let kind = parse_kind(kind_text).ok_or_else(|| {
        invalid(format!(
            "kind: {kind_text:?} is not labor/part/goods (работа/запчасть/товар)"
        ))
    })?;
    let qty = number("qty")?.unwrap_or(Decimal::ONE);
    let amount = number("amount")?;
    let price = match (number("unit_price")?, amount) {
        (Some(price), _) => price,
        (None, Some(amount)) if !qty.is_zero() => (amount / qty).round_dp(2),
        _ => {
            return Err(invalid(
                "unit_price: empty (give a price or an amount)".into(),
            ));
        }
    };
    let discount = match (number("discount")?, amount) {
        (Some(discount), _) => Some(discount),
        // Price × quantity above the amount paid: the source's discount.
        (None, Some(amount)) if (price * qty).round_dp(2) > amount => {
            Some((price * qty).round_dp(2) - amount)
        }
        _ => None,
    };
    let sku = fields
        .get("sku")
        .cloned()
        .unwrap_or_else(|| name.chars().take(64).collect());
    let mut value = json!({
        "sku": sku, "name": name, "kind": kind,
        "qty": qty.normalize().to_string(), "unit_price": price.normalize().to_string(),
    });
    if let Some(category) = fields.get("category") {
        value["category"] = json!(category);
    }
    if let Some(discount) = discount.filter(|d| !d.is_zero()) {
        value["discount"] = json!(discount.normalize().to_string());
    }
    Ok(value)
}

/// The visit-level fields of a row (the first row of an order that has them wins).
fn visit_fields(row: &Row, tz: Tz, visit: &mut Map<String, Value>) -> Result<(), Rejected> {
    let fields = &row.fields;
    let invalid = |message: String| invalid(row, message);
    if !visit.contains_key("customer")
        && let Some(customer) = fields.get("customer")
    {
        visit.insert("customer".into(), json!({ "external_id": customer }));
    }
    if !visit.contains_key("date")
        && !visit.contains_key("at")
        && let Some(text) = fields.get("date")
    {
        // "21.10.2024 14:35:00" as 1C writes it: the programme's local time, kept.
        let (day, at) = parse_moment(text, tz)
            .ok_or_else(|| invalid(format!("date: {text:?} is not a date ({DATE_FORMS})")))?;
        match at {
            Some(at) => visit.insert("at".into(), json!(at.to_rfc3339())),
            None => visit.insert("date".into(), json!(day.to_string())),
        };
    }
    if !visit.contains_key("vehicle") {
        // Both when the file has both: the core recognises the car by either and gives a
        // car known by its plate the VIN.
        let mut vehicle = Map::new();
        for key in ["vin", "plate"] {
            if let Some(value) = fields.get(key) {
                vehicle.insert(key.into(), json!(value));
            }
        }
        if !vehicle.is_empty() {
            visit.insert("vehicle".into(), Value::Object(vehicle));
        }
    }
    if !visit.contains_key("mileage")
        && let Some(text) = fields.get("mileage")
    {
        let km = parse_whole(text)
            .ok_or_else(|| invalid(format!("mileage: {text:?} is not a whole number")))?;
        visit.insert("mileage".into(), json!(km));
    }
    for key in ["branch", "advisor"] {
        if !visit.contains_key(key)
            && let Some(value) = fields.get(key)
        {
            visit.insert(key.into(), json!(value));
        }
    }
    Ok(())
}

/// Group rows into visits by order id and load them `VISITS_PER_CALL` at a time.
pub fn import(
    engine: &Engine,
    tz: Tz,
    rows: Vec<Row>,
    tally: &mut Tally,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<(), Failure> {
    let groups = group_by_order(rows, tz, tally, progress);
    tally.visits = groups.len() as u64;
    let ready = complete_visits(groups, tally, progress);
    for batch in ready.chunks(VISITS_PER_CALL) {
        load_batch(engine, batch, tally)?;
        if let Some(bar) = progress {
            bar.inc(batch.iter().map(|g| g.rows.len() as u64).sum());
        }
    }
    Ok(())
}

/// The rows gathered into visits by order id, in the order each order first appears; a
/// row without an order id is rejected on its own.
fn group_by_order(
    rows: Vec<Row>,
    tz: Tz,
    tally: &mut Tally,
    progress: Option<&indicatif::ProgressBar>,
) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_order: std::collections::HashMap<String, usize> = Default::default();
    for row in rows {
        let Some(order_id) = row.get("order_id").map(str::to_string) else {
            tally
                .rejected
                .push(invalid(&row, "order_id: the source order id is empty"));
            if let Some(bar) = progress {
                bar.inc(1);
            }
            continue;
        };
        let index = *by_order.entry(order_id.clone()).or_insert_with(|| {
            let mut visit = Map::new();
            visit.insert("order_id".into(), json!(order_id));
            groups.push(Group {
                order_id: order_id.clone(),
                rows: Vec::new(),
                visit,
                lines: Vec::new(),
                error: None,
            });
            groups.len() - 1
        });
        let group = &mut groups[index];
        group.rows.push(row.line);
        if group.error.is_some() {
            continue;
        }
        let parsed = visit_fields(&row, tz, &mut group.visit).and_then(|()| visit_line(&row));
        match parsed {
            Ok(value) => group.lines.push(value),
            Err(rejection) => group.error = Some(rejection),
        }
    }
    groups
}

/// The visits ready to load, their lines in place; a visit with a bad row, or without a
/// customer or a date, is rejected whole.
fn complete_visits(
    groups: Vec<Group>,
    tally: &mut Tally,
    progress: Option<&indicatif::ProgressBar>,
) -> Vec<Group> {
    let mut ready: Vec<Group> = Vec::new();
    for mut group in groups {
        let rejected = if let Some(error) = group.error.take() {
            reject_for_row(tally, &group, &error);
            true
        } else if let Some(reason) = missing_field(&group) {
            reject_group(tally, &group, ErrorCode::InvalidArgument.as_str(), reason);
            true
        } else {
            false
        };
        if rejected {
            if let Some(bar) = progress {
                bar.inc(group.rows.len() as u64);
            }
            continue;
        }
        let lines = std::mem::take(&mut group.lines);
        group.visit.insert("lines".into(), Value::Array(lines));
        ready.push(group);
    }
    ready
}

/// Why a visit cannot be loaded though each of its rows could: no customer, or no date.
fn missing_field(group: &Group) -> Option<&'static str> {
    let dated = group.visit.contains_key("date") || group.visit.contains_key("at");
    if !group.visit.contains_key("customer") {
        Some("customer: the customer's source id is empty")
    } else if !dated {
        Some("date: empty")
    } else {
        None
    }
}

/// A visit rejected for one bad row: that row with its own reason, the others naming it.
fn reject_for_row(tally: &mut Tally, group: &Group, error: &Rejected) {
    let sibling = format!(
        "order {}: rejected with its row {} ({})",
        group.order_id, error.row, error.reason
    );
    tally.rejected_visits += 1;
    for row in &group.rows {
        let reason = if *row == error.row {
            &error.reason
        } else {
            &sibling
        };
        tally
            .rejected
            .push(group_reject(*row, &group.order_id, &error.code, reason));
    }
}

/// A visit rejected whole: every row of it with the same reason.
fn reject_group(tally: &mut Tally, group: &Group, code: &str, reason: &str) {
    tally.rejected_visits += 1;
    for row in &group.rows {
        tally
            .rejected
            .push(group_reject(*row, &group.order_id, code, reason));
    }
}

/// One `visit.import` call: the visits it added or already had counted, the ones it
/// refused rejected with all their rows.
fn load_batch(engine: &Engine, batch: &[Group], tally: &mut Tally) -> Result<(), Failure> {
    let visits: Vec<Value> = batch
        .iter()
        .map(|g| Value::Object(g.visit.clone()))
        .collect();
    let result = engine.execute(
        "visit.import",
        json!({ "visits": visits, "skip_invalid": true }),
    )?;
    tally.added += result["imported"].as_u64().unwrap_or(0);
    tally.unchanged += result["already_present"]
        .as_array()
        .map_or(0, |a| a.len() as u64);
    for rejection in result["rejected"].as_array().into_iter().flatten() {
        let Some(group) = rejection["index"]
            .as_u64()
            .and_then(|i| batch.get(i as usize))
        else {
            continue;
        };
        let code = rejection["code"]
            .as_str()
            .unwrap_or(ErrorCode::InvalidArgument.as_str());
        let message = rejection["message"].as_str().unwrap_or("");
        reject_group(
            tally,
            group,
            code,
            &format!(
                "order {}: {}",
                group.order_id,
                source_terms(engine, message)
            ),
        );
    }
    Ok(())
}

fn group_reject(row: u64, order_id: &str, code: &str, reason: &str) -> Rejected {
    Rejected {
        row,
        id: order_id.to_string(),
        code: code.to_string(),
        reason: reason.to_string(),
    }
}
