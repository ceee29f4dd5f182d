//! `report.lapsed`: valuable customers who stopped coming, with their RFM scores.
//!
//! Everybody with a visit in the period (within the segment) gets three scores from 1 to
//! 5, by rank among them: recency (days from the last visit to `to`; fewer is better),
//! frequency (counted visits in the period) and money (net revenue in the period). A
//! customer's score is 1 + ⌊5 × (customers strictly worse) / (customers)⌋, so ties share
//! a score and the best fifth gets 5.
//!
//! The rule: a customer is lapsed when they are valuable (money score 4 or 5), came at
//! least twice in the period on different days (so their usual interval is known: the
//! median of the days between consecutive visit days, the mean of the two middle ones
//! rounded down when their number is even), and the days since their last visit exceed
//! the usual interval × the programme's lapsed factor (`reminders.lapsed.factor`, 1.5
//! without one). The result states the rule with the factor used.

use super::{Briefs, Scope, Takes, median_days};
use crate::context::Ctx;
use crate::error::Result;
use crate::normalize;
use crate::store::Reader;
use crate::visit;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Most visits of one customer read for their usual interval.
const CUSTOMER_VISITS_MAX: usize = 100_000;
/// Lowest money score of a valuable customer.
pub const VALUABLE_MONEY_SCORE: u8 = 4;

/// One lapsed customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LapsedRow {
    /// Customer id.
    pub customer: u64,
    /// Full name.
    pub name: String,
    /// Phone.
    pub phone: Option<String>,
    /// Last visit.
    pub last_visit: NaiveDate,
    /// Days from the last visit to `to`.
    pub days_since: i64,
    /// Median days between their visit days.
    pub usual_interval_days: i64,
    /// Counted visits in the period.
    pub visits: u64,
    /// Net revenue in the period.
    pub revenue: Decimal,
    /// Recency score 1..=5.
    pub recency: u8,
    /// Frequency score 1..=5.
    pub frequency: u8,
    /// Money score 1..=5.
    pub money: u8,
    /// The three scores as `RFM` digits (`545`).
    pub rfm: String,
}

/// `report.lapsed` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LapsedReport {
    /// First date.
    pub from: NaiveDate,
    /// Last date (recency is counted to it).
    pub to: NaiveDate,
    /// The rule, in words, with the factor used.
    pub rule: String,
    /// The lapsed factor used.
    pub factor: Decimal,
    /// Customers scored (a visit in the period).
    pub customers: u64,
    /// Of them, valuable (money score 4 or 5).
    pub valuable: u64,
    /// Of them, lapsed.
    pub lapsed: u64,
    /// Revenue the lapsed customers brought in the period.
    pub lapsed_revenue: Decimal,
    /// The lapsed, by revenue (then id), at most `top`.
    pub rows: Vec<LapsedRow>,
}

#[derive(Clone, Copy)]
struct Tally {
    visits: u64,
    revenue: Decimal,
    last: NaiveDate,
}

/// Scores 1..=5 of `values` (larger is better), by rank: 1 + ⌊5 × worse / n⌋.
pub(crate) fn quintile_scores<K: Ord + Copy>(values: &[K]) -> Vec<u8> {
    let mut sorted: Vec<K> = values.to_vec();
    sorted.sort();
    let n = sorted.len();
    values
        .iter()
        .map(|v| {
            let worse = sorted.partition_point(|x| x < v);
            (1 + (5 * worse) / n.max(1)).min(5) as u8
        })
        .collect()
}

/// Counted visits, revenue and last visit of each customer with a counted visit in
/// the period (within the segment), by id.
fn tallies<R: Reader>(reader: &R, scope: &Scope, briefs: &mut Briefs) -> Result<Vec<(u64, Tally)>> {
    let mut tallies: HashMap<u64, Tally> = HashMap::new();
    scope.visits(reader, |date, _, dated| {
        if !briefs.get(reader, scope, dated.customer)?.admitted {
            return Ok(());
        }
        let t = tallies.entry(dated.customer).or_insert(Tally {
            visits: 0,
            revenue: Decimal::ZERO,
            last: date,
        });
        if dated.counted {
            t.visits += 1;
            t.last = t.last.max(date);
        }
        t.revenue += dated.net;
        Ok(())
    })?;
    // Customers whose every visit of the period was refunded have not come.
    let mut people: Vec<(u64, Tally)> = tallies.into_iter().filter(|(_, t)| t.visits > 0).collect();
    people.sort_by_key(|(id, _)| *id);
    Ok(people)
}

