//! What a replay needs from the shop's store, read once: the visits of the period, the
//! customers they and the ledger touch, each one's points at `from` as lots, and the
//! actual figures of the period as the ledger records them.

use super::{Movement, SimulateLimits};
use crate::error::{Error, Result};
use crate::ledger::{self, Book, Entry, EntryKind};
use crate::program::Program;
use crate::store::Reader;
use crate::store::keys::{KeyBuilder, KeyReader, tag};
use crate::visit;
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

const CHUNK: usize = 1024;

/// A lot as it stood at the start of `from`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OpeningLot {
    pub source: EntryKind,
    pub remaining: Decimal,
    pub expires_on: Option<NaiveDate>,
    pub pending_until: Option<NaiveDate>,
}

/// One customer the replay touches, with what actually happened to them.
#[derive(Debug, Clone, Default)]
pub(super) struct Touched {
    pub actual: Movement,
    pub balance_from: Decimal,
    pub balance_to: Decimal,
    pub discounts: Decimal,
    pub opening: Vec<OpeningLot>,
}

/// The period as the shop's store records it.
pub(super) struct Scope {
    /// (date, visit id) in date order, then id (the order they were recorded in).
    pub visits: Vec<(NaiveDate, u64)>,
    pub customers: BTreeMap<u64, Touched>,
    /// Refunds of these visits made by the end of `to`.
    pub refunds: u64,
}

/// Read the period: its visits, then every account (stepwise, like a report).
pub(super) fn read<R: Reader>(
    reader: &R,
    (from, to): (NaiveDate, NaiveDate),
    limits: &SimulateLimits,
    program: &Program,
) -> Result<Scope> {
    let mut scope = Scope {
        visits: Vec::new(),
        customers: BTreeMap::new(),
        refunds: 0,
    };
    let mut after: Option<Vec<u8>> = None;
    loop {
        let rows = visit::dated_visits(reader, None, (from, to), after.as_deref(), CHUNK)?;
        let Some((last, _, _)) = rows.last() else {
            break;
        };
        after = Some(last.clone());
        for (key, date, dated) in &rows {
            let id = KeyReader::of(key, tag::VISIT_BY_DATE, "visit date index")?.last_u64()?;
            if scope.visits.len() >= limits.visits {
                return Err(
                    Error::too_large("visits in the period", limits.visits).with_details(
                        serde_json::json!({
                            "field": "to", "limit": limits.visits,
                            "hint": "simulate a shorter period"
                        }),
                    ),
                );
            }
            scope.visits.push((*date, id));
            let recorded = visit::load(reader, id)?;
            scope.refunds += recorded
                .refunds
                .iter()
                .filter(|refund| program.local_date(refund.at) <= to)
                .count() as u64;
            let touched = scope.customers.entry(dated.customer).or_default();
            touched.discounts += recorded.totals.discount;
        }
        check_customers(&scope, limits)?;
    }
    read_accounts(reader, (from, to), limits, &mut scope)?;
    Ok(scope)
}

fn check_customers(scope: &Scope, limits: &SimulateLimits) -> Result<()> {
    if scope.customers.len() > limits.customers {
        return Err(
            Error::too_large("customers touched by the period", limits.customers).with_details(
                serde_json::json!({ "field": "to", "limit": limits.customers,
                    "hint": "simulate a shorter period" }),
            ),
        );
    }
    Ok(())
}

/// Every account: its movements in the period, its balance at both ends and, when it
/// had points at `from`, the lots they were in.
fn read_accounts<R: Reader>(
    reader: &R,
    period: (NaiveDate, NaiveDate),
    limits: &SimulateLimits,
    scope: &mut Scope,
) -> Result<()> {
    ledger::for_each_account(reader, |customer| {
        let visited = scope.customers.contains_key(&customer);
        if let Some(touched) = read_account(reader, customer, period, visited)? {
            let entry = scope.customers.entry(customer).or_default();
            entry.actual = touched.actual;
            entry.balance_from = touched.balance_from;
            entry.balance_to = touched.balance_to;
            entry.opening = touched.opening;
        }
        check_customers(scope, limits)
    })?;
    Ok(())
}

