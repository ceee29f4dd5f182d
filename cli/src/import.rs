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
    /// Visit history: one row per line, grouped into visits by order id (`visit.import`).
    Visits,
    /// Opening balances: one dated lot per customer (`points.adjust`).
    Balances,
}

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
            Kind::Visits => &[
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
    let id = kind.id_field();
    if !columns.contains_key(id) {
        return Err(Failure::new(
            "invalid_argument",
            format!("the file has no source id column ({id}): map one with --map"),
        ));
    }
    Ok(columns)
}

/// One data row of the file: its line number and the mapped fields, trimmed, non-empty.
type Row = (u64, BTreeMap<&'static str, String>);

/// Read every row; unreadable ones become rejections.
fn read_rows(
    reader: &mut csv::Reader<&[u8]>,
    columns: &BTreeMap<&'static str, usize>,
    rejected: &mut Vec<Rejected>,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
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
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let fields: BTreeMap<&'static str, String> = columns
            .iter()
            .filter_map(|(field, index)| {
                record
                    .get(*index)
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| (*field, v.to_string()))
            })
            .collect();
        rows.push((line, fields));
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

/// What an import did.
#[derive(Default)]
pub struct Tally {
    /// Data rows read (readable or not).
    pub rows: u64,
    /// Records added (visits for a visit file).
    pub added: u64,
    /// Records already present.
    pub unchanged: u64,
    /// Visits in a visit file.
    pub visits: u64,
    /// Visits rejected.
    pub rejected_visits: u64,
    rejected: Vec<Rejected>,
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
    let mut tally = Tally::default();
    let rows = read_rows(&mut reader, &columns, &mut tally.rejected);
    tally.rows = rows.len() as u64 + tally.rejected.len() as u64;

    let options = EngineOptions {
        durability: DurabilityOption::Import,
        ..EngineOptions::default()
    };
    let engine = open_existing_with(path, options)?;
    let progress = progress_bar(rows.len() as u64, json, "rows");
    if kind == Kind::Visits {
        import_visits(&engine, rows, &mut tally, progress.as_ref())?;
    } else {
        for (line, fields) in &rows {
            let fields: BTreeMap<&str, &str> =
                fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let outcome = match kind {
                Kind::Customers => import_customer(&engine, *line, &fields),
                Kind::Vehicles => import_vehicle(&engine, *line, &fields),
                Kind::Balances => import_balance(&engine, *line, &fields),
                Kind::Visits => unreachable!("visits are imported in batches above"),
            };
            match outcome {
                Ok(Applied::Added) => tally.added += 1,
                Ok(Applied::Unchanged) => tally.unchanged += 1,
                Err(rejection) => tally.rejected.push(rejection),
            }
            if let Some(bar) = &progress {
                bar.inc(1);
            }
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    engine.close()?;
    drop(engine);

    let mut rejected = std::mem::take(&mut tally.rejected);
    rejected.sort_by_key(|r| r.row);
    let errors_file = errors_path(file);
    if rejected.is_empty() {
        let _ = std::fs::remove_file(&errors_file);
    } else {
        write_errors(&errors_file, &rejected)?;
    }
    let mut summary = json!({
        "kind": kind.name(),
        "encoding": match encoding { Encoding::Utf8 => "utf-8", Encoding::Cp1251 => "cp1251" },
        "separator": (separator as char).to_string(),
        "rows": tally.rows,
        "added": tally.added,
        "unchanged": tally.unchanged,
        "rejected": rejected.len(),
        "errors_file": if rejected.is_empty() { Value::Null } else { json!(errors_file.to_string_lossy()) },
    });
    if kind == Kind::Visits {
        summary["visits"] = json!(tally.visits);
        summary["rejected_visits"] = json!(tally.rejected_visits);
    }
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
fn visit_line(line: u64, fields: &BTreeMap<&'static str, String>) -> Result<Value, Rejected> {
    use rust_decimal::Decimal;
    let invalid = |message: String| reject(line, "invalid_argument", message);
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
fn visit_fields(
    line: u64,
    fields: &BTreeMap<&'static str, String>,
    visit: &mut Map<String, Value>,
) -> Result<(), Rejected> {
    let invalid = |message: String| reject(line, "invalid_argument", message);
    if !visit.contains_key("customer")
        && let Some(customer) = fields.get("customer")
    {
        visit.insert("customer".into(), json!({ "external_id": customer }));
    }
    if !visit.contains_key("date")
        && let Some(text) = fields.get("date")
    {
        // "21.10.2024 14:35:00" as 1C writes it: the day is what matters.
        let day = text.split_whitespace().next().unwrap_or("");
        let date = parse_date(day).ok_or_else(|| {
            invalid(format!(
                "date: {text:?} is not a date (DD.MM.YYYY or YYYY-MM-DD)"
            ))
        })?;
        visit.insert("date".into(), json!(date));
    }
    if !visit.contains_key("vehicle") {
        if let Some(vin) = fields.get("vin") {
            visit.insert("vehicle".into(), json!({ "vin": vin }));
        } else if let Some(plate) = fields.get("plate") {
            visit.insert("vehicle".into(), json!({ "plate": plate }));
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
fn import_visits(
    engine: &Engine,
    rows: Vec<Row>,
    tally: &mut Tally,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<(), Failure> {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_order: std::collections::HashMap<String, usize> = Default::default();
    for (line, fields) in rows {
        let Some(order_id) = fields.get("order_id").cloned() else {
            tally.rejected.push(reject(
                line,
                "invalid_argument",
                "order_id: the source order id is empty",
            ));
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
        group.rows.push(line);
        if group.error.is_some() {
            continue;
        }
        let parsed =
            visit_fields(line, &fields, &mut group.visit).and_then(|()| visit_line(line, &fields));
        match parsed {
            Ok(value) => group.lines.push(value),
            Err(rejection) => group.error = Some(rejection),
        }
    }
    tally.visits = groups.len() as u64;
    let reject_group = |tally: &mut Tally, group: &Group, code: &str, reason: &str| {
        tally.rejected_visits += 1;
        for row in &group.rows {
            tally.rejected.push(reject(*row, code, reason));
        }
    };
    let mut ready: Vec<Group> = Vec::new();
    for mut group in groups {
        if let Some(error) = group.error.take() {
            let sibling = format!(
                "order {}: rejected with its row {} ({})",
                group.order_id, error.row, error.reason
            );
            tally.rejected_visits += 1;
            for row in &group.rows {
                if *row == error.row {
                    tally
                        .rejected
                        .push(reject(*row, &error.code, &error.reason));
                } else {
                    tally.rejected.push(reject(*row, &error.code, &sibling));
                }
            }
            if let Some(bar) = progress {
                bar.inc(group.rows.len() as u64);
            }
            continue;
        }
        let missing = ["customer", "date"]
            .into_iter()
            .find(|key| !group.visit.contains_key(*key));
        if let Some(missing) = missing {
            let reason = match missing {
                "customer" => "customer: the customer's source id is empty",
                _ => "date: empty",
            };
            reject_group(tally, &group, "invalid_argument", reason);
            if let Some(bar) = progress {
                bar.inc(group.rows.len() as u64);
            }
            continue;
        }
        let lines = std::mem::take(&mut group.lines);
        group.visit.insert("lines".into(), Value::Array(lines));
        ready.push(group);
    }
    for batch in ready.chunks(VISITS_PER_CALL) {
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
            let code = rejection["code"].as_str().unwrap_or("invalid_argument");
            let message = rejection["message"].as_str().unwrap_or("");
            reject_group(
                tally,
                group,
                code,
                &format!("order {}: {message}", group.order_id),
            );
        }
        if let Some(bar) = progress {
            bar.inc(batch.iter().map(|g| g.rows.len() as u64).sum());
        }
    }
    Ok(())
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
    // A migrated customer is not new: no welcome bonus, no registration plugins.
    args.insert("import".into(), json!(true));
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
        if let Some(value) = fields.get(key)
            && let Ok(view) = engine.execute("vehicle.get", json!({ "vehicle": { key: value } }))
            && view["vehicle"]["customer"] == owner_summary["id"]
        {
            return Ok(Applied::Unchanged);
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
