//! `pitstop import`: CSV exported by another system into the store, one operation per row.
//!
//! Parsing only: encodings, separators, decimal commas and date formats are turned into
//! the contract's JSON; every check of the data itself is the operations' own. Each row
//! carries the source's id, used as the idempotency key and looked up first, so running
//! the same file twice changes nothing.

use crate::{EXIT_ROWS_REJECTED, Failure, Outcome, open_existing_with, output};
use chrono::NaiveDate;
use clap::ValueEnum;
use pitstop_core::{DurabilityOption, Engine, EngineOptions};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Customers,
    Vehicles,
    /// Opening balances: one dated lot per customer (`points.adjust`).
    Balances,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Customers => "customers",
            Kind::Vehicles => "vehicles",
            Kind::Balances => "balances",
        }
    }

    /// Target fields and the source column names recognised without a mapping file.
    fn fields(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            Kind::Customers => &[
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
            ],
            Kind::Vehicles => &[
                ("external_id", &["external_id", "id", "код", "код авто"]),
                (
                    "customer",
                    &[
                        "customer",
                        "customer_id",
                        "owner",
                        "владелец",
                        "код клиента",
                    ],
                ),
                ("vin", &["vin"]),
                ("plate", &["plate", "госномер", "гос. номер", "номер"]),
                ("make", &["make", "марка"]),
                ("model", &["model", "модель"]),
                ("year", &["year", "год", "год выпуска"]),
                ("mileage", &["mileage", "пробег"]),
                ("usage", &["usage"]),
            ],
            Kind::Balances => &[
                (
                    "external_id",
                    &["external_id", "customer", "id", "код", "код клиента"],
                ),
                (
                    "points",
                    &["points", "balance", "баллы", "остаток", "баланс"],
                ),
                ("date", &["date", "дата", "дата остатка"]),
                (
                    "expires",
                    &["expires", "expires_on", "сгорают", "срок действия"],
                ),
            ],
        }
    }
}

/// A text encoding of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Encoding {
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    #[value(name = "cp1251", alias = "windows-1251")]
    Cp1251,
}

/// Decode the file: the given encoding, or UTF-8 when valid, else Windows-1251.
pub fn decode(bytes: &[u8], encoding: Option<Encoding>) -> (String, Encoding) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let encoding = encoding.unwrap_or(if std::str::from_utf8(bytes).is_ok() {
        Encoding::Utf8
    } else {
        Encoding::Cp1251
    });
    let text = match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        Encoding::Cp1251 => encoding_rs::WINDOWS_1251.decode(bytes).0.into_owned(),
    };
    (text, encoding)
}

/// The separator: whichever of `;` and `,` the header line has more of.
pub fn sniff_separator(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let semicolons = header.matches(';').count();
    let commas = header.matches(',').count();
    if semicolons >= commas && semicolons > 0 {
        b';'
    } else {
        b','
    }
}

/// A date as DD.MM.YYYY or YYYY-MM-DD, to the contract's YYYY-MM-DD.
pub fn parse_date(text: &str) -> Option<String> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%d.%m.%Y")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// A whole number written with spaces and a decimal comma ("98 000", "98000,0").
pub fn parse_whole(text: &str) -> Option<u64> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect::<String>()
        .replace(',', ".");
    let (whole, fraction) = match cleaned.split_once('.') {
        Some((w, f)) => (w, f),
        None => (cleaned.as_str(), ""),
    };
    if !fraction.chars().all(|c| c == '0') {
        return None;
    }
    whole.parse().ok()
}

/// One rejected row.
struct Rejected {
    row: u64,
    code: String,
    reason: String,
}

fn reject(row: u64, code: &str, reason: impl Into<String>) -> Rejected {
    Rejected {
        row,
        code: code.to_string(),
        reason: reason.into(),
    }
}

enum Applied {
    Added,
    Unchanged,
}

/// `FILE.csv` -> `FILE.errors.csv` beside it.
pub fn errors_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".into());
    file.with_file_name(format!("{stem}.errors.csv"))
}

