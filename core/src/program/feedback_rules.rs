//! The programme's feedback rules: which kinds of feedback a shop takes, and what a
//! review earns. Values only; `crate::feedback` records and reports feedback.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What kind of feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeedbackKind {
    /// A review (any rating).
    Review,
    /// A complaint.
    Complaint,
    /// Praise.
    Praise,
}

/// Feedback rules of the programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FeedbackRules {
    /// Points granted for feedback on a visit (once per visit); `null` = none.
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub bonus_points: Option<Decimal>,
    /// Kinds of feedback that earn the bonus.
    #[serde(default = "all_kinds")]
    pub bonus_kinds: Vec<FeedbackKind>,
    /// Days the bonus lives (default: the programme's expiry).
    #[serde(default)]
    pub bonus_expiry_days: Option<u32>,
}

fn all_kinds() -> Vec<FeedbackKind> {
    vec![
        FeedbackKind::Review,
        FeedbackKind::Complaint,
        FeedbackKind::Praise,
    ]
}

impl Default for FeedbackRules {
    fn default() -> Self {
        FeedbackRules {
            bonus_points: None,
            bonus_kinds: all_kinds(),
            bonus_expiry_days: None,
        }
    }
}

impl FeedbackRules {
    /// Add every problem to `problems`.
    pub fn validate(&self, scale: u32, problems: &mut Vec<String>) {
        if let Some(points) = self.bonus_points
            && (points <= Decimal::ZERO
                || points > Decimal::from(crate::program::BONUS_POINTS_MAX)
                || points.normalize().scale() > scale)
        {
            problems.push(
                "feedback.bonus_points must be positive, at most 1000000, on points.scale".into(),
            );
        }
        if self
            .bonus_expiry_days
            .is_some_and(|d| !(1..=3660).contains(&d))
        {
            problems.push("feedback.bonus_expiry_days must be 1..=3660".into());
        }
    }
}
