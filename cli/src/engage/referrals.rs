//! `report.referrals`: every page read, and laid out as a table with its totals.

use crate::Failure;
use crate::locale::{Locale, Msg, Noun};
use crate::output::{cell, table};
use pitstop_core::{Engine, ErrorCode};
use serde_json::{Value, json};

/// Page size asked of `report.referrals` (its maximum).
const REFERRALS_PAGE: usize = 1000;
/// Most pages of `report.referrals` read (a million referees).
const REFERRALS_PAGES_MAX: usize = 1_000;

/// Every page of `report.referrals` as one result: the rows of every page, and the
/// totals, which each page carries for the whole report.
pub fn referrals_all(engine: &Engine, referrer: Option<Value>) -> Result<Value, Failure> {
    let mut args = json!({ "limit": REFERRALS_PAGE });
    if let Some(referrer) = referrer {
        args["referrer"] = referrer;
    }
    let mut rows = Vec::new();
    for _ in 0..REFERRALS_PAGES_MAX {
        let page = engine.execute("report.referrals", args.clone())?;
        rows.extend(page["rows"].as_array().cloned().unwrap_or_default());
        if page["next"].is_null() {
            return Ok(
                json!({ "rows": rows, "referees": page["referees"], "rewarded": page["rewarded"],
                "points": page["points"], "revenue": page["revenue"] }),
            );
        }
        args["after"] = page["next"].clone();
    }
    Err(Failure::new(
        ErrorCode::TooLarge,
        format!("more than {REFERRALS_PAGES_MAX} pages of referrals"),
    ))
}

/// The referrals report as a table with its totals.
pub fn referrals_text(result: &Value, locale: &Locale) -> String {
    let l = locale;
    let rows: Vec<Vec<String>> = result["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let mut signup = l.value(&r["signup"]);
            let note = cell(&r["signup_note"]);
            if !note.is_empty() {
                signup = format!("{signup} ({note})");
            }
            vec![
                cell(&r["referrer_name"]),
                cell(&r["referee_name"]),
                l.date_of(&r["linked_on"]),
                signup,
                l.num(&r["rewarded_referrer"]),
                l.num(&r["rewarded_referee"]),
                r["cashback"]
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .map(|c| l.num(c))
                            .collect::<Vec<_>>()
                            .join(" / ")
                    })
                    .unwrap_or_default(),
                l.num(&r["referee_visits"]),
                l.money(&r["referee_revenue"]),
            ]
        })
        .collect();
    let mut out = table(
        &[
            l.t(Msg::Referrer),
            l.t(Msg::Referee),
            l.t(Msg::Linked),
            l.t(Msg::Signup),
            l.t(Msg::ReferrerPoints),
            l.t(Msg::RefereePoints),
            l.t(Msg::Cashback),
            l.t(Msg::Visits),
            l.t(Msg::Revenue),
        ],
        &rows,
    );
    let referees = l.count(result["referees"].as_u64().unwrap_or(0), Noun::Referee);
    let points = l.num(&result["points"]);
    let (rewarded, revenue) = (l.num(&result["rewarded"]), l.money(&result["revenue"]));
    out.push_str(&l.fill(
        Msg::ReferralsTotal,
        &[
            ("referees", &referees),
            ("rewarded", &rewarded),
            ("points", &points),
            ("revenue", &revenue),
        ],
    ));
    out.push('\n');
    out
}
