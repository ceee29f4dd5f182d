//! Visit history: every work order the host posts, with its priced lines, what
//! points paid and earned per line, and the refunds made against it.

use crate::aggregate;
use crate::context::{Ctx, must};
use crate::error::{Error, Result};
use crate::ledger::Allocation;
use crate::normalize;
use crate::program::LineKind;
use crate::store::keys::{KeyBuilder, KeyReader, tag};
use crate::store::{Reader, WriteTxn};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Most lines in one basket.
pub const LINES_MAX: usize = 100;

/// One priced line of a visit (also the line of a quote and a receipt).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
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

impl VisitLine {
    /// Line `index` of `kind` with every amount zero (money in kopecks, points at
    /// `points_scale`): nothing priced, paid in points, earned or refunded yet. A priced
    /// or imported line starts here and sets what it knows (`..VisitLine::new(..)`).
    pub fn new(index: u32, kind: LineKind, points_scale: u32) -> VisitLine {
        let zero_money = normalize::money(Decimal::ZERO);
        let zero_points = normalize::exact_scale(Decimal::ZERO, points_scale);
        VisitLine {
            index,
            sku: String::new(),
            name: String::new(),
            kind,
            category: None,
            qty: Decimal::ZERO,
            unit_price: Decimal::ZERO,
            promo: false,
            gross: zero_money,
            host_discount: zero_money,
            discount_percent: Decimal::ZERO,
            discount_source: None,
            discount: zero_money,
            net: zero_money,
            points: zero_points,
            points_money: zero_money,
            money: zero_money,
            accrual: zero_points,
            refunded_qty: Decimal::ZERO,
            refunded_money: zero_money,
            refunded_points: zero_points,
            refunded_accrual: zero_points,
            refunded_net: zero_money,
        }
    }
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
    /// Share of the visit's promotion bonus this refund reverses (taken + expired +
    /// the bonus part of the shortfall).
    pub bonus_back: Decimal,
    /// Bonus points taken back from the balance.
    pub bonus_taken: Decimal,
    /// Bonus points of that share whose lots had already expired (nothing taken).
    pub bonus_expired: Decimal,
    /// Why.
    pub reason: Option<String>,
}

/// A visit (work order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
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
    /// What each checkout plugin did (effects with amounts, bonus lots, requested
    /// reminders), or why it was skipped.
    pub plugins: Vec<crate::plugin::outcome::PluginOutcome>,
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
pub(crate) fn order_key(order_id: &str) -> Vec<u8> {
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
    save_as(txn, visit, false)
}

/// Save a visit never stored before (a checkout's, under an id just taken): as
/// [`save`], without reading the index entries such a visit cannot have yet (on a
/// shared store each read is a round trip and a lock).
pub fn save_new(txn: &mut WriteTxn<'_>, visit: &Visit) -> Result<()> {
    save_as(txn, visit, true)
}

fn save_as(txn: &mut WriteTxn<'_>, visit: &Visit, new: bool) -> Result<()> {
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
    let old: Option<DatedVisit> = match new {
        true => None,
        false => txn.get(&dated_key(None, visit.date, visit.id))?,
    };
    put_dated(
        txn,
        visit,
        old.as_ref(),
        &DatedVisit {
            customer: visit.customer,
            net: summary.net,
            counted: summary.counted,
            points: visit.totals.points
                - visit
                    .lines
                    .iter()
                    .map(|l| l.refunded_points)
                    .sum::<Decimal>(),
            accrual: visit.totals.accrual
                - visit
                    .lines
                    .iter()
                    .map(|l| l.refunded_accrual)
                    .sum::<Decimal>(),
        },
    )?;
    let key = summary_key(visit.customer, visit.date, visit.id);
    let before: Option<VisitSummary> = match new {
        true => None,
        false => txn.get(&key)?,
    };
    let (net_before, counted_before) =
        before.map_or((Decimal::ZERO, false), |b| (b.net, b.counted));
    add_to_day(
        txn,
        visit.customer,
        visit.date,
        summary.net - net_before,
        i64::from(summary.counted) - i64::from(counted_before),
    )?;
    txn.put(key, &summary)
}

/// Rewrite a saved visit's own record and nothing else: for a change no index or daily
/// figure holds (the tier the visit left its customer in, known only once the tier has
/// been re-evaluated with the visit saved). Saving the whole visit again would encode it
/// and its index records a second time for the same bytes (issue 15: CPU per commit).
pub fn save_record(txn: &mut WriteTxn<'_>, visit: &Visit) -> Result<()> {
    txn.put(visit_key(visit.id), visit)
}

/// Longest branch code: the same bound for the engine option, a visit's own `branch` and
/// every `branch` filter, so any branch a visit can record can also be asked for.
pub const BRANCH_CHARS_MAX: usize = normalize::TEXT_CHARS_MAX;

