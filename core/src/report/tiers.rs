//! `report.tiers`: customers per tier now, and the moves between tiers in the period by
//! month, direction and reason.
//!
//! Where moves come from: a checkout's move is on its visit record (`tier_before`,
//! `tier_after`), for all history. Moves made by a refund, by the daily review (old
//! visits leaving the window) and by a history import are recorded with their date and
//! reason (`tier::TierMove`, in the same write as the change) from this version on;
//! earlier ones were recorded nowhere and are missing (the result says so in `note`).
//! Up and down follow the order of the current programme's tiers (no tier is below the
//! first); a move from or to a tier the programme no longer has is `changed`.
//!
//! The report is the group's (a customer has one tier across branches): `branch` is
//! refused.

use super::{CHUNK, Scope, Takes, month_label};
use crate::context::Ctx;
use crate::customer::Customer;
use crate::error::Result;
use crate::program::Program;
use crate::store::Reader;
use crate::store::keys::{self, KeyBuilder, tag};
use crate::tier::{self, MoveReason};
use crate::visit;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Customers in one tier now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TierCount {
    /// Tier code (`None`: no tier).
    pub tier: Option<String>,
    /// Its name in the programme (empty when unknown or no tier).
    pub name: String,
    /// Active customers in it now.
    pub customers: u64,
}

/// Moves of one kind in one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TierMoveRow {
    /// `YYYY-MM`.
    pub month: String,
    /// Tier before (`None`: no tier).
    pub from_tier: Option<String>,
    /// Tier after.
    pub to_tier: Option<String>,
    /// `up`, `down` or `changed` (a tier the programme no longer has).
    pub direction: String,
    /// `visit`, `refund`, `review` or `import`.
    pub reason: MoveReason,
    /// How many moves.
    pub moves: u64,
}

/// `report.tiers` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TiersReport {
    /// First date of the moves.
    pub from: NaiveDate,
    /// Last date of the moves.
    pub to: NaiveDate,
    /// Customers per tier now, in the programme's order, no tier first.
    pub tiers: Vec<TierCount>,
    /// Moves by month, then tier before, tier after, reason.
    pub rows: Vec<TierMoveRow>,
    /// Moves up in the period.
    pub up: u64,
    /// Moves down in the period.
    pub down: u64,
    /// Where the moves come from and what is missing.
    pub note: String,
}

type MoveKey = (String, Option<String>, Option<String>, MoveReason);

fn level(program: Option<&Program>, code: &Option<String>) -> Option<i64> {
    match code {
        None => Some(-1),
        Some(code) => program?
            .tiers
            .levels
            .iter()
            .position(|t| &t.code == code)
            .map(|i| i as i64),
    }
}

fn direction(
    program: Option<&Program>,
    from: &Option<String>,
    to: &Option<String>,
) -> &'static str {
    match (level(program, from), level(program, to)) {
        (Some(a), Some(b)) if b > a => "up",
        (Some(a), Some(b)) if b < a => "down",
        _ => "changed",
    }
}

/// Active customers per tier now (within the segment), in the programme's order with
/// no tier first and codes the programme no longer has last; and, with a segment, who
/// it takes (for the moves).
fn counts_now<R: Reader>(
    reader: &R,
    scope: &Scope,
    program: Option<&Program>,
) -> Result<(Vec<TierCount>, HashMap<u64, bool>)> {
    let mut admitted: HashMap<u64, bool> = HashMap::new();
    let mut counts: BTreeMap<Option<String>, u64> = BTreeMap::new();
    let prefix = KeyBuilder::new(tag::CUSTOMER).build();
    let end = keys::prefix_end(&prefix);
    let mut start = prefix;
    loop {
        let chunk = reader.scan_range::<Customer>(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else { break };
        let mut next = last.clone();
        next.push(0);
        for (_, customer) in &chunk {
            let takes = scope.admits(reader, customer)?;
            if scope.segment.is_some() {
                admitted.insert(customer.id, takes);
            }
            if takes && customer.status == crate::customer::CustomerStatus::Active {
                *counts.entry(customer.tier.clone()).or_default() += 1;
            }
        }
        start = next;
    }
    let mut tiers = vec![TierCount {
        tier: None,
        name: String::new(),
        customers: counts.remove(&None).unwrap_or(0),
    }];
    for t in program.map_or(&[][..], |p| &p.tiers.levels[..]) {
        tiers.push(TierCount {
            tier: Some(t.code.clone()),
            name: t.name.clone(),
            customers: counts.remove(&Some(t.code.clone())).unwrap_or(0),
        });
    }
    tiers.extend(counts.into_iter().map(|(code, n)| TierCount {
        tier: code,
        name: String::new(),
        customers: n,
    }));
    Ok((tiers, admitted))
}

/// The moves of the period: checkouts' from the visits, the others as recorded.
fn moves<R: Reader>(
    reader: &R,
    scope: &Scope,
    takes: impl Fn(u64) -> bool,
) -> Result<BTreeMap<MoveKey, u64>> {
    let mut moves: BTreeMap<MoveKey, u64> = BTreeMap::new();
    scope.visits(reader, |date, id, dated| {
        if !takes(dated.customer) {
            return Ok(());
        }
        let visit = visit::load(reader, id)?;
        if visit.tier_before != visit.tier_after {
            let key = (
                month_label(date),
                visit.tier_before,
                visit.tier_after,
                MoveReason::Visit,
            );
            *moves.entry(key).or_default() += 1;
        }
        Ok(())
    })?;
    let mut after: Option<Vec<u8>> = None;
    loop {
        let chunk = tier::recorded_moves(reader, (scope.from, scope.to), after.as_deref(), CHUNK)?;
        let Some((last, ..)) = chunk.last() else {
            break;
        };
        after = Some(last.clone());
        for (_, date, customer, day) in chunk {
            if !takes(customer) {
                continue;
            }
            for m in day {
                *moves
                    .entry((month_label(date), m.from, m.to, m.reason))
                    .or_default() += 1;
            }
        }
    }
    Ok(moves)
}

/// Customers per tier now and the moves of the period.
pub fn tiers<R: Reader>(reader: &R, ctx: &Ctx, args: &super::ReportArgs) -> Result<TiersReport> {
    let scope: Scope = args.scope(
        reader,
        ctx,
        Takes {
            op: "report.tiers",
            branch: Some("a customer has one tier across the group's branches"),
            top: None,
        },
    )?;
    let program = ctx.program.as_deref();
    let (tiers, admitted) = counts_now(reader, &scope, program)?;
    let takes = |id: u64| scope.segment.is_none() || admitted.get(&id).copied().unwrap_or(false);
    let (mut up, mut down) = (0, 0);
    let rows: Vec<TierMoveRow> = moves(reader, &scope, takes)?
        .into_iter()
        .map(|((month, from, to, reason), n)| {
            let direction = direction(program, &from, &to);
            match direction {
                "up" => up += n,
                "down" => down += n,
                _ => {}
            }
            TierMoveRow {
                month,
                direction: direction.to_string(),
                from_tier: from,
                to_tier: to,
                reason,
                moves: n,
            }
        })
        .collect();
    Ok(TiersReport {
        from: scope.from,
        to: scope.to,
        tiers,
        rows,
        up,
        down,
        note: "moves at checkout come from the visits' records for all history; moves by \
               refunds, the daily review and imports are recorded since report.tiers exists \
               (issue 16), earlier ones are not in the store"
            .to_string(),
    })
}
