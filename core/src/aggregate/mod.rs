//! Report aggregates: the figures period reports read, kept per local day and scope (the
//! whole shop, or one branch) in day cells, updated in the same batch as the visit that
//! changes them, so a report reads one cell per day instead of every visit.
//!
//! A cell is a function of the visit date index (`Z`, `7`): every write of an index entry
//! passes its old and new figures to [`on_dated`], which applies the difference. What the
//! cells hold:
//! - counted visits, their net revenue, points that paid and points earned (exact sums);
//! - distinct customers without keeping them: a customer's *visit days* in a scope (the
//!   days with a counted visit, in [`presence`]) each count once in the cell of their day,
//!   in `gaps` under the days since the customer's previous visit day in that scope, or,
//!   for the customer's first visit day in the scope, in `firsts` under the days since the
//!   customer's first visit anywhere (counted or not: the customer record's
//!   `first_visit`). The customers of `[a, b]` are then the visit days in it whose
//!   previous visit day is before `a` (see [`Served`]);
//! - the points totals of every account (`report.points`), kept by difference when an
//!   account is written ([`on_account`]);
//! - the referral totals per referrer and over every referral (`report.referrals`), kept
//!   by difference when a referee's referral or customer record is written ([`referrals`]).
//!
//! A store written before the cells existed has none: [`ready`] says whether the cells are
//! complete (marked when a store is created, or by `store.rebuild_aggregates`), and reports
//! scan history when they are not.
//!
//! **Parts.** Every checkout moves its day's cell and the points totals. On a store that
//! several processes write at once (PostgreSQL), one record that every writer changes is
//! one lock that every commit holds through its flush to disk, so commits could not share
//! a flush. A store marked with [`FORMAT`] 3 keeps each cell and the totals in
//! [`PARTS`] parts, a customer's changes always in the part of their id
//! ([`Layout::part`]); a report adds the parts up. A store marked 2 (written before the
//! parts) keeps one record each, and is read and written that way until a rebuild.

mod presence;
mod referrals;

pub use presence::{Days, Presence, customer_rows, on_dated, put_row, read_row_key};
pub use referrals::{
    RefereeFigures, ReferralTotals, all_referee_figures, on_referee, on_spend, put_referee_figures,
    put_referral_totals, referee_figures, referral_totals, referrers_counted,
};

use crate::error::{Error, Result};
use crate::store::keys::{KeyBuilder, KeyReader, aggregate_tag, prefix_end, tag};
use crate::store::{Reader, WriteTxn};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Version of the cells' layout written in the mark: 3, cells and totals in parts by
/// customer.
pub const FORMAT: u32 = 3;

/// The layout before the parts: one cell per day and scope, one points totals record.
const FORMAT_ONE_PART: u32 = 2;

/// Parts of each cell and of the points totals on a store of [`FORMAT`] 3: as many
/// writers as this can commit at once without waiting for each other's flush, unless
/// their customers share a part.
pub const PARTS: u64 = 16;

/// How a store's cells and points totals are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One record each (format 2).
    OnePart,
    /// [`PARTS`] parts each, by customer (format 3).
    PartsByCustomer,
}

impl Layout {
    /// The part that holds `customer`'s changes (`None`: the one record).
    pub fn part(self, customer: u64) -> Option<u8> {
        match self {
            Layout::OnePart => None,
            // PARTS is at most 256, so the remainder fits in a byte.
            Layout::PartsByCustomer => u8::try_from(customer % PARTS).ok(),
        }
    }
}

/// Scope of a cell: the whole shop, or one branch.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Every visit.
    Shop,
    /// The visits recorded at this branch.
    Branch(String),
}

impl Scope {
    /// The scope of a report's `branch` filter.
    pub fn of(branch: Option<&str>) -> Scope {
        match branch {
            Some(branch) => Scope::Branch(branch.to_string()),
            None => Scope::Shop,
        }
    }