/// Check a branch code: 1..=[`BRANCH_CHARS_MAX`] characters after trimming, no control or
/// invisible ones.
pub fn check_branch(field: &str, value: &str) -> Result<()> {
    let trimmed = normalize::optional_text(field, value, BRANCH_CHARS_MAX)?;
    if trimmed.is_empty() {
        return Err(Error::invalid(field, "must not be blank"));
    }
    Ok(())
}

/// A `branch` filter as given: checked, trimmed.
pub fn branch_filter(branch: Option<&str>) -> Result<Option<&str>> {
    match branch {
        Some(branch) => {
            check_branch("branch", branch)?;
            Ok(Some(branch.trim()))
        }
        None => Ok(None),
    }
}

/// The branch a new visit records: its own `branch`, else the engine's (blank is none).
pub fn branch_of(given: Option<&str>, ctx: &Ctx) -> Option<String> {
    given
        .map(str::trim)
        .or(ctx.branch.as_deref())
        .filter(|branch| !branch.is_empty())
        .map(str::to_string)
}

fn dated_key(branch: Option<&str>, date: NaiveDate, id: u64) -> Vec<u8> {
    match branch {
        Some(branch) => KeyBuilder::new(tag::VISIT_BY_BRANCH_DATE)
            .str_sep(branch)
            .date(date)
            .u64(id)
            .build(),
        None => KeyBuilder::new(tag::VISIT_BY_DATE)
            .date(date)
            .u64(id)
            .build(),
    }
}

/// Write a visit's entries in the shop-wide date index and, when it has a branch, in
/// that branch's.
/// The day cells follow in the same batch: `old` is the entry as stored (`None` for a new
/// visit, which [`insert_new`] knows without reading).
fn put_dated(
    txn: &mut WriteTxn<'_>,
    visit: &Visit,
    old: Option<&DatedVisit>,
    dated: &DatedVisit,
) -> Result<()> {
    aggregate::on_dated(
        txn,
        visit.date,
        visit.branch.as_deref(),
        old.map(DatedVisit::presence).as_ref(),
        Some(&dated.presence()),
    )?;
    txn.put(dated_key(None, visit.date, visit.id), dated)?;
    if let Some(branch) = visit.branch.as_deref().filter(|b| !b.is_empty()) {
        txn.put(dated_key(Some(branch), visit.date, visit.id), dated)?;
    }
    Ok(())
}

/// What the shop-wide date index keeps of a visit, for reports over periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatedVisit {
    /// Customer.
    pub customer: u64,
    /// Net amount kept after refunds.
    pub net: Decimal,
    /// Whether it still counts as a visit.
    pub counted: bool,
    /// Points that paid, net of refunds.
    pub points: Decimal,
    /// Points earned, net of refunds.
    pub accrual: Decimal,
}

impl DatedVisit {
    /// What the entry counts for in the day cells.
    pub fn presence(&self) -> aggregate::Presence {
        aggregate::Presence {
            customer: self.customer,
            counted: self.counted,
            net: self.net,
            points: self.points,
            accrual: self.accrual,
        }
    }
}

/// Visits dated in `[from, to]` (of one branch, or of the whole store), in date order,
/// `chunk` at a time, starting after `after`.
pub fn dated_visits<R: Reader>(
    reader: &R,
    branch: Option<&str>,
    (from, to): (NaiveDate, NaiveDate),
    after: Option<&[u8]>,
    chunk: usize,
) -> Result<Vec<(Vec<u8>, NaiveDate, DatedVisit)>> {
    let start = match after {
        Some(key) => {
            let mut next = key.to_vec();
            next.push(0);
            next
        }
        None => dated_key(branch, from, 0),
    };
    let end = dated_key(branch, to + chrono::Duration::days(1), 0);
    let mut out = Vec::new();
    for (key, visit) in reader.scan_range::<DatedVisit>(&start, &end, chunk, false)? {
        let date = match branch {
            Some(_) => {
                let mut fields =
                    KeyReader::of(&key, tag::VISIT_BY_BRANCH_DATE, "visit branch date index")?;
                fields.str_sep()?;
                fields.date()?
            }
            None => KeyReader::of(&key, tag::VISIT_BY_DATE, "visit date index")?.date()?,
        };
        out.push((key, date, visit));
    }
    Ok(out)
}

/// Spend and visit count per local day of one customer: what tiers need, in one record
/// instead of a scan over every visit in the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VisitDays {
    /// Days before this date were dropped; the record is complete from it on.
    pub complete_from: Option<NaiveDate>,
    /// (days from CE, net spend, counted visits), oldest first.
    pub days: Vec<(i32, Decimal, u32)>,
}

fn days_key(customer: u64) -> Vec<u8> {
    KeyBuilder::new(tag::VISIT_DAYS).u64(customer).build()
}

