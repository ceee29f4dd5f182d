//! The points ledger, modelled on TigerBeetle: immutable entries with a per-account
//! sequence and the balances after each; corrections are new entries; holds resolve
//! exactly once.
//!
//! Points live in lots. An accrual creates a lot with its expiry date (and a pending
//! period, the return window); redemption spends the lots that expire soonest first;
//! expiry burns exactly what is left of an expired lot; a hold reserves points inside
//! specific lots so expiry never burns reserved points and available never goes
//! below zero.
//!
//! Invariants, checked by [`Book::save`] before anything is written:
//! `balance = Σ entries = Σ lot.remaining`, `held = Σ lot.held`,
//! `pending = Σ remaining of pending lots`, `0 ≤ lot.held ≤ lot.remaining`,
//! `available = balance − held − pending ≥ 0`.

mod holds;
mod merge;
mod movements;
mod stored;

pub use merge::{MovedPoints, merge_accounts, refuse_active_holds};

pub use movements::Credit;
pub use stored::check_blocks;

use stored::{AccountRecord, load_blocks, load_record};

use crate::aggregate;
use crate::audit::{self, Entity};
use crate::context::{Ctx, must};
use crate::error::{Error, ErrorCode, Result};
use crate::normalize::exact_scale;
use crate::store::keys::{self, KeyBuilder, KeyReader, tag};
use crate::store::{Reader, WriteTxn};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// Largest points amount of one entry.
pub const POINTS_MAX: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// Why points moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntryKind {
    /// Earned on a visit.
    Accrual,
    /// Welcome bonus.
    Welcome,
    /// Birthday bonus.
    Birthday,
    /// Another bonus (promotion, referral, feedback).
    Bonus,
    /// Manual correction by an operator.
    Adjustment,
    /// Paid part of a visit.
    Redemption,
    /// Points a refund gave back.
    RedemptionReturn,
    /// Earned points a refund took back.
    AccrualReversal,
    /// Burned at expiry.
    Expiry,
    /// Pending points became available.
    Release,
    /// Points reserved for a two-step payment.
    Hold,
    /// A hold released without payment.
    HoldRelease,
    /// A hold that lapsed.
    HoldExpiry,
    /// A hold captured as payment.
    Capture,
    /// Promotion bonus points a refund took back.
    BonusReversal,
    /// Points moved between two accounts by `customer.merge` (out of the merged
    /// customer's, into the kept one's; the two entries sum to zero).
    Merge,
}

/// What an entry does to the points the shop owes, as the owner's figures count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Points given (earned, bonuses), or taken back from what was given (a reversal
    /// counts negative here, by its signed amount).
    Issued,
    /// Points spent as payment, or given back by a refund (negative spending).
    Redeemed,
    /// Points burned at expiry.
    Expired,
    /// Manual corrections, either sign.
    Adjusted,
    /// Points only moved inside the account (released, held, unheld).
    Internal,
}

impl EntryKind {
    /// The kind as the contract spells it (`accrual`, `redemption_return`, ...).
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Accrual => "accrual",
            EntryKind::Welcome => "welcome",
            EntryKind::Birthday => "birthday",
            EntryKind::Bonus => "bonus",
            EntryKind::Adjustment => "adjustment",
            EntryKind::Redemption => "redemption",
            EntryKind::RedemptionReturn => "redemption_return",
            EntryKind::AccrualReversal => "accrual_reversal",
            EntryKind::Expiry => "expiry",
            EntryKind::Release => "release",
            EntryKind::Hold => "hold",
            EntryKind::HoldRelease => "hold_release",
            EntryKind::HoldExpiry => "hold_expiry",
            EntryKind::Capture => "capture",
            EntryKind::BonusReversal => "bonus_reversal",
            EntryKind::Merge => "merge",
        }
    }

    /// Which of the owner's figures an entry of this kind moves.
    pub fn flow(self) -> Flow {
        match self {
            EntryKind::Accrual
            | EntryKind::Welcome
            | EntryKind::Birthday
            | EntryKind::Bonus
            | EntryKind::AccrualReversal
            | EntryKind::BonusReversal => Flow::Issued,
            EntryKind::Redemption | EntryKind::RedemptionReturn | EntryKind::Capture => {
                Flow::Redeemed
            }
            EntryKind::Expiry => Flow::Expired,
            EntryKind::Adjustment => Flow::Adjusted,
            EntryKind::Release
            | EntryKind::Hold
            | EntryKind::HoldRelease
            | EntryKind::HoldExpiry
            | EntryKind::Merge => Flow::Internal,
        }
    }
}

