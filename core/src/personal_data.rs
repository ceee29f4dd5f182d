//! Personal data: `customer.export` gives everything known about one customer;
//! `customer.erase` removes the personal fields on request and keeps the anonymous
//! figures (ledger entries, visits, lots, tiers) so every total and `store.check`
//! still balance.
//!
//! After erasure the customer is found by nothing (phone, email, external id, card,
//! plate, VIN, name, not even id) and cannot check out; the phone, email, external id,
//! cards, VIN, plates and referral code are free for others. Reports keep counting the
//! anonymous record by id. Points left on the account stay there (a liability the
//! shop may write off with `points.adjust` before erasing).

use crate::campaign::{self, Notification};
use crate::context::Ctx;
use crate::customer::{self, Card, ConsentEvent, Customer, CustomerRef, CustomerStatus};
use crate::error::{Error, Result};
use crate::ledger::{self, Account, Entry};
use crate::normalize::{self, TEXT_CHARS_MAX};
use crate::referral::{self, Referral};
use crate::store::keys::{KeyBuilder, tag};
use crate::store::{Reader, WriteTxn};
use crate::vehicle::{self, Vehicle};
use crate::visit::{self, Visit};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most visits in an export.
pub const EXPORT_VISITS_MAX: usize = 10_000;
/// Most ledger entries in an export.
pub const EXPORT_ENTRIES_MAX: usize = 100_000;

/// Arguments of `customer.export`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportArgs {
    /// Whose data.
    pub customer: CustomerRef,
}

/// Everything known about one customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Export {
    /// Profile with current consents.
    pub customer: Customer,
    /// Every consent change with its date and source.
    pub consent_history: Vec<ConsentEvent>,
    /// Every card issued, current and blocked.
    pub cards: Vec<Card>,
    /// Vehicles owned now.
    pub vehicles: Vec<Vehicle>,
    /// Visits, newest first (at most 10 000).
    pub visits: Vec<Visit>,
    /// Points account.
    pub account: Account,
    /// Ledger entries, newest first (at most 100 000).
    pub entries: Vec<Entry>,
    /// Own referral code, referrer and rewards.
    pub referral: Referral,
    /// Customers this one brought.
    pub referees: Vec<u64>,
    /// Campaigns that told this customer.
    pub campaigns: Vec<Notification>,
}

/// `customer.export`.
pub fn export<R: Reader>(reader: &R, ctx: &Ctx, args: &ExportArgs) -> Result<Export> {
    let customer = customer::resolve(reader, ctx, &args.customer)?;
    let id = customer.id;
    Ok(Export {
        consent_history: customer::consent_history(reader, id)?,
        cards: customer::cards_of(reader, id)?,
        vehicles: vehicle::of_customer(reader, id)?,
        visits: visit::latest(reader, id, EXPORT_VISITS_MAX)?,
        account: ledger::load_account(reader, id)?,
        entries: ledger::entries(reader, id, None, EXPORT_ENTRIES_MAX)?,
        referral: referral::load(reader, id)?,
        referees: referral::referees(reader, id, 10_000)?,
        campaigns: campaign::notifications_of(reader, id)?,
        customer,
    })
}

/// Arguments of `customer.erase`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseArgs {
    /// Whose data.
    pub customer: CustomerRef,
    /// Why (the request's reference; no personal data here).
    pub reason: String,
}

/// The record of an erasure, kept instead of the data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Erasure {
    /// Customer id.
    pub customer: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: String,
    /// Cards removed.
    pub cards: u32,
    /// Vehicles whose VIN and plate were removed.
    pub vehicles: u32,
}

/// `customer.erase`: remove personal fields, free the unique indexes, keep figures.
pub fn erase(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: EraseArgs) -> Result<Erasure> {
    let reason = normalize::text("reason", &args.reason, TEXT_CHARS_MAX)?;
    let old = customer::resolve(txn, ctx, &args.customer)?;
    debug_assert!(old.status != CustomerStatus::Erased);
    let mut cards = 0u32;
    let mut numbers: Vec<String> = customer::cards_of(txn, old.id)?
        .into_iter()
        .map(|card| card.number)
        .collect();
    if let Some(current) = &old.card
        && !numbers.contains(current)
    {
        numbers.push(current.clone());
    }
    for number in &numbers {
        customer::forget_card(txn, old.id, number);
        cards += 1;
    }
    let mut vehicles = 0u32;
    for mut car in vehicle::of_customer(txn, old.id)? {
        vehicle::forget_identifiers(txn, &mut car)?;
        vehicles += 1;
    }
    referral::forget_code(txn, old.id)?;
    customer::forget_merges(txn, old.id)?;
    let erased = customer::erase_fields(txn, ctx, &old)?;
    if erased.phone.is_some() || erased.email.is_some() || !erased.full_name.is_empty() {
        return Err(Error::internal("erasure left personal fields"));
    }
    let record = Erasure {
        customer: old.id,
        at: ctx.at,
        reason,
        cards,
        vehicles,
    };
    txn.put(KeyBuilder::new(tag::ERASURE).u64(old.id).build(), &record)?;
    Ok(record)
}