    /// The scopes a record made at `branch` counts in: the shop, and its branch when it
    /// has one (an empty branch code is no branch).
    pub fn counting(branch: Option<&str>) -> Vec<Scope> {
        let mut scopes = vec![Scope::Shop];
        if let Some(branch) = branch.filter(|b| !b.is_empty()) {
            scopes.push(Scope::Branch(branch.to_string()));
        }
        scopes
    }

    fn push(&self, key: KeyBuilder) -> KeyBuilder {
        match self {
            Scope::Shop => key.byte(0),
            Scope::Branch(branch) => key.byte(1).str_sep(branch),
        }
    }

    fn read(fields: &mut KeyReader<'_>) -> Result<Scope> {
        match fields.byte()? {
            0 => Ok(Scope::Shop),
            1 => Ok(Scope::Branch(fields.str_sep()?.to_string())),
            _ => Err(Error::internal("malformed aggregate scope")),
        }
    }
}

/// One day of one scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCell {
    /// Counted visits (not fully refunded).
    pub visits: u64,
    /// Their net revenue after refunds.
    pub revenue: Decimal,
    /// Points that paid for them, net of refunds.
    pub points: Decimal,
    /// Points earned on them, net of refunds.
    pub accrual: Decimal,
    /// Visit days of customers who had an earlier one in the scope: (days since it, how
    /// many), by days.
    pub gaps: Vec<(u32, u64)>,
    /// First visit days in the scope: (days since the customer's first visit anywhere,
    /// how many), by days.
    pub firsts: Vec<(u32, u64)>,
    /// Feedback given that day (about a visit of the branch, in a branch's cell), by
    /// employee (`None`: not named), in order.
    pub feedback: Vec<(Option<String>, FeedbackTally)>,
}

/// Feedback counted for `report.complaints`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackTally {
    /// Complaints.
    pub complaints: u64,
    /// All feedback.
    pub feedback: u64,
    /// Sum of the ratings given.
    pub rating_sum: u64,
    /// Feedback with a rating.
    pub rated: u64,
}

impl FeedbackTally {
    /// One piece of feedback.
    pub fn one(complaint: bool, rating: Option<u8>) -> FeedbackTally {
        FeedbackTally {
            complaints: u64::from(complaint),
            feedback: 1,
            rating_sum: rating.map_or(0, u64::from),
            rated: u64::from(rating.is_some()),
        }
    }

    /// Add another tally.
    pub fn add(&mut self, other: &FeedbackTally) {
        self.complaints += other.complaints;
        self.feedback += other.feedback;
        self.rating_sum += other.rating_sum;
        self.rated += other.rated;
    }

    /// Take back a tally added before; a count going below zero is a broken invariant
    /// (and leaves this tally as it was).
    pub fn take(&mut self, other: &FeedbackTally) -> Result<()> {
        let less = |have: u64, by: u64| {
            have.checked_sub(by)
                .ok_or_else(|| Error::internal("a day cell's feedback count went below zero"))
        };
        *self = FeedbackTally {
            complaints: less(self.complaints, other.complaints)?,
            feedback: less(self.feedback, other.feedback)?,
            rating_sum: less(self.rating_sum, other.rating_sum)?,
            rated: less(self.rated, other.rated)?,
        };
        Ok(())
    }
}

/// Count `tally` under `employee` in a cell's feedback.
pub fn add_feedback(cell: &mut DayCell, employee: Option<&str>, tally: &FeedbackTally) {
    let position = cell
        .feedback
        .partition_point(|(e, _)| e.as_deref() < employee);
    match cell.feedback.get_mut(position) {
        Some((e, existing)) if e.as_deref() == employee => existing.add(tally),
        _ => cell
            .feedback
            .insert(position, (employee.map(str::to_string), *tally)),
    }
}