/// A customer's points account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Account {
    /// Owner.
    pub customer: u64,
    /// Sequence of the last entry.
    pub seq: u64,
    /// Σ lot remaining.
    pub balance: Decimal,
    /// Reserved by holds.
    pub held: Decimal,
    /// In the return window.
    pub pending: Decimal,
    /// Next lot id of this account.
    pub next_lot: u64,
    /// Lifetime points credited.
    pub credited: Decimal,
    /// Lifetime points debited by redemption and captures.
    pub redeemed: Decimal,
    /// Lifetime points expired.
    pub expired: Decimal,
}

impl Account {
    /// What the points totals of `report.points` count of the account.
    pub fn figures(&self) -> aggregate::AccountFigures {
        aggregate::AccountFigures {
            credited: self.credited,
            redeemed: self.redeemed,
            expired: self.expired,
            balance: self.balance,
            pending: self.pending,
            held: self.held,
        }
    }

    /// Points that may be spent now.
    pub fn available(&self) -> Decimal {
        exact_scale(
            self.balance - self.held - self.pending,
            self.balance.scale(),
        )
    }
}

/// One immutable ledger entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Entry {
    /// Sequence within the account, from 1.
    pub seq: u64,
    /// Instant.
    pub at: DateTime<Utc>,
    /// Local date.
    pub date: NaiveDate,
    /// Why.
    pub kind: EntryKind,
    /// Change of the balance.
    pub amount: Decimal,
    /// Change of the held amount.
    pub held_change: Decimal,
    /// Change of the pending amount.
    pub pending_change: Decimal,
    /// Balance after.
    pub balance_after: Decimal,
    /// Available after.
    pub available_after: Decimal,
    /// Lots touched and by how much.
    pub lots: Vec<(u64, Decimal)>,
    /// Visit it belongs to.
    pub visit: Option<u64>,
    /// Hold it belongs to.
    pub hold: Option<u64>,
    /// Reason given.
    pub reason: Option<String>,
    /// Operator who made it.
    pub operator: Option<String>,
}

/// A lot of points with one expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Lot {
    /// Id within the account.
    pub id: u64,
    /// What created it.
    pub source: EntryKind,
    /// Local date created.
    pub created: NaiveDate,
    /// Points credited.
    pub amount: Decimal,
    /// Points left.
    pub remaining: Decimal,
    /// Of `remaining`, reserved by holds.
    pub held: Decimal,
    /// Last local day it may be used.
    pub expires_on: Option<NaiveDate>,
    /// First local day it is available; `Some` while pending.
    pub pending_until: Option<NaiveDate>,
    /// Visit that earned it.
    pub visit: Option<u64>,
}

impl Lot {
    fn spendable(&self) -> Decimal {
        if self.pending_until.is_some() {
            Decimal::ZERO
        } else {
            self.remaining - self.held
        }
    }
}

/// Where spent points came from, kept so a refund can put them back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Allocation {
    /// Lot id.
    pub lot: u64,
    /// Points.
    pub points: Decimal,
    /// The lot's expiry.
    pub expires_on: Option<NaiveDate>,
    /// The lot's creation date.
    pub created: NaiveDate,
    /// The lot's source.
    pub source: EntryKind,
}

/// Status of a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HoldStatus {
    /// Reserving points.
    Active,
    /// Paid (fully or partly).
    Captured,
    /// Released by the host.
    Released,
    /// Lapsed.
    Expired,
}

/// A reservation of points for a two-step payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hold {
    /// Id.
    pub id: u64,
    /// Owner.
    pub customer: u64,
    /// Points reserved.
    pub points: Decimal,
    /// Status.
    pub status: HoldStatus,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Lapses at.
    pub expires_at: DateTime<Utc>,
    /// Reserved lots.
    pub allocation: Vec<Allocation>,
    /// Points captured.
    pub captured: Decimal,
    /// Host's reference (order).
    pub reference: Option<String>,
    /// When it resolved.
    pub resolved_at: Option<DateTime<Utc>>,
}

