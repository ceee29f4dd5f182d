//! `report.activity`: visits, customers, new and returning, revenue and points by month.

use super::{CHUNK, PeriodArgs, percent};
use crate::aggregate::{self, DayCell, Scope, Served};
use crate::context::Ctx;
use crate::customer::{self, Customer};
use crate::error::{Error, Result};
use crate::normalize;
use crate::store::Reader;
use crate::visit;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One month of activity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActivityRow {
    /// `YYYY-MM`.
    pub month: String,
    /// Counted visits.
    pub visits: u64,
    /// Distinct customers served.
    pub customers: u64,
    /// Of them, customers whose first visit was before the month.
    pub returning_customers: u64,
    /// returning / customers, in percent.
    pub returning_share: Decimal,
    /// Customers whose first visit fell in the month.
    pub new_customers: u64,
    /// Net revenue (after discounts and refunds, including the part paid with points).
    pub revenue: Decimal,
    /// revenue / visits.
    pub average_check: Decimal,
    /// Points that paid.
    pub points_redeemed: Decimal,
    /// Points earned on visits.
    pub points_accrued: Decimal,
}

/// `report.activity` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Activity {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
    /// One row per month.
    pub rows: Vec<ActivityRow>,
    /// The whole period.
    pub total: ActivityRow,
}

#[derive(Default)]
struct Accumulator {
    visits: u64,
    /// Customers of the counted visits; [`Accumulator::distinct`] makes it a set. Sorting a
    /// vector now and then is several times cheaper than a set insert per visit, and
    /// sorting whenever it doubles keeps it within twice the distinct customers.
    customers: Vec<u64>,
    /// Length at which `customers` is next made distinct.
    distinct_at: usize,
    revenue: Decimal,
    points: Decimal,
    accrual: Decimal,
}

impl Accumulator {
    fn add(&mut self, dated: &visit::DatedVisit) {
        self.visits += 1;
        self.customers.push(dated.customer);
        if self.customers.len() >= self.distinct_at {
            self.distinct();
            self.distinct_at = (2 * self.customers.len()).max(CHUNK);
        }
        self.revenue += dated.net;
        self.points += dated.points;
        self.accrual += dated.accrual;
    }

    fn distinct(&mut self) {
        self.customers.sort_unstable();
        self.customers.dedup();
    }
}

/// Customers served, returning share, average check, revenue and points by month: from
/// the day cells (one read per day of the period), or, in a store whose cells are not
/// built yet, from a scan of the period's visits.
pub fn activity<R: Reader>(reader: &R, ctx: &Ctx, args: &PeriodArgs) -> Result<Activity> {
    args.check()?;
    if aggregate::ready(reader)? {
        from_cells(reader, args)
    } else {
        scanned(reader, ctx, args)
    }
}

/// Sums of a span of day cells.
#[derive(Default)]
struct Sums {
    visits: u64,
    revenue: Decimal,
    points: Decimal,
    accrual: Decimal,
}

impl Sums {
    fn of(cells: &[(NaiveDate, DayCell)]) -> Sums {
        let mut sums = Sums::default();
        for (_, cell) in cells {
            sums.visits += cell.visits;
            sums.revenue += cell.revenue;
            sums.points += cell.points;
            sums.accrual += cell.accrual;
        }
        sums
    }

    fn row(&self, label: String, served: Served) -> ActivityRow {
        ActivityRow {
            month: label,
            visits: self.visits,
            customers: served.customers,
            returning_customers: served.returning,
            returning_share: percent(served.returning, served.customers),
            new_customers: served.new,
            revenue: normalize::money(self.revenue),
            average_check: if self.visits == 0 {
                normalize::money(Decimal::ZERO)
            } else {
                normalize::money(self.revenue / Decimal::from(self.visits))
            },
            points_redeemed: self.points,
            points_accrued: self.accrual,
        }
    }
}

fn from_cells<R: Reader>(reader: &R, args: &PeriodArgs) -> Result<Activity> {
    let branch = crate::visit::branch_filter(args.branch.as_deref())?;
    let cells = aggregate::cells(reader, &Scope::of(branch), (args.from, args.to))?;
    let mut rows = Vec::new();
    let mut rest = cells.as_slice();
    while let Some((first, _)) = rest.first() {
        let month = (first.year(), first.month());
        let split = rest.partition_point(|(d, _)| (d.year(), d.month()) == month);
        let (days, after) = rest.split_at(split);
        rest = after;
        let sums = Sums::of(days);
        if sums.visits == 0 {
            continue;
        }
        let start = NaiveDate::from_ymd_opt(month.0, month.1, 1)
            .ok_or_else(|| Error::internal("bad month"))?;
        let end = super::next_month(start).pred_opt().unwrap_or(start);
        let span = (start.max(args.from), end.min(args.to));
        let label = format!("{:04}-{:02}", month.0, month.1);
        rows.push(sums.row(label, aggregate::served(days, span)));
    }
    let label = format!("{}..{}", args.from, args.to);
    let total = Sums::of(&cells).row(label, aggregate::served(&cells, (args.from, args.to)));
    Ok(Activity {
        from: args.from,
        to: args.to,
        rows,
        total,
    })
}