/// New feedback of `customer` dated `date`, about a visit of `branch` (if any): counted
/// in the same batch.
pub fn on_feedback(
    txn: &mut WriteTxn<'_>,
    customer: u64,
    date: NaiveDate,
    branch: Option<&str>,
    employee: Option<&str>,
    tally: &FeedbackTally,
) -> Result<()> {
    if !ready(txn)? {
        return Ok(());
    }
    for scope in &Scope::counting(branch) {
        let employee = employee.map(str::to_string);
        let tally = *tally;
        update(txn, date, scope, customer, move |cell| {
            add_feedback(cell, employee.as_deref(), &tally);
            Ok(())
        })?;
    }
    Ok(())
}

/// Feedback counted in `from`'s part of its day's cells now belongs to `to` (a customer
/// merge): its tally moves to `to`'s part.
pub fn move_feedback(
    txn: &mut WriteTxn<'_>,
    (from, to): (u64, u64),
    date: NaiveDate,
    branch: Option<&str>,
    employee: Option<&str>,
    tally: &FeedbackTally,
) -> Result<()> {
    let Some(layout) = layout(txn)? else {
        return Ok(());
    };
    if layout.part(from) == layout.part(to) {
        return Ok(());
    }
    for scope in &Scope::counting(branch) {
        let (employee, tally) = (employee.map(str::to_string), *tally);
        let taken_from = employee.clone();
        update(txn, date, scope, from, move |cell| {
            take_feedback(cell, taken_from.as_deref(), &tally)
        })?;
        update(txn, date, scope, to, move |cell| {
            add_feedback(cell, employee.as_deref(), &tally);
            Ok(())
        })?;
    }
    Ok(())
}

/// Take `tally` back from what a cell counts under `employee`.
fn take_feedback(cell: &mut DayCell, employee: Option<&str>, tally: &FeedbackTally) -> Result<()> {
    // Kept in employee order, as `add_feedback` keeps them.
    let position = cell
        .feedback
        .partition_point(|(e, _)| e.as_deref() < employee);
    let counted = match cell.feedback.get_mut(position) {
        Some((e, counted)) if e.as_deref() == employee => counted,
        _ => {
            return Err(Error::internal(
                "feedback moved from a day cell that does not count it",
            ));
        }
    };
    counted.take(tally)?;
    if *counted == FeedbackTally::default() {
        cell.feedback.remove(position);
    }
    Ok(())
}

impl DayCell {
    fn is_empty(&self) -> bool {
        *self == DayCell::default()
    }

    /// Add the figures of another part of the same day and scope.
    pub fn merge(&mut self, other: &DayCell) -> Result<()> {
        self.visits += other.visits;
        self.revenue += other.revenue;
        self.points += other.points;
        self.accrual += other.accrual;
        for (days, count) in &other.gaps {
            bump(&mut self.gaps, *days, signed(*count)?)?;
        }
        for (days, count) in &other.firsts {
            bump(&mut self.firsts, *days, signed(*count)?)?;
        }
        for (employee, tally) in &other.feedback {
            add_feedback(self, employee.as_deref(), tally);
        }
        Ok(())
    }
}

fn signed(count: u64) -> Result<i64> {
    i64::try_from(count).map_err(|_| Error::internal("an aggregate count is past i64"))
}

/// Add `delta` to the count under `days` of a sorted histogram, dropping zeros; a count
/// going below zero is a broken invariant.
pub(crate) fn bump(histogram: &mut Vec<(u32, u64)>, days: u32, delta: i64) -> Result<()> {
    let position = histogram.partition_point(|(d, _)| *d < days);
    if histogram.get(position).is_none_or(|(d, _)| *d != days) {
        histogram.insert(position, (days, 0));
    }
    let count = i128::from(histogram[position].1) + i128::from(delta);
    histogram[position].1 = u64::try_from(count).map_err(|_| {
        Error::internal(format!("aggregate count under {days} days went to {count}"))
    })?;
    if histogram[position].1 == 0 {
        histogram.remove(position);
    }
    Ok(())
}

