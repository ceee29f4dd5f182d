//! `pitstop report`: the owner's reports (activity, points, complaints, referrals, a
//! campaign) as tables in the shop's language, or JSON.

use crate::args::{Filters, ReportCommand};
use crate::card::find_customer;
use crate::locale::{Locale, Msg};
use crate::output::{pairs, table};
use crate::{Failure, Outcome, engage, human_cell, open_existing, print_value};
use pitstop_core::{Engine, ErrorCode};
use serde_json::{Value, json};
use std::path::Path;

/// The monthly activity report as an aligned table, months first, in the shop's
/// language.
pub fn activity_table(result: &Value, locale: &Locale) -> String {
    let rows = result["months"]
        .as_array()
        .or_else(|| result["rows"].as_array())
        .cloned()
        .unwrap_or_default();
    let headers: Vec<String> = rows
        .first()
        .and_then(|r| r.as_object())
        .map(|o| {
            let mut keys: Vec<String> = o.keys().cloned().collect();
            keys.sort_by_key(|k| k != "month");
            keys
        })
        .unwrap_or_default();
    let header_refs: Vec<&str> = headers.iter().map(|h| locale.field(h)).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            headers
                .iter()
                .map(|h| human_cell(h, &r[h], locale))
                .collect()
        })
        .collect();
    table(&header_refs, &cells)
}

// One short arm per report, as long as the list of reports; the reports that print
// more than a table have functions of their own below.
pub fn run(path: &Path, report: ReportCommand, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let locale = Locale::of(&engine);
    match report {
        ReportCommand::Activity { from, to } => {
            activity(&engine, json!({ "from": from, "to": to }), json, &locale)?
        }
        ReportCommand::Points => {
            let result = engine.execute("report.points", json!({}))?;
            print_value(&result, json, &locale);
        }
        ReportCommand::Complaints { from, to } => {
            let result = engine.execute("report.complaints", json!({ "from": from, "to": to }))?;
            if json {
                println!("{result}");
            } else {
                print!("{}", engage::complaints_text(&result, &locale));
            }
        }
        ReportCommand::Referrals { referrer } => {
            let referrer = match referrer {
                None => None,
                Some(query) => Some(one_customer(&engine, &query)?),
            };
            let result = engage::referrals_all(&engine, referrer)?;
            if json {
                println!("{result}");
            } else {
                print!("{}", engage::referrals_text(&result, &locale));
            }
        }
        ReportCommand::Dashboard {
            html,
            from,
            to,
            branch,
            date,
        } => {
            // Noon UTC is the same local day from UTC−12 to UTC+11.
            let at = date.map(|d| format!("{d}T12:00:00Z"));
            let args = json!({ "from": from, "to": to, "branch": branch, "at": at });
            dashboard(&engine, args, &html, json, &locale)?
        }
        ReportCommand::Customers(f) => owner(&engine, "report.customers", &f, json, &locale)?,
        ReportCommand::Pareto(f) => owner(&engine, "report.pareto", &f, json, &locale)?,
        ReportCommand::Lapsed(f) => owner(&engine, "report.lapsed", &f, json, &locale)?,
        ReportCommand::Tiers(f) => owner(&engine, "report.tiers", &f, json, &locale)?,
        ReportCommand::Cohorts(f) => owner(&engine, "report.cohorts", &f, json, &locale)?,
        ReportCommand::Birthdays(f) => owner(&engine, "report.birthdays", &f, json, &locale)?,
        ReportCommand::Sources(f) => owner(&engine, "report.sources", &f, json, &locale)?,
        ReportCommand::PointsMonthly(f) => {
            owner(&engine, "report.points_monthly", &f, json, &locale)?
        }
        ReportCommand::Services(f) => owner(&engine, "report.services", &f, json, &locale)?,
        ReportCommand::Changes {
            from,
            to,
            operator,
            customer,
        } => {
            let args =
                json!({ "from": from, "to": to, "operator": operator, "customer": customer });
            changes(&engine, args, json, &locale)?
        }
        ReportCommand::Completeness { top, registered_by } => {
            crate::catalog::completeness(&engine, top, registered_by, json, &locale)?
        }
        ReportCommand::Campaign { campaign } => {
            let result = campaign_report(&engine, &campaign)?;
            if json {
                println!("{result}");
            } else {
                print!("{}", engage::campaign_text(&result, &locale));
            }
        }
    }
    Ok(0)
}

