//! `pitstop report`: the owner's reports (activity, points, complaints, referrals, a
//! campaign) as tables in the shop's language, or JSON.

use crate::args::ReportCommand;
use crate::card::find_customer;
use crate::locale::{Locale, Msg};
use crate::output::table;
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

pub fn run(path: &Path, report: ReportCommand, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let locale = Locale::of(&engine);
    match report {
        ReportCommand::Activity { from, to } => {
            let result = engine.execute("report.activity", json!({ "from": from, "to": to }))?;
            if json {
                println!("{result}");
                return Ok(0);
            }
            print!("{}", activity_table(&result, &locale));
            if let Some(total) = result.get("total").filter(|t| t.is_object()) {
                println!();
                print_value(total, false, &locale);
            }
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
            let written = write_dashboard(&engine, args, &html)?;
            if json {
                println!("{}", json!({ "file": html, "bytes": written }));
            } else {
                let file = html.display().to_string();
                let kib = written.div_ceil(1024).to_string();
                let args = [("file", file.as_str()), ("kib", kib.as_str())];
                println!("{}", locale.fill(Msg::DashboardWritten, &args));
            }
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
