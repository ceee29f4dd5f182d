//! The demo's last chapter: what the cashier and the owner read, in the shop's language.
//! Every figure was computed by `run`; this only lays them out.

use super::Loaded;
use super::care::{self, Pending, Recorded};
use crate::card::customer_card;
use crate::engage;
use crate::locale::{Locale, Msg, Noun};
use crate::output::{bold, cell, colour_stdout, pairs, table};
use crate::report::activity_table;
use crate::value_text;
use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Bytes in a mebibyte, for the store's size.
const MIB_BYTES: f64 = 1024.0 * 1024.0;
/// Latest complaints the owner's summary shows (`pitstop report complaints` lists all).
const COMPLAINTS_SHOWN: usize = 5;
/// Customers in the top list.
const TOP_CUSTOMERS: usize = 5;

/// What the demo did and measured.
pub(super) struct Report<'a> {
    pub shop: &'a str,
    pub dir: &'a str,
    pub today: NaiveDate,
    pub start: NaiveDate,
    pub private_customers: usize,
    pub drivers: usize,
    pub loaded: &'a Loaded,
    pub rate: f64,
    pub recorded: &'a Recorded,
    pub pending: &'a Pending,
    pub first_quote: Option<&'a Value>,
    pub first_receipt: Option<&'a Value>,
    pub advised: &'a [String],
    pub advised_receipts: usize,
    pub card: &'a Value,
    pub first_due: &'a [Value],
    pub receipts: usize,
    pub today_net: f64,
    pub today_points: f64,
    pub activity: &'a Value,
    pub points: &'a Value,
    pub due: usize,
    pub due_by_kind: &'a [(String, usize)],
    pub due_examples: &'a [Value],
    pub campaign: &'a Value,
    pub campaign_id: u64,
    pub complaints: &'a Value,
    pub referrals: &'a Value,
    pub tiers: &'a BTreeMap<String, u64>,
    pub people: &'a [(f64, Value)],
    pub stats: &'a Value,
    pub problems: usize,
    /// The dashboard's file, its size in bytes and the seconds it took.
    pub dashboard: (&'a std::path::Path, u64, f64),
    pub seconds: f64,
}

/// The whole summary.
pub(super) fn text(r: &Report, l: &Locale) -> String {
    let colour = colour_stdout();
    let heading = |text: &str| format!("\n{}\n", bold(text, colour));
    let dir = r.dir.to_string();
    let mut out = format!(
        "{}\n",
        bold(
            &l.fill(
                Msg::DemoTitle,
                &[("shop", r.shop), ("dir", &dir), ("date", &l.date(r.today))]
            ),
            colour
        )
    );
    out.push_str(&heading(l.t(Msg::DemoMigration)));
    out.push_str(&migration(r, l));
    out.push_str(&till(r, l));
    out.push_str(&heading(l.t(Msg::DemoCard)));
    out.push_str(&customer_card(r.card, l));
    out.push_str(&engage::card_sections(r.card, Some(r.first_due), l));
    let day = l.fill(
        Msg::DemoDay,
        &[
            ("receipts", &l.count(r.receipts as u64, Noun::Receipt)),
            ("net", &l.money(&json!(format!("{:.0}", r.today_net)))),
            ("points", &l.float(r.today_points, 0)),
        ],
    );
    out.push_str(&heading(&day));
    out.push_str(&heading(l.t(Msg::DemoActivity)));
    out.push_str(&activity_table(r.activity, l));
    out.push_str(&heading(l.t(Msg::DemoLiability)));
    out.push_str(&value_text(r.points, l));
    out.push_str(&owner(r, l, &heading));
    out
}

/// The migration: what was loaded, what was kept, the plugins, the time it took.
fn migration(r: &Report, l: &Locale) -> String {
    let loaded = r.loaded;
    // The note says where the modules were looked for; without any, the reader needs
    // only the way to build them (the JSON keeps the full note).
    let plugins = if loaded.plugins.is_empty() {
        l.t(Msg::DemoNoPlugins).to_string()
    } else {
        format!("{} ({})", loaded.plugins.join(", "), loaded.plugin_note)
    };
    let mut rows = loaded_rows(r, l);
    rows.extend(kept_rows(r, l));
    rows.push((l.t(Msg::DemoPlugins), plugins));
    rows.push((
        l.t(Msg::DemoLoadedIn),
        l.fill(
            Msg::DemoLoadedText,
            &[("seconds", &l.float(loaded.load_seconds, 1))],
        ),
    ));
    pairs(&rows)
}

