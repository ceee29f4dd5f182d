//! The customer's card as a person reads it (`pitstop customer`, the demo): profile,
//! tier by its name, balance, cars and last visits, in the shop's language; and finding
//! the customer a query names.

use crate::locale::{Locale, Msg, Noun};
use crate::output::{self, cell, pairs, table};
use crate::{Failure, Outcome, engage, open_existing};
use pitstop_core::{Engine, ErrorCode};
use serde_json::{Value, json};
use std::path::Path;

/// Find one customer: name/phone prefix first, then every exact identifier.
pub fn find_customer(engine: &Engine, query: &str) -> Result<Vec<Value>, Failure> {
    let page = engine.execute("customer.find", json!({ "query": query, "limit": 20 }));
    if let Ok(page) = page {
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if !items.is_empty() {
            return Ok(items);
        }
    }
    for key in [
        "card",
        "phone",
        "email",
        "plate",
        "vin",
        "external_id",
        "id",
    ] {
        let by = if key == "id" {
            match query.parse::<u64>() {
                Ok(id) => json!({ "id": id }),
                Err(_) => continue,
            }
        } else {
            json!({ key: query })
        };
        if let Ok(page) = engine.execute("customer.find", json!({ "by": by })) {
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if !items.is_empty() {
                return Ok(items);
            }
        }
    }
    Ok(Vec::new())
}

pub fn customer(path: &Path, query: &str, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let locale = Locale::of(&engine);
    let found = find_customer(&engine, query)?;
    if found.is_empty() {
        return Err(Failure::new(
            ErrorCode::NotFound,
            format!("no customer matches {query:?}"),
        ));
    }
    if found.len() > 1 {
        if json {
            println!("{}", json!({ "matches": found }));
        } else {
            print!("{}", matches_text(&found, query, &locale));
        }
        return Ok(0);
    }
    let id = found[0]["id"].clone();
    let mut view = engine.execute("customer.get", json!({ "customer": { "id": id } }))?;
    // The card stands without its reminders (say, a programme whose template no longer
    // renders): the reason goes to stderr.
    let due = match engage::due_of_customer(&engine, id.as_u64().unwrap_or_default(), None) {
        Ok(due) => Some(due),
        Err(failure) => {
            eprintln!(
                "{}",
                locale.fill(
                    Msg::RemindersNotShown,
                    &[
                        ("message", &failure.message),
                        ("code", failure.code.as_str())
                    ]
                )
            );
            None
        }
    };
    if json {
        view["due_reminders"] = json!(due);
        println!("{view}");
    } else {
        print!("{}", customer_card(&view, &locale));
        print!("{}", engage::card_sections(&view, due.as_deref(), &locale));
    }
    Ok(0)
}

/// Several customers match a query: who they are, to narrow it.
pub fn matches_text(found: &[Value], query: &str, locale: &Locale) -> String {
    let count = locale.count(found.len() as u64, Noun::Customer);
    let mut out = locale.fill(
        Msg::Matches,
        &[("n", &count), ("query", &format!("{query:?}"))],
    );
    out.push('\n');
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|c| {
            vec![
                cell(&c["id"]),
                cell(&c["full_name"]),
                cell(&c["phone"]),
                cell(&c["card"]),
                locale.tier(&c["tier"]),
                locale.value(&c["status"]),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            locale.t(Msg::Id),
            locale.t(Msg::Name),
            locale.t(Msg::Phone),
            locale.t(Msg::Card),
            locale.t(Msg::Tier),
            locale.t(Msg::Status),
        ],
        &rows,
    ));
    out
}

/// The card's head: profile, tier and balance, cars, last visits.
pub fn customer_card(view: &Value, locale: &Locale) -> String {
    let colour = output::colour_stdout();
    let c = &view["customer"];
    let mut out = String::new();
    out.push_str(&output::bold(
        &format!("{} (#{})", cell(&c["full_name"]), cell(&c["id"])),
        colour,
    ));
    out.push('\n');
    let mut items = profile(c, locale);
    if let Some(tier) = tier_text(&view["tier"], locale) {
        items.push((locale.t(Msg::Tier), tier));
    }
    balance_items(&view["balance"], locale, &mut items);
    out.push_str(&pairs(&items));
    out.push_str(&cars(view, locale, colour));
    out.push_str(&last_visits(view, locale, colour));
    out
}

