//! Bringing customers back, on the command line: `pitstop reminders` (today's list as a
//! table, CSV for an SMS gateway or JSON, and marking what was sent), the customer card's
//! engagement sections, and the tables of `report.complaints`, `report.referrals` and
//! `campaign.report`.
//!
//! Thin like the rest: every figure comes from an operation; this module only pages
//! through results and lays them out.

mod campaign;
mod card_sections;
mod complaints;
mod marking;
mod referrals;
mod reminders;

pub use campaign::campaign_text;
pub use card_sections::card_sections;
pub use complaints::complaints_text;
pub use marking::{Status, mark};
pub use referrals::{referrals_all, referrals_text};
pub use reminders::{Filter, Format, by_kind, due_all, due_of_customer, list};
