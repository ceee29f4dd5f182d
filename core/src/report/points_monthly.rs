//! `report.points_monthly`: points issued, redeemed, expired and adjusted by month, the
//! outstanding points and their money value at each month's end, and what expires in
//! the next 30, 60 and 90 days.
//!
//! A new operation rather than new arguments of `report.points`: that one answers "what
//! do we owe now" without arguments and its result shape is relied on (the CLI, the
//! demo, `monthly_report.py`); this one needs a period and returns rows.
//!
//! Figures come from the ledger entries by their local date:
//! - `issued`: accrual, welcome, birthday and bonus points, net of earned and bonus
//!   points refunds took back;
//! - `redeemed`: points spent on visits and captured holds, net of points refunds gave
//!   back;
//! - `expired`: points burned at expiry;
//! - `adjusted`: operators' corrections, signed.
//!
//! Each figure is counted in the month of the entry's date: the ledger burns an expired
//! lot when it next settles the account (the daily job, or the customer's next
//! checkout, refund or adjustment) and dates the burn then, so a month in which the job
//! did not run shows its expiries in a later month. `outstanding` at a month's end is
//! every entry's change of the balance up to that day (the balance as the ledger
//! recorded it), so `outstanding` = previous + issued − redeemed − expired + adjusted.
//! `liability` is its value at the current programme's point value. `expiring` looks at
//! the open lots as stored now: points left on lots whose last day falls within the
//! next 30, 60, 90 days from today (cumulative). Points belong to the group: `branch`
//! is refused.

use super::{CHUNK, Scope, Takes, month_label, next_month};
use crate::context::Ctx;
use crate::customer::{self, Customer};
use crate::error::Result;
use crate::ledger::{self, Entry, Flow};
use crate::normalize;
use crate::store::Reader;
use crate::store::keys::{self, KeyBuilder, KeyReader, tag};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One month of points.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PointsMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Points issued (net of reversals).
    pub issued: Decimal,
    /// Points redeemed (net of returns).
    pub redeemed: Decimal,
    /// Points expired.
    pub expired: Decimal,
    /// Points adjusted by operators (signed).
    pub adjusted: Decimal,
    /// Points outstanding at the month's end (the period's end for its last month).
    pub outstanding: Decimal,
    /// Their money value.
    pub liability: Decimal,
}

/// Points that expire soon.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExpiringSoon {
    /// From this day (today).
    pub from: NaiveDate,
    /// Last day within the next 30 days.
    pub days_30: Decimal,
    /// Within the next 60 days (including the first 30).
    pub days_60: Decimal,
    /// Within the next 90 days.
    pub days_90: Decimal,
    /// Customers with points expiring within 90 days.
    pub customers_90: u64,
    /// Money value of `days_90`.
    pub liability_90: Decimal,
}

/// `report.points_monthly` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PointsMonthly {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
    /// Points outstanding the day before `from`.
    pub opening: Decimal,
    /// One row per month of the period, empty months included.
    pub rows: Vec<PointsMonth>,
    /// What expires soon, from today.
    pub expiring: ExpiringSoon,
    /// Money value of one point now.
    pub point_value: Decimal,
    /// Currency of the money figures.
    pub currency: String,
}

#[derive(Default, Clone, Copy)]
struct Sums {
    issued: Decimal,
    redeemed: Decimal,
    expired: Decimal,
    adjusted: Decimal,
    change: Decimal,
}

fn add(sums: &mut Sums, entry: &Entry) {
    match entry.kind.flow() {
        Flow::Issued => sums.issued += entry.amount,
        Flow::Redeemed => sums.redeemed -= entry.amount,
        Flow::Expired => sums.expired -= entry.amount,
        Flow::Adjusted => sums.adjusted += entry.amount,
        Flow::Internal => {}
    }
    sums.change += entry.amount;
}

/// Whether the segment takes a customer; entries come by customer, so one is remembered.
struct Admit {
    last: Option<(u64, bool)>,
}

impl Admit {
    fn takes<R: Reader>(&mut self, reader: &R, scope: &Scope, id: u64) -> Result<bool> {
        if scope.segment.is_none() {
            return Ok(true);
        }
        if let Some((last, takes)) = self.last
            && last == id
        {
            return Ok(takes);
        }
        let customer: Customer = customer::load(reader, id)?;
        let takes = scope.admits(reader, &customer)?;
        self.last = Some((id, takes));
        Ok(takes)
    }
}

