//! Reminders: who should be contacted on a date and why.

use chrono::{Datelike, NaiveDate};

/// `dd.mm.yyyy`, the way dates are written to Russian customers.
pub fn format_date(date: NaiveDate) -> String {
    format!("{:02}.{:02}.{}", date.day(), date.month(), date.year())
}