/// One account; `None` when the period does not touch it (no points at `from`, no
/// movement in the period, no visit).
fn read_account<R: Reader>(
    reader: &R,
    customer: u64,
    (from, to): (NaiveDate, NaiveDate),
    visited: bool,
) -> Result<Option<Touched>> {
    // The account's lots as one record read, then its entries up to that record's
    // sequence only: a checkout committed meanwhile (this read is stepwise, like a
    // report's) adds entries after it and changes nothing here.
    let book = Book::load(reader, customer)?;
    // Entries newest first, down to the last one before `from`.
    let mut since_from: Vec<Entry> = Vec::new();
    let mut balance_from = Decimal::ZERO;
    let mut before = Some(book.account.seq + 1);
    'scan: loop {
        let page = ledger::entries(reader, customer, before, CHUNK)?;
        let Some(last) = page.last() else { break };
        before = Some(last.seq);
        for entry in page {
            if entry.date < from {
                balance_from = entry.balance_after;
                break 'scan;
            }
            since_from.push(entry);
        }
    }
    let mut touched = Touched {
        balance_from,
        balance_to: balance_from,
        ..Touched::default()
    };
    // since_from is newest first: the first entry dated on or before `to` closes the period.
    if let Some(closing) = since_from.iter().find(|e| e.date <= to) {
        touched.balance_to = closing.balance_after;
    }
    let mut moved = false;
    for entry in since_from.iter().filter(|e| e.date <= to) {
        touched.actual.add(entry);
        moved = true;
    }
    if !moved && balance_from.is_zero() && !visited {
        return Ok(None);
    }
    if !balance_from.is_zero() {
        touched.opening = opening_lots(reader, &book, &since_from)?;
    }
    Ok(Some(touched))
}

/// The lots of an account at the start of `from`: today's lots with every later
/// movement undone. A lot emptied since is described by the entry that burned it (its
/// last usable day is the day before the burn, so the replay burns it the same day) or
/// by the redemption that spent it (the visit keeps the lot's expiry); a lot neither
/// describes keeps no expiry.
fn opening_lots<R: Reader>(
    reader: &R,
    book: &Book,
    since_from: &[Entry],
) -> Result<Vec<OpeningLot>> {
    let mut remaining: BTreeMap<u64, Decimal> = BTreeMap::new();
    let mut described: HashMap<u64, OpeningLot> = HashMap::new();
    for lot in book.lots() {
        remaining.insert(lot.id, lot.remaining);
        described.insert(
            lot.id,
            OpeningLot {
                source: lot.source,
                remaining: Decimal::ZERO,
                expires_on: lot.expires_on,
                pending_until: lot.pending_until,
            },
        );
    }
    let mut released: HashMap<u64, NaiveDate> = HashMap::new();
    let mut spent_by: HashMap<u64, u64> = HashMap::new();
    for entry in since_from {
        if entry.kind == EntryKind::Release {
            for (lot, _) in &entry.lots {
                released.insert(*lot, entry.date);
            }
        }
        if entry.amount.is_zero() {
            // Releases and holds move pending or held points, not what a lot holds.
            continue;
        }
        for (lot, delta) in &entry.lots {
            *remaining.entry(*lot).or_default() -= *delta;
            if entry.kind == EntryKind::Expiry && !described.contains_key(lot) {
                described.insert(
                    *lot,
                    OpeningLot {
                        source: EntryKind::Accrual,
                        remaining: Decimal::ZERO,
                        expires_on: Some(entry.date - Duration::days(1)),
                        pending_until: None,
                    },
                );
            }
            if let Some(visit) = entry.visit
                && *delta < Decimal::ZERO
            {
                spent_by.entry(*lot).or_insert(visit);
            }
        }
    }
    let mut out = Vec::new();
    for (lot, points) in remaining {
        if points <= Decimal::ZERO {
            continue;
        }
        let mut opening = match described.remove(&lot) {
            Some(known) => known,
            None => from_visit(reader, lot, spent_by.get(&lot).copied())?,
        };
        opening.remaining = points;
        if let Some(date) = released.get(&lot) {
            opening.pending_until = Some(*date);
        }
        out.push(opening);
    }
    Ok(out)
}

fn from_visit<R: Reader>(reader: &R, lot: u64, visit_id: Option<u64>) -> Result<OpeningLot> {
    let mut opening = OpeningLot {
        source: EntryKind::Adjustment,
        remaining: Decimal::ZERO,
        expires_on: None,
        pending_until: None,
    };
    if let Some(id) = visit_id
        && let Some(allocation) = visit::load(reader, id)?
            .redemption_left
            .iter()
            .find(|a| a.lot == lot)
    {
        opening.source = allocation.source;
        opening.expires_on = allocation.expires_on;
    }
    Ok(opening)
}

/// The programme's own record key (a scratch store holds the proposed one there).
pub(super) fn program_key(version: u32) -> Vec<u8> {
    KeyBuilder::new(tag::PROGRAM)
        .u64(u64::from(version))
        .build()
}
