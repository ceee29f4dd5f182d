//! `pitstop export`: customers, visits or the ledger as CSV or JSON, streamed page by
//! page through `customer.list`, `visit.export` and `ledger.export`.
//!
//! The CSV columns are the ones `pitstop import` recognises, so an export of customers
//! (or visits) imports into another store as the same customers (visits).

use crate::{Failure, Outcome, open_existing, output::cell};
use clap::ValueEnum;
use pitstop_core::{Engine, ErrorCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum What {
    Customers,
    Visits,
    Ledger,
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

/// Page size of the underlying operations.
const PAGE: usize = 1000;

fn io(err: impl std::fmt::Display) -> Failure {
    Failure::new(ErrorCode::Io, format!("cannot write the export: {err}"))
}

/// Every page of a paged operation, handed to `each` in order.
fn pages(
    engine: &Engine,
    op: &str,
    mut each: impl FnMut(&[Value]) -> Result<(), Failure>,
) -> Result<u64, Failure> {
    let mut after = Value::Null;
    let mut count = 0u64;
    loop {
        let page = engine.execute(op, json!({ "after": after, "limit": PAGE }))?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        count += items.len() as u64;
        each(&items)?;
        after = page["next_after"].clone();
        if after.is_null() || items.is_empty() {
            return Ok(count);
        }
    }
}

const CUSTOMER_COLUMNS: &[&str] = &[
    "external_id",
    "full_name",
    "phone",
    "email",
    "birthday",
    "gender",
    "kind",
    "source",
    "card",
    "tags",
    "notes",
    "id",
    "status",
    "tier",
    "visits",
    "total_spend",
    "first_visit",
    "last_visit",
    "registered_at",
];

const VISIT_COLUMNS: &[&str] = &[
    "order_id",
    "date",
    "customer",
    "customer_id",
    "vin",
    "plate",
    "mileage",
    "branch",
    "advisor",
    "line",
    "sku",
    "name",
    "kind",
    "category",
    "qty",
    "unit_price",
    "discount",
    "amount",
    "points",
    "accrual",
    "refunded_qty",
    "visit",
    "at",
];

const LEDGER_COLUMNS: &[&str] = &[
    "customer_id",
    "customer",
    "seq",
    "date",
    "kind",
    "amount",
    "balance_after",
    "available_after",
    "visit",
    "hold",
    "reason",
    "operator",
    "at",
];

fn customer_row(c: &Value) -> Vec<String> {
    CUSTOMER_COLUMNS
        .iter()
        .map(|column| match *column {
            // Import reads male/female; "unknown" is no answer.
            "gender" if c["gender"] == "unknown" => String::new(),
            key => cell(&c[key]),
        })
        .collect()
}

/// Customer id → external id, and vehicle id → (VIN, plate), looked up once each.
#[derive(Default)]
struct Names {
    external: HashMap<u64, String>,
    loaded: bool,
    vehicles: HashMap<u64, (String, String)>,
}

impl Names {
    fn external_id(&mut self, engine: &Engine, id: u64) -> Result<String, Failure> {
        if !self.loaded {
            // Once, the whole map: cheaper than one lookup per customer of a large export.
            self.loaded = true;
            let external = &mut self.external;
            pages(engine, "customer.list", |items| {
                for c in items {
                    if let Some(id) = c["id"].as_u64() {
                        external.insert(id, cell(&c["external_id"]));
                    }
                }
                Ok(())
            })?;
        }
        Ok(self.external.get(&id).cloned().unwrap_or_default())
    }

    fn vehicle(&mut self, engine: &Engine, id: u64) -> (String, String) {
        self.vehicles
            .entry(id)
            .or_insert_with(|| {
                engine
                    .execute("vehicle.get", json!({ "vehicle": { "id": id } }))
                    .ok()
                    .map(|v| (cell(&v["vehicle"]["vin"]), cell(&v["vehicle"]["plate"])))
                    .unwrap_or_default()
            })
            .clone()
    }
}

fn decimal(value: &Value) -> rust_decimal::Decimal {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_default()
}

fn visit_rows(engine: &Engine, names: &mut Names, v: &Value) -> Result<Vec<Vec<String>>, Failure> {
    let customer_id = v["customer"].as_u64().unwrap_or(0);
    let external = names.external_id(engine, customer_id)?;
    let (vin, plate) = match v["vehicle"].as_u64() {
        Some(id) => names.vehicle(engine, id),
        None => Default::default(),
    };
    let mut rows = Vec::new();
    for line in v["lines"].as_array().into_iter().flatten() {
        // What came off the line, whoever gave it: the host and the programme.
        let discount = decimal(&line["host_discount"]) + decimal(&line["discount"]);
        let row = VISIT_COLUMNS
            .iter()
            .map(|column| match *column {
                "customer" => external.clone(),
                "customer_id" => customer_id.to_string(),
                "vin" => vin.clone(),
                "plate" => plate.clone(),
                "line" => cell(&line["index"]),
                "discount" if !discount.is_zero() => discount.to_string(),
                "discount" => String::new(),
                "amount" => cell(&line["net"]),
                "visit" => cell(&v["id"]),
                key @ ("sku" | "name" | "kind" | "category" | "qty" | "unit_price" | "points"
                | "accrual" | "refunded_qty") => cell(&line[key]),
                key => cell(&v[key]),
            })
            .collect();
        rows.push(row);
    }
    Ok(rows)
}

fn ledger_row(engine: &Engine, names: &mut Names, e: &Value) -> Result<Vec<String>, Failure> {
    let customer_id = e["customer"].as_u64().unwrap_or(0);
    let external = names.external_id(engine, customer_id)?;
    Ok(LEDGER_COLUMNS
        .iter()
        .map(|column| match *column {
            "customer_id" => customer_id.to_string(),
            "customer" => external.clone(),
            key => cell(&e[key]),
        })
        .collect())
}

/// Run an export to `out` (stdout when `None`).
pub fn run(path: &Path, what: What, format: Format, out: Option<&Path>, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let sink: Box<dyn Write> = match out {
        Some(file) => Box::new(
            std::fs::File::create(file)
                .map_err(|err| Failure::new(ErrorCode::Io, format!("{}: {err}", file.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = std::io::BufWriter::new(sink);
    let op = match what {
        What::Customers => "customer.list",
        What::Visits => "visit.export",
        What::Ledger => "ledger.export",
    };
    let mut names = Names::default();
    let count = match format {
        Format::Json => {
            // One JSON array, one record per line: valid JSON, and streamable.
            sink.write_all(b"[").map_err(io)?;
            let mut first = true;
            let count = pages(&engine, op, |items| {
                for item in items {
                    sink.write_all(if first { b"\n" } else { b",\n" })
                        .map_err(io)?;
                    first = false;
                    serde_json::to_writer(&mut sink, item).map_err(io)?;
                }
                Ok(())
            })?;
            sink.write_all(b"\n]\n").map_err(io)?;
            count
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(&mut sink);
            let columns = match what {
                What::Customers => CUSTOMER_COLUMNS,
                What::Visits => VISIT_COLUMNS,
                What::Ledger => LEDGER_COLUMNS,
            };
            writer.write_record(columns).map_err(io)?;
            let count = pages(&engine, op, |items| {
                for item in items {
                    let rows = match what {
                        What::Customers => vec![customer_row(item)],
                        What::Visits => visit_rows(&engine, &mut names, item)?,
                        What::Ledger => vec![ledger_row(&engine, &mut names, item)?],
                    };
                    for row in rows {
                        writer.write_record(&row).map_err(io)?;
                    }
                }
                Ok(())
            })?;
            writer.flush().map_err(io)?;
            count
        }
    };
    sink.flush().map_err(io)?;
    drop(sink);
    if let Some(file) = out {
        let summary = json!({ "exported": count, "what": op, "file": file.to_string_lossy() });
        if json {
            println!("{summary}");
        } else {
            println!("{count} record(s) written to {}", file.display());
        }
    }
    Ok(0)
}
