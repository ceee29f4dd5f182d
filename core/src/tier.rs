//! Tiers and VIP status: evaluated from spend and visits over the programme's rolling
//! window after every visit and refund, and by the daily job as old visits leave
//! the window.

use crate::customer::{self, Customer};
use crate::error::Result;
use crate::program::{Program, Tier, TierCondition};
use crate::store::keys::{KeyBuilder, KeyReader, tag};
use crate::store::{Reader, WriteTxn};
use crate::visit;
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Spend and visits inside the tier window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowStats {
    /// Net spend in the window.
    pub spend: Decimal,
    /// Counted visits in the window.
    pub visits: u32,
}

/// Most visits of one customer looked at for a tier.
const WINDOW_VISITS_MAX: usize = 100_000;

/// Spend and visits of a customer in the window ending on `today`.
pub fn window_stats<R: Reader>(
    reader: &R,
    program: &Program,
    customer: u64,
    today: NaiveDate,
) -> Result<WindowStats> {
    let from = today - Duration::days(i64::from(program.tiers.window_days) - 1);
    let mut stats = WindowStats::default();
    let days = visit::visit_days(reader, customer)?;
    if days.complete_from.is_none_or(|complete| complete <= from) {
        let (first, last) = (from.num_days_from_ce(), today.num_days_from_ce());
        for (day, net, visits) in &days.days {
            if (first..=last).contains(day) {
                stats.spend += *net;
                stats.visits += *visits;
            }
        }
        return Ok(stats);
    }
    // The window reaches further back than the per-day record keeps (the programme's
    // window grew): count from the visit index.
    for (_, summary) in visit::summaries(reader, customer, from, today, WINDOW_VISITS_MAX)? {
        if summary.counted {
            stats.spend += summary.net;
            stats.visits += 1;
        }
    }
    Ok(stats)
}

/// Drop days that left the window from the per-day record (it stays complete from the
/// window's first day on).
fn prune_days(
    txn: &mut WriteTxn<'_>,
    program: &Program,
    customer: u64,
    today: NaiveDate,
) -> Result<()> {
    let from = today - Duration::days(i64::from(program.tiers.window_days) - 1);
    let mut days = visit::visit_days(txn, customer)?;
    let first = from.num_days_from_ce();
    if days.days.first().is_some_and(|(day, _, _)| *day < first) {
        days.days.retain(|(day, _, _)| *day >= first);
        days.complete_from = Some(days.complete_from.map_or(from, |c| c.max(from)));
        visit::save_visit_days(txn, customer, &days)?;
    }
    Ok(())
}

fn qualifies(tier: &Tier, stats: &WindowStats) -> bool {
    let spend = stats.spend >= tier.min_spend;
    let visits = stats.visits >= tier.min_visits;
    match tier.condition {
        TierCondition::All => spend && visits,
        TierCondition::Any => spend || visits,
    }
}

/// The highest tier the stats qualify for.
pub fn tier_for<'p>(program: &'p Program, stats: &WindowStats) -> Option<&'p Tier> {
    program
        .tiers
        .levels
        .iter()
        .rev()
        .find(|tier| qualifies(tier, stats))
}

/// The next tier above `current` and what is missing to reach it.
pub fn next_tier<'p>(
    program: &'p Program,
    current: Option<&str>,
    stats: &WindowStats,
) -> Option<(&'p Tier, Decimal, u32)> {
    let position =
        current.and_then(|code| program.tiers.levels.iter().position(|t| t.code == code));
    let next = match position {
        Some(index) => program.tiers.levels.get(index + 1)?,
        None => program.tiers.levels.first()?,
    };
    let spend_missing = (next.min_spend - stats.spend).max(Decimal::ZERO);
    let visits_missing = next.min_visits.saturating_sub(stats.visits);
    Some((next, spend_missing, visits_missing))
}

/// Index key: re-evaluate a customer's tier on `date` (a visit leaves the window).
pub fn review_key(date: NaiveDate, customer: u64) -> Vec<u8> {
    KeyBuilder::new(tag::TIER_REVIEW)
        .date(date)
        .u64(customer)
        .build()
}