fn cell_key(date: NaiveDate, scope: &Scope, part: Option<u8>) -> Vec<u8> {
    with_part(scope.push(KeyBuilder::new(tag::DAY_CELL).date(date)), part)
}

/// A key of a cell or of the points totals: its part's byte last (none for the one
/// record of format 2).
fn with_part(key: KeyBuilder, part: Option<u8>) -> Vec<u8> {
    match part {
        Some(part) => key.byte(part).build(),
        None => key.build(),
    }
}

/// Change `customer`'s part of a cell in the batch. Every writer of the day changes its
/// cell and none needs to see it to decide, so the change is an amendment applied at the
/// commit ([`WriteTxn::amend`]): on a shared store the part is locked only then.
pub(crate) fn update(
    txn: &mut WriteTxn<'_>,
    date: NaiveDate,
    scope: &Scope,
    customer: u64,
    change: impl Fn(&mut DayCell) -> Result<()> + 'static,
) -> Result<()> {
    let part = layout(txn)?.and_then(|layout| layout.part(customer));
    txn.amend(cell_key(date, scope, part), move |cell: Option<DayCell>| {
        let mut cell = cell.unwrap_or_default();
        change(&mut cell)?;
        Ok((!cell.is_empty()).then_some(cell))
    });
    Ok(())
}

/// Write a whole cell, or one part of it (rebuild).
pub fn put_cell(
    txn: &mut WriteTxn<'_>,
    date: NaiveDate,
    scope: &Scope,
    part: Option<u8>,
    cell: &DayCell,
) -> Result<()> {
    let key = cell_key(date, scope, part);
    if cell.is_empty() {
        txn.delete(key);
        Ok(())
    } else {
        txn.put(key, cell)
    }
}

