//! The customer card's engagement sections: open recommendations, tyres in storage,
//! special orders and the reminders due today.

use crate::locale::{Locale, Msg};
use crate::output::{bold, cell, colour_stdout, table};
use serde_json::Value;
use std::collections::BTreeMap;

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