/// The balance before the period and each month's sums, from every ledger entry (by
/// customer, a chunk at a time).
fn ledger_by_month<R: Reader>(
    reader: &R,
    scope: &Scope,
    admit: &mut Admit,
) -> Result<(Decimal, BTreeMap<NaiveDate, Sums>)> {
    let mut opening = Decimal::ZERO;
    let mut months: BTreeMap<NaiveDate, Sums> = BTreeMap::new();
    let prefix = KeyBuilder::new(tag::ENTRY).build();
    let end = keys::prefix_end(&prefix);
    let mut start = prefix;
    loop {
        let chunk = reader.scan_range::<Entry>(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else { break };
        let mut next = last.clone();
        next.push(0);
        for (key, entry) in &chunk {
            if entry.date > scope.to {
                continue;
            }
            let customer = KeyReader::of(key, tag::ENTRY, "ledger entries")?.u64()?;
            if !admit.takes(reader, scope, customer)? {
                continue;
            }
            if entry.date < scope.from {
                opening += entry.amount;
            } else {
                let month = entry.date.with_day(1).unwrap_or(entry.date);
                add(months.entry(month).or_default(), entry);
            }
        }
        start = next;
    }
    Ok((opening, months))
}

/// Points by month with the liability at each month's end and what expires soon.
pub fn points_monthly<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    args: &super::ReportArgs,
) -> Result<PointsMonthly> {
    let scope: Scope = args.scope(
        reader,
        ctx,
        Takes {
            op: "report.points_monthly",
            branch: Some(
                "a customer has one balance shared by every branch; \
                 report.activity gives one branch's points accrued and redeemed",
            ),
            top: None,
        },
    )?;
    let program = ctx.program()?;
    let scale = program.points.scale;
    let mut admit = Admit { last: None };
    let (opening, months) = ledger_by_month(reader, &scope, &mut admit)?;
    let points = |v: Decimal| normalize::exact_scale(v, scale);
    let mut rows = Vec::new();
    let mut outstanding = opening;
    let mut month = scope.from.with_day(1).unwrap_or(scope.from);
    while month <= scope.to {
        let sums = months.get(&month).copied().unwrap_or_default();
        outstanding += sums.change;
        rows.push(PointsMonth {
            month: month_label(month),
            issued: points(sums.issued),
            redeemed: points(sums.redeemed),
            expired: points(sums.expired),
            adjusted: points(sums.adjusted),
            outstanding: points(outstanding),
            liability: normalize::money(outstanding * program.points.value),
        });
        month = next_month(month);
    }
    let mut expiring = expiring_soon(reader, &scope, &mut admit)?;
    for v in [
        &mut expiring.days_30,
        &mut expiring.days_60,
        &mut expiring.days_90,
    ] {
        *v = points(*v);
    }
    expiring.liability_90 = normalize::money(expiring.days_90 * program.points.value);
    Ok(PointsMonthly {
        from: scope.from,
        to: scope.to,
        opening: points(opening),
        rows,
        expiring,
        point_value: program.points.value,
        currency: program.currency.clone(),
    })
}

/// Points left on open lots whose last day is within 30, 60, 90 days from today.
fn expiring_soon<R: Reader>(reader: &R, scope: &Scope, admit: &mut Admit) -> Result<ExpiringSoon> {
    let today = scope.today;
    let mut soon = ExpiringSoon {
        from: today,
        ..ExpiringSoon::default()
    };
    ledger::for_each_account(reader, |customer| {
        if !admit.takes(reader, scope, customer)? {
            return Ok(());
        }
        let book = ledger::Book::load(reader, customer)?;
        let mut any = false;
        for lot in book.lots() {
            let Some(last_day) = lot.expires_on else {
                continue;
            };
            if last_day < today || lot.remaining <= Decimal::ZERO {
                continue;
            }
            let days = (last_day - today).num_days();
            if days < 30 {
                soon.days_30 += lot.remaining;
            }
            if days < 60 {
                soon.days_60 += lot.remaining;
            }
            if days < 90 {
                soon.days_90 += lot.remaining;
                any = true;
            }
        }
        soon.customers_90 += u64::from(any);
        Ok(())
    })?;
    Ok(soon)
}
