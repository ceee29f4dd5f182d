//! Bringing customers back, on the command line: `pitstop reminders` (today's list as a
//! table, CSV for an SMS gateway or JSON, and marking what was sent), the customer card's
//! engagement sections, and the tables of `report.complaints`, `report.referrals` and
//! `campaign.report`.
//!
//! Thin like the rest: every figure comes from an operation; this module only pages
//! through results and lays them out.

use crate::output::{bold, cell, colour_stdout, pairs, table};
use crate::{Failure, Outcome, open_existing};
use clap::ValueEnum;
use pitstop_core::Engine;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// Page size asked of `reminders.due` (its maximum).
const DUE_PAGE: usize = 500;
/// Most pages read for one day: a bound on the loop (2.5 million reminders).
const DUE_PAGES_MAX: usize = 5_000;
/// Page size asked of `report.referrals` (its maximum).
const REFERRALS_PAGE: usize = 1000;
/// Most pages of `report.referrals` read (a million referees).
const REFERRALS_PAGES_MAX: usize = 1_000;
/// Most rows read from a `--file` of reminders to mark.
const MARK_ROWS_MAX: usize = 100_000;

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

/// What a reminder was, for `pitstop reminders PATH mark`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Status {
    /// Delivered: never due again.
    Sent,
    /// Delivery failed: stays due.
    Failed,
    /// The customer declined (or the shop decided not to send): never due again.
    Declined,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Declined => "declined",
        }
    }
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
        "too_large",
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
pub fn reminders_table(items: &[Value]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|r| {
            vec![
                cell(&r["id"]),
                cell(&r["kind"]),
                cell(&r["customer_name"]),
                cell(&r["phone"]),
                cell(&r["plate"]),
                cell(&r["due_on"]),
                cell(&r["text"]),
            ]
        })
        .collect();
    table(
        &["id", "kind", "customer", "phone", "car", "due", "text"],
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
    Failure::new("io", format!("cannot write: {err}"))
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
        Format::Table => {
            let colour = colour_stdout();
            let counts = by_kind(&items);
            let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
            println!(
                "{}",
                bold(
                    &format!("{} reminders due on {}", items.len(), cell(&date)),
                    colour
                )
            );
            if !summary.is_empty() {
                println!("{}", summary.join(", "));
            }
            if !items.is_empty() {
                println!();
                print!("{}", reminders_table(&items));
            }
        }
    }
    Ok(0)
}

/// One reminder to mark: id, status, channel (from the command line or a file row).
struct ToMark {
    row: Option<u64>,
    id: String,
    status: String,
    channel: Option<String>,
}

/// The rows of a CSV naming reminders: an `id` column, optional `status` and `channel`
/// columns (a gateway's delivery report) overriding the command line's.
fn read_mark_file(
    file: &Path,
    status: Status,
    channel: Option<&str>,
) -> Result<Vec<ToMark>, Failure> {
    let bytes = std::fs::read(file)
        .map_err(|err| Failure::new("io", format!("cannot read {}: {err}", file.display())))?;
    let (text, _) = crate::import::decode(&bytes, None);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(crate::import::sniff_separator(&text))
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|err| Failure::new("invalid_argument", format!("{}: {err}", file.display())))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let id_column = column("id").ok_or_else(|| {
        Failure::new(
            "invalid_argument",
            format!(
                "{} has no `id` column (write it with `pitstop reminders PATH --format csv`)",
                file.display()
            ),
        )
    })?;
    let (status_column, channel_column) = (column("status"), column("channel"));
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|err| {
            Failure::new(
                "invalid_argument",
                format!("{} row {}: {err}", file.display(), index + 2),
            )
        })?;
        if rows.len() == MARK_ROWS_MAX {
            return Err(Failure::new(
                "too_large",
                format!("{} has more than {MARK_ROWS_MAX} rows", file.display()),
            ));
        }
        let field = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let Some(id) = field(Some(id_column)) else {
            continue;
        };
        rows.push(ToMark {
            row: Some(index as u64 + 2),
            id,
            status: field(status_column).unwrap_or_else(|| status.as_str().to_string()),
            channel: field(channel_column).or_else(|| channel.map(str::to_string)),
        });
    }
    Ok(rows)
}

