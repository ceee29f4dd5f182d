//! Reports for owners: activity by month and the points liability. They read through
//! bounded chunks of the date index and the accounts, so memory stays proportional to
//! the number of distinct customers, not to the history.

use crate::context::Ctx;
use crate::customer::{self, Customer};
use crate::error::{Error, Result};
use crate::ledger;
use crate::normalize;
use crate::store::Reader;
use crate::store::keys::{self, KeyBuilder, tag};
use crate::visit;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

const CHUNK: usize = 4096;
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
    fn check(&self) -> Result<()> {
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

/// One month of activity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

/// Customers served, returning share, average check, revenue and points by month.
pub fn activity<R: Reader>(reader: &R, _ctx: &Ctx, args: &PeriodArgs) -> Result<Activity> {
    args.check()?;
    let branch = crate::visit::branch_filter(args.branch.as_deref())?;
    let mut months: BTreeMap<(i32, u32), Accumulator> = BTreeMap::new();
    let mut total = Accumulator::default();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let chunk = visit::dated_visits(
            reader,
            branch,
            (args.from, args.to),
            after.as_deref(),
            CHUNK,
        )?;
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
    let mut first_visits: HashMap<u64, Option<NaiveDate>> = HashMap::new();
    for id in &total.customers {
        let customer: Customer = customer::load(reader, *id)?;
        first_visits.insert(*id, customer.first_visit);
    }
    let row = |label: String, start: NaiveDate, end: NaiveDate, acc: &Accumulator| {
        let returning = acc
            .customers
            .iter()
            .filter(|id| {
                first_visits
                    .get(id)
                    .copied()
                    .flatten()
                    .is_some_and(|d| d < start)
            })
            .count() as u64;
        let new = acc
            .customers
            .iter()
            .filter(|id| {
                first_visits
                    .get(id)
                    .copied()
                    .flatten()
                    .is_some_and(|d| d >= start && d <= end)
            })
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
    };
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
        rows.push(row(
            format!("{year:04}-{month:02}"),
            start.max(args.from),
            end.min(args.to),
            acc,
        ));
    }
    let total = row(
        format!("{}..{}", args.from, args.to),
        args.from,
        args.to,
        &total,
    );
    Ok(Activity {
        from: args.from,
        to: args.to,
        rows,
        total,
    })
}

fn percent(part: u64, whole: u64) -> Decimal {
    if whole == 0 {
        return Decimal::new(0, 1);
    }
    normalize::exact_scale(
        (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole)).round_dp(1),
        1,
    )
}

/// `report.points` result: the programme's liability.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PointsReport {
    /// Accounts with any history.
    pub accounts: u64,
    /// Accounts with points on them.
    pub accounts_with_balance: u64,
    /// Points ever credited (net of earned points taken back by refunds).
    pub issued: Decimal,
    /// Points ever spent (net of points refunds gave back).
    pub redeemed: Decimal,
    /// Points burned at expiry.
    pub expired: Decimal,
    /// Points on accounts now (as stored; the daily job settles expiries).
    pub outstanding: Decimal,
    /// Of them, pending (return window).
    pub pending: Decimal,
    /// Of them, held by holds.
    pub held: Decimal,
    /// Money value of the outstanding points.
    pub liability: Decimal,
    /// Currency of the money value.
    pub currency: String,
}

/// Arguments of `report.points`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsArgs {
    /// Refused with a reason: see [`group_wide`].
    #[serde(default)]
    pub branch: Option<String>,
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

/// Points issued, redeemed, expired and outstanding, with the money liability.
pub fn points<R: Reader>(reader: &R, ctx: &Ctx, args: &PointsArgs) -> Result<PointsReport> {
    group_wide("report.points", args.branch.as_deref())?;
    let program = ctx.program()?;
    let mut report = PointsReport {
        currency: program.currency.clone(),
        ..PointsReport::default()
    };
    let prefix = KeyBuilder::new(tag::ACCOUNT).build();
    let end = keys::prefix_end(&prefix);
    let mut start = prefix.clone();
    loop {
        let chunk = reader.scan_raw(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else { break };
        let mut next = last.clone();
        next.push(0);
        for (key, _) in &chunk {
            let customer =
                keys::read_u64(key, 1).ok_or_else(|| Error::corrupted("account key too short"))?;
            let account = ledger::load_account(reader, customer)?;
            report.accounts += 1;
            if account.balance > Decimal::ZERO {
                report.accounts_with_balance += 1;
            }
            report.issued += account.credited;
            report.redeemed += account.redeemed;
            report.expired += account.expired;
            report.outstanding += account.balance;
            report.pending += account.pending;
            report.held += account.held;
        }
        start = next;
    }
    let scale = program.points.scale;
    for value in [
        &mut report.issued,
        &mut report.redeemed,
        &mut report.expired,
        &mut report.outstanding,
        &mut report.pending,
        &mut report.held,
    ] {
        *value = normalize::exact_scale(*value, scale);
    }
    report.liability = normalize::money(report.outstanding * program.points.value);
    Ok(report)
}