/// `report.activity`: the table by month, then the period's total.
fn activity(engine: &Engine, args: Value, json: bool, locale: &Locale) -> Result<(), Failure> {
    let result = engine.execute("report.activity", args)?;
    if json {
        println!("{result}");
        return Ok(());
    }
    print!("{}", activity_table(&result, locale));
    if let Some(total) = result.get("total").filter(|t| t.is_object()) {
        println!();
        print_value(total, false, locale);
    }
    Ok(())
}

/// The dashboard written to `html`, and where and how large it is.
fn dashboard(
    engine: &Engine,
    args: Value,
    html: &Path,
    json: bool,
    locale: &Locale,
) -> Result<(), Failure> {
    let written = write_dashboard(engine, args, html)?;
    if json {
        println!("{}", json!({ "file": html, "bytes": written }));
    } else {
        let file = html.display().to_string();
        let kib = written.div_ceil(1024).to_string();
        let args = [("file", file.as_str()), ("kib", kib.as_str())];
        println!("{}", locale.fill(Msg::DashboardWritten, &args));
    }
    Ok(())
}

/// `report.changes`, every page, as one list.
fn changes(engine: &Engine, args: Value, json: bool, locale: &Locale) -> Result<(), Failure> {
    let records = changes_all(engine, args)?;
    if json {
        println!("{}", json!({ "records": records }));
    } else {
        print!("{}", changes_table(&records, locale));
    }
    Ok(())
}

/// `report.dashboard` with `args` (nulls left out) written to `file`; returns its size
/// in bytes.
pub fn write_dashboard(engine: &Engine, args: Value, file: &Path) -> Result<u64, Failure> {
    let args: serde_json::Map<String, Value> = match args {
        Value::Object(map) => map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => serde_json::Map::new(),
    };
    let result = engine.execute("report.dashboard", Value::Object(args))?;
    let html = result["html"]
        .as_str()
        .ok_or_else(|| Failure::new(ErrorCode::Internal, "report.dashboard returned no HTML"))?;
    std::fs::write(file, html).map_err(|err| {
        Failure::new(
            ErrorCode::Io,
            format!("cannot write {}: {err}", file.display()),
        )
    })?;
    Ok(html.len() as u64)
}

/// The one customer `query` names, as a reference (`{"id": ...}`): none or several is a
/// failure.
fn one_customer(engine: &Engine, query: &str) -> Result<Value, Failure> {
    let found = find_customer(engine, query)?;
    match found.as_slice() {
        [one] => Ok(json!({ "id": one["id"] })),
        [] => Err(Failure::new(
            ErrorCode::NotFound,
            format!("no customer matches {query:?}"),
        )),
        many => Err(Failure::new(
            ErrorCode::InvalidArgument,
            format!("{} customers match {query:?}; narrow the query", many.len()),
        )),
    }
}

/// `campaign.report` of the campaign the user typed: digits are its id (or, when no
/// campaign has that id, a campaign named so), anything else its name.
fn campaign_report(engine: &Engine, campaign: &str) -> Result<Value, Failure> {
    let by_name = || engine.execute("campaign.report", json!({ "name": campaign }));
    match campaign.trim().parse::<u64>() {
        Ok(id) => match engine.execute("campaign.report", json!({ "campaign": id })) {
            Err(err) if err.code == ErrorCode::NotFound => {
                by_name().map_err(|_| Failure::from(err))
            }
            other => other.map_err(Failure::from),
        },
        Err(_) => by_name().map_err(Failure::from),
    }
}

/// One of the owner's reports (`report.customers` … `report.services`): JSON, or its
/// summary figures as a key/value block followed by each list as a table.
fn owner(
    engine: &Engine,
    op: &str,
    filters: &Filters,
    json: bool,
    locale: &Locale,
) -> Result<(), Failure> {
    let mut args = json!({ "from": filters.from, "to": filters.to });
    for (key, value) in [
        ("branch", filters.branch.clone().map(Value::from)),
        ("segment", filters.segment.clone().map(Value::from)),
        ("top", filters.top.map(Value::from)),
    ] {
        if let Some(value) = value {
            args[key] = value;
        }
    }
    let result = engine.execute(op, args)?;
    if json {
        println!("{result}");
    } else {
        print!("{}", owner_text(&result, locale));
    }
    Ok(())
}