fn profile(c: &Value, locale: &Locale) -> Vec<(&'static str, String)> {
    let mut items: Vec<(&'static str, String)> = Vec::new();
    for (label, key) in [
        (Msg::Card, "card"),
        (Msg::Phone, "phone"),
        (Msg::Email, "email"),
        (Msg::Birthday, "birthday"),
        (Msg::Kind, "kind"),
        (Msg::Status, "status"),
        (Msg::ExternalId, "external_id"),
        (Msg::Source, "source"),
        (Msg::Tags, "tags"),
        (Msg::Notes, "notes"),
        (Msg::Visits, "visits"),
        (Msg::TotalSpend, "total_spend"),
        (Msg::LastVisit, "last_visit"),
    ] {
        let value = match key {
            "birthday" | "last_visit" => locale.date_of(&c[key]),
            "visits" => locale.num(&c[key]),
            "total_spend" => locale.money(&c[key]),
            "kind" | "status" => locale.value(&c[key]),
            _ => cell(&c[key]),
        };
        if !value.is_empty() {
            items.push((locale.t(label), value));
        }
    }
    if c["blacklisted"] == json!(true) {
        items.push((locale.t(Msg::Blacklisted), cell(&c["blacklist_reason"])));
    }
    items
}

/// The tier by its display name, and what the next one needs.
fn tier_text(tier: &Value, locale: &Locale) -> Option<String> {
    if tier.is_null() {
        return None;
    }
    let name = cell(&tier["name"]);
    let mut text = if !name.is_empty() {
        name
    } else if !tier["code"].is_null() {
        locale.tier(&tier["code"])
    } else {
        locale.t(Msg::None_).to_string()
    };
    if !tier["next"].is_null() {
        let next = locale.tier(&tier["next"]);
        let spend = locale.money(&tier["spend_missing"]);
        let visits = locale.num(&tier["visits_missing"]);
        text.push_str(&format!(
            " ({})",
            locale.fill(
                Msg::TierNext,
                &[("tier", &next), ("spend", &spend), ("visits", &visits)]
            )
        ));
    }
    Some(text)
}

fn balance_items(balance: &Value, locale: &Locale, items: &mut Vec<(&'static str, String)>) {
    if balance.is_null() {
        return;
    }
    let number = |key: &str| locale.num(&balance[key]);
    items.push((
        locale.t(Msg::Points),
        locale.fill(
            Msg::Balance,
            &[
                ("available", &number("available")),
                ("money", &locale.money(&balance["available_money"])),
                ("pending", &number("pending")),
                ("held", &number("held")),
                ("total", &number("total")),
            ],
        ),
    ));
    let expiries: Vec<String> = balance["next_expiries"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|e| {
                    locale.fill(
                        Msg::ExpiringOn,
                        &[
                            ("points", &locale.num(&e["points"])),
                            ("date", &locale.date_of(&e["date"])),
                        ],
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if !expiries.is_empty() {
        items.push((locale.t(Msg::Expiring), expiries.join(", ")));
    }
}

fn cars(view: &Value, locale: &Locale, colour: bool) -> String {
    let vehicles = view["vehicles"].as_array().cloned().unwrap_or_default();
    if vehicles.is_empty() {
        return String::new();
    }
    let rows: Vec<Vec<String>> = vehicles
        .iter()
        .map(|v| {
            vec![
                cell(&v["plate"]),
                cell(&v["vin"]),
                cell(&v["make"]),
                cell(&v["model"]),
                cell(&v["year"]),
                locale.num(&v["mileage_km"]),
            ]
        })
        .collect();
    let mut out = format!("\n{}\n", output::bold(locale.t(Msg::Cars), colour));
    out.push_str(&table(
        &[
            locale.t(Msg::Plate),
            locale.t(Msg::Vin),
            locale.t(Msg::Make),
            locale.t(Msg::Model),
            locale.t(Msg::Year),
            locale.t(Msg::Km),
        ],
        &rows,
    ));
    out
}

fn last_visits(view: &Value, locale: &Locale, colour: bool) -> String {
    let visits = view["last_visits"].as_array().cloned().unwrap_or_default();
    if visits.is_empty() {
        return String::new();
    }
    let rows: Vec<Vec<String>> = visits
        .iter()
        .map(|v| {
            vec![
                locale.date_of(&v["date"]),
                cell(&v["order_id"]),
                locale.num(&v["net"]),
                locale.num(&v["points"]),
                locale.num(&v["accrual"]),
                locale.num(&v["mileage"]),
            ]
        })
        .collect();
    let mut out = format!("\n{}\n", output::bold(locale.t(Msg::LastVisits), colour));
    out.push_str(&table(
        &[
            locale.t(Msg::Date),
            locale.t(Msg::Order),
            locale.t(Msg::Net),
            locale.t(Msg::PaidPoints),
            locale.t(Msg::Earned),
            locale.t(Msg::Km),
        ],
        &rows,
    ));
    out
}