/// `pitstop reminders PATH mark [ID ...] [--file FILE.csv]`: one `reminders.mark` per id.
/// Marking again with the same status and channel changes nothing, so a gateway report
/// can be fed twice.
pub fn mark(
    path: &Path,
    ids: &[String],
    file: Option<&Path>,
    status: Status,
    channel: Option<&str>,
    json: bool,
) -> Outcome {
    let mut todo: Vec<ToMark> = ids
        .iter()
        .map(|id| ToMark {
            row: None,
            id: id.clone(),
            status: status.as_str().to_string(),
            channel: channel.map(str::to_string),
        })
        .collect();
    if let Some(file) = file {
        todo.extend(read_mark_file(file, status, channel)?);
    }
    if todo.is_empty() {
        return Err(Failure::new(
            "invalid_argument",
            "name the reminders to mark: ids from `pitstop reminders`, or --file",
        ));
    }
    let engine = open_existing(path)?;
    // A single id fails like any other command; a list reports each and goes on.
    if todo.len() == 1 && file.is_none() {
        let one = &todo[0];
        let result = engine.execute("reminders.mark", mark_args(one))?;
        if json {
            println!("{result}");
        } else {
            println!(
                "{} marked {} ({})",
                one.id,
                cell(&result["status"]),
                cell(&result["channel"])
            );
        }
        return Ok(0);
    }
    let mut results = Vec::new();
    let mut failed = 0usize;
    for one in &todo {
        let (outcome, code, message) = match engine.execute("reminders.mark", mark_args(one)) {
            Ok(record) => (cell(&record["status"]), String::new(), String::new()),
            Err(err) => {
                failed += 1;
                (
                    "error".to_string(),
                    err.code.as_str().to_string(),
                    err.message,
                )
            }
        };
        results.push(json!({ "row": one.row, "id": one.id, "status": one.status,
            "outcome": outcome, "code": code, "message": message }));
    }
    if json {
        println!(
            "{}",
            json!({ "marked": todo.len() - failed, "failed": failed, "results": results })
        );
    } else {
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|r| {
                ["row", "id", "outcome", "code", "message"]
                    .iter()
                    .map(|k| cell(&r[*k]))
                    .collect()
            })
            .collect();
        print!(
            "{}",
            table(&["row", "id", "outcome", "error", "message"], &rows)
        );
        println!("{} marked, {failed} failed", todo.len() - failed);
    }
    Ok(if failed == 0 {
        0
    } else {
        crate::EXIT_ROWS_REJECTED
    })
}

fn mark_args(one: &ToMark) -> Value {
    let mut args = json!({ "id": one.id, "status": one.status });
    if let Some(channel) = &one.channel {
        args["channel"] = json!(channel);
    }
    args
}

// ------------------------------------------------------------------ the customer card

/// The card's engagement sections: open recommendations, tyres in storage, special
/// orders and the customer's reminders due today (`due`: `None` when not looked up).
pub fn card_sections(view: &Value, due: Option<&[Value]>) -> String {
    let colour = colour_stdout();
    let plates: BTreeMap<u64, String> = view["vehicles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let plate = cell(&v["plate"]);
            let name = if plate.is_empty() {
                format!("{} {}", cell(&v["make"]), cell(&v["model"]))
            } else {
                plate
            };
            v["id"].as_u64().map(|id| (id, name))
        })
        .collect();
    let car = |value: &Value| {
        value
            .as_u64()
            .and_then(|id| plates.get(&id).cloned())
            .unwrap_or_default()
    };
    let mut out = String::new();
    let mut section = |title: &str, headers: &[&str], rows: Vec<Vec<String>>| {
        if rows.is_empty() {
            return;
        }
        out.push('\n');
        out.push_str(&bold(title, colour));
        out.push('\n');
        out.push_str(&table(headers, &rows));
    };
    let list = |key: &str| view[key].as_array().cloned().unwrap_or_default();
    section(
        "Open recommendations",
        &["work", "urgency", "price", "since", "car", "advisor"],
        list("open_recommendations")
            .iter()
            .map(|r| {
                vec![
                    cell(&r["work"]),
                    cell(&r["urgency"]),
                    cell(&r["price"]),
                    cell(&r["date"]),
                    car(&r["vehicle"]),
                    cell(&r["advisor"]),
                ]
            })
            .collect(),
    );
    section(
        "Tyres in storage",
        &["season", "items", "location", "since", "car"],
        list("tyre_storage")
            .iter()
            .map(|s| {
                vec![
                    cell(&s["season"]),
                    cell(&s["items"]),
                    cell(&s["location"]),
                    cell(&s["checked_in"]),
                    car(&s["vehicle"]),
                ]
            })
            .collect(),
    );
    section(
        "Special orders",
        &[
            "part", "qty", "status", "ordered", "expected", "arrived", "car",
        ],
        list("special_orders")
            .iter()
            .map(|o| {
                vec![
                    cell(&o["part"]),
                    cell(&o["qty"]),
                    cell(&o["status"]),
                    cell(&o["ordered_on"]),
                    cell(&o["expected"]),
                    cell(&o["arrived_on"]),
                    car(&o["vehicle"]),
                ]
            })
            .collect(),
    );
    if let Some(due) = due {
        section(
            "Reminders due today",
            &["id", "kind", "due", "channels", "text"],
            due.iter()
                .map(|r| {
                    vec![
                        cell(&r["id"]),
                        cell(&r["kind"]),
                        cell(&r["due_on"]),
                        cell(&r["channels"]),
                        cell(&r["text"]),
                    ]
                })
                .collect(),
        );
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

// ------------------------------------------------------------------ reports

/// `report.complaints` as tables: totals, by employee, by month, the latest complaints.
pub fn complaints_text(result: &Value) -> String {
    let colour = colour_stdout();
    let mut out = String::new();
    out.push_str(&pairs(&[
        (
            "period",
            format!("{} – {}", cell(&result["from"]), cell(&result["to"])),
        ),
        ("complaints", cell(&result["complaints"])),
    ]));
    let rows = |key: &str, first: &str| -> Vec<Vec<String>> {
        result[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let name = cell(&r[first]);
                vec![
                    if name.is_empty() { "—".into() } else { name },
                    cell(&r["complaints"]),
                    cell(&r["feedback"]),
                    cell(&r["average_rating"]),
                ]
            })
            .collect()
    };
    out.push('\n');
    out.push_str(&bold("By employee", colour));
    out.push('\n');
    out.push_str(&table(
        &["employee", "complaints", "feedback", "rating"],
        &rows("by_employee", "employee"),
    ));
    out.push('\n');
    out.push_str(&bold("By month", colour));
    out.push('\n');
    out.push_str(&table(
        &["month", "complaints", "feedback", "rating"],
        &rows("by_month", "month"),
    ));
    let latest: Vec<Vec<String>> = result["latest"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            vec![
                cell(&f["date"]),
                cell(&f["customer"]),
                cell(&f["customer_name"]),
                cell(&f["phone"]),
                cell(&f["plate"]),
                cell(&f["employee"]),
                cell(&f["rating"]),
                cell(&f["text"]),
            ]
        })
        .collect();
    if !latest.is_empty() {
        out.push('\n');
        out.push_str(&bold("Latest complaints", colour));
        out.push('\n');
        out.push_str(&table(
            &[
                "date",
                "customer #",
                "name",
                "phone",
                "car",
                "employee",
                "rating",
                "text",
            ],
            &latest,
        ));
    }
    out
}

