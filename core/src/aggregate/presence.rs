//! Customers' visit days per scope, and how a change to them moves the `gaps` and
//! `firsts` of the day cells (see the module above).
//!
//! A row `* p | customer | scope | date` holds how many of the customer's visits of that
//! day the scope has: in the shop scope every visit (`any`, for the customer's first
//! visit anywhere) and the counted ones; in a branch scope the counted ones. A day is a
//! *visit day* of a scope when its counted number is positive.

use super::{DayCell, Scope, bump, update};
use crate::error::{Error, Result};
use crate::store::keys::aggregate_tag::VISIT_DAYS;
use crate::store::keys::{KeyBuilder, KeyReader, prefix_end, tag};
use crate::store::{Reader, WriteTxn};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one entry of the visit date index counts for (its old or new value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// Customer.
    pub customer: u64,
    /// Not fully refunded.
    pub counted: bool,
    /// Net kept.
    pub net: Decimal,
    /// Points that paid, net of refunds.
    pub points: Decimal,
    /// Points earned, net of refunds.
    pub accrual: Decimal,
}

/// A customer's visits of one day in one scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Days {
    /// Every visit (shop scope only).
    pub any: u32,
    /// Counted visits.
    pub counted: u32,
}

fn customer_prefix(customer: u64) -> KeyBuilder {
    KeyBuilder::new(tag::AGGREGATE)
        .byte(VISIT_DAYS)
        .u64(customer)
}

fn scope_prefix(customer: u64, scope: &Scope) -> Vec<u8> {
    scope.push(customer_prefix(customer)).build()
}

fn row_key(customer: u64, scope: &Scope, date: NaiveDate) -> Vec<u8> {
    scope.push(customer_prefix(customer)).date(date).build()
}

/// Read a row key back: (customer, scope, date).
pub fn read_row_key(key: &[u8]) -> Result<(u64, Scope, NaiveDate)> {
    let mut fields = KeyReader::of(key, tag::AGGREGATE, "customers' visit days")?;
    if fields.byte()? != VISIT_DAYS {
        return Err(Error::internal("not a visit day row"));
    }
    let customer = fields.u64()?;
    let scope = Scope::read(&mut fields)?;
    Ok((customer, scope, fields.date()?))
}

/// A customer's rows in key order (check, rebuild), with their keys.
pub fn customer_rows<R: Reader>(reader: &R, customer: u64) -> Result<Vec<(Vec<u8>, Days)>> {
    let start = customer_prefix(customer).build();
    let end = prefix_end(&start);
    let mut out = Vec::new();
    let mut from = start;
    loop {
        let chunk = reader.scan_range::<Days>(&from, &end, 1024, false)?;
        let Some((last, _)) = chunk.last() else {
            return Ok(out);
        };
        from = last.clone();
        from.push(0);
        out.extend(chunk);
    }
}

/// Write one row as it should be (rebuild).
pub fn put_row(
    txn: &mut WriteTxn<'_>,
    customer: u64,
    scope: &Scope,
    date: NaiveDate,
    days: Days,
) -> Result<()> {
    txn.put(row_key(customer, scope, date), &days)
}

fn days_between(earlier: NaiveDate, later: NaiveDate) -> Result<u32> {
    u32::try_from((later - earlier).num_days())
        .map_err(|_| Error::internal(format!("visit day {later} is before {earlier}")))
}

/// Change the figures of the entry dated `date` (of `branch`, when it has one) from `old`
/// to `new` (`None`: no entry): the cells and visit days follow in the same batch.
pub fn on_dated(
    txn: &mut WriteTxn<'_>,
    date: NaiveDate,
    branch: Option<&str>,
    old: Option<&Presence>,
    new: Option<&Presence>,
) -> Result<()> {
    // A store written before the aggregates has none to keep up until a rebuild writes
    // them all (whose recount includes this change).
    if old == new || !super::ready(txn)? {
        return Ok(());
    }
    let scopes = Scope::counting(branch);
    for scope in &scopes {
        // Each entry's figures in its customer's part (a visit moved to another
        // customer leaves one part for another).
        for (entry, sign) in [(old, -1i64), (new, 1)] {
            let Some(entry) = entry.filter(|e| e.counted).cloned() else {
                continue;
            };
            update(txn, date, scope, entry.customer, move |cell| {
                add_figures(cell, &entry, sign)
            })?;
        }
    }
    // (customer, scope) → (change of any, change of counted)
    let mut deltas: BTreeMap<(u64, Scope), (i64, i64)> = BTreeMap::new();
    for (entry, sign) in [(old, -1i64), (new, 1)] {
        let Some(entry) = entry else { continue };
        for scope in &scopes {
            let delta = deltas.entry((entry.customer, scope.clone())).or_default();
            if *scope == Scope::Shop {
                delta.0 += sign;
            }
            delta.1 += sign * i64::from(entry.counted);
        }
    }
    // Counted days leave before, and arrive after, the visits that give the customer's
    // first visit: every counted day always has a first visit before or on it.
    for ((customer, scope), (_, counted)) in &deltas {
        if *counted < 0 {
            change_counted(txn, *customer, scope, date, *counted)?;
        }
    }
    for ((customer, _), (any, _)) in &deltas {
        if *any != 0 {
            change_any(txn, *customer, date, *any)?;
        }
    }
    for ((customer, scope), (_, counted)) in &deltas {
        if *counted > 0 {
            change_counted(txn, *customer, scope, date, *counted)?;
        }
    }
    Ok(())
}

fn add_figures(cell: &mut DayCell, entry: &Presence, sign: i64) -> Result<()> {
    let visits = i128::from(cell.visits) + i128::from(sign);
    cell.visits = u64::try_from(visits)
        .map_err(|_| Error::internal("a day cell's visit count went below zero"))?;
    let sign = Decimal::from(sign);
    cell.revenue += sign * entry.net;
    cell.points += sign * entry.points;
    cell.accrual += sign * entry.accrual;
    Ok(())
}