/// A report result for a person: scalars first, then objects and lists, each titled.
pub fn owner_text(result: &Value, locale: &Locale) -> String {
    let Some(map) = result.as_object() else {
        return format!("{result}\n");
    };
    let mut scalars: Vec<(&str, String)> = ordered(map)
        .into_iter()
        .filter(|(_, v)| !v.is_array() && !v.is_object())
        .map(|(k, v)| (locale.field(k), owner_cell(k, v, locale)))
        .collect();
    if let Some(note) = scalars.iter_mut().find(|(k, _)| *k == locale.field("note")) {
        note.1 = locale.t(Msg::TiersNote).to_string();
    }
    // The lapsed rule in the shop's language, with the factor the core used.
    if let (Some(factor), Some(rule)) = (
        map.get("factor"),
        scalars.iter_mut().find(|(k, _)| *k == locale.field("rule")),
    ) {
        rule.1 = locale.fill(Msg::LapsedRule, &[("factor", &locale.num(factor))]);
    }
    let mut out = pairs(&scalars);
    for (key, value) in ordered(map) {
        if let Some(object) = value.as_object() {
            let items: Vec<(&str, String)> = ordered(object)
                .into_iter()
                .map(|(k, v)| (locale.field(k), owner_cell(k, v, locale)))
                .collect();
            out.push_str(&format!("\n{}\n{}", locale.field(key), pairs(&items)));
        } else if let Some(rows) = value.as_array() {
            out.push_str(&format!("\n{}\n", locale.field(key)));
            if rows.is_empty() {
                out.push_str(&format!("{}\n", locale.field("no_rows")));
            } else {
                out.push_str(&rows_table(rows, locale));
            }
        }
    }
    out
}

/// The order of fields in the owner's tables and blocks (JSON objects come sorted by
/// name): who or what first, then counts, money, dates; anything else after.
const COLUMNS: &[&str] = &[
    "from",
    "to",
    "month",
    "cohort",
    "rank",
    "date",
    "customer",
    "name",
    "service",
    "source",
    "phone",
    "email",
    "birthday",
    "age",
    "tier",
    "from_tier",
    "to_tier",
    "direction",
    "reason",
    "moves",
    "kind",
    "rule",
    "size",
    "new_customers",
    "customers",
    "visits",
    "lines",
    "qty",
    "valuable",
    "lapsed",
    "core_customers",
    "core_customer_share",
    "target_share",
    "revenue",
    "core_revenue",
    "lapsed_revenue",
    "revenue_per_customer",
    "cumulative_share",
    "opening",
    "issued",
    "redeemed",
    "expired",
    "adjusted",
    "outstanding",
    "liability",
    "recency",
    "frequency",
    "money",
    "rfm",
    "last_visit",
    "days_since",
    "usual_interval_days",
    "repeats",
    "repeat_customers",
    "median_interval_days",
    "reminder_months",
    "reminder_km",
    "consents",
    "blacklisted",
    "reachable",
    "up",
    "down",
];

/// A JSON object's fields in [`COLUMNS`] order.
fn ordered(map: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut fields: Vec<(&String, &Value)> = map.iter().collect();
    fields.sort_by_key(|(k, _)| COLUMNS.iter().position(|c| c == k).unwrap_or(COLUMNS.len()));
    fields
}