/// What was loaded: customers and cars, the history, the opening balances.
fn loaded_rows<'l>(r: &Report, l: &'l Locale) -> Vec<(&'l str, String)> {
    let loaded = r.loaded;
    vec![
        (
            l.t(Msg::DemoCustomers),
            l.fill(
                Msg::DemoCustomersText,
                &[
                    ("all", &l.count(loaded.customers as u64, Noun::Customer)),
                    ("private", &l.integer(r.private_customers as u64)),
                    ("drivers", &l.count(r.drivers as u64, Noun::Driver)),
                    ("cars", &l.count(loaded.vehicles as u64, Noun::Car)),
                ],
            ),
        ),
        (
            l.t(Msg::DemoHistory),
            l.fill(
                Msg::DemoHistoryText,
                &[
                    ("from", &l.date(r.start)),
                    ("to", &l.date(r.today - Duration::days(1))),
                    ("orders", &l.count(loaded.visits, Noun::WorkOrder)),
                    ("seconds", &l.float(loaded.import_seconds, 2)),
                    ("rate", &l.float(r.rate, 0)),
                ],
            ),
        ),
        (
            l.t(Msg::DemoOpening),
            l.fill(
                Msg::DemoOpeningText,
                &[
                    (
                        "customers",
                        &l.count(loaded.opening_balances, Noun::Customer),
                    ),
                    (
                        "points",
                        &l.count_text(&format!("{:.0}", loaded.opening_points), Noun::Point),
                    ),
                ],
            ),
        ),
    ]
}

/// What the old system kept besides work orders: recommendations, tyre sets, calls.
fn kept_rows<'l>(r: &Report, l: &'l Locale) -> Vec<(&'l str, String)> {
    let racks = r.pending.sets_checked_in - r.pending.sets_checked_out;
    vec![
        (
            l.t(Msg::DemoRecommendations),
            l.fill(
                Msg::DemoRecommendationsText,
                &[
                    (
                        "recommendations",
                        &l.count(r.recorded.recommendations, Noun::Recommendation),
                    ),
                    (
                        "days",
                        &l.count(care::RECOMMENDATIONS_DAYS as u64, Noun::Day),
                    ),
                    ("closed", &l.integer(r.recorded.closed)),
                ],
            ),
        ),
        (
            l.t(Msg::DemoTyres),
            l.fill(
                Msg::DemoTyresText,
                &[
                    ("in", &l.integer(r.pending.sets_checked_in)),
                    ("out", &l.integer(r.pending.sets_checked_out)),
                    ("racks", &l.integer(racks)),
                ],
            ),
        ),
        (
            l.t(Msg::DemoCalls),
            l.fill(
                Msg::DemoCallsText,
                &[
                    ("answers", &l.count(r.recorded.feedback, Noun::Answer)),
                    ("days", &l.count(care::FEEDBACK_DAYS as u64, Noun::Day)),
                    ("complaints", &l.integer(r.recorded.complaints)),
                ],
            ),
        ),
    ]
}

/// The first customer at the till: the quote, the receipt, the advice of the day.
fn till(r: &Report, l: &Locale) -> String {
    let mut out = String::new();
    let colour = colour_stdout();
    if let Some(quote) = r.first_quote {
        out.push_str(&quote_text(quote, l, colour));
    }
    if let Some(receipt) = r.first_receipt {
        let committed = l.fill(
            Msg::DemoCommitted,
            &[
                ("visit", &cell(&receipt["visit"])),
                ("order", &cell(&receipt["order_id"])),
                ("balance", &l.num(&receipt["balance"])),
                // The tier by the name the customer knows, never its code.
                ("tier", &l.tier(&receipt["tier_after"])),
            ],
        );
        let _ = writeln!(out, "  {committed}");
    }
    if !r.advised.is_empty() {
        let advised = l.fill(
            Msg::DemoAdvised,
            &[
                (
                    "recommendations",
                    &l.count(r.advised.len() as u64, Noun::Recommendation),
                ),
                (
                    "receipts",
                    &l.count(r.advised_receipts as u64, Noun::Receipt),
                ),
            ],
        );
        let _ = writeln!(out, "  {advised}");
        for text in r.advised.iter().skip(1).take(3) {
            let _ = writeln!(out, "  • {text}");
        }
    }
    out
}

/// The quote the cashier showed: the messages, the lines and the totals.
fn quote_text(quote: &Value, l: &Locale, colour: bool) -> String {
    let mut out = String::new();
    let customer = cell(&quote["customer_name"]);
    let title = l.fill(Msg::DemoTill, &[("customer", &customer)]);
    let _ = write!(out, "\n{}\n", bold(&title, colour));
    for message in quote["messages"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "  • {}", cell(&message["text"]));
    }
    let rows: Vec<Vec<String>> = quote["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|line| {
            vec![
                cell(&line["name"]),
                l.num(&line["qty"]),
                l.num(&line["unit_price"]),
                l.num(&line["discount"]),
                l.num(&line["points"]),
                l.num(&line["money"]),
                l.num(&line["accrual"]),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            l.t(Msg::DemoLine),
            l.t(Msg::Qty),
            l.t(Msg::Price),
            l.t(Msg::DemoDiscount),
            l.t(Msg::Points),
            l.t(Msg::DemoToPay),
            l.t(Msg::DemoEarns),
        ],
        &rows,
    ));
    let t = &quote["totals"];
    let totals = l.fill(
        Msg::DemoTotals,
        &[
            ("net", &l.money(&t["net"])),
            ("discount", &l.money(&t["discount"])),
            ("points", &l.num(&t["points"])),
            ("available", &l.num(&quote["redemption"]["available"])),
            ("money", &l.money(&t["money"])),
            ("accrual", &l.num(&t["accrual"])),
        ],
    );
    let _ = writeln!(out, "  {totals}");
    out
}

