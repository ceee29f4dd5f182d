//! Reports for owners, one module per report. They read through bounded chunks of the
//! date index, the customers and the accounts, so memory stays proportional to the number
//! of distinct customers, not to the history.

//!
//! | operation | module | result |
//! |---|---|---|
//! | `report.activity` | `activity` | [`Activity`]: rows by month and a total |
//! | `report.points` | `points` | [`PointsReport`]: the liability now |
//! | `report.customers` | `customers` | [`CustomersReport`]: the month's most active customer, top N by spend and by visits |
//! | `report.pareto` | `pareto` | [`ParetoReport`]: the few customers who bring 80% of revenue |
//! | `report.lapsed` | `lapsed` | [`LapsedReport`]: RFM scores, usual interval, last visit of valuable customers gone quiet |
//! | `report.tiers` | `tiers` | [`TiersReport`]: customers per tier now, moves by month, direction and reason |
//! | `report.cohorts` | `cohorts` | [`CohortsReport`]: the retention triangle by month of first visit |
//! | `report.birthdays` | `birthdays` | [`BirthdaysReport`]: birthdays in a date range with consent per channel |
//! | `report.sources` | `sources` | [`SourcesReport`]: new customers and their revenue by acquisition source |
//! | `report.points_monthly` | `points_monthly` | [`PointsMonthly`]: points by month, liability at each month's end, what expires soon |
//! | `report.services` | `services` | [`ServicesReport`]: what sells, repeat purchases and their real interval |
//!
//! Every report after `report.points` takes [`ReportArgs`] (`from`, `to`, `branch`,
//! `segment`, `top`) and refuses, naming the field and the reason, a filter that does not
//! apply to it. Every result carries `rows` (typed, one struct per row) and its summary
//! figures as named fields; the shapes are those of the structs below, and front doors
//! (the dashboard, Python's `Report`) rely on them staying.

mod activity;
mod birthdays;
mod cohorts;
mod completeness;
mod customers;
mod lapsed;
mod pareto;
mod points;
mod points_monthly;
mod services;
mod sources;
mod tiers;

pub use activity::{Activity, ActivityRow, activity};
pub use birthdays::{BirthdayRow, BirthdaysReport, Consents, birthdays};
pub use cohorts::{CohortRow, CohortsReport, cohorts};
pub use completeness::{
    CompletenessArgs, CompletenessReport, FixRow, GenderRow, NameFixRow, RegistrarRow, completeness,
};
pub use customers::{CustomerRow, CustomersReport, MonthBest, customers};
pub use lapsed::{LapsedReport, LapsedRow, lapsed};
pub use pareto::{ParetoReport, ParetoRow, pareto};
pub use points::{PointsArgs, PointsReport, points};
pub use points_monthly::{ExpiringSoon, PointsMonth, PointsMonthly, points_monthly};
pub use services::{ServiceRow, ServicesReport, services};
pub use sources::{SourceRow, SourcesReport, sources};
pub use tiers::{TierCount, TierMoveRow, TiersReport, tiers};

use crate::context::Ctx;
use crate::customer::{self, Customer};
use crate::error::{Error, Result};
use crate::normalize;
use crate::segment::{self, Filter};
use crate::store::Reader;
use crate::store::keys::{KeyReader, tag};
use crate::visit::{self, DatedVisit};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

pub(crate) const CHUNK: usize = 4096;
/// Longest period of one report, in days.
pub const PERIOD_DAYS_MAX: i64 = 3660;

/// A period; both ends included.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodArgs {
    /// First local date.
    pub from: NaiveDate,
    /// Last local date.
    pub to: NaiveDate,
    /// Only the visits recorded at this branch (the group's other sites left out).
    #[serde(default)]
    pub branch: Option<String>,
}

impl PeriodArgs {
    pub(crate) fn check(&self) -> Result<()> {
        if self.to < self.from {
            return Err(Error::invalid(
                "to",
                format!("{} is before {}", self.to, self.from),
            ));
        }
        if (self.to - self.from).num_days() > PERIOD_DAYS_MAX {
            return Err(Error::invalid(
                "to",
                format!("a report covers at most {PERIOD_DAYS_MAX} days"),
            ));
        }
        Ok(())
    }
}

