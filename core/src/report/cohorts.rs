//! `report.cohorts`: retention by month of first visit (the cohort triangle).
//!
//! A cohort is the customers whose first visit (the group's, as on the customer record)
//! fell in a month of the period. `retained[k]` counts the cohort's customers with a
//! counted visit (at the branch, with `branch`) in the k-th month after the cohort's
//! month (k = 0 is the month itself), up to the period's last month, so later cohorts
//! have shorter rows: the triangle. `percent[k]` is `retained[k]` over `size`, the
//! cohort's customers (within the segment) — with a branch filter, those of them whose
//! first-month visit was at that branch. Customers who came before the period belong to
//! no cohort of it.

use super::{Briefs, Scope, Takes, month_label, months_between, percent};
use crate::context::Ctx;
use crate::error::Result;
use crate::store::Reader;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// One cohort's row of the triangle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CohortRow {
    /// `YYYY-MM` of the first visit.
    pub cohort: String,
    /// Customers of the cohort (those counted in its first month).
    pub size: u64,
    /// Customers with a visit in month 0, 1, 2… after the cohort's.
    pub retained: Vec<u64>,
    /// The same as percent of `size`, one decimal.
    pub percent: Vec<Decimal>,
}

/// `report.cohorts` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CohortsReport {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
    /// One row per month of the period with new customers, oldest first.
    pub rows: Vec<CohortRow>,
}

/// The cohort triangle of the period.
pub fn cohorts<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    args: &super::ReportArgs,
) -> Result<CohortsReport> {
    let scope: Scope = args.scope(
        reader,
        ctx,
        Takes {
            op: "report.cohorts",
            branch: None,
            top: None,
        },
    )?;
    let mut briefs = Briefs::default();
    // (cohort month's first day, offset) → customers; a month's customers are counted
    // once when the month ends, so only one month's set is held.
    let mut cells: BTreeMap<(NaiveDate, i64), u64> = BTreeMap::new();
    let mut month: Option<NaiveDate> = None;
    let mut seen: HashSet<u64> = HashSet::new();
    let mut flush =
        |seen: &mut HashSet<u64>, month: NaiveDate, briefs: &mut Briefs| -> Result<()> {
            for id in seen.drain() {
                let Some(first) = briefs.get(reader, &scope, id)?.first_visit else {
                    continue;
                };
                if first < scope.from || first > scope.to {
                    continue;
                }
                let cohort = first.with_day(1).unwrap_or(first);
                let offset = months_between(cohort, month);
                if offset >= 0 {
                    *cells.entry((cohort, offset)).or_default() += 1;
                }
            }
            Ok(())
        };
    scope.visits(reader, |date, _, dated| {
        if !dated.counted || !briefs.get(reader, &scope, dated.customer)?.admitted {
            return Ok(());
        }
        let this = date.with_day(1).unwrap_or(date);
        if month != Some(this) {
            if let Some(done) = month {
                flush(&mut seen, done, &mut briefs)?;
            }
            month = Some(this);
        }
        seen.insert(dated.customer);
        Ok(())
    })?;
    if let Some(done) = month {
        flush(&mut seen, done, &mut briefs)?;
    }
    let last = scope.to.with_day(1).unwrap_or(scope.to);
    Ok(CohortsReport {
        from: scope.from,
        to: scope.to,
        rows: triangle(&cells, last),
    })
}

/// The rows of the triangle from its cells ((cohort month, months later) → customers),
/// each cohort followed to the period's `last` month (missing cells are zero).
fn triangle(cells: &BTreeMap<(NaiveDate, i64), u64>, last: NaiveDate) -> Vec<CohortRow> {
    let mut cohorts: Vec<NaiveDate> = cells.keys().map(|(c, _)| *c).collect();
    cohorts.dedup();
    cohorts
        .into_iter()
        .map(|cohort| {
            let span = months_between(cohort, last);
            let retained: Vec<u64> = (0..=span)
                .map(|k| cells.get(&(cohort, k)).copied().unwrap_or(0))
                .collect();
            let size = retained.first().copied().unwrap_or(0);
            CohortRow {
                cohort: month_label(cohort),
                size,
                percent: retained.iter().map(|n| percent(*n, size)).collect(),
                retained,
            }
        })
        .collect()
}