/// The cells of one scope dated in `[from, to]`, in date order, each the sum of its
/// parts: one range read (the other scopes' cells of those days are skipped).
pub fn cells<R: Reader>(
    reader: &R,
    scope: &Scope,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<(NaiveDate, DayCell)>> {
    const CHUNK: usize = 1024;
    let mut start = KeyBuilder::new(tag::DAY_CELL).date(from).build();
    let end = match to.succ_opt() {
        Some(next) => KeyBuilder::new(tag::DAY_CELL).date(next).build(),
        None => prefix_end(&[tag::DAY_CELL]),
    };
    let mut out = Vec::new();
    loop {
        let chunk = reader.scan_range::<DayCell>(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else {
            return Ok(out);
        };
        start = last.clone();
        start.push(0);
        for (key, cell) in chunk {
            let (date, of, _) = read_cell_key(&key)?;
            if of != *scope {
                continue;
            }
            // A day's parts of one scope are next to each other in key order.
            match out.last_mut() {
                Some((last, sum)) if *last == date => sum.merge(&cell)?,
                _ => out.push((date, cell)),
            }
        }
    }
}

/// A stored cell (or part of one) with its key, date, scope and part.
pub type StoredCell = (Vec<u8>, NaiveDate, Scope, Option<u8>, DayCell);

/// Every stored cell, in key order, a chunk at a time after `after` (check, rebuild).
pub fn all_cells<R: Reader>(
    reader: &R,
    after: Option<&[u8]>,
    chunk: usize,
) -> Result<Vec<StoredCell>> {
    let start = match after {
        Some(key) => {
            let mut next = key.to_vec();
            next.push(0);
            next
        }
        None => vec![tag::DAY_CELL],
    };
    let end = prefix_end(&[tag::DAY_CELL]);
    let mut out = Vec::new();
    for (key, cell) in reader.scan_range::<DayCell>(&start, &end, chunk, false)? {
        let (date, scope, part) = read_cell_key(&key)?;
        out.push((key, date, scope, part, cell));
    }
    Ok(out)
}

fn read_cell_key(key: &[u8]) -> Result<(NaiveDate, Scope, Option<u8>)> {
    let mut fields = KeyReader::of(key, tag::DAY_CELL, "day cells")?;
    let date = fields.date()?;
    let scope = Scope::read(&mut fields)?;
    let part = match fields.is_done() {
        true => None,
        false => Some(fields.byte()?),
    };
    Ok((date, scope, part))
}

/// Distinct customers of a period, from its cells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    /// Customers with a counted visit in the period.
    pub customers: u64,
    /// Of them, those whose first visit was before the period.
    pub returning: u64,
    /// Of them, those whose first visit fell in the period.
    pub new: u64,
}

/// Customers of `[start, end]` from the cells of those days (any other days in `cells`
/// are ignored): a visit day counts when the customer's previous visit day in the scope
/// was before `start`.
pub fn served(cells: &[(NaiveDate, DayCell)], (start, end): (NaiveDate, NaiveDate)) -> Served {
    let mut out = Served::default();
    for (date, cell) in cells {
        if *date < start || *date > end {
            continue;
        }
        let since_start = u32::try_from((*date - start).num_days()).unwrap_or(u32::MAX);
        for (gap, count) in &cell.gaps {
            if *gap > since_start {
                out.customers += count;
                // An earlier visit before the period: the first visit was too.
                out.returning += count;
            }
        }
        for (since_first, count) in &cell.firsts {
            out.customers += count;
            if *since_first > since_start {
                out.returning += count;
            } else {
                out.new += count;
            }
        }
    }
    out
}

fn mark_key() -> Vec<u8> {
    crate::store::keys::aggregates_mark()
}

/// Whether the cells are complete: marked when the store was created with them or by a
/// rebuild. A store written before them (or mid-rebuild) has no mark.
pub fn ready<R: Reader>(reader: &R) -> Result<bool> {
    Ok(layout(reader)?.is_some())
}

/// How complete cells are kept (`None`: they are not complete, see [`ready`]).
pub fn layout<R: Reader>(reader: &R) -> Result<Option<Layout>> {
    Ok(match reader.get::<u32>(&mark_key())? {
        Some(FORMAT) => Some(Layout::PartsByCustomer),
        Some(FORMAT_ONE_PART) => Some(Layout::OnePart),
        _ => None,
    })
}

/// Mark the cells complete (a new store, or a finished rebuild).
pub fn mark_ready(txn: &mut WriteTxn<'_>) -> Result<()> {
    txn.put(mark_key(), &FORMAT)
}

/// Take the mark away (a rebuild begins).
pub fn unmark(txn: &mut WriteTxn<'_>) {
    txn.delete(mark_key());
}

/// Points on every account together: what `report.points` reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsTotals {
    /// Accounts with any history.
    pub accounts: u64,
    /// Accounts with a positive balance.
    pub with_balance: u64,
    /// Sum of credited.
    pub credited: Decimal,
    /// Sum of redeemed.
    pub redeemed: Decimal,
    /// Sum of expired.
    pub expired: Decimal,
    /// Sum of balances.
    pub balance: Decimal,
    /// Sum of pending.
    pub pending: Decimal,
    /// Sum of held.
    pub held: Decimal,
}

/// An account's figures as the totals count them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountFigures {
    /// Credited.
    pub credited: Decimal,
    /// Redeemed.
    pub redeemed: Decimal,
    /// Expired.
    pub expired: Decimal,
    /// Balance.
    pub balance: Decimal,
    /// Pending.
    pub pending: Decimal,
    /// Held.
    pub held: Decimal,
}

impl PointsTotals {
    /// Add the totals of another part.
    pub fn merge(&mut self, other: &PointsTotals) {
        self.accounts += other.accounts;
        self.with_balance += other.with_balance;
        self.credited += other.credited;
        self.redeemed += other.redeemed;
        self.expired += other.expired;
        self.balance += other.balance;
        self.pending += other.pending;
        self.held += other.held;
    }

