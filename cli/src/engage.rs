//! Bringing customers back, on the command line: `pitstop reminders` (today's list as a
//! table, CSV for an SMS gateway or JSON, and marking what was sent), the customer card's
//! engagement sections, and the tables of `report.complaints`, `report.referrals` and
//! `campaign.report`.
//!
//! Thin like the rest: every figure comes from an operation; this module only pages
//! through results and lays them out.

use crate::locale::{Locale, Msg, Noun};
use crate::output::{bold, cell, colour_stdout, pairs, table};
use crate::{Failure, Outcome, open_existing};
use clap::ValueEnum;
use pitstop_core::{Engine, ErrorCode};
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
    let bytes = std::fs::read(file).map_err(|err| {
        Failure::new(
            ErrorCode::Io,
            format!("cannot read {}: {err}", file.display()),
        )
    })?;
    let (text, _) = crate::import::decode(&bytes, None);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(crate::import::sniff_separator(&text))
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|err| {
            Failure::new(
                ErrorCode::InvalidArgument,
                format!("{}: {err}", file.display()),
            )
        })?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let id_column = column("id").ok_or_else(|| {
        Failure::new(
            ErrorCode::InvalidArgument,
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
                ErrorCode::InvalidArgument,
                format!("{} row {}: {err}", file.display(), index + 2),
            )
        })?;
        if rows.len() == MARK_ROWS_MAX {
            return Err(Failure::new(
                ErrorCode::TooLarge,
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
            ErrorCode::InvalidArgument,
            "name the reminders to mark: ids from `pitstop reminders`, or --file",
        ));
    }
    let engine = open_existing(path)?;
    let locale = Locale::of(&engine);
    // A single id fails like any other command; a list reports each and goes on.
    if todo.len() == 1 && file.is_none() {
        let one = &todo[0];
        let result = engine.execute("reminders.mark", mark_args(one))?;
        if json {
            println!("{result}");
        } else {
            let (status, channel) = (
                locale.value(&result["status"]),
                locale.value(&result["channel"]),
            );
            println!(
                "{}",
                locale.fill(
                    Msg::MarkedOne,
                    &[("id", &one.id), ("status", &status), ("channel", &channel)]
                )
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
                vec![
                    cell(&r["row"]),
                    cell(&r["id"]),
                    locale.value(&r["outcome"]),
                    cell(&r["code"]),
                    cell(&r["message"]),
                ]
            })
            .collect();
        print!(
            "{}",
            table(
                &[
                    locale.t(Msg::Row),
                    "id",
                    locale.t(Msg::Outcome),
                    locale.t(Msg::Error),
                    locale.t(Msg::Message)
                ],
                &rows
            )
        );
        let (marked, failed_text) = ((todo.len() - failed).to_string(), failed.to_string());
        println!(
            "{}",
            locale.fill(
                Msg::MarkedMany,
                &[("marked", &marked), ("failed", &failed_text)]
            )
        );
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
pub fn card_sections(view: &Value, due: Option<&[Value]>, locale: &Locale) -> String {
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
    let l = locale;
    section(
        l.t(Msg::OpenRecommendations),
        &[
            l.t(Msg::Work),
            l.t(Msg::Urgency),
            l.t(Msg::Price),
            l.t(Msg::Since),
            l.t(Msg::Car),
            l.t(Msg::Advisor),
        ],
        list("open_recommendations")
            .iter()
            .map(|r| {
                vec![
                    cell(&r["work"]),
                    l.value(&r["urgency"]),
                    l.money(&r["price"]),
                    l.date_of(&r["date"]),
                    car(&r["vehicle"]),
                    cell(&r["advisor"]),
                ]
            })
            .collect(),
    );
    section(
        l.t(Msg::TyreStorage),
        &[
            l.t(Msg::Season),
            l.t(Msg::Items),
            l.t(Msg::Location),
            l.t(Msg::Since),
            l.t(Msg::Car),
        ],
        list("tyre_storage")
            .iter()
            .map(|s| {
                vec![
                    l.value(&s["season"]),
                    cell(&s["items"]),
                    cell(&s["location"]),
                    l.date_of(&s["checked_in"]),
                    car(&s["vehicle"]),
                ]
            })
            .collect(),
    );
    section(
        l.t(Msg::SpecialOrders),
        &[
            l.t(Msg::Part),
            l.t(Msg::Qty),
            l.t(Msg::Status),
            l.t(Msg::Ordered),
            l.t(Msg::Expected),
            l.t(Msg::Arrived),
            l.t(Msg::Car),
        ],
        list("special_orders")
            .iter()
            .map(|o| {
                vec![
                    cell(&o["part"]),
                    l.num(&o["qty"]),
                    l.value(&o["status"]),
                    l.date_of(&o["ordered_on"]),
                    l.date_of(&o["expected"]),
                    l.date_of(&o["arrived_on"]),
                    car(&o["vehicle"]),
                ]
            })
            .collect(),
    );
    if let Some(due) = due {
        section(
            l.t(Msg::RemindersToday),
            &[
                "id",
                l.t(Msg::ReminderKind),
                l.t(Msg::Due),
                l.t(Msg::Channels),
                l.t(Msg::Text),
            ],
            due.iter()
                .map(|r| {
                    vec![
                        cell(&r["id"]),
                        l.value(&r["kind"]),
                        l.date_of(&r["due_on"]),
                        l.value(&r["channels"]),
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
pub fn complaints_text(result: &Value, locale: &Locale) -> String {
    let l = locale;
    let colour = colour_stdout();
    let mut out = String::new();
    out.push_str(&pairs(&[
        (
            l.t(Msg::Period),
            format!(
                "{} – {}",
                l.date_of(&result["from"]),
                l.date_of(&result["to"])
            ),
        ),
        (l.t(Msg::Complaints), l.num(&result["complaints"])),
    ]));
    let rows = |key: &str, first: &str| -> Vec<Vec<String>> {
        result[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let name = l.date_of(&r[first]);
                vec![
                    if name.is_empty() { "—".into() } else { name },
                    l.num(&r["complaints"]),
                    l.num(&r["feedback"]),
                    l.num(&r["average_rating"]),
                ]
            })
            .collect()
    };
    let counts = [l.t(Msg::Complaints), l.t(Msg::Feedback), l.t(Msg::Rating)];
    for (title, first, key, column) in [
        (Msg::ByEmployee, Msg::Employee, "by_employee", "employee"),
        (Msg::ByMonth, Msg::Month, "by_month", "month"),
    ] {
        out.push('\n');
        out.push_str(&bold(l.t(title), colour));
        out.push('\n');
        let mut headers = vec![l.t(first)];
        headers.extend(counts);
        out.push_str(&table(&headers, &rows(key, column)));
    }
    let latest: Vec<Vec<String>> = result["latest"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            vec![
                l.date_of(&f["date"]),
                cell(&f["customer"]),
                cell(&f["customer_name"]),
                cell(&f["phone"]),
                cell(&f["plate"]),
                cell(&f["employee"]),
                l.num(&f["rating"]),
                cell(&f["text"]),
            ]
        })
        .collect();
    if !latest.is_empty() {
        out.push('\n');
        out.push_str(&bold(l.t(Msg::LatestComplaints), colour));
        out.push('\n');
        out.push_str(&table(
            &[
                l.t(Msg::Date),
                l.t(Msg::CustomerNo),
                l.t(Msg::Name),
                l.t(Msg::Phone),
                l.t(Msg::Car),
                l.t(Msg::Employee),
                l.t(Msg::Rating),
                l.t(Msg::Text),
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
        ErrorCode::TooLarge,
        format!("more than {REFERRALS_PAGES_MAX} pages of referrals"),
    ))
}

/// The referrals report as a table with its totals.
pub fn referrals_text(result: &Value, locale: &Locale) -> String {
    let l = locale;
    let rows: Vec<Vec<String>> = result["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let mut signup = l.value(&r["signup"]);
            let note = cell(&r["signup_note"]);
            if !note.is_empty() {
                signup = format!("{signup} ({note})");
            }
            vec![
                cell(&r["referrer_name"]),
                cell(&r["referee_name"]),
                l.date_of(&r["linked_on"]),
                signup,
                l.num(&r["rewarded_referrer"]),
                l.num(&r["rewarded_referee"]),
                r["cashback"]
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .map(|c| l.num(c))
                            .collect::<Vec<_>>()
                            .join(" / ")
                    })
                    .unwrap_or_default(),
                l.num(&r["referee_visits"]),
                l.money(&r["referee_revenue"]),
            ]
        })
        .collect();
    let mut out = table(
        &[
            l.t(Msg::Referrer),
            l.t(Msg::Referee),
            l.t(Msg::Linked),
            l.t(Msg::Signup),
            l.t(Msg::ReferrerPoints),
            l.t(Msg::RefereePoints),
            l.t(Msg::Cashback),
            l.t(Msg::Visits),
            l.t(Msg::Revenue),
        ],
        &rows,
    );
    let referees = l.count(result["referees"].as_u64().unwrap_or(0), Noun::Referee);
    let points = l.num(&result["points"]);
    let (rewarded, revenue) = (l.num(&result["rewarded"]), l.money(&result["revenue"]));
    out.push_str(&l.fill(
        Msg::ReferralsTotal,
        &[
            ("referees", &referees),
            ("rewarded", &rewarded),
            ("points", &points),
            ("revenue", &revenue),
        ],
    ));
    out.push('\n');
    out
}

/// `campaign.report` as a key/value block.
pub fn campaign_text(result: &Value, locale: &Locale) -> String {
    let l = locale;
    let c = &result["campaign"];
    let audience = if c["segment"].is_null() {
        let named = c["customers"].as_array().map_or(0, Vec::len) as u64;
        l.fill(
            Msg::CustomersNamed,
            &[("n", &l.count(named, Noun::Customer))],
        )
    } else {
        l.fill(Msg::Segment, &[("segment", &cell(&c["segment"]))])
    };
    let cost = l.money(&result["cost_per_customer"]);
    pairs(&[
        (
            l.t(Msg::Campaign),
            format!("#{} «{}»", cell(&c["id"]), cell(&c["name"])),
        ),
        (
            l.t(Msg::Period),
            format!(
                "{} – {}",
                l.date_of(&c["period"]["from"]),
                l.date_of(&c["period"]["to"])
            ),
        ),
        (
            l.t(Msg::Channel),
            format!("{}, {audience}", l.value(&c["channel"])),
        ),
        (l.t(Msg::Offer), cell(&c["offer"]["text"])),
        (l.t(Msg::Notified), l.num(&result["notified"])),
        (
            l.t(Msg::Came),
            format!(
                "{} ({}\u{a0}%)",
                l.num(&result["came"]),
                l.num(&result["conversion"])
            ),
        ),
        (l.t(Msg::Visits), l.num(&result["visits"])),
        (l.t(Msg::Revenue), l.money(&result["revenue"])),
        (l.t(Msg::Budget), l.money(&result["budget"])),
        (
            l.t(Msg::CostPerCustomer),
            if cost.is_empty() { "—".into() } else { cost },
        ),
        (l.t(Msg::PointsGranted), l.num(&result["points_spent"])),
        (l.t(Msg::PointsRedeemed), l.num(&result["points_redeemed"])),
    ])
}
