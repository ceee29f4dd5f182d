//! What a plugin did in one operation, as recorded on the visit: its applied effects,
//! whether it ran or was skipped, and why. Values only, so a visit record can hold them
//! without knowing how plugins are run.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Who a plugin's message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Audience {
    /// Shown to the cashier or service advisor.
    Cashier,
    /// To be read out or printed for the customer.
    Customer,
}

/// An effect as applied (recorded on the visit and shown in the quote).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AppliedEffect {
    /// A discount on one line.
    LineDiscount {
        /// Line index.
        line: u32,
        /// Percent asked for, if given as a percent.
        percent: Option<Decimal>,
        /// Money asked for.
        requested: Decimal,
        /// Money applied (less when capped by the line or beaten by an exclusive one).
        applied: Decimal,
        /// Does not combine with other discounts on the line.
        exclusive: bool,
        /// Why.
        reason: Option<String>,
    },
    /// A discount on the whole basket.
    BasketDiscount {
        /// Percent asked for, if given as a percent.
        percent: Option<Decimal>,
        /// Money asked for.
        requested: Decimal,
        /// Money applied.
        applied: Decimal,
        /// The only basket discount.
        exclusive: bool,
        /// Why.
        reason: Option<String>,
    },
    /// Bonus points credited as their own lot.
    BonusPoints {
        /// Points.
        points: Decimal,
        /// Last day they may be used.
        expires_on: Option<NaiveDate>,
        /// Why (shown in the statement).
        reason: String,
        /// Lot created at commit.
        lot: Option<u64>,
    },
    /// Accrual multiplied (0 = no points for this visit).
    Accrual {
        /// Factor.
        multiplier: Decimal,
        /// Why.
        reason: Option<String>,
    },
    /// A message.
    Message {
        /// For whom.
        to: Audience,
        /// Text.
        text: String,
    },
    /// Tags added to the customer at commit.
    AddTags {
        /// Tags (lower-cased).
        tags: Vec<String>,
    },
    /// A reminder to schedule. Stored on the visit; `reminders.due` lists it on its day
    /// (kind `promotion`).
    Reminder {
        /// Stable kind (`tyre_season`, `service_due`, ...).
        kind: String,
        /// When it is due.
        due_on: NaiveDate,
        /// Text for the message.
        text: Option<String>,
    },
}

/// Whether a plugin's effects were applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OutcomeStatus {
    /// It ran and its effects were applied (possibly none).
    Applied,
    /// It failed and `on_error` is `skip`: the operation went on without it.
    Skipped,
}

/// A failure recorded on an outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutcomeError {
    /// Stable error code.
    pub code: String,
    /// Message.
    pub message: String,
}

/// What one plugin did in one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PluginOutcome {
    /// Plugin name.
    pub plugin: String,
    /// sha256 of its module.
    pub sha256: String,
    /// Applied or skipped.
    pub status: OutcomeStatus,
    /// The failure, when skipped.
    pub error: Option<OutcomeError>,
    /// Effects, as applied.
    pub effects: Vec<AppliedEffect>,
    /// Instructions used.
    pub fuel_used: u64,
    /// Log lines (returned to the caller, not stored on the visit).
    pub log: Vec<String>,
}
