//! `report.customers`: the most active customer of each month, and the top N of the
//! period by spend and by visits.
//!
//! "Most active" is the most counted visits in the month; a tie goes to the larger
//! revenue, then to the smaller customer id. Top by spend orders by revenue, then
//! visits, then id; top by visits by visits, then revenue, then id. Revenue is the net
//! kept after discounts and refunds; a fully refunded visit counts no visit.

use super::{Briefs, Scope, Takes, month_label, top_n};
use crate::context::Ctx;
use crate::error::Result;
use crate::normalize;
use crate::store::Reader;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::HashMap;

/// One customer's figures in the period (or the month).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerRow {
    /// Customer id.
    pub customer: u64,
    /// Full name.
    pub name: String,
    /// Phone.
    pub phone: Option<String>,
    /// Counted visits.
    pub visits: u64,
    /// Net revenue.
    pub revenue: Decimal,
    /// Last visit in the period (or the month).
    pub last_visit: NaiveDate,
}

/// The most active customer of a month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MonthBest {
    /// `YYYY-MM`.
    pub month: String,
    /// Their figures in that month.
    #[serde(flatten)]
    pub best: CustomerRow,
}

/// `report.customers` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomersReport {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
    /// The most active customer of each month that had a counted visit.
    pub rows: Vec<MonthBest>,
    /// Top N by revenue.
    pub by_spend: Vec<CustomerRow>,
    /// Top N by counted visits.
    pub by_visits: Vec<CustomerRow>,
    /// Customers with a visit in the period (within the filters).
    pub customers: u64,
}

#[derive(Clone, Copy)]
struct Tally {
    visits: u64,
    revenue: Decimal,
    last: NaiveDate,
}

impl Tally {
    fn new(date: NaiveDate) -> Tally {
        Tally {
            visits: 0,
            revenue: Decimal::ZERO,
            last: date,
        }
    }

    fn add(&mut self, date: NaiveDate, counted: bool, net: Decimal) {
        self.visits += u64::from(counted);
        self.revenue += net;
        self.last = self.last.max(date);
    }
}

type Key = (Decimal, Decimal, Reverse<u64>);

fn spend_key(id: u64, t: &Tally) -> Key {
    (t.revenue, Decimal::from(t.visits), Reverse(id))
}

fn visits_key(id: u64, t: &Tally) -> Key {
    (Decimal::from(t.visits), t.revenue, Reverse(id))
}

/// The most active customer of each month, found as the visits go by in date order:
/// only the current month's customers are held.
#[derive(Default)]
struct Months {
    current: Option<String>,
    month: HashMap<u64, Tally>,
    bests: Vec<(String, u64, Tally)>,
}

impl Months {
    fn add(&mut self, date: NaiveDate, customer: u64, counted: bool, net: Decimal) {
        let label = month_label(date);
        if self.current.as_deref() != Some(label.as_str()) {
            self.close();
            self.current = Some(label);
        }
        self.month
            .entry(customer)
            .or_insert(Tally::new(date))
            .add(date, counted, net);
    }

    fn close(&mut self) {
        if let (Some(done), Some((id, t))) = (self.current.take(), best_of_month(&self.month)) {
            self.bests.push((done, id, t));
        }
        self.month.clear();
    }

    fn finish(mut self) -> Vec<(String, u64, Tally)> {
        self.close();
        self.bests
    }
}

/// The month's most active customer, most visits first.
fn best_of_month(month: &HashMap<u64, Tally>) -> Option<(u64, Tally)> {
    month
        .iter()
        .filter(|(_, t)| t.visits > 0)
        .max_by_key(|(id, t)| visits_key(**id, t))
        .map(|(id, t)| (*id, *t))
}

/// The most active customer of each month and the top N by spend and by visits.
/// One customer's line: who they are and their figures in the period.
fn customer_row<R: Reader>(
    reader: &R,
    scope: &Scope,
    briefs: &mut Briefs,
    id: u64,
    t: &Tally,
) -> Result<CustomerRow> {
    let brief = briefs.get(reader, scope, id)?;
    Ok(CustomerRow {
        customer: id,
        name: brief.name.clone(),
        phone: brief.phone.clone(),
        visits: t.visits,
        revenue: normalize::money(t.revenue),
        last_visit: t.last,
    })
}

pub fn customers<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    args: &super::ReportArgs,
) -> Result<CustomersReport> {
    let scope = args.scope(
        reader,
        ctx,
        Takes {
            op: "report.customers",
            branch: None,
            top: Some(10),
        },
    )?;
    let mut briefs = Briefs::default();
    let mut period: HashMap<u64, Tally> = HashMap::new();
    let mut months = Months::default();
    scope.visits(reader, |date, _, dated| {
        if !briefs.get(reader, &scope, dated.customer)?.admitted {
            return Ok(());
        }
        months.add(date, dated.customer, dated.counted, dated.net);
        period
            .entry(dated.customer)
            .or_insert(Tally::new(date))
            .add(date, dated.counted, dated.net);
        Ok(())
    })?;
    let bests = months.finish();
    let mut rows = Vec::with_capacity(bests.len());
    for (label, id, t) in &bests {
        rows.push(MonthBest {
            month: label.clone(),
            best: customer_row(reader, &scope, &mut briefs, *id, t)?,
        });
    }
    let spenders = top_n(
        period
            .iter()
            .filter(|(_, t)| t.revenue > Decimal::ZERO)
            .map(|(id, t)| (spend_key(*id, t), *id)),
        scope.top,
    );
    let visitors = top_n(
        period
            .iter()
            .filter(|(_, t)| t.visits > 0)
            .map(|(id, t)| (visits_key(*id, t), *id)),
        scope.top,
    );
    let mut listed = |ids: Vec<(_, u64)>| -> Result<Vec<CustomerRow>> {
        ids.into_iter()
            .map(|(_, id)| customer_row(reader, &scope, &mut briefs, id, &period[&id]))
            .collect()
    };
    let by_spend = listed(spenders)?;
    let by_visits = listed(visitors)?;
    Ok(CustomersReport {
        from: scope.from,
        to: scope.to,
        rows,
        by_spend,
        by_visits,
        customers: period.len() as u64,
    })
}