fn load_mapping(kind: Kind, map: Option<&Path>) -> Result<BTreeMap<String, String>, Failure> {
    let Some(map) = map else {
        return Ok(BTreeMap::new());
    };
    let text = std::fs::read_to_string(map)
        .map_err(|err| Failure::new("io", format!("cannot read {}: {err}", map.display())))?;
    let value: BTreeMap<String, String> = serde_json::from_str(&text).map_err(|err| {
        Failure::new(
            "invalid_argument",
            format!(
                "{}: a mapping is a JSON object of target field -> source column: {err}",
                map.display()
            ),
        )
    })?;
    for target in value.keys() {
        if !kind.fields().iter().any(|(f, _)| f == target) {
            let known: Vec<&str> = kind.fields().iter().map(|(f, _)| *f).collect();
            return Err(Failure::new(
                "invalid_argument",
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

/// Column index of every target field present in the file.
fn resolve_columns(
    kind: Kind,
    headers: &csv::StringRecord,
    mapping: &BTreeMap<String, String>,
) -> Result<BTreeMap<&'static str, usize>, Failure> {
    let normal = |s: &str| s.trim().to_lowercase();
    let find = |name: &str| headers.iter().position(|h| normal(h) == normal(name));
    let mut columns = BTreeMap::new();
    for (field, aliases) in kind.fields() {
        if let Some(source) = mapping.get(*field) {
            let index = find(source).ok_or_else(|| {
                Failure::new(
                    "invalid_argument",
                    format!("the mapping names column {source:?} for {field}, but the file has no such column"),
                )
            })?;
            columns.insert(*field, index);
        } else if let Some(index) = aliases.iter().find_map(|alias| find(alias)) {
            columns.insert(*field, index);
        }
    }
    if !columns.contains_key("external_id") {
        return Err(Failure::new(
            "invalid_argument",
            "the file has no source id column (external_id): map one with --map",
        ));
    }
    Ok(columns)
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
    let bytes = std::fs::read(file)
        .map_err(|err| Failure::new("io", format!("cannot read {}: {err}", file.display())))?;
    let mapping = load_mapping(kind, map)?;
    let (text, encoding) = decode(&bytes, encoding);
    let separator = sniff_separator(&text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|err| Failure::new("invalid_argument", format!("{}: {err}", file.display())))?
        .clone();
    let columns = resolve_columns(kind, &headers, &mapping)?;
    let total_rows = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count() as u64;

    let options = EngineOptions {
        durability: DurabilityOption::Import,
        ..EngineOptions::default()
    };
    let engine = open_existing_with(path, options)?;
    let progress = if std::io::stderr().is_terminal() && !json {
        let bar = indicatif::ProgressBar::new(total_rows);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} rows  {per_sec}  ETA {eta}",
        ) {
            bar.set_style(style);
        }
        Some(bar)
    } else {
        None
    };

    let (mut rows, mut added, mut unchanged) = (0u64, 0u64, 0u64);
    let mut rejected: Vec<Rejected> = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                rows += 1;
                let line = err.position().map(|p| p.line()).unwrap_or(0);
                rejected.push(reject(
                    line,
                    "invalid_argument",
                    format!("unreadable row: {err}"),
                ));
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        rows += 1;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let fields: BTreeMap<&str, &str> = columns
            .iter()
            .filter_map(|(field, index)| {
                record
                    .get(*index)
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| (*field, v))
            })
            .collect();
        let outcome = match kind {
            Kind::Customers => import_customer(&engine, line, &fields),
            Kind::Vehicles => import_vehicle(&engine, line, &fields),
            Kind::Balances => import_balance(&engine, line, &fields),
        };
        match outcome {
            Ok(Applied::Added) => added += 1,
            Ok(Applied::Unchanged) => unchanged += 1,
            Err(rejection) => rejected.push(rejection),
        }
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    engine.close()?;
    drop(engine);

    let errors_file = errors_path(file);
    if rejected.is_empty() {
        let _ = std::fs::remove_file(&errors_file);
    } else {
        write_errors(&errors_file, &rejected)?;
    }
    let summary = json!({
        "kind": kind.name(),
        "encoding": match encoding { Encoding::Utf8 => "utf-8", Encoding::Cp1251 => "cp1251" },
        "separator": (separator as char).to_string(),
        "rows": rows,
        "added": added,
        "unchanged": unchanged,
        "rejected": rejected.len(),
        "errors_file": if rejected.is_empty() { Value::Null } else { json!(errors_file.to_string_lossy()) },
    });
    if json {
        println!("{summary}");
    } else {
        let items: Vec<(&str, String)> = summary
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.as_str(), output::cell(v)))
                    .collect()
            })
            .unwrap_or_default();
        print!("{}", output::pairs(&items));
    }
    if rejected.is_empty() {
        Ok(0)
    } else {
        eprintln!(
            "{} row(s) rejected; see {}",
            rejected.len(),
            errors_file.display()
        );
        Ok(EXIT_ROWS_REJECTED)
    }
}