fn load_row(txn: &WriteTxn<'_>, key: &[u8]) -> Result<Days> {
    Ok(txn.get(key)?.unwrap_or_default())
}

fn store_row(txn: &mut WriteTxn<'_>, key: Vec<u8>, days: Days) -> Result<()> {
    if days == Days::default() {
        txn.delete(key);
        Ok(())
    } else {
        txn.put(key, &days)
    }
}

fn step(value: u32, delta: i64, what: &str) -> Result<u32> {
    u32::try_from(i64::from(value) + delta)
        .map_err(|_| Error::internal(format!("{what} visits of a day went out of range")))
}

/// The nearest visit day of a scope before (`reverse`) or after `date`.
fn neighbour(
    txn: &WriteTxn<'_>,
    customer: u64,
    scope: &Scope,
    date: NaiveDate,
    reverse: bool,
) -> Result<Option<NaiveDate>> {
    let prefix = scope_prefix(customer, scope);
    let (mut start, mut end) = if reverse {
        (prefix.clone(), row_key(customer, scope, date))
    } else {
        let mut after = row_key(customer, scope, date);
        after.push(0);
        (after, prefix_end(&prefix))
    };
    loop {
        let chunk = txn.scan_range::<Days>(&start, &end, 16, reverse)?;
        let Some((last, _)) = chunk.last() else {
            return Ok(None);
        };
        for (key, days) in &chunk {
            if days.counted > 0 {
                return Ok(Some(read_row_key(key)?.2));
            }
        }
        if reverse {
            end = last.clone();
        } else {
            start = last.clone();
            start.push(0);
        }
    }
}

/// The customer's first visit anywhere: their first shop-scope row.
fn first_visit(txn: &WriteTxn<'_>, customer: u64) -> Result<Option<NaiveDate>> {
    let prefix = scope_prefix(customer, &Scope::Shop);
    let end = prefix_end(&prefix);
    match txn.scan_range::<Days>(&prefix, &end, 1, false)?.first() {
        Some((key, _)) => Ok(Some(read_row_key(key)?.2)),
        None => Ok(None),
    }
}

fn change_counted(
    txn: &mut WriteTxn<'_>,
    customer: u64,
    scope: &Scope,
    date: NaiveDate,
    delta: i64,
) -> Result<()> {
    let key = row_key(customer, scope, date);
    let mut days = load_row(txn, &key)?;
    let before = days.counted;
    days.counted = step(days.counted, delta, "counted")?;
    let after = days.counted;
    store_row(txn, key, days)?;
    if (before == 0) == (after == 0) {
        return Ok(());
    }
    // The day becomes (sign 1) or stops being (sign -1) a visit day of the scope.
    let sign = if after > 0 { 1 } else { -1 };
    let first = first_visit(txn, customer)?.ok_or_else(|| {
        Error::internal(format!(
            "customer {customer} has a counted visit but no first visit"
        ))
    })?;
    let previous = neighbour(txn, customer, scope, date, true)?;
    let next = neighbour(txn, customer, scope, date, false)?;
    let since_first = days_between(first, date)?;
    update(txn, date, scope, customer, move |cell| match previous {
        Some(p) => bump(&mut cell.gaps, days_between(p, date)?, sign),
        None => bump(&mut cell.firsts, since_first, sign),
    })?;
    let Some(next) = next else { return Ok(()) };
    // The next visit day's previous one was `previous` without this day, this day with it.
    let to_date = days_between(date, next)?;
    update(txn, next, scope, customer, move |cell| {
        match previous {
            Some(p) => bump(&mut cell.gaps, days_between(p, next)?, -sign)?,
            None => bump(&mut cell.firsts, days_between(first, next)?, -sign)?,
        }
        bump(&mut cell.gaps, to_date, sign)
    })
}

fn change_any(txn: &mut WriteTxn<'_>, customer: u64, date: NaiveDate, delta: i64) -> Result<()> {
    let key = row_key(customer, &Scope::Shop, date);
    let before_first = first_visit(txn, customer)?;
    let mut days = load_row(txn, &key)?;
    days.any = step(days.any, delta, "all")?;
    if days.any < days.counted {
        return Err(Error::internal(format!(
            "customer {customer} has more counted visits than visits on {date}"
        )));
    }
    store_row(txn, key, days)?;
    let after_first = first_visit(txn, customer)?;
    if before_first == after_first {
        return Ok(());
    }
    // The first visit moved: every scope's first visit day is counted from it.
    let firsts = first_visit_days(txn, customer)?;
    for (scope, day) in firsts {
        let (Some(old), Some(new)) = (before_first, after_first) else {
            return Err(Error::internal(format!(
                "customer {customer} has a visit day in a scope but no first visit"
            )));
        };
        update(txn, day, &scope, customer, move |cell| {
            bump(&mut cell.firsts, days_between(old, day)?, -1)?;
            bump(&mut cell.firsts, days_between(new, day)?, 1)
        })?;
    }
    Ok(())
}

/// The first visit day of each scope of a customer.
fn first_visit_days(txn: &WriteTxn<'_>, customer: u64) -> Result<Vec<(Scope, NaiveDate)>> {
    let mut out: Vec<(Scope, NaiveDate)> = Vec::new();
    for (key, days) in customer_rows(txn, customer)? {
        if days.counted == 0 {
            continue;
        }
        let (_, scope, date) = read_row_key(&key)?;
        if out.last().is_none_or(|(s, _)| *s != scope) {
            out.push((scope, date));
        }
    }
    Ok(out)
}