/// The per-day record of a customer.
pub fn visit_days<R: Reader>(reader: &R, customer: u64) -> Result<VisitDays> {
    Ok(reader.get(&days_key(customer))?.unwrap_or_default())
}

/// Store a per-day record.
pub fn save_visit_days(txn: &mut WriteTxn<'_>, customer: u64, days: &VisitDays) -> Result<()> {
    txn.put(days_key(customer), days)
}

fn add_to_day(
    txn: &mut WriteTxn<'_>,
    customer: u64,
    date: NaiveDate,
    net: Decimal,
    visits: i64,
) -> Result<()> {
    if net.is_zero() && visits == 0 {
        return Ok(());
    }
    let mut record = visit_days(txn, customer)?;
    if record.complete_from.is_some_and(|from| date < from) {
        // A back-dated visit older than the kept days: the window scan covers it.
        return Ok(());
    }
    let day = date.num_days_from_ce();
    let position = record.days.partition_point(|(d, _, _)| *d < day);
    if record.days.get(position).is_none_or(|(d, _, _)| *d != day) {
        record.days.insert(position, (day, Decimal::ZERO, 0));
    }
    let entry = &mut record.days[position];
    entry.1 += net;
    let count = i64::from(entry.2) + visits;
    entry.2 = u32::try_from(count).map_err(|_| {
        Error::internal(format!(
            "visit count of customer {customer} on {date} went to {count}"
        ))
    })?;
    if entry.1.is_zero() && entry.2 == 0 {
        record.days.remove(position);
    }
    save_visit_days(txn, customer, &record)
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
        let mut fields = KeyReader::of(&key, tag::CUSTOMER_VISIT, "customer's visits")?;
        fields.u64()?;
        let date = fields.date()?;
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

/// Write a new visit and its indexes without reading what was there. For history
/// import: the caller has checked that the order id is new and keeps the per-day
/// record ([`add_day`]) itself, once per customer instead of once per visit.
pub fn insert_new(txn: &mut WriteTxn<'_>, visit: &Visit) -> Result<()> {
    debug_assert!(visit.refunds.is_empty(), "a new visit has no refunds");
    let net = visit.net_kept();
    let counted = !visit.fully_refunded();
    txn.put(visit_key(visit.id), visit)?;
    txn.put(order_key(&visit.order_id), &visit.id)?;
    put_dated(
        txn,
        visit,
        None,
        &DatedVisit {
            customer: visit.customer,
            net,
            counted,
            points: visit.totals.points,
            accrual: visit.totals.accrual,
        },
    )?;
    txn.put(
        summary_key(visit.customer, visit.date, visit.id),
        &VisitSummary {
            visit: visit.id,
            net,
            counted,
            vehicle: visit.vehicle,
        },
    )
}

/// Add one visit's spend to a per-day record held in memory (history import).
/// Days older than the record keeps are left to the window scan, as in [`save`].
pub fn add_day(record: &mut VisitDays, date: NaiveDate, net: Decimal) {
    if record.complete_from.is_some_and(|from| date < from) {
        return;
    }
    let day = date.num_days_from_ce();
    let position = record.days.partition_point(|(d, _, _)| *d < day);
    if record.days.get(position).is_none_or(|(d, _, _)| *d != day) {
        record.days.insert(position, (day, Decimal::ZERO, 0));
    }
    let entry = &mut record.days[position];
    entry.1 += net;
    entry.2 = entry.2.saturating_add(1);
}

/// Visits in id order after `after`, at most `limit` (export).
pub fn page<R: Reader>(
    reader: &R,
    after: Option<u64>,
    limit: usize,
    branch: Option<&str>,
) -> Result<Vec<Visit>> {
    let start = match after {
        Some(id) => match id.checked_add(1) {
            Some(next) => visit_key(next),
            None => return Ok(Vec::new()),
        },
        None => vec![tag::VISIT],
    };
    let end = crate::store::keys::prefix_end(&[tag::VISIT]);
    let Some(branch) = branch else {
        return Ok(reader
            .scan_range::<Visit>(&start, &end, limit, false)?
            .into_iter()
            .map(|(_, v)| v)
            .collect());
    };
    // One branch: visits in id order, skipping the others' (bounded reads of `limit`).
    let mut out = Vec::with_capacity(limit);
    let mut from = start;
    while out.len() < limit {
        let chunk = reader.scan_range::<Visit>(&from, &end, limit, false)?;
        let Some((last, _)) = chunk.last() else { break };
        from = last.clone();
        from.push(0);
        out.extend(
            chunk
                .into_iter()
                .map(|(_, v)| v)
                .filter(|v| v.branch.as_deref() == Some(branch)),
        );
    }
    out.truncate(limit);
    Ok(out)
}