fn write_errors(file: &Path, rejected: &[Rejected]) -> Result<(), Failure> {
    let io = |err: csv::Error| Failure::new("io", format!("{}: {err}", file.display()));
    let mut writer = csv::Writer::from_path(file).map_err(io)?;
    writer.write_record(["row", "code", "reason"]).map_err(io)?;
    for r in rejected {
        writer
            .write_record([r.row.to_string(), r.code.clone(), r.reason.clone()])
            .map_err(io)?;
    }
    writer
        .flush()
        .map_err(|err| Failure::new("io", format!("{}: {err}", file.display())))
}

fn error_to_rejection(line: u64, err: pitstop_core::Error) -> Rejected {
    reject(line, err.code.as_str(), err.message)
}

fn exists(engine: &Engine, by: Value) -> Result<Option<Value>, pitstop_core::Error> {
    let page = engine.execute("customer.find", json!({ "by": by }))?;
    Ok(page["items"].as_array().and_then(|i| i.first()).cloned())
}

fn import_customer(
    engine: &Engine,
    line: u64,
    fields: &BTreeMap<&str, &str>,
) -> Result<Applied, Rejected> {
    let Some(id) = fields.get("external_id").copied() else {
        return Err(reject(
            line,
            "invalid_argument",
            "external_id: the source id is empty",
        ));
    };
    if exists(engine, json!({ "external_id": id }))
        .map_err(|e| error_to_rejection(line, e))?
        .is_some()
    {
        return Ok(Applied::Unchanged);
    }
    let mut args = Map::new();
    for (field, value) in fields {
        let value = match *field {
            "birthday" => json!(parse_date(value).ok_or_else(|| reject(
                line,
                "invalid_argument",
                format!("birthday: {value:?} is not a date (DD.MM.YYYY or YYYY-MM-DD)")
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
                    return Err(reject(
                        line,
                        "invalid_argument",
                        format!("gender: {other:?} is not м/ж or male/female")
                    )),
            }),
            _ => json!(value),
        };
        args.insert(field.to_string(), value);
    }
    if !args.contains_key("full_name") {
        return Err(reject(line, "invalid_argument", "full_name: empty"));
    }
    args.insert(
        "idempotency_key".into(),
        json!(format!("import:customers:{id}")),
    );
    engine
        .execute("customer.register", Value::Object(args))
        .map(|_| Applied::Added)
        .map_err(|e| error_to_rejection(line, e))
}

fn import_vehicle(
    engine: &Engine,
    line: u64,
    fields: &BTreeMap<&str, &str>,
) -> Result<Applied, Rejected> {
    let Some(id) = fields.get("external_id").copied() else {
        return Err(reject(
            line,
            "invalid_argument",
            "external_id: the source id is empty",
        ));
    };
    let Some(owner) = fields.get("customer").copied() else {
        return Err(reject(
            line,
            "invalid_argument",
            "customer: the owner's source id is empty",
        ));
    };
    let owner_ref = json!({ "external_id": owner });
    let Some(owner_summary) =
        exists(engine, owner_ref.clone()).map_err(|e| error_to_rejection(line, e))?
    else {
        return Err(reject(
            line,
            "not_found",
            format!("customer: no customer with external id {owner:?} (import customers first)"),
        ));
    };
    // Already there for this owner: unchanged. For another owner, vehicle.add reports it.
    for key in ["vin", "plate"] {
        if let Some(value) = fields.get(key) {
            if let Ok(view) = engine.execute("vehicle.get", json!({ "vehicle": { key: value } })) {
                if view["vehicle"]["customer"] == owner_summary["id"] {
                    return Ok(Applied::Unchanged);
                }
            }
        }
    }
    let mut args = Map::new();
    args.insert("customer".into(), owner_ref);
    for (field, value) in fields {
        let value = match *field {
            "external_id" | "customer" => continue,
            "year" | "mileage" => json!(parse_whole(value).ok_or_else(|| reject(
                line,
                "invalid_argument",
                format!("{field}: {value:?} is not a whole number")
            ))?),
            _ => json!(value),
        };
        args.insert(field.to_string(), value);
    }
    args.insert(
        "idempotency_key".into(),
        json!(format!("import:vehicles:{id}")),
    );
    engine
        .execute("vehicle.add", Value::Object(args))
        .map(|_| Applied::Added)
        .map_err(|e| error_to_rejection(line, e))
}

/// A decimal written with spaces and a decimal comma ("1 234,50"), as the contract's string.
pub fn parse_decimal(text: &str) -> Option<String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect::<String>()
        .replace(',', ".");
    let digits = cleaned.strip_prefix('-').unwrap_or(&cleaned);
    let valid = !digits.is_empty()
        && digits.split('.').count() <= 2
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().any(|c| c.is_ascii_digit());
    valid.then_some(cleaned)
}