fn account_key(customer: u64) -> Vec<u8> {
    KeyBuilder::new(tag::ACCOUNT).u64(customer).build()
}
pub(crate) fn entry_key(customer: u64, seq: u64) -> Vec<u8> {
    KeyBuilder::new(tag::ENTRY).u64(customer).u64(seq).build()
}
fn hold_key(hold: u64) -> Vec<u8> {
    KeyBuilder::new(tag::HOLD).u64(hold).build()
}
/// Index key: lot to burn on `burn_date`.
pub fn expiry_key(burn_date: NaiveDate, customer: u64, lot: u64) -> Vec<u8> {
    KeyBuilder::new(tag::EXPIRY)
        .date(burn_date)
        .u64(customer)
        .u64(lot)
        .build()
}
/// Index key: pending lot to release on `date`.
pub fn release_key(date: NaiveDate, customer: u64, lot: u64) -> Vec<u8> {
    KeyBuilder::new(tag::RELEASE)
        .date(date)
        .u64(customer)
        .u64(lot)
        .build()
}
/// Index key: hold to expire at `at`.
pub fn hold_expiry_key(at: DateTime<Utc>, hold: u64) -> Vec<u8> {
    KeyBuilder::new(tag::HOLD_EXPIRY)
        .i64(at.timestamp_micros())
        .u64(hold)
        .build()
}

/// Validate a points amount from a request: positive, within the limit, on the scale.
pub fn check_points(field: &str, points: Decimal, scale: u32) -> Result<Decimal> {
    if points <= Decimal::ZERO {
        return Err(Error::invalid(field, "must be positive"));
    }
    if points > POINTS_MAX {
        return Err(Error::invalid(
            field,
            format!("must be at most {POINTS_MAX}"),
        ));
    }
    if points.normalize().scale() > scale {
        return Err(Error::invalid(
            field,
            format!("{points} has more than {scale} decimal places"),
        ));
    }
    Ok(exact_scale(points, scale))
}

/// Everything about one customer's points, loaded for a change and saved at once.
#[derive(Debug)]
pub struct Book {
    /// The account.
    pub account: Account,
    lots: BTreeMap<u64, Lot>,
    /// The lot blocks as loaded, by block number: a save writes only the blocks that
    /// changed (a checkout adds one lot to the last block, whatever the customer's
    /// history).
    stored_blocks: BTreeMap<u64, Vec<Lot>>,
    /// The account record held its lots inline (format 1): the save moves them into
    /// blocks.
    inline_lots: bool,
    stored_holds: BTreeMap<u64, Hold>,
    holds: BTreeMap<u64, Hold>,
    resolved_holds: Vec<Hold>,
    entries: Vec<Entry>,
    index_puts: Vec<Vec<u8>>,
    index_deletes: Vec<Vec<u8>>,
}

impl Book {
    /// Load a customer's account, lots and active holds.
    pub fn load<R: Reader>(reader: &R, customer: u64) -> Result<Book> {
        let record = load_record(reader, customer)?;
        let inline_lots = !record.lots.is_empty();
        let stored_blocks = load_blocks(reader, &record)?;
        let mut lots = BTreeMap::new();
        let stored = stored_blocks.values().flatten().cloned();
        for lot in record.lots.into_iter().chain(stored) {
            let id = lot.id;
            if lots.insert(id, lot).is_some() {
                return Err(broken(customer, format!("lot {id} is stored twice")));
            }
        }
        let mut holds = BTreeMap::new();
        for id in record.active_holds {
            let hold: Hold = must(reader.get(&hold_key(id))?, "hold", id)?;
            holds.insert(id, hold);
        }
        let book = Book {
            account: record.account,
            lots,
            stored_blocks,
            inline_lots,
            stored_holds: holds.clone(),
            holds,
            resolved_holds: Vec::new(),
            entries: Vec::new(),
            index_puts: Vec::new(),
            index_deletes: Vec::new(),
        };
        book.check_invariants()?;
        Ok(book)
    }

    /// Lots with points left, soonest expiry first.
    pub fn lots(&self) -> Vec<&Lot> {
        let mut lots: Vec<&Lot> = self.lots.values().collect();
        lots.sort_by_key(|lot| (lot.expires_on.is_none(), lot.expires_on, lot.id));
        lots
    }

    /// Active holds.
    pub fn holds(&self) -> impl Iterator<Item = &Hold> {
        self.holds.values()
    }

    /// Entries added since loading.
    pub fn new_entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Points spendable now.
    pub fn available(&self) -> Decimal {
        self.account.available()
    }