/// Rows of objects as a table; a list of numbers in a row (a cohort's percentages)
/// becomes one column per position, `retained` (the same as counts) is left to JSON.
fn rows_table(rows: &[Value], locale: &Locale) -> String {
    let mut headers: Vec<String> = Vec::new();
    let mut spread = 0usize;
    let rank = |key: &str| {
        COLUMNS
            .iter()
            .position(|c| *c == key)
            .unwrap_or(COLUMNS.len())
    };
    for row in rows.iter().filter_map(Value::as_object) {
        for (key, value) in row {
            if key == "retained" {
                continue;
            }
            if let Some(items) = value.as_array() {
                spread = spread.max(items.len());
            } else if !headers.contains(key) {
                headers.push(key.clone());
            }
        }
    }
    headers.sort_by_key(|h| rank(h));
    // A tier's name is shown in its `tier` column already; a service's `name` is the
    // service's, not a customer's.
    if headers.iter().any(|h| h == "tier") {
        headers.retain(|h| h != "name");
    }
    let thing = headers.iter().any(|h| h == "service");
    let mut labels: Vec<String> = headers
        .iter()
        .map(|h| match h.as_str() {
            "name" if thing => locale.field("title").to_string(),
            other => locale.field(other).to_string(),
        })
        .collect();
    labels.extend((0..spread).map(|k| format!("+{k}")));
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let mut line: Vec<String> = headers
                .iter()
                .map(|h| owner_cell(h, &row[h], locale))
                .collect();
            let spread_values = row
                .as_object()
                .and_then(|o| o.iter().find(|(k, v)| *k != "retained" && v.is_array()))
                .and_then(|(_, v)| v.as_array().cloned())
                .unwrap_or_default();
            line.extend((0..spread).map(|k| {
                spread_values
                    .get(k)
                    .map_or_else(String::new, |v| locale.num(v))
            }));
            line
        })
        .collect();
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    table(&label_refs, &cells)
}

/// One value of a report for a person: tiers by name, codes by their names, consent
/// as the channels that may be used, yes/no, dates and numbers in the shop's format.
fn owner_cell(key: &str, value: &Value, locale: &Locale) -> String {
    match value {
        Value::Bool(yes) => locale.yes_no(*yes).to_string(),
        Value::Null if key == "source" => locale.field("no_source").to_string(),
        Value::Null if key.ends_with("tier") => locale.field("no_tier").to_string(),
        Value::Object(channels) => locale.value(&Value::Array(
            channels
                .iter()
                .filter(|(_, v)| v.as_bool() == Some(true))
                .map(|(k, _)| Value::from(k.as_str()))
                .collect(),
        )),
        _ if matches!(key, "tier" | "from_tier" | "to_tier") => locale.tier(value),
        _ if matches!(key, "direction" | "reason" | "kind") => locale.value(value),
        _ if matches!(
            key,
            "customer" | "phone" | "rfm" | "service" | "name" | "note" | "rule" | "source"
        ) =>
        {
            crate::output::cell(value)
        }
        _ if matches!(key, "birthday" | "last_visit" | "cohort") => locale.date_of(value),
        _ => human_cell(key, value, locale),
    }
}

/// Every record of `report.changes` for `args` (nulls left out), following the pages.
fn changes_all(engine: &Engine, args: Value) -> Result<Vec<Value>, Failure> {
    let mut args: serde_json::Map<String, Value> = match args {
        Value::Object(map) => map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => serde_json::Map::new(),
    };
    args.insert("limit".into(), json!(1000));
    let mut records = Vec::new();
    loop {
        let page = engine.execute("report.changes", Value::Object(args.clone()))?;
        records.extend(page["records"].as_array().cloned().unwrap_or_default());
        match page["next_after"].as_str() {
            Some(cursor) => {
                args.insert("after".into(), json!(cursor));
            }
            None => return Ok(records),
        }
    }
}

/// The audit records as a table: one row per changed field, the record's instant,
/// operation, operator and customer on its first row only.
pub fn changes_table(records: &[Value], locale: &Locale) -> String {
    let headers = [
        "at", "op", "operator", "customer", "entity", "id", "field", "before", "after",
    ];
    let header_refs: Vec<&str> = headers.iter().map(|h| locale.field(h)).collect();
    let text = |value: &Value| match value {
        Value::Null => "—".to_string(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut cells = Vec::new();
    for record in records {
        let head = [
            text(&record["at"]),
            text(&record["op"]),
            text(&record["operator"]),
            text(&record["customer"]),
        ];
        for (i, change) in record["changes"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let mut row: Vec<String> = if i == 0 {
                head.to_vec()
            } else {
                vec![String::new(); head.len()]
            };
            for field in ["entity", "id", "field", "before", "after"] {
                row.push(text(&change[field]));
            }
            cells.push(row);
        }
    }
    table(&header_refs, &cells)
}