    /// Count one account in (`sign` 1) or out (`sign` -1).
    pub fn add(&mut self, account: &AccountFigures, sign: i64) -> Result<()> {
        let step = |value: u64, by: i64| {
            u64::try_from(i128::from(value) + i128::from(by))
                .map_err(|_| Error::internal("points totals: an account count went below zero"))
        };
        self.accounts = step(self.accounts, sign)?;
        if account.balance > Decimal::ZERO {
            self.with_balance = step(self.with_balance, sign)?;
        }
        let sign = Decimal::from(sign);
        self.credited += sign * account.credited;
        self.redeemed += sign * account.redeemed;
        self.expired += sign * account.expired;
        self.balance += sign * account.balance;
        self.pending += sign * account.pending;
        self.held += sign * account.held;
        Ok(())
    }
}

fn totals_key(part: Option<u8>) -> Vec<u8> {
    with_part(
        KeyBuilder::new(tag::AGGREGATE).byte(aggregate_tag::POINTS_TOTALS),
        part,
    )
}

/// The points totals of every account: the sum of the parts.
pub fn points_totals<R: Reader>(reader: &R) -> Result<PointsTotals> {
    let mut sum = PointsTotals::default();
    for (_, part) in points_totals_parts(reader)? {
        sum.merge(&part);
    }
    Ok(sum)
}

/// The stored points totals, by part (`None`: the one record of format 2).
pub fn points_totals_parts<R: Reader>(reader: &R) -> Result<Vec<(Option<u8>, PointsTotals)>> {
    let start = totals_key(None);
    let end = prefix_end(&start);
    // The one record and at most PARTS parts.
    let limit = usize::try_from(PARTS)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    reader
        .scan_range::<PointsTotals>(&start, &end, limit, false)?
        .into_iter()
        .map(|(key, totals)| match key.get(start.len()..) {
            Some([]) => Ok((None, totals)),
            Some([part]) => Ok((Some(*part), totals)),
            _ => Err(Error::corrupted(format!(
                "points totals key {} is malformed",
                crate::store::keys::display(&key)
            ))),
        })
        .collect()
}

/// Write the points totals, or one part of them (rebuild).
pub fn put_points_totals(
    txn: &mut WriteTxn<'_>,
    part: Option<u8>,
    totals: &PointsTotals,
) -> Result<()> {
    txn.put(totals_key(part), totals)
}

/// `customer`'s account is written: move the totals from its stored figures to its new
/// ones.
pub fn on_account(
    txn: &mut WriteTxn<'_>,
    customer: u64,
    before: Option<&AccountFigures>,
    after: &AccountFigures,
) -> Result<()> {
    if before == Some(after) {
        return Ok(());
    }
    let Some(layout) = layout(txn)? else {
        return Ok(());
    };
    // Every account's change moves the totals and none decides by them: an amendment,
    // locked only at the commit on a shared store (see [`update`]).
    let (before, after) = (before.copied(), *after);
    txn.amend(
        totals_key(layout.part(customer)),
        move |totals: Option<PointsTotals>| {
            let mut totals = totals.unwrap_or_default();
            if let Some(before) = &before {
                totals.add(before, -1)?;
            }
            totals.add(&after, 1)?;
            Ok(Some(totals))
        },
    );
    Ok(())
}