pub(crate) fn percent(part: u64, whole: u64) -> Decimal {
    if whole == 0 {
        return Decimal::new(0, 1);
    }
    normalize::exact_scale(
        (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole)).round_dp(1),
        1,
    )
}

/// A report whose figures belong to the whole group refuses a `branch` filter and says
/// why: a customer has one balance across the group's branches, so points on accounts
/// (and the referrals that paid them) are not any one branch's.
pub fn group_wide(op: &str, branch: Option<&str>) -> Result<()> {
    match branch {
        None => Ok(()),
        Some(_) => Err(Error::invalid(
            "branch",
            format!(
                "{op} covers the whole group: a customer has one balance shared by every branch; \
                 report.activity gives one branch's points accrued and redeemed"
            ),
        )),
    }
}

/// Most rows a `top` may ask for.
pub const TOP_MAX: usize = 1000;

/// Arguments of the owner's reports after `report.points`: a period (both ends included,
/// at most [`PERIOD_DAYS_MAX`] days), and the filters a report takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportArgs {
    /// First local date.
    pub from: NaiveDate,
    /// Last local date.
    pub to: NaiveDate,
    /// Only the visits recorded at this branch (reports whose figures are the group's
    /// refuse it and say why).
    #[serde(default)]
    pub branch: Option<String>,
    /// Only the customers a saved segment (`segment.save`) matches today.
    #[serde(default)]
    pub segment: Option<String>,
    /// How many rows a ranked list gives (1..=1000; each report has its default; reports
    /// that list every row refuse it).
    #[serde(default)]
    pub top: Option<usize>,
}

/// What a report does with the optional filters of [`ReportArgs`].
pub(crate) struct Takes {
    /// The operation, for messages.
    pub op: &'static str,
    /// `None`: takes `branch`; `Some(why)`: refuses it with this reason.
    pub branch: Option<&'static str>,
    /// `None`: lists every row, refuses `top`; `Some(n)`: the default of `top`.
    pub top: Option<usize>,
}

/// [`ReportArgs`] checked: the period, the branch code, the segment's filter, the row
/// count.
pub(crate) struct Scope {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub branch: Option<String>,
    pub segment: Option<Filter>,
    pub top: usize,
    pub today: NaiveDate,
}

impl ReportArgs {
    pub(crate) fn scope<R: Reader>(&self, reader: &R, ctx: &Ctx, takes: Takes) -> Result<Scope> {
        PeriodArgs {
            from: self.from,
            to: self.to,
            branch: None,
        }
        .check()?;
        let branch = match (&self.branch, takes.branch) {
            (None, _) => None,
            (Some(_), Some(why)) => {
                return Err(Error::invalid("branch", format!("{}: {why}", takes.op)));
            }
            (Some(code), None) => visit::branch_filter(Some(code))?.map(str::to_string),
        };
        let top = match (self.top, takes.top) {
            (None, default) => default.unwrap_or(0),
            (Some(_), None) => {
                return Err(Error::invalid(
                    "top",
                    format!("{} lists every row; top does not apply", takes.op),
                ));
            }
            (Some(n), Some(_)) if n == 0 || n > TOP_MAX => {
                return Err(Error::invalid("top", format!("must be 1..={TOP_MAX}")));
            }
            (Some(n), Some(_)) => n,
        };
        let segment = match &self.segment {
            None => None,
            Some(name) => Some(
                segment::load(reader, name)
                    .map_err(|err| {
                        if err.code == crate::error::ErrorCode::NotFound {
                            Error::invalid("segment", format!("no saved segment is named {name:?}"))
                        } else {
                            err
                        }
                    })?
                    .filter,
            ),
        };
        Ok(Scope {
            from: self.from,
            to: self.to,
            branch,
            segment,
            top,
            today: ctx.today,
        })
    }
}

