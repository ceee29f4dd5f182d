//! `pitstop import`: CSV exported by another system into the store, one operation per row.
//!
//! Parsing only: encodings, separators, decimal commas and date formats are turned into
//! the contract's JSON; every check of the data itself is the operations' own. Each row
//! carries the source's id, used as the idempotency key and looked up first, so running
//! the same file twice changes nothing, and running a corrected file applies the
//! corrections.

mod balances;
mod customers;
mod source;
mod values;
mod vehicles;
mod visits;

use crate::locale::{Locale, Msg};
use crate::{EXIT_ROWS_REJECTED, Failure, Outcome, open_existing_with, output};
use chrono_tz::Tz;
use clap::ValueEnum;
use pitstop_core::{DurabilityOption, Engine, EngineOptions, ErrorCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

pub use source::{Encoding, decode, sniff_separator};

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Customers,
    Vehicles,
    /// Visit history: one row per line, grouped into visits by order id (`visit.import`).
    Visits,
    /// Opening balances: one dated lot per customer (`points.adjust`).
    Balances,
}

/// Target field and the source column names recognised without a mapping file.
type Fields = &'static [(&'static str, &'static [&'static str])];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Customers => "customers",
            Kind::Vehicles => "vehicles",
            Kind::Visits => "visits",
            Kind::Balances => "balances",
        }
    }

    /// The field holding the source's id of a row (a visit's rows share their order id).
    fn id_field(self) -> &'static str {
        match self {
            Kind::Visits => "order_id",
            _ => "external_id",
        }
    }

    /// Fields without which no row can be imported: their columns must be in the file.
    fn required(self) -> &'static [&'static str] {
        match self {
            Kind::Customers => &["external_id", "full_name"],
            Kind::Vehicles => &["external_id", "customer", "make", "model"],
            Kind::Visits => &["order_id", "customer", "date", "name", "kind"],
            Kind::Balances => &["external_id", "points"],
        }
    }

    fn fields(self) -> Fields {
        match self {
            Kind::Customers => customers::FIELDS,
            Kind::Vehicles => vehicles::FIELDS,
            Kind::Visits => visits::FIELDS,
            Kind::Balances => balances::FIELDS,
        }
    }
}

/// One rejected row: its line in the file and the source's id beside it.
struct Rejected {
    row: u64,
    id: String,
    code: String,
    reason: String,
}

fn reject(row: &Row, code: ErrorCode, reason: impl Into<String>) -> Rejected {
    Rejected {
        row: row.line,
        id: row.id().to_string(),
        code: code.as_str().to_string(),
        reason: reason.into(),
    }
}

fn invalid(row: &Row, reason: impl Into<String>) -> Rejected {
    reject(row, ErrorCode::InvalidArgument, reason)
}

fn error_to_rejection(row: &Row, err: pitstop_core::Error) -> Rejected {
    reject(row, err.code, err.message)
}

/// An operation's refusal of a row, in the source's terms (see [`source_terms`]).
fn refused(engine: &Engine, row: &Row, err: pitstop_core::Error) -> Rejected {
    reject(row, err.code, source_terms(engine, &err.message))
}

/// What a row did.
enum Applied {
    Added,
    Unchanged,
    /// Already there; these fields were corrected.
    Updated(Vec<String>),
}

/// `FILE.csv` -> `FILE.<kind>.errors.csv` beside it: one file per kind, so importing
/// customers, vehicles and balances from one legacy file keeps every kind's errors.
pub fn errors_path(file: &Path, kind: Kind) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".into());
    file.with_file_name(format!("{stem}.{}.errors.csv", kind.name()))
}