/// Delete every cell, visit day and the totals, a chunk at a time (rebuild); returns
/// whether anything is left.
pub fn clear_some(txn: &mut WriteTxn<'_>, limit: usize) -> Result<bool> {
    for table in [tag::DAY_CELL, tag::AGGREGATE] {
        let start = vec![table];
        let end = prefix_end(&start);
        let keys = txn.scan_raw(&start, &end, limit, false)?;
        if keys.is_empty() {
            continue;
        }
        let full = keys.len() == limit;
        for (key, _) in keys {
            txn.delete(key);
        }
        return Ok(full || table == tag::DAY_CELL);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
    }

    fn one_visit(txn: &mut WriteTxn<'_>, customer: u64, revenue: i64) {
        update(txn, day(), &Scope::Shop, customer, move |cell| {
            cell.visits += 1;
            cell.revenue += Decimal::from(revenue);
            bump(&mut cell.firsts, 0, 1)
        })
        .unwrap();
        let figures = AccountFigures {
            credited: Decimal::from(revenue / 10),
            balance: Decimal::from(revenue / 10),
            ..AccountFigures::default()
        };
        on_account(txn, customer, None, &figures).unwrap();
    }

    /// Customers 1 and 17 share a part, 2 has its own; the cells and totals a report
    /// reads are the sums of the parts.
    #[test]
    fn parts_by_customer_add_up_to_what_reports_read() {
        let store = Store::scratch().unwrap();
        let mut txn = store.write().unwrap();
        mark_ready(&mut txn).unwrap();
        for (customer, revenue) in [(1, 1000), (17, 500), (2, 300)] {
            one_visit(&mut txn, customer, revenue);
        }
        txn.commit().unwrap();
        let reader = store.read().unwrap();
        assert_eq!(layout(&reader).unwrap(), Some(Layout::PartsByCustomer));
        let stored: Vec<(Option<u8>, u64)> = all_cells(&reader, None, 100)
            .unwrap()
            .into_iter()
            .map(|(_, _, _, part, cell)| (part, cell.visits))
            .collect();
        assert_eq!(stored, vec![(Some(1), 2), (Some(2), 1)]);
        let read = cells(&reader, &Scope::Shop, (day(), day())).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].1.visits, 3);
        assert_eq!(read[0].1.revenue, Decimal::from(1800));
        assert_eq!(read[0].1.firsts, vec![(0, 3)]);
        assert_eq!(served(&read, (day(), day())).customers, 3);
        let totals = points_totals(&reader).unwrap();
        assert_eq!((totals.accounts, totals.balance), (3, Decimal::from(180)));
        let parts: Vec<Option<u8>> = points_totals_parts(&reader)
            .unwrap()
            .into_iter()
            .map(|(part, _)| part)
            .collect();
        assert_eq!(parts, vec![Some(1), Some(2)]);
    }

    /// A store marked before the parts (format 2) keeps one cell per day and one totals
    /// record, and reads them as before.
    #[test]
    fn a_store_of_format_two_keeps_one_record_each() {
        let store = Store::scratch().unwrap();
        let mut txn = store.write().unwrap();
        txn.put(mark_key(), &FORMAT_ONE_PART).unwrap();
        for (customer, revenue) in [(1, 1000), (2, 300)] {
            one_visit(&mut txn, customer, revenue);
        }
        txn.commit().unwrap();
        let reader = store.read().unwrap();
        assert_eq!(layout(&reader).unwrap(), Some(Layout::OnePart));
        let stored = all_cells(&reader, None, 100).unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!((stored[0].3, stored[0].4.visits), (None, 2));
        assert_eq!(stored[0].0, cell_key(day(), &Scope::Shop, None));
        let parts = points_totals_parts(&reader).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!((parts[0].0, parts[0].1.accounts), (None, 2));
    }

    /// Taking feedback out of a part takes exactly what was counted, and refuses more.
    #[test]
    fn feedback_taken_from_a_cell_never_goes_below_zero() {
        let mut cell = DayCell::default();
        let complaint = FeedbackTally::one(true, Some(2));
        add_feedback(&mut cell, Some("Иванов"), &complaint);
        add_feedback(
            &mut cell,
            Some("Иванов"),
            &FeedbackTally::one(false, Some(5)),
        );
        take_feedback(&mut cell, Some("Иванов"), &complaint).unwrap();
        assert_eq!(cell.feedback[0].1, FeedbackTally::one(false, Some(5)));
        assert!(take_feedback(&mut cell, Some("Иванов"), &complaint).is_err());
        assert!(take_feedback(&mut cell, None, &complaint).is_err());
        take_feedback(
            &mut cell,
            Some("Иванов"),
            &FeedbackTally::one(false, Some(5)),
        )
        .unwrap();
        assert!(cell.is_empty());
    }
}
