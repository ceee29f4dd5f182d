//! `pitstop reminders PATH`: the day's reminders, every page of `reminders.due`, as a
//! table, CSV for an SMS gateway or JSON.

use crate::locale::{Locale, Msg, Noun};
use crate::output::{bold, cell, colour_stdout, table};
use crate::{Failure, Outcome, open_existing};
use clap::ValueEnum;
use pitstop_core::{Engine, ErrorCode};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;

/// Page size asked of `reminders.due` (its maximum).
const DUE_PAGE: usize = 500;
/// Most pages read for one day: a bound on the loop (2.5 million reminders).
const DUE_PAGES_MAX: usize = 5_000;

/// How `pitstop reminders` prints the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned table for a person, with counts by kind.
    Table,
    /// CSV for an SMS gateway or a spreadsheet: one row per reminder.
    Csv,
    /// JSON: `{date, items}`.
    Json,
}

/// Which reminders to list.
#[derive(Default)]
pub struct Filter {
    /// Local date YYYY-MM-DD (default: today in the programme's timezone).
    pub date: Option<String>,
    /// Kinds (`service_due`, `birthday`, ...); all when empty.
    pub kinds: Vec<String>,
    /// Only customers who agreed to this channel.
    pub channel: Option<String>,
    /// Only this customer's (a customer reference object, e.g. `{"id": 7}`).
    pub customer: Option<Value>,
}

/// Every reminder due on the filter's date, all pages: `(date, items)`.
pub fn due_all(engine: &Engine, filter: &Filter) -> Result<(Value, Vec<Value>), Failure> {
    let mut args = json!({ "limit": DUE_PAGE });
    if let Some(date) = &filter.date {
        args["date"] = json!(date);
    }
    if !filter.kinds.is_empty() {
        args["kinds"] = json!(filter.kinds);
    }
    if let Some(channel) = &filter.channel {
        args["channel"] = json!(channel);
    }
    if let Some(customer) = &filter.customer {
        args["customer"] = customer.clone();
    }
    let mut items = Vec::new();
    let mut date = Value::Null;
    for _ in 0..DUE_PAGES_MAX {
        let page = engine.execute("reminders.due", args.clone())?;
        date = page["date"].clone();
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        // A page may come back short (or empty) with a cursor: the op bounds the index
        // entries it examines per call, so only a null cursor ends the day.
        if page["next"].is_null() {
            return Ok((date, items));
        }
        args["after"] = page["next"].clone();
    }
    Err(Failure::new(
        ErrorCode::TooLarge,
        format!(
            "more than {DUE_PAGES_MAX} pages of reminders for {}; narrow with --kind",
            cell(&date)
        ),
    ))
}

/// Reminders counted by kind, in the order they came (the op's kind order).
pub fn by_kind(items: &[Value]) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for item in items {
        let kind = cell(&item["kind"]);
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind, 1)),
        }
    }
    counts
}

/// The reminders as an aligned table: id, kind, customer, phone, car, due date, text.
pub fn reminders_table(items: &[Value], locale: &Locale) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|r| {
            vec![
                cell(&r["id"]),
                locale.value(&r["kind"]),
                cell(&r["customer_name"]),
                cell(&r["phone"]),
                cell(&r["plate"]),
                locale.date_of(&r["due_on"]),
                cell(&r["text"]),
            ]
        })
        .collect();
    table(
        &[
            "id",
            locale.t(Msg::ReminderKind),
            locale.t(Msg::Customer),
            locale.t(Msg::Phone),
            locale.t(Msg::Car),
            locale.t(Msg::Due),
            locale.t(Msg::Text),
        ],
        &rows,
    )
}

/// Columns of the CSV (`id` first: the gateway's report comes back on it).
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "kind",
    "customer",
    "customer_name",
    "phone",
    "email",
    "plate",
    "due_on",
    "channels",
    "failed_attempts",
    "text",
];

fn io(err: impl std::fmt::Display) -> Failure {
    Failure::new(ErrorCode::Io, format!("cannot write: {err}"))
}

/// Write the reminders as CSV (UTF-8, comma separated, quoted as needed).
pub fn write_csv(items: &[Value], out: impl Write) -> Result<(), Failure> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(CSV_COLUMNS).map_err(io)?;
    for item in items {
        let record: Vec<String> = CSV_COLUMNS
            .iter()
            .map(|column| match *column {
                // One token per channel, space separated: simple for a gateway to split.
                "channels" => item["channels"]
                    .as_array()
                    .map(|list| list.iter().map(cell).collect::<Vec<_>>().join(" "))
                    .unwrap_or_default(),
                other => cell(&item[other]),
            })
            .collect();
        writer.write_record(&record).map_err(io)?;
    }
    writer.flush().map_err(io)
}

/// `pitstop reminders PATH`: the day's list in the chosen format.
pub fn list(path: &Path, filter: &Filter, format: Format, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let (date, items) = due_all(&engine, filter)?;
    let format = if json { Format::Json } else { format };
    match format {
        Format::Json => println!("{}", json!({ "date": date, "items": items })),
        Format::Csv => write_csv(&items, std::io::stdout().lock())?,
        Format::Table => print!("{}", list_text(&date, &items, &Locale::of(&engine))),
    }
    Ok(0)
}

/// The day's reminders for a person: how many, by kind, and the table.
pub fn list_text(date: &Value, items: &[Value], locale: &Locale) -> String {
    let counts = by_kind(items);
    let summary: Vec<String> = counts
        .iter()
        .map(|(k, n)| format!("{} {n}", locale.value(&json!(k))))
        .collect();
    let count = locale.count(items.len() as u64, Noun::Reminder);
    let head = locale.fill(
        Msg::DueOn,
        &[("count", &count), ("date", &locale.date_of(date))],
    );
    let mut out = format!("{}\n", bold(&head, colour_stdout()));
    if !summary.is_empty() {
        out.push_str(&summary.join(", "));
        out.push('\n');
    }
    if !items.is_empty() {
        out.push('\n');
        out.push_str(&reminders_table(items, locale));
    }
    out
}

/// The reminders of one customer due on `date` (default: today): `reminders.due` with
/// the customer, which reads that customer's own records, not the day's list.
pub fn due_of_customer(
    engine: &Engine,
    customer: u64,
    date: Option<String>,
) -> Result<Vec<Value>, Failure> {
    let filter = Filter {
        date,
        customer: Some(json!({ "id": customer })),
        ..Filter::default()
    };
    let (_, items) = due_all(engine, &filter)?;
    Ok(items)
}