    /// Check every invariant of the account against its lots and holds.
    pub fn check_invariants(&self) -> Result<()> {
        let mut remaining = Decimal::ZERO;
        let mut held = Decimal::ZERO;
        let mut pending = Decimal::ZERO;
        for lot in self.lots.values() {
            if lot.held < Decimal::ZERO || lot.held > lot.remaining || lot.remaining < Decimal::ZERO
            {
                return Err(broken(
                    self.account.customer,
                    format!(
                        "lot {} has remaining {} held {}",
                        lot.id, lot.remaining, lot.held
                    ),
                ));
            }
            if lot.pending_until.is_some() && lot.held > Decimal::ZERO {
                return Err(broken(
                    self.account.customer,
                    format!("pending lot {} is held", lot.id),
                ));
            }
            remaining += lot.remaining;
            held += lot.held;
            if lot.pending_until.is_some() {
                pending += lot.remaining;
            }
        }
        let holds_total: Decimal = self.holds.values().map(|h| h.points).sum();
        let account = &self.account;
        if remaining != account.balance
            || held != account.held
            || pending != account.pending
            || holds_total != held
        {
            return Err(broken(
                account.customer,
                format!(
                    "account says balance {} held {} pending {}, lots say {remaining} {held} {pending}, holds say {holds_total}",
                    account.balance, account.held, account.pending
                ),
            ));
        }
        if account.available() < Decimal::ZERO {
            return Err(broken(
                account.customer,
                format!("available is {}", account.available()),
            ));
        }
        let mut expected = None;
        for entry in &self.entries {
            if let Some(balance) = expected
                && balance + entry.amount != entry.balance_after
            {
                return Err(broken(
                    account.customer,
                    format!("entry {} does not chain", entry.seq),
                ));
            }
            expected = Some(entry.balance_after);
        }
        Ok(())
    }

    fn push_entry(&mut self, ctx: &Ctx, kind: EntryKind, change: Change) {
        let scale = ctx.program.as_deref().map_or(0, |p| p.points.scale);
        let fix = |value: Decimal| exact_scale(value, scale);
        let account = &mut self.account;
        account.balance = fix(account.balance + change.amount);
        account.held = fix(account.held + change.held);
        account.pending = fix(account.pending + change.pending);
        account.credited = fix(account.credited);
        account.redeemed = fix(account.redeemed);
        account.expired = fix(account.expired);
        account.seq += 1;
        self.entries.push(Entry {
            seq: account.seq,
            at: ctx.at,
            date: ctx.today,
            kind,
            amount: fix(change.amount),
            held_change: fix(change.held),
            pending_change: fix(change.pending),
            balance_after: account.balance,
            available_after: fix(account.available()),
            lots: change
                .lots
                .into_iter()
                .map(|(lot, points)| (lot, fix(points)))
                .collect(),
            visit: change.visit,
            hold: change.hold,
            reason: change.reason,
            operator: change.operator,
        });
    }

    /// Bring the account to `ctx`'s moment: lapse holds, release pending lots whose
    /// day has come, burn what is left of expired lots. Idempotent.
    pub fn settle(&mut self, ctx: &Ctx) -> Result<()> {
        let lapsed: Vec<u64> = self
            .holds
            .values()
            .filter(|h| h.expires_at <= ctx.at)
            .map(|h| h.id)
            .collect();
        for id in lapsed {
            self.resolve_hold(ctx, id, Decimal::ZERO, HoldStatus::Expired)?;
        }
        let customer = self.account.customer;
        let releasable: Vec<u64> = self
            .lots
            .values()
            .filter(|lot| lot.pending_until.is_some_and(|d| d <= ctx.today))
            .map(|lot| lot.id)
            .collect();
        for id in releasable {
            let Some(lot) = self.lots.get_mut(&id) else {
                continue;
            };
            let date = lot.pending_until.take().unwrap_or(ctx.today);
            let points = lot.remaining;
            self.index_deletes.push(release_key(date, customer, id));
            let change = Change {
                pending: -points,
                lots: vec![(id, points)],
                visit: lot.visit,
                ..Change::default()
            };
            self.push_entry(ctx, EntryKind::Release, change);
        }
        self.burn_expired(ctx);
        self.check_invariants()
    }

    fn burn_expired(&mut self, ctx: &Ctx) {
        let customer = self.account.customer;
        let expired: Vec<u64> = self
            .lots
            .values()
            .filter(|lot| lot.expires_on.is_some_and(|d| d < ctx.today) && lot.remaining > lot.held)
            .map(|lot| lot.id)
            .collect();
        for id in expired {
            let Some(lot) = self.lots.get_mut(&id) else {
                continue;
            };
            let burned = lot.remaining - lot.held;
            let pending = if lot.pending_until.is_some() {
                burned
            } else {
                Decimal::ZERO
            };
            lot.remaining -= burned;
            if let Some(expires_on) = lot.expires_on {
                self.index_deletes
                    .push(expiry_key(expires_on + Duration::days(1), customer, id));
            }
            self.account.expired += burned;
            let change = Change {
                amount: -burned,
                pending: -pending,
                lots: vec![(id, -burned)],
                ..Change::default()
            };
            self.push_entry(ctx, EntryKind::Expiry, change);
        }
    }

