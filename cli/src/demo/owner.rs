//! The demo's evening: what the owner reads after the first day — the reminders due, the
//! campaign's outcome, complaints, referrals, activity, points, the tiers of the base, the
//! best customers and the store's health. Only reads; `summary` lays it out.

use super::{dec, moscow, ok};
use crate::Failure;
use crate::engage;
use crate::output::cell;
use chrono::{Datelike, Duration, NaiveDate};
use pitstop_core::{Engine, Program};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Customers per `customer.list` page.
const LIST_PAGE: u64 = 1000;

/// What the owner reads.
pub(super) struct OwnerView {
    pub program: Option<Arc<Program>>,
    /// Reminders due today, counted by kind, with one example of each kind.
    pub due: Vec<Value>,
    pub due_by_kind: Vec<(String, usize)>,
    pub due_examples: Vec<Value>,
    pub campaign: Value,
    pub complaints: Value,
    pub referrals: Value,
    pub activity: Value,
    pub points: Value,
    /// Private customers by tier name.
    pub tiers: BTreeMap<String, u64>,
    /// Private customers with their total spend, biggest first.
    pub people: Vec<(f64, Value)>,
    pub check: Value,
    pub stats: Value,
    pub problems: usize,
}

/// Read the owner's reports at the end of `today`.
pub(super) fn read(
    engine: &Engine,
    today: NaiveDate,
    campaign_id: u64,
) -> Result<OwnerView, Failure> {
    let (_, due) = engage::due_all(
        engine,
        &engage::Filter {
            date: Some(today.to_string()),
            ..engage::Filter::default()
        },
    )?;
    let due_by_kind = engage::by_kind(&due);
    let due_examples: Vec<Value> = due_by_kind
        .iter()
        .filter_map(|(kind, _)| due.iter().find(|r| cell(&r["kind"]) == *kind).cloned())
        .collect();
    let evening = moscow(today, 21, 0);
    let campaign = ok(
        engine,
        "campaign.report",
        json!({ "campaign": campaign_id, "at": evening }),
    )?;
    let complaints = ok(
        engine,
        "report.complaints",
        json!({ "from": (today - Duration::days(90)).to_string(), "to": today.to_string(),
                "at": evening }),
    )?;
    let referrals = engage::referrals_all(engine, None)?;
    let from = (today - Duration::days(365)).with_day(1).unwrap_or(today);
    let activity = ok(
        engine,
        "report.activity",
        json!({ "from": from.to_string(), "to": today.to_string(), "at": evening }),
    )?;
    let points = ok(engine, "report.points", json!({ "at": evening }))?;
    let program = engine.program();
    let Base { tiers, people } = private_customers(engine, program.as_deref())?;
    let check = ok(engine, "store.check", json!({}))?;
    let stats = ok(engine, "store.stats", json!({}))?;
    let problems = check["problems"].as_array().map_or(0, Vec::len);
    Ok(OwnerView {
        program,
        due,
        due_by_kind,
        due_examples,
        campaign,
        complaints,
        referrals,
        activity,
        points,
        tiers,
        people,
        check,
        stats,
        problems,
    })
}

/// The private customers by tier, and by total spend.
struct Base {
    tiers: BTreeMap<String, u64>,
    people: Vec<(f64, Value)>,
}

/// The private customers (not the fleet's drivers): how many are in each tier, and each
/// with their total spend, biggest first.
fn private_customers(engine: &Engine, program: Option<&Program>) -> Result<Base, Failure> {
    let mut tiers: BTreeMap<String, u64> = BTreeMap::new();
    let mut people: Vec<(f64, Value)> = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = ok(
            engine,
            "customer.list",
            json!({ "after": after, "limit": LIST_PAGE }),
        )?;
        for c in page["items"].as_array().into_iter().flatten() {
            if c["kind"] == "private" && c["company"].is_null() {
                let tier = c["tier"]
                    .as_str()
                    .and_then(|code| program.and_then(|p| p.tier(code)))
                    .map_or("—".to_string(), |t| t.name.clone());
                *tiers.entry(tier).or_default() += 1;
                people.push((dec(&c["total_spend"]), c.clone()));
            }
        }
        after = page["next_after"].clone();
        if after.is_null() {
            break;
        }
    }
    people.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1["id"].as_u64().cmp(&b.1["id"].as_u64()))
    });
    Ok(Base { tiers, people })
}
