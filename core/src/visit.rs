//! Visit history: every work order the host posts, with its priced lines, what
//! points paid and earned per line, and the refunds made against it.

use crate::context::must;
use crate::error::{Error, Result};
use crate::ledger::Allocation;
use crate::program::LineKind;
use crate::store::keys::{KeyBuilder, tag};
use crate::store::{Reader, WriteTxn};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One priced line of a visit (also the line of a quote and a receipt).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitLine {
    /// Position in the basket, from 0.
    pub index: u32,
    /// Host's article.
    pub sku: String,
    /// Name as printed.
    pub name: String,
    /// Labour, part or goods.
    pub kind: LineKind,
    /// Category (oil, tyres, brakes...).
    pub category: Option<String>,
    /// Quantity.
    pub qty: Decimal,
    /// Price per unit before discounts.
    pub unit_price: Decimal,
    /// Sold at a campaign price.
    pub promo: bool,
    /// qty × unit price.
    pub gross: Decimal,
    /// Discount the host gave.
    pub host_discount: Decimal,
    /// Loyalty discount percent applied.
    pub discount_percent: Decimal,
    /// What the loyalty discount came from (tier, agreement, cumulative, vip, plugin).
    pub discount_source: Option<String>,
    /// Loyalty discount amount.
    pub discount: Decimal,
    /// Amount after all discounts.
    pub net: Decimal,
    /// Points that paid for this line.
    pub points: Decimal,
    /// Their money value.
    pub points_money: Decimal,
    /// Paid in money.
    pub money: Decimal,
    /// Points earned on this line.
    pub accrual: Decimal,
    /// Quantity refunded so far.
    pub refunded_qty: Decimal,
    /// Money refunded so far.
    pub refunded_money: Decimal,
    /// Points given back so far.
    pub refunded_points: Decimal,
    /// Earned points taken back (or settled in money) so far.
    pub refunded_accrual: Decimal,
    /// Net amount refunded so far (drives spend and tiers).
    pub refunded_net: Decimal,
}

/// Totals of a visit or quote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Σ gross.
    pub gross: Decimal,
    /// Σ host discounts.
    pub host_discount: Decimal,
    /// Σ loyalty discounts.
    pub discount: Decimal,
    /// Σ net.
    pub net: Decimal,
    /// Σ points paid.
    pub points: Decimal,
    /// Their money value.
    pub points_money: Decimal,
    /// Σ money to pay.
    pub money: Decimal,
    /// Σ points earned on lines.
    pub accrual: Decimal,
    /// Bonus points from promotions (not tied to a line).
    pub bonus: Decimal,
}

/// A refund made against a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    /// Sequence within the visit, from 1.
    pub seq: u32,
    /// When.
    pub at: DateTime<Utc>,
    /// Lines and quantities.
    pub lines: Vec<(u32, Decimal)>,
    /// Money returned to the customer (after any shortfall deduction).
    pub money: Decimal,
    /// Points given back.
    pub points_returned: Decimal,
    /// Earned points taken back from the balance.
    pub accrual_taken: Decimal,
    /// Earned points already spent, settled by deducting their value from the money.
    pub shortfall_points: Decimal,
    /// That deduction.
    pub shortfall_money: Decimal,
    /// Earned points of the refunded lines that had already expired (nothing taken).
    pub accrual_expired: Decimal,
    /// Why.
    pub reason: Option<String>,
}

/// A visit (work order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    /// Id.
    pub id: u64,
    /// Customer.
    pub customer: u64,
    /// Vehicle serviced.
    pub vehicle: Option<u64>,
    /// Host's order id (unique).
    pub order_id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Local date.
    pub date: NaiveDate,
    /// Branch.
    pub branch: Option<String>,
    /// Service advisor or cashier.
    pub advisor: Option<String>,
    /// Odometer at the visit.
    pub mileage: Option<u32>,
    /// Programme version used to price it.
    pub program_version: u32,
    /// Lines.
    pub lines: Vec<VisitLine>,
    /// Totals.
    pub totals: Totals,
    /// Lots the redemption spent, not yet returned.
    pub redemption_left: Vec<Allocation>,
    /// Lot the accrual created.
    pub accrual_lot: Option<u64>,
    /// Last day the accrual lot may be used.
    pub accrual_expires_on: Option<NaiveDate>,
    /// Lot of promotion bonus points.
    pub bonus_lot: Option<u64>,
    /// Tier before the visit.
    pub tier_before: Option<String>,
    /// Tier after the visit.
    pub tier_after: Option<String>,
    /// Refunds.
    pub refunds: Vec<Refund>,
}