/// Every page of `report.referrals` as one result: the rows of every page, and the
/// totals, which each page carries for the whole report.
pub fn referrals_all(engine: &Engine, referrer: Option<Value>) -> Result<Value, Failure> {
    let mut args = json!({ "limit": REFERRALS_PAGE });
    if let Some(referrer) = referrer {
        args["referrer"] = referrer;
    }
    let mut rows = Vec::new();
    for _ in 0..REFERRALS_PAGES_MAX {
        let page = engine.execute("report.referrals", args.clone())?;
        rows.extend(page["rows"].as_array().cloned().unwrap_or_default());
        if page["next"].is_null() {
            return Ok(
                json!({ "rows": rows, "referees": page["referees"], "rewarded": page["rewarded"],
                "points": page["points"], "revenue": page["revenue"] }),
            );
        }
        args["after"] = page["next"].clone();
    }
    Err(Failure::new(
        "too_large",
        format!("more than {REFERRALS_PAGES_MAX} pages of referrals"),
    ))
}

/// The referrals report as a table with its totals.
pub fn referrals_text(result: &Value) -> String {
    let rows: Vec<Vec<String>> = result["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let mut signup = cell(&r["signup"]);
            let note = cell(&r["signup_note"]);
            if !note.is_empty() {
                signup = format!("{signup} ({note})");
            }
            vec![
                cell(&r["referrer_name"]),
                cell(&r["referee_name"]),
                cell(&r["linked_on"]),
                signup,
                cell(&r["rewarded_referrer"]),
                cell(&r["rewarded_referee"]),
                r["cashback"]
                    .as_array()
                    .map(|l| l.iter().map(cell).collect::<Vec<_>>().join(" / "))
                    .unwrap_or_default(),
                cell(&r["referee_visits"]),
                cell(&r["referee_revenue"]),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "referrer",
            "referee",
            "linked",
            "signup",
            "referrer pts",
            "referee pts",
            "cashback",
            "visits",
            "revenue",
        ],
        &rows,
    );
    out.push_str(&format!(
        "{} referees, {} rewarded, {} points kept, {} revenue\n",
        cell(&result["referees"]),
        cell(&result["rewarded"]),
        cell(&result["points"]),
        cell(&result["revenue"])
    ));
    out
}

/// `campaign.report` as a key/value block.
pub fn campaign_text(result: &Value) -> String {
    let c = &result["campaign"];
    let audience = if c["segment"].is_null() {
        format!(
            "{} customers named",
            c["customers"].as_array().map_or(0, Vec::len)
        )
    } else {
        format!("segment «{}»", cell(&c["segment"]))
    };
    let cost = cell(&result["cost_per_customer"]);
    pairs(&[
        (
            "campaign",
            format!("#{} «{}»", cell(&c["id"]), cell(&c["name"])),
        ),
        (
            "period",
            format!(
                "{} – {}",
                cell(&c["period"]["from"]),
                cell(&c["period"]["to"])
            ),
        ),
        ("channel", format!("{}, {audience}", cell(&c["channel"]))),
        ("offer", cell(&c["offer"]["text"])),
        ("notified", cell(&result["notified"])),
        (
            "came",
            format!(
                "{} ({} %)",
                cell(&result["came"]),
                cell(&result["conversion"])
            ),
        ),
        ("visits", cell(&result["visits"])),
        ("revenue", cell(&result["revenue"])),
        ("budget", cell(&result["budget"])),
        (
            "cost per customer",
            if cost.is_empty() { "—".into() } else { cost },
        ),
        ("points granted", cell(&result["points_spent"])),
        ("points redeemed", cell(&result["points_redeemed"])),
    ])
}