impl Scope {
    /// Every visit of the period (of the branch, when one is given) in date order, a
    /// chunk at a time: `each(date, visit id, indexed figures)`.
    pub fn visits<R: Reader>(
        &self,
        reader: &R,
        mut each: impl FnMut(NaiveDate, u64, &DatedVisit) -> Result<()>,
    ) -> Result<()> {
        let mut after: Option<Vec<u8>> = None;
        loop {
            let chunk = visit::dated_visits(
                reader,
                self.branch.as_deref(),
                (self.from, self.to),
                after.as_deref(),
                CHUNK,
            )?;
            let Some((last, _, _)) = chunk.last() else {
                return Ok(());
            };
            after = Some(last.clone());
            for (key, date, dated) in &chunk {
                let table = match self.branch {
                    Some(_) => tag::VISIT_BY_BRANCH_DATE,
                    None => tag::VISIT_BY_DATE,
                };
                let id = KeyReader::of(key, table, "visit date index")?.last_u64()?;
                each(*date, id, dated)?;
            }
        }
    }

    /// Whether the segment (if any) takes this customer.
    pub fn admits<R: Reader>(&self, reader: &R, customer: &Customer) -> Result<bool> {
        match &self.segment {
            None => Ok(true),
            Some(filter) => filter.matches(reader, customer, self.today),
        }
    }
}

/// What reports keep of a customer they met: memory proportional to the customers of
/// the period, one load each.
#[derive(Debug, Clone)]
pub(crate) struct Brief {
    pub name: String,
    pub phone: Option<String>,
    pub first_visit: Option<NaiveDate>,
    pub source: Option<String>,
    /// Whether the report's segment takes them.
    pub admitted: bool,
}

/// Customers loaded once per report.
#[derive(Default)]
pub(crate) struct Briefs {
    known: HashMap<u64, Brief>,
}

impl Briefs {
    pub fn get<R: Reader>(&mut self, reader: &R, scope: &Scope, id: u64) -> Result<&Brief> {
        match self.known.entry(id) {
            std::collections::hash_map::Entry::Occupied(known) => Ok(known.into_mut()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let customer: Customer = customer::load(reader, id)?;
                Ok(slot.insert(Brief {
                    admitted: scope.admits(reader, &customer)?,
                    name: customer.full_name,
                    phone: customer.phone,
                    first_visit: customer.first_visit,
                    source: customer.source,
                }))
            }
        }
    }
}

/// `YYYY-MM` of a date.
pub(crate) fn month_label(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// First day of the month after `date`'s.
pub(crate) fn next_month(date: NaiveDate) -> NaiveDate {
    let (y, m) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MAX)
}

/// Months from `a`'s to `b`'s (0 for the same month).
pub(crate) fn months_between(a: NaiveDate, b: NaiveDate) -> i64 {
    i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month())
}

/// A percent of two decimals at one decimal place (0.0 when the whole is zero).
pub(crate) fn percent_of(part: Decimal, whole: Decimal) -> Decimal {
    if whole.is_zero() {
        return Decimal::new(0, 1);
    }
    normalize::exact_scale((part * Decimal::ONE_HUNDRED / whole).round_dp(1), 1)
}

/// The median of sorted whole days: the middle one, or the mean of the two middle ones
/// rounded down.
pub(crate) fn median_days(sorted: &[i64]) -> Option<i64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        Some(sorted[n / 2])
    } else {
        Some((sorted[n / 2 - 1] + sorted[n / 2]).div_euclid(2))
    }
}

/// The best `n` of `items` by `key`, best first, in memory of `n`.
pub(crate) fn top_n<K: Ord, T>(items: impl Iterator<Item = (K, T)>, n: usize) -> Vec<(K, T)> {
    let mut heap: BinaryHeap<Reverse<Keyed<K, T>>> = BinaryHeap::new();
    for (key, item) in items {
        heap.push(Reverse(Keyed(key, item)));
        if heap.len() > n {
            heap.pop();
        }
    }
    let mut out: Vec<(K, T)> = heap
        .into_iter()
        .map(|Reverse(Keyed(k, t))| (k, t))
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0));
    out
}

struct Keyed<K, T>(K, T);
impl<K: Ord, T> PartialEq for Keyed<K, T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<K: Ord, T> Eq for Keyed<K, T> {}
impl<K: Ord, T> PartialOrd for Keyed<K, T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<K: Ord, T> Ord for Keyed<K, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}
