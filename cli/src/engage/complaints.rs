//! `report.complaints` laid out for a person.

use crate::locale::{Locale, Msg};
use crate::output::{bold, cell, colour_stdout, pairs, table};
use serde_json::Value;

/// `report.complaints` as tables: totals, by employee, by month, the latest complaints.
pub fn complaints_text(result: &Value, locale: &Locale) -> String {
    let l = locale;
    let colour = colour_stdout();
    let mut out = String::new();
    out.push_str(&pairs(&[
        (
            l.t(Msg::Period),
            format!(
                "{} – {}",
                l.date_of(&result["from"]),
                l.date_of(&result["to"])
            ),
        ),
        (l.t(Msg::Complaints), l.num(&result["complaints"])),
    ]));
    let counts = [l.t(Msg::Complaints), l.t(Msg::Feedback), l.t(Msg::Rating)];
    for (title, first, key, column) in [
        (Msg::ByEmployee, Msg::Employee, "by_employee", "employee"),
        (Msg::ByMonth, Msg::Month, "by_month", "month"),
    ] {
        out.push('\n');
        out.push_str(&bold(l.t(title), colour));
        out.push('\n');
        let mut headers = vec![l.t(first)];
        headers.extend(counts);
        out.push_str(&table(&headers, &breakdown_rows(result, key, column, l)));
    }
    let latest = latest_rows(result, l);
    if !latest.is_empty() {
        out.push('\n');
        out.push_str(&bold(l.t(Msg::LatestComplaints), colour));
        out.push('\n');
        out.push_str(&table(
            &[
                l.t(Msg::Date),
                l.t(Msg::CustomerNo),
                l.t(Msg::Name),
                l.t(Msg::Phone),
                l.t(Msg::Car),
                l.t(Msg::Employee),
                l.t(Msg::Rating),
                l.t(Msg::Text),
            ],
            &latest,
        ));
    }
    out
}

/// The rows of one breakdown (`key`: by employee or by month), each named by its
/// `first` field: the name, complaints, feedback and average rating.
fn breakdown_rows(result: &Value, key: &str, first: &str, l: &Locale) -> Vec<Vec<String>> {
    result[key]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            // A month reads as a date; an employee's name passes through unchanged.
            let name = l.date_of(&r[first]);
            vec![
                if name.is_empty() { "—".into() } else { name },
                l.num(&r["complaints"]),
                l.num(&r["feedback"]),
                l.num(&r["average_rating"]),
            ]
        })
        .collect()
}

/// The latest complaints, one row each.
fn latest_rows(result: &Value, l: &Locale) -> Vec<Vec<String>> {
    result["latest"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            vec![
                l.date_of(&f["date"]),
                cell(&f["customer"]),
                cell(&f["customer_name"]),
                cell(&f["phone"]),
                cell(&f["plate"]),
                cell(&f["employee"]),
                l.num(&f["rating"]),
                cell(&f["text"]),
            ]
        })
        .collect()
}
