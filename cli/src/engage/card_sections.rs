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
    let cars = CarNames::of(view);
    let mut sections = vec![
        open_recommendations(view, &cars, locale),
        tyre_storage(view, &cars, locale),
        special_orders(view, &cars, locale),
    ];
    if let Some(due) = due {
        sections.push(reminders_today(due, locale));
    }
    let mut out = String::new();
    // A section with nothing in it is left out, title and all.
    for section in sections.iter().filter(|s| !s.rows.is_empty()) {
        out.push('\n');
        out.push_str(&bold(section.title, colour));
        out.push('\n');
        out.push_str(&table(&section.headers, &section.rows));
    }
    out
}

/// One titled table of the card.
struct Section {
    title: &'static str,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

/// The customer's cars by id, each named by its plate (make and model without one).
struct CarNames(BTreeMap<u64, String>);

impl CarNames {
    fn of(view: &Value) -> CarNames {
        let names = view["vehicles"]
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
        CarNames(names)
    }

    /// The name of the car a record points at; empty when it is none of the customer's.
    fn name(&self, vehicle: &Value) -> String {
        vehicle
            .as_u64()
            .and_then(|id| self.0.get(&id).cloned())
            .unwrap_or_default()
    }
}

/// The records of one list of the card view.
fn records<'v>(view: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    view[key].as_array().into_iter().flatten()
}

fn open_recommendations(view: &Value, cars: &CarNames, l: &Locale) -> Section {
    Section {
        title: l.t(Msg::OpenRecommendations),
        headers: vec![
            l.t(Msg::Work),
            l.t(Msg::Urgency),
            l.t(Msg::Price),
            l.t(Msg::Since),
            l.t(Msg::Car),
            l.t(Msg::Advisor),
        ],
        rows: records(view, "open_recommendations")
            .map(|r| {
                vec![
                    cell(&r["work"]),
                    l.value(&r["urgency"]),
                    l.money(&r["price"]),
                    l.date_of(&r["date"]),
                    cars.name(&r["vehicle"]),
                    cell(&r["advisor"]),
                ]
            })
            .collect(),
    }
}

fn tyre_storage(view: &Value, cars: &CarNames, l: &Locale) -> Section {
    Section {
        title: l.t(Msg::TyreStorage),
        headers: vec![
            l.t(Msg::Season),
            l.t(Msg::Items),
            l.t(Msg::Location),
            l.t(Msg::Since),
            l.t(Msg::Car),
        ],
        rows: records(view, "tyre_storage")
            .map(|s| {
                vec![
                    l.value(&s["season"]),
                    cell(&s["items"]),
                    cell(&s["location"]),
                    l.date_of(&s["checked_in"]),
                    cars.name(&s["vehicle"]),
                ]
            })
            .collect(),
    }
}

fn special_orders(view: &Value, cars: &CarNames, l: &Locale) -> Section {
    Section {
        title: l.t(Msg::SpecialOrders),
        headers: vec![
            l.t(Msg::Part),
            l.t(Msg::Qty),
            l.t(Msg::Status),
            l.t(Msg::Ordered),
            l.t(Msg::Expected),
            l.t(Msg::Arrived),
            l.t(Msg::Car),
        ],
        rows: records(view, "special_orders")
            .map(|o| {
                vec![
                    cell(&o["part"]),
                    l.num(&o["qty"]),
                    l.value(&o["status"]),
                    l.date_of(&o["ordered_on"]),
                    l.date_of(&o["expected"]),
                    l.date_of(&o["arrived_on"]),
                    cars.name(&o["vehicle"]),
                ]
            })
            .collect(),
    }
}

fn reminders_today(due: &[Value], l: &Locale) -> Section {
    Section {
        title: l.t(Msg::RemindersToday),
        headers: vec![
            "id",
            l.t(Msg::ReminderKind),
            l.t(Msg::Due),
            l.t(Msg::Channels),
            l.t(Msg::Text),
        ],
        rows: due
            .iter()
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
    }
}