/// What the owner reads: reminders, the campaign, complaints, referrals, tiers, the top
/// customers and the store.
fn owner(r: &Report, l: &Locale, heading: &dyn Fn(&str) -> String) -> String {
    let mut out = heading(&l.fill(
        Msg::DemoContact,
        &[("reminders", &l.count(r.due as u64, Noun::Reminder))],
    ));
    out.push_str(&due_table(r, l));
    let dir = r.dir.to_string();
    let id = r.campaign_id.to_string();
    out.push_str(&heading(
        &l.fill(Msg::DemoCampaign, &[("dir", &dir), ("id", &id)]),
    ));
    out.push_str(&engage::campaign_text(r.campaign, l));
    out.push_str(&heading(l.t(Msg::DemoComplaints)));
    let mut complaints = r.complaints.clone();
    if let Some(latest) = complaints["latest"].as_array_mut() {
        latest.truncate(COMPLAINTS_SHOWN);
    }
    out.push_str(&engage::complaints_text(&complaints, l));
    out.push_str(&heading(l.t(Msg::DemoReferrals)));
    out.push_str(&engage::referrals_text(r.referrals, l));
    out.push_str(&heading(l.t(Msg::DemoTierMix)));
    let mut mix: Vec<(&String, &u64)> = r.tiers.iter().collect();
    mix.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let rows: Vec<Vec<String>> = mix
        .iter()
        .map(|(tier, n)| vec![tier.to_string(), l.integer(**n)])
        .collect();
    out.push_str(&table(&[l.t(Msg::Tier), l.t(Msg::DemoCustomers)], &rows));
    out.push_str(&heading(l.t(Msg::DemoTop)));
    out.push_str(&top_customers(r, l));
    let records = r.stats["records"].as_u64().unwrap_or(0);
    let mib = r.stats["disk_bytes"].as_u64().unwrap_or(0) as f64 / MIB_BYTES;
    let check = if r.problems == 0 {
        l.t(Msg::DemoSound).to_string()
    } else {
        l.count(r.problems as u64, Noun::Problem)
    };
    let store = l.fill(
        Msg::DemoStore,
        &[
            ("records", &l.count(records, Noun::Record)),
            ("mib", &l.float(mib, 1)),
            ("check", &check),
            ("seconds", &l.float(r.seconds, 1)),
            ("dir", &dir),
            ("phone", &cell(&r.card["customer"]["phone"])),
        ],
    );
    let (file, bytes, seconds) = r.dashboard;
    let dashboard = l.fill(
        Msg::DemoDashboard,
        &[
            ("file", &file.display().to_string()),
            ("kib", &bytes.div_ceil(1024).to_string()),
            ("seconds", &l.float(seconds, 1)),
        ],
    );
    let _ = write!(out, "\n{store}\n{dashboard}\n");
    out
}

/// The reminders due today by kind, with an example of each.
fn due_table(r: &Report, l: &Locale) -> String {
    let rows: Vec<Vec<String>> = r
        .due_by_kind
        .iter()
        .map(|(kind, n)| {
            let example = r
                .due_examples
                .iter()
                .find(|e| cell(&e["kind"]) == *kind)
                .map(|e| cell(&e["text"]))
                .unwrap_or_default();
            vec![l.value(&json!(kind)), l.integer(*n as u64), example]
        })
        .collect();
    table(
        &[
            l.t(Msg::ReminderKind),
            l.t(Msg::DemoCount),
            l.t(Msg::DemoExample),
        ],
        &rows,
    )
}

/// The best customers by total spend.
fn top_customers(r: &Report, l: &Locale) -> String {
    let rows: Vec<Vec<String>> = r
        .people
        .iter()
        .take(TOP_CUSTOMERS)
        .map(|(spend, c)| {
            vec![
                cell(&c["full_name"]),
                l.money(&json!(format!("{spend:.0}"))),
                l.num(&c["visits"]),
                l.tier(&c["tier"]),
                l.date_of(&c["last_visit"]),
            ]
        })
        .collect();
    table(
        &[
            l.t(Msg::Customer),
            l.t(Msg::DemoSpend),
            l.t(Msg::Visits),
            l.t(Msg::Tier),
            l.t(Msg::LastVisit),
        ],
        &rows,
    )
}