impl Visit {
    /// Net amount still counted (after refunds).
    pub fn net_kept(&self) -> Decimal {
        self.lines.iter().map(|l| l.net - l.refunded_net).sum()
    }

    /// Whether every line was refunded in full.
    pub fn fully_refunded(&self) -> bool {
        self.lines.iter().all(|l| l.refunded_qty == l.qty)
    }
}

/// What the per-customer visit index keeps for tiers and history lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitSummary {
    /// Visit id.
    pub visit: u64,
    /// Net amount kept after refunds.
    pub net: Decimal,
    /// Whether it still counts as a visit (not fully refunded).
    pub counted: bool,
    /// Vehicle.
    pub vehicle: Option<u64>,
}

fn visit_key(id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::VISIT).u64(id).build()
}
fn order_key(order_id: &str) -> Vec<u8> {
    KeyBuilder::new(tag::ORDER).str(order_id).build()
}
fn summary_key(customer: u64, date: NaiveDate, visit: u64) -> Vec<u8> {
    KeyBuilder::new(tag::CUSTOMER_VISIT)
        .u64(customer)
        .date(date)
        .u64(visit)
        .build()
}

/// Load a visit by id.
pub fn load<R: Reader>(reader: &R, id: u64) -> Result<Visit> {
    must(reader.get(&visit_key(id))?, "visit", id)
}

/// The visit id recorded for a host order id.
pub fn by_order<R: Reader>(reader: &R, order_id: &str) -> Result<Option<u64>> {
    reader.get(&order_key(order_id))
}

/// Save a visit with its order and customer indexes.
pub fn save(txn: &mut WriteTxn<'_>, visit: &Visit) -> Result<()> {
    if visit
        .lines
        .iter()
        .any(|l| l.refunded_qty > l.qty || l.refunded_net > l.net)
    {
        return Err(Error::internal(format!(
            "visit {} would refund more than it sold",
            visit.id
        )));
    }
    txn.put(visit_key(visit.id), visit)?;
    txn.put(order_key(&visit.order_id), &visit.id)?;
    let summary = VisitSummary {
        visit: visit.id,
        net: visit.net_kept(),
        counted: !visit.fully_refunded(),
        vehicle: visit.vehicle,
    };
    txn.put(summary_key(visit.customer, visit.date, visit.id), &summary)
}

/// A customer's visit summaries with dates in `[from, to]`, oldest first.
pub fn summaries<R: Reader>(
    reader: &R,
    customer: u64,
    from: NaiveDate,
    to: NaiveDate,
    limit: usize,
) -> Result<Vec<(NaiveDate, VisitSummary)>> {
    let start = KeyBuilder::new(tag::CUSTOMER_VISIT)
        .u64(customer)
        .date(from)
        .build();
    let end = KeyBuilder::new(tag::CUSTOMER_VISIT)
        .u64(customer)
        .date(to + chrono::Duration::days(1))
        .build();
    let rows = reader.scan_range::<VisitSummary>(&start, &end, limit, false)?;
    let mut out = Vec::with_capacity(rows.len());
    for (key, summary) in rows {
        let date = crate::store::keys::read_date(&key, 9)
            .ok_or_else(|| Error::corrupted("visit index key too short"))?;
        out.push((date, summary));
    }
    Ok(out)
}

/// A customer's latest visits, newest first.
pub fn latest<R: Reader>(reader: &R, customer: u64, limit: usize) -> Result<Vec<Visit>> {
    let prefix = KeyBuilder::new(tag::CUSTOMER_VISIT).u64(customer).build();
    let end = crate::store::keys::prefix_end(&prefix);
    let rows = reader.scan_range::<VisitSummary>(&prefix, &end, limit, true)?;
    rows.into_iter()
        .map(|(_, summary)| load(reader, summary.visit))
        .collect()
}