/// Each customer's recency, frequency and money scores (1–5, by rank among the period's
/// customers), in the order of `people`.
fn rfm_scores(people: &[(u64, Tally)], to: NaiveDate) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let recency = quintile_scores(
        &people
            .iter()
            .map(|(_, t)| -(to - t.last).num_days())
            .collect::<Vec<_>>(),
    );
    let frequency = quintile_scores(&people.iter().map(|(_, t)| t.visits).collect::<Vec<_>>());
    let money = quintile_scores(&people.iter().map(|(_, t)| t.revenue).collect::<Vec<_>>());
    (recency, frequency, money)
}

/// Valuable customers gone quiet, with RFM scores and usual intervals.
pub fn lapsed<R: Reader>(reader: &R, ctx: &Ctx, args: &super::ReportArgs) -> Result<LapsedReport> {
    let scope: Scope = args.scope(
        reader,
        ctx,
        Takes {
            op: "report.lapsed",
            branch: Some(
                "a customer who moved to another branch of the group has not stopped coming; \
                 the report looks at the group's visits",
            ),
            top: Some(100),
        },
    )?;
    let factor = ctx
        .program
        .as_deref()
        .and_then(|p| p.reminders.lapsed.as_ref())
        .map_or(Decimal::new(15, 1), |l| l.factor);
    let mut briefs = Briefs::default();
    let people = tallies(reader, &scope, &mut briefs)?;
    let (recency, frequency, money) = rfm_scores(&people, scope.to);
    let mut valuable = 0u64;
    let mut found: Vec<LapsedRow> = Vec::new();
    for (i, (id, t)) in people.iter().enumerate() {
        if money[i] < VALUABLE_MONEY_SCORE {
            continue;
        }
        valuable += 1;
        if t.visits < 2 {
            continue;
        }
        let Some(usual) = usual_interval(reader, *id, scope.from, scope.to)? else {
            continue;
        };
        let days_since = (scope.to - t.last).num_days();
        if Decimal::from(days_since) <= Decimal::from(usual) * factor {
            continue;
        }
        let brief = briefs.get(reader, &scope, *id)?;
        found.push(LapsedRow {
            customer: *id,
            name: brief.name.clone(),
            phone: brief.phone.clone(),
            last_visit: t.last,
            days_since,
            usual_interval_days: usual,
            visits: t.visits,
            revenue: normalize::money(t.revenue),
            recency: recency[i],
            frequency: frequency[i],
            money: money[i],
            rfm: format!("{}{}{}", recency[i], frequency[i], money[i]),
        });
    }
    found.sort_by(|a, b| b.revenue.cmp(&a.revenue).then(a.customer.cmp(&b.customer)));
    let lapsed_revenue = normalize::money(found.iter().map(|r| r.revenue).sum());
    let lapsed = found.len() as u64;
    found.truncate(scope.top);
    Ok(LapsedReport {
        from: scope.from,
        to: scope.to,
        rule: format!(
            "money score ≥ {VALUABLE_MONEY_SCORE}, at least two visit days in the period, and \
             days since the last visit > usual interval (median days between visit days) × {factor}"
        ),
        factor,
        customers: people.len() as u64,
        valuable,
        lapsed,
        lapsed_revenue,
        rows: found,
    })
}

/// The median of days between a customer's consecutive counted visit days in the
/// period; `None` with fewer than two visit days.
fn usual_interval<R: Reader>(
    reader: &R,
    customer: u64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<i64>> {
    let mut days: Vec<NaiveDate> =
        visit::summaries(reader, customer, from, to, CUSTOMER_VISITS_MAX)?
            .into_iter()
            .filter(|(_, s)| s.counted)
            .map(|(d, _)| d)
            .collect();
    days.dedup();
    let mut gaps: Vec<i64> = days.windows(2).map(|w| (w[1] - w[0]).num_days()).collect();
    gaps.sort_unstable();
    Ok(median_days(&gaps))
}
