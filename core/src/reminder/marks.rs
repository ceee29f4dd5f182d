//! Marks: what the host did about a reminder (`reminders.mark`), one per stable reason
//! key, so nobody is reminded twice for one reason.

use crate::context::Ctx;
use crate::customer::Channel;
use crate::error::{Error, ErrorCode, Result};
use crate::program::reminder_rules::ReminderKind;
use crate::store::keys::{KeyBuilder, tag};
use crate::store::{Reader, WriteTxn};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What the host reports about a reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MarkStatus {
    /// Delivered: never due again.
    Sent,
    /// Delivery failed: it stays due (and says so).
    Failed,
    /// The customer declined, or the shop decided not to send: never due again.
    Declined,
}

/// The stored outcome of a reminder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReminderMark {
    /// Reason key.
    pub id: String,
    /// Latest status.
    pub status: MarkStatus,
    /// Channel used.
    pub channel: Option<Channel>,
    /// When marked.
    pub at: DateTime<Utc>,
    /// Local date marked.
    pub date: NaiveDate,
    /// Times marked (failed attempts count).
    pub attempts: u32,
}

pub(super) fn mark_key(id: &str) -> Vec<u8> {
    KeyBuilder::new(tag::REMINDER_MARK).str(id).build()
}

/// Longest reason key.
pub const ID_CHARS_MAX: usize = 128;

/// Arguments of `reminders.mark`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkArgs {
    /// The reminder's id (its reason key) from `reminders.due`.
    pub id: String,
    /// Outcome.
    pub status: MarkStatus,
    /// Channel used.
    #[serde(default)]
    pub channel: Option<Channel>,
}

/// `reminders.mark`.
pub fn mark(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: MarkArgs) -> Result<ReminderMark> {
    let id = args.id.trim();
    let kind = id.split(':').next().and_then(ReminderKind::from_name);
    if id.len() > ID_CHARS_MAX || kind.is_none() || id.contains('\0') || !id.contains(':') {
        return Err(Error::invalid(
            "id",
            format!(
                "'{}' is not a reminder id from reminders.due",
                id.chars().take(64).collect::<String>()
            ),
        ));
    }
    let previous: Option<ReminderMark> = txn.get(&mark_key(id))?;
    if let Some(previous) = &previous
        && previous.status != MarkStatus::Failed
    {
        if previous.status == args.status && previous.channel == args.channel {
            return Ok(previous.clone());
        }
        return Err(Error::new(
            ErrorCode::AlreadyExists,
            format!(
                "reminder {id} was already marked {:?} on {}",
                previous.status, previous.date
            )
            .to_lowercase(),
        )
        .with_details(json!({ "field": "id", "status": previous.status, "date": previous.date })));
    }
    let record = ReminderMark {
        id: id.to_string(),
        status: args.status,
        channel: args.channel,
        at: ctx.at,
        date: ctx.today,
        attempts: previous.map_or(0, |p| p.attempts).saturating_add(1),
    };
    txn.put(mark_key(id), &record)?;
    Ok(record)
}
