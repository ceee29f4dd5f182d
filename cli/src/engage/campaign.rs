//! `campaign.report` laid out for a person.

use crate::locale::{Locale, Msg, Noun};
use crate::output::{cell, pairs};
use serde_json::Value;

/// `campaign.report` as a key/value block.
pub fn campaign_text(result: &Value, locale: &Locale) -> String {
    let l = locale;
    let c = &result["campaign"];
    let audience = if c["segment"].is_null() {
        let named = c["customers"].as_array().map_or(0, Vec::len) as u64;
        l.fill(
            Msg::CustomersNamed,
            &[("n", &l.count(named, Noun::Customer))],
        )
    } else {
        l.fill(Msg::Segment, &[("segment", &cell(&c["segment"]))])
    };
    let cost = l.money(&result["cost_per_customer"]);
    pairs(&[
        (
            l.t(Msg::Campaign),
            format!("#{} «{}»", cell(&c["id"]), cell(&c["name"])),
        ),
        (
            l.t(Msg::Period),
            format!(
                "{} – {}",
                l.date_of(&c["period"]["from"]),
                l.date_of(&c["period"]["to"])
            ),
        ),
        (
            l.t(Msg::Channel),
            format!("{}, {audience}", l.value(&c["channel"])),
        ),
        (l.t(Msg::Offer), cell(&c["offer"]["text"])),
        (l.t(Msg::Notified), l.num(&result["notified"])),
        (
            l.t(Msg::Came),
            format!(
                "{} ({}\u{a0}%)",
                l.num(&result["came"]),
                l.num(&result["conversion"])
            ),
        ),
        (l.t(Msg::Visits), l.num(&result["visits"])),
        (l.t(Msg::Revenue), l.money(&result["revenue"])),
        (l.t(Msg::Budget), l.money(&result["budget"])),
        (
            l.t(Msg::CostPerCustomer),
            if cost.is_empty() { "—".into() } else { cost },
        ),
        (l.t(Msg::PointsGranted), l.num(&result["points_spent"])),
        (l.t(Msg::PointsRedeemed), l.num(&result["points_redeemed"])),
    ])
}