/// Schedule a review for the day a visit of `visit_date` leaves the window.
pub fn schedule_review(
    txn: &mut WriteTxn<'_>,
    program: &Program,
    customer: u64,
    visit_date: NaiveDate,
) -> Result<()> {
    let leaves = visit_date + Duration::days(i64::from(program.tiers.window_days));
    txn.put(review_key(leaves, customer), &())
}

/// What made a tier change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MoveReason {
    /// A checkout (the visit records `tier_before` and `tier_after`).
    Visit,
    /// A refund took spend or a visit back.
    Refund,
    /// The daily review: old visits left the window.
    Review,
    /// Imported history.
    Import,
}

/// A tier change that no visit record shows, kept under its date and customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TierMove {
    /// Tier before (`None`: no tier).
    pub from: Option<String>,
    /// Tier after.
    pub to: Option<String>,
    /// Why.
    pub reason: MoveReason,
}

fn move_key(date: NaiveDate, customer: u64) -> Vec<u8> {
    KeyBuilder::new(tag::TIER_MOVE)
        .date(date)
        .u64(customer)
        .build()
}

/// One customer's recorded moves of one day: (key, date, customer, moves).
pub type DayMoves = (Vec<u8>, NaiveDate, u64, Vec<TierMove>);

/// Tier moves recorded (not by visits) dated `from..=to`, `chunk` keys at a time after
/// `after`: (key, date, customer, moves of that day).
pub fn recorded_moves<R: Reader>(
    reader: &R,
    (from, to): (NaiveDate, NaiveDate),
    after: Option<&[u8]>,
    chunk: usize,
) -> Result<Vec<DayMoves>> {
    let start = match after {
        Some(key) => {
            let mut next = key.to_vec();
            next.push(0);
            next
        }
        None => move_key(from, 0),
    };
    let end = move_key(to + Duration::days(1), 0);
    let mut out = Vec::new();
    for (key, moves) in reader.scan_range::<Vec<TierMove>>(&start, &end, chunk, false)? {
        let mut fields = KeyReader::of(&key, tag::TIER_MOVE, "tier moves")?;
        let date = fields.date()?;
        let customer = fields.u64()?;
        out.push((key, date, customer, moves));
    }
    Ok(out)
}

/// Re-evaluate tier and VIP; saves the customer when something changed, and, when the
/// tier changed for a `reason` other than a visit (whose record keeps both tiers), the
/// move under today's date in the same write.
/// Returns the tier before and after.
pub fn reevaluate(
    txn: &mut WriteTxn<'_>,
    program: &Program,
    customer: &mut Customer,
    today: NaiveDate,
    reason: MoveReason,
) -> Result<(Option<String>, Option<String>)> {
    let before = customer.tier.clone();
    prune_days(txn, program, customer.id, today)?;
    let stats = window_stats(txn, program, customer.id, today)?;
    let after = tier_for(program, &stats).map(|t| t.code.clone());
    let vip = match &program.discounts.vip {
        Some(rules) => {
            rules
                .min_total_spend
                .is_some_and(|s| customer.total_spend >= s)
                || rules.min_visits.is_some_and(|v| customer.visits >= v)
        }
        None => false,
    };
    // VIP cards are kept once granted: the seeds describe them as a status earned.
    let vip = vip || customer.vip;
    if after != before || vip != customer.vip {
        if after != before {
            customer.tier_since = Some(today);
            if reason != MoveReason::Visit {
                let key = move_key(today, customer.id);
                let mut moves: Vec<TierMove> = txn.get(&key)?.unwrap_or_default();
                moves.push(TierMove {
                    from: before.clone(),
                    to: after.clone(),
                    reason,
                });
                txn.put(key, &moves)?;
            }
        }
        customer.tier = after.clone();
        customer.vip = vip;
        customer::save(txn, customer)?;
    }
    Ok((before, after))
}