fn load_mapping(kind: Kind, map: Option<&Path>) -> Result<BTreeMap<String, String>, Failure> {
    let Some(map) = map else {
        return Ok(BTreeMap::new());
    };
    let text = std::fs::read_to_string(map).map_err(|err| {
        Failure::new(
            ErrorCode::Io,
            format!("cannot read {}: {err}", map.display()),
        )
    })?;
    // A target given twice would map one field from two columns, the last silently
    // winning: the strict reader refuses it.
    let not_a_mapping = |err: &dyn std::fmt::Display| {
        Failure::new(
            ErrorCode::InvalidArgument,
            format!(
                "{}: a mapping is a JSON object of target field -> source column: {err}",
                map.display()
            ),
        )
    };
    let value = pitstop_core::json::from_str(&text).map_err(|err| not_a_mapping(&err))?;
    let value: BTreeMap<String, String> =
        serde_json::from_value(value).map_err(|err| not_a_mapping(&err))?;
    for target in value.keys() {
        if !kind.fields().iter().any(|(f, _)| f == target) {
            let known: Vec<&str> = kind.fields().iter().map(|(f, _)| *f).collect();
            return Err(Failure::new(
                ErrorCode::InvalidArgument,
                format!(
                    "{}: unknown target field {target:?} for {} (known: {})",
                    map.display(),
                    kind.name(),
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(value)
}

/// Column index of every target field present in the file; a missing required column is
/// one error for the file, naming what was expected and what was found.
fn resolve_columns(
    kind: Kind,
    headers: &[String],
    mapping: &BTreeMap<String, String>,
) -> Result<BTreeMap<&'static str, usize>, Failure> {
    let normal = |s: &str| s.trim().to_lowercase();
    let find = |name: &str| headers.iter().position(|h| normal(h) == normal(name));
    let mut columns = BTreeMap::new();
    for (field, aliases) in kind.fields() {
        if let Some(source) = mapping.get(*field) {
            let index = find(source).ok_or_else(|| {
                Failure::new(
                    ErrorCode::InvalidArgument,
                    format!("the mapping names column {source:?} for {field}, but the file has no such column"),
                )
            })?;
            columns.insert(*field, index);
        } else if let Some(index) = aliases.iter().find_map(|alias| find(alias)) {
            columns.insert(*field, index);
        }
    }
    let missing: Vec<String> = kind
        .required()
        .iter()
        .filter(|field| !columns.contains_key(*field))
        .map(|field| {
            let aliases = kind
                .fields()
                .iter()
                .find(|(f, _)| f == field)
                .map_or(&[][..], |(_, a)| *a);
            format!("{field} ({})", aliases.join(" / "))
        })
        .collect();
    if !missing.is_empty() {
        let found: Vec<&str> = headers.iter().map(|h| h.trim()).collect();
        return Err(Failure::new(
            ErrorCode::InvalidArgument,
            format!(
                "the {} file has no column for {}; its columns are: {}. Rename them or map them with --map",
                kind.name(),
                missing.join(", "),
                found.join("; ")
            ),
        ));
    }
    Ok(columns)
}

/// One data row of the file: its line, the source's id and the mapped fields, trimmed,
/// non-empty.
pub(crate) struct Row {
    line: u64,
    fields: BTreeMap<&'static str, String>,
    id_field: &'static str,
}

impl Row {
    /// The source's own id of the row, or "" when the row has none.
    fn id(&self) -> &str {
        self.fields.get(self.id_field).map_or("", String::as_str)
    }

    fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }
}

/// Read every record after the header; unreadable ones become rejections.
fn read_rows(
    kind: Kind,
    records: Vec<source::Record>,
    width: usize,
    columns: &BTreeMap<&'static str, usize>,
    rejected: &mut Vec<Rejected>,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for record in records {
        if record.fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let fields: BTreeMap<&'static str, String> = columns
            .iter()
            .filter_map(|(field, index)| {
                record
                    .fields
                    .get(*index)
                    .map(|v| v.trim())
                    .filter(|v| !v.is_empty())
                    .map(|v| (*field, v.to_string()))
            })
            .collect();
        let row = Row {
            line: record.line,
            fields,
            id_field: kind.id_field(),
        };
        // Trailing empty cells (a separator at the end of the line) are not data.
        let used = record
            .fields
            .iter()
            .rposition(|f| !f.trim().is_empty())
            .map_or(0, |i| i + 1);
        if record.unclosed_quote {
            rejected.push(invalid(
                &row,
                format!(
                    "a quote opened in this row (line {} of the text) is never closed: the rest of the file ran into it",
                    record.text_line
                ),
            ));
        } else if record.fields.len() < width || used > width {
            rejected.push(invalid(
                &row,
                format!(
                    "the row has {} fields, the header {width}: a separator is missing or extra",
                    record.fields.len()
                ),
            ));
        } else {
            rows.push(row);
        }
    }
    rows
}

fn progress_bar(total: u64, json: bool, unit: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || json {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {unit}  {{per_sec}}  ETA {{eta}}"
    )) {
        bar.set_style(style);
    }
    Some(bar)
}

/// One corrected row.
struct Update {
    row: u64,
    id: String,
    fields: Vec<String>,
}

/// What an import did.
#[derive(Default)]
pub struct Tally {
    /// Data rows read (readable or not).
    pub rows: u64,
    /// Records added (visits for a visit file).
    pub added: u64,
    /// Records already present and the same.
    pub unchanged: u64,
    /// Visits in a visit file.
    pub visits: u64,
    /// Visits rejected.
    pub rejected_visits: u64,
    updates: Vec<Update>,
    rejected: Vec<Rejected>,
}

/// The programme's time zone, which 1C's local times are read in.
fn program_tz(engine: &Engine) -> Tz {
    engine
        .execute("program.get", json!({}))
        .ok()
        .and_then(|p| p["timezone"].as_str().and_then(|t| t.parse::<Tz>().ok()))
        .unwrap_or(chrono_tz::Europe::Moscow)
}

/// Run an import.
pub fn run(
    path: &Path,
    kind: Kind,
    file: &Path,
    map: Option<&Path>,
    encoding: Option<Encoding>,
    json: bool,
) -> Outcome {
    let (source, rows, mut tally) = read_source(kind, file, map, encoding)?;
    let options = EngineOptions {
        durability: DurabilityOption::Import,
        ..EngineOptions::default()
    };
    let engine = open_existing_with(path, options)?;
    let tz = program_tz(&engine);
    let progress = progress_bar(rows.len() as u64, json, "rows");
    if kind == Kind::Visits {
        visits::import(&engine, tz, rows, &mut tally, progress.as_ref())?;
    } else {
        import_each(&engine, tz, kind, &rows, &mut tally, progress.as_ref());
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let locale = Locale::of(&engine);
    engine.close()?;
    drop(engine);
    report(&source, tally, json, &locale)
}

/// The file read, decoded and cut into rows by its columns (the mapping's, or the
/// headers' known names): how it was read, the rows, and a tally holding the rows
/// that could not be read.
fn read_source<'a>(
    kind: Kind,
    file: &'a Path,
    map: Option<&Path>,
    encoding: Option<Encoding>,
) -> Result<(Source<'a>, Vec<Row>, Tally), Failure> {
    let bytes = std::fs::read(file).map_err(|err| {
        Failure::new(
            ErrorCode::Io,
            format!("cannot read {}: {err}", file.display()),
        )
    })?;
    let mapping = load_mapping(kind, map)?;
    let in_file = |f: Failure| Failure::new(f.code, format!("{}: {}", file.display(), f.message));
    let (text, encoding) = source::decode_strict(&bytes, encoding).map_err(in_file)?;
    let separator = sniff_separator(&text);
    let mut records = source::records(&text, separator as char).into_iter();
    let headers = records.next().map(|r| r.fields).unwrap_or_default();
    let columns = resolve_columns(kind, &headers, &mapping).map_err(in_file)?;
    let mut tally = Tally::default();
    let rows = read_rows(
        kind,
        records.collect(),
        headers.len(),
        &columns,
        &mut tally.rejected,
    );
    tally.rows = rows.len() as u64 + tally.rejected.len() as u64;
    let source = Source {
        file,
        kind,
        encoding,
        separator,
    };
    Ok((source, rows, tally))
}

/// Customers, vehicles or balances: one operation per row, each row's outcome tallied.
fn import_each(
    engine: &Engine,
    tz: Tz,
    kind: Kind,
    rows: &[Row],
    tally: &mut Tally,
    progress: Option<&indicatif::ProgressBar>,
) {
    for row in rows {
        let outcome = match kind {
            Kind::Customers => customers::import(engine, tz, row),
            Kind::Vehicles => vehicles::import(engine, row),
            Kind::Balances => balances::import(engine, tz, row),
            Kind::Visits => unreachable!("visits are imported in batches, by visits::import"),
        };
        match outcome {
            Ok(Applied::Added) => tally.added += 1,
            Ok(Applied::Unchanged) => tally.unchanged += 1,
            Ok(Applied::Updated(fields)) => tally.updates.push(Update {
                row: row.line,
                id: row.id().to_string(),
                fields,
            }),
            Err(rejection) => tally.rejected.push(rejection),
        }
        if let Some(bar) = progress {
            bar.inc(1);
        }
    }
}

/// The file an import read, and how it read it.
struct Source<'a> {
    file: &'a Path,
    kind: Kind,
    encoding: Encoding,
    separator: u8,
}

/// Write the errors file and print the summary.
fn report(source: &Source<'_>, mut tally: Tally, json: bool, locale: &Locale) -> Outcome {
    let Source {
        file,
        kind,
        encoding,
        separator,
    } = *source;
    let mut rejected = std::mem::take(&mut tally.rejected);
    rejected.sort_by_key(|r| r.row);
    let errors_file = errors_path(file, kind);
    if rejected.is_empty() {
        let _ = std::fs::remove_file(&errors_file);
    } else {
        write_errors(&errors_file, &rejected)?;
    }
    let updates: Vec<Value> = tally
        .updates
        .iter()
        .map(|u| json!({ "row": u.row, "id": u.id, "fields": u.fields }))
        .collect();
    let mut summary = json!({
        "kind": kind.name(),
        "encoding": encoding.name(),
        "separator": (separator as char).to_string(),
        "rows": tally.rows,
        "added": tally.added,
        "updated": tally.updates.len(),
        "unchanged": tally.unchanged,
        "rejected": rejected.len(),
        "errors_file": if rejected.is_empty() { Value::Null } else { json!(errors_file.to_string_lossy()) },
    });
    if kind == Kind::Visits {
        summary["visits"] = json!(tally.visits);
        summary["rejected_visits"] = json!(tally.rejected_visits);
    }
    if json {
        summary["updates"] = Value::Array(updates);
        println!("{summary}");
    } else {
        print_summary(&summary, &tally.updates, locale);
    }
    if rejected.is_empty() {
        Ok(0)
    } else {
        let count = rejected.len().to_string();
        let file = errors_file.display().to_string();
        eprintln!(
            "{}",
            locale.fill(
                Msg::ImportRowsRejected,
                &[("count", count.as_str()), ("file", file.as_str())]
            )
        );
        Ok(EXIT_ROWS_REJECTED)
    }
}

fn write_errors(file: &Path, rejected: &[Rejected]) -> Result<(), Failure> {
    let io = |err: csv::Error| Failure::new(ErrorCode::Io, format!("{}: {err}", file.display()));
    let mut writer = csv::Writer::from_path(file).map_err(io)?;
    writer
        .write_record(["row", "id", "code", "reason"])
        .map_err(io)?;
    for r in rejected {
        writer
            .write_record([
                r.row.to_string(),
                r.id.clone(),
                r.code.clone(),
                r.reason.clone(),
            ])
            .map_err(io)?;
    }
    writer
        .flush()
        .map_err(|err| Failure::new(ErrorCode::Io, format!("{}: {err}", file.display())))
}

/// The customer with this reference, if any.
fn find_customer(engine: &Engine, by: Value) -> Result<Option<Value>, pitstop_core::Error> {
    let page = engine.execute("customer.find", json!({ "by": by }))?;
    Ok(page["items"].as_array().and_then(|i| i.first()).cloned())
}

/// A core message in the source's terms: the store's "customer 220" and "vehicle 31"
/// become the codes and plates the shop knows ("customer К-0042", "vehicle А123ВС77").
fn source_terms(engine: &Engine, message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some((before, after, kind)) = ["customer ", "vehicle "]
        .iter()
        .filter_map(|k| rest.find(k).map(|i| (i, *k)))
        .min_by_key(|(i, _)| *i)
        .map(|(i, k)| (&rest[..i + k.len()], &rest[i + k.len()..], k))
    {
        out.push_str(before);
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        let name = digits.parse::<u64>().ok().and_then(|id| {
            let (op, key, field) = if kind == "customer " {
                ("customer.get", "customer", "external_id")
            } else {
                ("vehicle.get", "vehicle", "plate")
            };
            let view = engine.execute(op, json!({ key: { "id": id } })).ok()?;
            let record = &view[key];
            record[field]
                .as_str()
                .or_else(|| record["vin"].as_str())
                .map(str::to_string)
        });
        match name {
            Some(name) => {
                out.push_str(&name);
                rest = &after[digits.len()..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// The summary for a person: labels in the shop's language, one line per corrected row.
/// `--json` prints the same figures under stable English keys instead.
fn print_summary(summary: &Value, updates: &[Update], locale: &Locale) {
    const LABELS: &[(&str, Msg)] = &[
        ("kind", Msg::ImportKind),
        ("encoding", Msg::ImportEncoding),
        ("separator", Msg::ImportSeparator),
        ("rows", Msg::ImportRows),
        ("added", Msg::ImportAdded),
        ("updated", Msg::ImportUpdated),
        ("unchanged", Msg::ImportUnchanged),
        ("rejected", Msg::ImportRejected),
        ("visits", Msg::ImportVisits),
        ("rejected_visits", Msg::ImportRejectedVisits),
        ("errors_file", Msg::ImportErrorsFile),
    ];
    let items: Vec<(&str, String)> = LABELS
        .iter()
        .filter_map(|(key, msg)| {
            let value = summary.get(*key)?;
            let text = match (*key, value) {
                ("kind", Value::String(kind)) => locale.field(kind).to_string(),
                (_, Value::Number(_)) => locale.num(value),
                _ => locale.value(value),
            };
            Some((locale.t(*msg), text))
        })
        .collect();
    print!("{}", output::pairs(&items));
    for update in updates {
        let row = update.row.to_string();
        let fields = update.fields.join(", ");
        println!(
            "{}",
            locale.fill(
                Msg::ImportRowUpdated,
                &[
                    ("row", row.as_str()),
                    ("id", update.id.as_str()),
                    ("fields", fields.as_str())
                ]
            )
        );
    }
}