    /// Check invariants and write account, lots, entries, holds and indexes.
    pub fn save(self, txn: &mut WriteTxn<'_>) -> Result<Account> {
        self.check_invariants()?;
        let customer = self.account.customer;
        let blocks = stored::into_blocks(self.lots.values());
        stored::save_blocks(
            txn,
            customer,
            &blocks,
            &self.stored_blocks,
            self.inline_lots,
        )?;
        let blocks_moved = !blocks.keys().eq(self.stored_blocks.keys());
        for hold in self.holds.values().chain(self.resolved_holds.iter()) {
            if self.stored_holds.get(&hold.id) != Some(hold) {
                txn.put(hold_key(hold.id), hold)?;
            }
        }
        for key in self.index_deletes {
            txn.delete(key);
        }
        for key in self.index_puts {
            txn.put(key, &())?;
        }
        for entry in &self.entries {
            txn.put(entry_key(customer, entry.seq), entry)?;
            txn.record(
                audit::Change::new(
                    Entity::Balance,
                    customer,
                    entry.kind.name(),
                    Some((entry.balance_after - entry.amount).to_string()),
                    Some(entry.balance_after.to_string()),
                )
                .of_customer(customer),
            );
        }
        if !self.entries.is_empty() || self.inline_lots || blocks_moved {
            let record = AccountRecord {
                account: self.account.clone(),
                lots: Vec::new(),
                active_holds: self.holds.keys().copied().collect(),
                lot_blocks: blocks.keys().copied().collect(),
            };
            let stored = stored::stored_figures(txn, customer)?;
            aggregate::on_account(txn, customer, stored.as_ref(), &record.account.figures())?;
            txn.put(account_key(customer), &record)?;
        }
        Ok(self.account)
    }
}

#[derive(Debug, Default)]
struct Change {
    amount: Decimal,
    held: Decimal,
    pending: Decimal,
    lots: Vec<(u64, Decimal)>,
    visit: Option<u64>,
    hold: Option<u64>,
    reason: Option<String>,
    operator: Option<String>,
}

fn broken(customer: u64, what: String) -> Error {
    Error::internal(format!(
        "ledger invariant broken for customer {customer}: {what}"
    ))
    .with_details(json!({ "customer": customer }))
}

fn insufficient(customer: u64, wanted: Decimal, available: Decimal) -> Error {
    Error::new(
        ErrorCode::InsufficientPoints,
        format!("customer {customer} has {available} points available, {wanted} requested"),
    )
    .with_details(json!({ "customer": customer, "requested": wanted.to_string(), "available": available.to_string() }))
}

/// Load a hold by id.
pub fn load_hold<R: Reader>(reader: &R, id: u64) -> Result<Hold> {
    must(reader.get(&hold_key(id))?, "hold", id)
}

/// A customer's entries, newest first, before sequence `before`.
pub fn entries<R: Reader>(
    reader: &R,
    customer: u64,
    before: Option<u64>,
    limit: usize,
) -> Result<Vec<Entry>> {
    let start = KeyBuilder::new(tag::ENTRY).u64(customer).build();
    let end = match before {
        Some(seq) => entry_key(customer, seq),
        None => crate::store::keys::prefix_end(&start),
    };
    Ok(reader
        .scan_range::<Entry>(&start, &end, limit, true)?
        .into_iter()
        .map(|(_, e)| e)
        .collect())
}

/// A customer's account as stored (without settling).
/// Call `each` with every customer that has a points account, in id order, reading the
/// accounts index in bounded chunks.
pub fn for_each_account<R: Reader>(
    reader: &R,
    mut each: impl FnMut(u64) -> Result<()>,
) -> Result<()> {
    const CHUNK: usize = 1024;
    let end = keys::prefix_end(&[tag::ACCOUNT]);
    let mut start = vec![tag::ACCOUNT];
    loop {
        let chunk = reader.scan_raw(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else {
            return Ok(());
        };
        start = last.clone();
        start.push(0);
        for (key, _) in &chunk {
            each(KeyReader::of(key, tag::ACCOUNT, "accounts")?.u64()?)?;
        }
    }
}

pub fn load_account<R: Reader>(reader: &R, customer: u64) -> Result<Account> {
    Ok(load_record(reader, customer)?.account)
}