/// The reason written on an imported opening balance: also how a re-run recognises it.
fn balance_reason(id: &str) -> String {
    format!("opening balance (import {id})")
}

fn import_balance(
    engine: &Engine,
    line: u64,
    fields: &BTreeMap<&str, &str>,
) -> Result<Applied, Rejected> {
    let Some(id) = fields.get("external_id").copied() else {
        return Err(reject(
            line,
            "invalid_argument",
            "external_id: the customer's source id is empty",
        ));
    };
    let Some(points) = fields.get("points").copied() else {
        return Err(reject(line, "invalid_argument", "points: empty"));
    };
    let points = parse_decimal(points).ok_or_else(|| {
        reject(
            line,
            "invalid_argument",
            format!("points: {points:?} is not a number"),
        )
    })?;
    let date = match fields.get("date") {
        Some(text) => Some(parse_date(text).ok_or_else(|| {
            reject(
                line,
                "invalid_argument",
                format!("date: {text:?} is not a date (DD.MM.YYYY or YYYY-MM-DD)"),
            )
        })?),
        None => None,
    };
    let customer = json!({ "external_id": id });
    let reason = balance_reason(id);
    // Already entered by an earlier run: find it in the statement.
    let mut before: Option<Value> = None;
    loop {
        let mut args = json!({ "customer": customer, "limit": 100 });
        if let Some(cursor) = &before {
            args["before"] = cursor.clone();
        }
        let page = engine
            .execute("points.statement", args)
            .map_err(|e| error_to_rejection(line, e))?;
        let entries = page["entries"].as_array().cloned().unwrap_or_default();
        if entries.iter().any(|e| e["reason"] == json!(reason)) {
            return Ok(Applied::Unchanged);
        }
        match page.get("next_before") {
            Some(next) if !next.is_null() && !entries.is_empty() => before = Some(next.clone()),
            _ => break,
        }
    }
    let mut args = json!({
        "customer": customer,
        "points": points,
        "reason": reason,
        "operator": "import",
        "idempotency_key": format!("import:balances:{id}"),
    });
    if let Some(date) = &date {
        args["at"] = json!(format!("{date}T12:00:00Z"));
    }
    if let Some(text) = fields.get("expires") {
        let expires = parse_date(text).ok_or_else(|| {
            reject(
                line,
                "invalid_argument",
                format!("expires: {text:?} is not a date (DD.MM.YYYY or YYYY-MM-DD)"),
            )
        })?;
        let from = date
            .clone()
            .unwrap_or_else(|| chrono::Utc::now().date_naive().to_string());
        let days = (NaiveDate::parse_from_str(&expires, "%Y-%m-%d").ok())
            .zip(NaiveDate::parse_from_str(&from, "%Y-%m-%d").ok())
            .map(|(e, f)| (e - f).num_days())
            .unwrap_or(-1);
        if days <= 0 {
            return Err(reject(
                line,
                "invalid_argument",
                format!("expires: {text:?} is not after the balance date"),
            ));
        }
        args["expiry_days"] = json!(days);
    }
    engine
        .execute("points.adjust", args)
        .map(|_| Applied::Added)
        .map_err(|e| error_to_rejection(line, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_exports_contain() {
        assert_eq!(parse_date("17.05.1984").as_deref(), Some("1984-05-17"));
        assert_eq!(parse_date("1984-05-17").as_deref(), Some("1984-05-17"));
        assert_eq!(parse_date("31.02.1984"), None);
        assert_eq!(parse_whole("98 000"), Some(98_000));
        assert_eq!(parse_whole("98000,0"), Some(98_000));
        assert_eq!(parse_whole("98000,5"), None);
        assert_eq!(parse_decimal("1 234,50").as_deref(), Some("1234.50"));
        assert_eq!(parse_decimal("-5").as_deref(), Some("-5"));
        assert_eq!(parse_decimal("1,2,3"), None);
        assert_eq!(parse_decimal("много"), None);
        assert_eq!(sniff_separator("a;b;c\n1,2;3"), b';');
        assert_eq!(sniff_separator("a,b,c"), b',');
        let (text, enc) = decode(b"\xc8\xe2\xe0\xed\xee\xe2", None);
        assert_eq!((text.as_str(), enc), ("Иванов", Encoding::Cp1251));
        let (text, enc) = decode("Иванов".as_bytes(), None);
        assert_eq!((text.as_str(), enc), ("Иванов", Encoding::Utf8));
    }
}