/// The same figures from a scan of the period's visits (a store without day cells; the
/// tests' second opinion).
pub(crate) fn scanned<R: Reader>(reader: &R, _ctx: &Ctx, args: &PeriodArgs) -> Result<Activity> {
    let branch = crate::visit::branch_filter(args.branch.as_deref())?;
    let (months, total) = tally_months(reader, branch, (args.from, args.to))?;
    let mut first_visits: HashMap<u64, Option<NaiveDate>> = HashMap::new();
    for id in &total.customers {
        let customer: Customer = customer::load(reader, *id)?;
        first_visits.insert(*id, customer.first_visit);
    }
    let mut rows = Vec::new();
    for ((year, month), acc) in &months {
        let start = NaiveDate::from_ymd_opt(*year, *month, 1)
            .ok_or_else(|| Error::internal("bad month"))?;
        let next = if *month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(*year, month + 1, 1)
        };
        let end = next
            .ok_or_else(|| Error::internal("bad month"))?
            .pred_opt()
            .unwrap_or(start);
        let label = format!("{year:04}-{month:02}");
        let span = (start.max(args.from), end.min(args.to));
        rows.push(activity_row(label, span, acc, &first_visits));
    }
    let label = format!("{}..{}", args.from, args.to);
    let total = activity_row(label, (args.from, args.to), &total, &first_visits);
    Ok(Activity {
        from: args.from,
        to: args.to,
        rows,
        total,
    })
}

/// Accumulated visits by (year, month).
type Months = BTreeMap<(i32, u32), Accumulator>;

/// The period's counted visits by month and in total, each with its distinct customers.
fn tally_months<R: Reader>(
    reader: &R,
    branch: Option<&str>,
    period: (NaiveDate, NaiveDate),
) -> Result<(Months, Accumulator)> {
    let mut months = Months::new();
    let mut total = Accumulator::default();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let chunk = visit::dated_visits(reader, branch, period, after.as_deref(), CHUNK)?;
        let Some((last, _, _)) = chunk.last() else {
            break;
        };
        after = Some(last.clone());
        // Visits come in date order, so the month's bucket is looked up once per month.
        let mut month: Option<((i32, u32), &mut Accumulator)> = None;
        for (_, date, dated) in chunk {
            if !dated.counted {
                continue;
            }
            let key = (date.year(), date.month());
            let bucket = match month.take() {
                Some((current, bucket)) if current == key => bucket,
                _ => months.entry(key).or_default(),
            };
            bucket.add(&dated);
            month = Some((key, bucket));
            total.add(&dated);
        }
    }
    for bucket in months.values_mut() {
        bucket.distinct();
    }
    total.distinct();
    Ok((months, total))
}

/// One row: a month's (or the period's) figures, its customers split into returning
/// (first visit before `start`) and new (first visit within `start..=end`).
fn activity_row(
    label: String,
    (start, end): (NaiveDate, NaiveDate),
    acc: &Accumulator,
    first_visits: &HashMap<u64, Option<NaiveDate>>,
) -> ActivityRow {
    let first = |id: &u64| first_visits.get(id).copied().flatten();
    let returning = acc
        .customers
        .iter()
        .filter(|id| first(id).is_some_and(|d| d < start))
        .count() as u64;
    let new = acc
        .customers
        .iter()
        .filter(|id| first(id).is_some_and(|d| d >= start && d <= end))
        .count() as u64;
    let customers = acc.customers.len() as u64;
    ActivityRow {
        month: label,
        visits: acc.visits,
        customers,
        returning_customers: returning,
        returning_share: percent(returning, customers),
        new_customers: new,
        revenue: normalize::money(acc.revenue),
        average_check: if acc.visits == 0 {
            normalize::money(Decimal::ZERO)
        } else {
            normalize::money(acc.revenue / Decimal::from(acc.visits))
        },
        points_redeemed: acc.points,
        points_accrued: acc.accrual,
    }
}
