//! `pitstop reminders PATH mark`: recording what became of reminders, named on the
//! command line or in a gateway's delivery report.

use crate::locale::{Locale, Msg};
use crate::output::{cell, table};
use crate::{Failure, Outcome, open_existing};
use clap::ValueEnum;
use pitstop_core::{Engine, ErrorCode};
use serde_json::{Value, json};
use std::path::Path;

/// Most rows read from a `--file` of reminders to mark.
const MARK_ROWS_MAX: usize = 100_000;

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
    let todo = reminders_to_mark(ids, file, status, channel)?;
    let engine = open_existing(path)?;
    let locale = Locale::of(&engine);
    // A single id fails like any other command; a list reports each and goes on.
    if todo.len() == 1 && file.is_none() {
        return mark_one(&engine, &todo[0], &locale, json);
    }
    let (results, failed) = mark_each(&engine, &todo);
    let marked = todo.len() - failed;
    if json {
        println!(
            "{}",
            json!({ "marked": marked, "failed": failed, "results": results })
        );
    } else {
        print!("{}", mark_results_text(&results, marked, failed, &locale));
    }
    Ok(if failed == 0 {
        0
    } else {
        crate::EXIT_ROWS_REJECTED
    })
}

/// The ids of the command line, then the file's rows; at least one.
fn reminders_to_mark(
    ids: &[String],
    file: Option<&Path>,
    status: Status,
    channel: Option<&str>,
) -> Result<Vec<ToMark>, Failure> {
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
    Ok(todo)
}

/// One id from the command line: its failure is the command's.
fn mark_one(engine: &Engine, one: &ToMark, locale: &Locale, json: bool) -> Outcome {
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
    Ok(0)
}

/// Every reminder marked in turn, a failure recorded and passed over: the result of
/// each, and how many failed.
fn mark_each(engine: &Engine, todo: &[ToMark]) -> (Vec<Value>, usize) {
    let mut results = Vec::new();
    let mut failed = 0usize;
    for one in todo {
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
    (results, failed)
}

/// The results of a list as a table (row, id, outcome, error) and the totals.
fn mark_results_text(results: &[Value], marked: usize, failed: usize, locale: &Locale) -> String {
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
    let mut out = table(
        &[
            locale.t(Msg::Row),
            "id",
            locale.t(Msg::Outcome),
            locale.t(Msg::Error),
            locale.t(Msg::Message),
        ],
        &rows,
    );
    let (marked, failed) = (marked.to_string(), failed.to_string());
    out.push_str(&locale.fill(Msg::MarkedMany, &[("marked", &marked), ("failed", &failed)]));
    out.push('\n');
    out
}

fn mark_args(one: &ToMark) -> Value {
    let mut args = json!({ "id": one.id, "status": one.status });
    if let Some(channel) = &one.channel {
        args["channel"] = json!(channel);
    }
    args
}
