//! How an account is stored (format 2): the account record holds the figures, the
//! active holds and the numbers of its lot blocks; the open lots live in blocks of
//! [`LOTS_PER_BLOCK`] consecutive lot ids each (key [`tag::LOTS`]). A change writes the
//! blocks it changed, not every open lot: with the lots inline (format 1) a customer
//! with hundreds of open lots (a fleet) made every checkout rewrite and resync a record
//! of tens of KiB. The record lists its blocks, so a customer with none is one read and
//! a block is a point read (a range scan per load cost a quote 5 %).
//!
//! A format-1 record (`account`, inline `lots`, `active_holds`) is still read; its lots
//! move into blocks at the account's next save.

use super::{Account, Lot, account_key};
use crate::aggregate;
use crate::error::{Error, Result};
use crate::store::keys::{self, KeyBuilder, KeyReader, tag};
use crate::store::{self, Reader, WriteTxn};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Consecutive lot ids stored in one block.
pub(super) const LOTS_PER_BLOCK: u64 = 64;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct AccountRecord {
    pub(super) account: Account,
    /// Format 1's inline lots; written empty.
    pub(super) lots: Vec<Lot>,
    pub(super) active_holds: Vec<u64>,
    /// The numbers of the blocks that hold the open lots.
    pub(super) lot_blocks: Vec<u64>,
}

/// A format-1 account record.
#[derive(Deserialize)]
struct AccountRecordV1 {
    account: Account,
    lots: Vec<Lot>,
    active_holds: Vec<u64>,
}

pub(super) fn lots_key(customer: u64, block: u64) -> Vec<u8> {
    KeyBuilder::new(tag::LOTS).u64(customer).u64(block).build()
}

/// The customer's account record (a fresh one when they have none).
pub(super) fn load_record<R: Reader>(reader: &R, customer: u64) -> Result<AccountRecord> {
    Ok(stored_record(reader, customer)?.unwrap_or(AccountRecord {
        account: Account {
            customer,
            ..Account::default()
        },
        ..AccountRecord::default()
    }))
}

/// The figures of the customer's stored account, if they have one (what a save changes
/// the aggregates from).
pub(super) fn stored_figures<R: Reader>(
    reader: &R,
    customer: u64,
) -> Result<Option<aggregate::AccountFigures>> {
    Ok(stored_record(reader, customer)?.map(|record| record.account.figures()))
}

/// The customer's account record as stored, in either format.
fn stored_record<R: Reader>(reader: &R, customer: u64) -> Result<Option<AccountRecord>> {
    let key = account_key(customer);
    let Some(bytes) = reader.get_raw(&key)? else {
        return Ok(None);
    };
    // A format-1 record ends where format 2 lists its blocks, so it never decodes as
    // format 2; a damaged record decodes as neither and is reported as damaged.
    let record = store::decode::<AccountRecord>(&key, &bytes).or_else(|_| {
        let old: AccountRecordV1 = store::decode(&key, &bytes)?;
        Ok::<_, Error>(AccountRecord {
            account: old.account,
            lots: old.lots,
            active_holds: old.active_holds,
            lot_blocks: Vec::new(),
        })
    })?;
    Ok(Some(record))
}

/// The blocks `record` lists, by block number.
pub(super) fn load_blocks<R: Reader>(
    reader: &R,
    record: &AccountRecord,
) -> Result<BTreeMap<u64, Vec<Lot>>> {
    let customer = record.account.customer;
    let mut blocks = BTreeMap::new();
    for &block in &record.lot_blocks {
        let key = lots_key(customer, block);
        let lots: Vec<Lot> = reader.get(&key)?.ok_or_else(|| {
            Error::corrupted(format!(
                "customer {customer}: lot block {block} is listed by the account but missing"
            ))
        })?;
        if lots.is_empty() || lots.iter().any(|lot| lot.id / LOTS_PER_BLOCK != block) {
            return Err(Error::corrupted(format!(
                "customer {customer}: lot block {block} holds lots of another block, or none"
            )));
        }
        blocks.insert(block, lots);
    }
    Ok(blocks)
}

/// Open lots (points left or held) grouped into their blocks.
pub(super) fn into_blocks<'l>(lots: impl Iterator<Item = &'l Lot>) -> BTreeMap<u64, Vec<Lot>> {
    let mut blocks: BTreeMap<u64, Vec<Lot>> = BTreeMap::new();
    for lot in lots.filter(|lot| !(lot.remaining.is_zero() && lot.held.is_zero())) {
        blocks
            .entry(lot.id / LOTS_PER_BLOCK)
            .or_default()
            .push(lot.clone());
    }
    blocks
}

/// Write the blocks that differ from `stored` (all of them when `rewrite_all`), delete
/// the stored ones left empty.
pub(super) fn save_blocks(
    txn: &mut WriteTxn<'_>,
    customer: u64,
    blocks: &BTreeMap<u64, Vec<Lot>>,
    stored: &BTreeMap<u64, Vec<Lot>>,
    rewrite_all: bool,
) -> Result<()> {
    for (block, lots) in blocks {
        if rewrite_all || stored.get(block) != Some(lots) {
            txn.put(lots_key(customer, *block), lots)?;
        }
    }
    for block in stored.keys() {
        if !blocks.contains_key(block) {
            txn.delete(lots_key(customer, *block));
        }
    }
    Ok(())
}

/// `store.check`: the lot blocks stored under `customer` are exactly those the account
/// lists (a block nobody lists would be points nobody counts).
pub fn check_blocks<R: Reader>(reader: &R, customer: u64) -> Result<()> {
    let record = load_record(reader, customer)?;
    let listed: BTreeSet<u64> = record.lot_blocks.iter().copied().collect();
    let start = KeyBuilder::new(tag::LOTS).u64(customer).build();
    let end = keys::prefix_end(&start);
    let mut stored = BTreeSet::new();
    for (key, _) in reader.scan_raw(&start, &end, usize::MAX, false)? {
        let mut key = KeyReader::of(&key, tag::LOTS, "points lots")?;
        key.u64()?;
        stored.insert(key.u64()?);
    }
    if stored != listed {
        return Err(Error::corrupted(format!(
            "lot blocks stored {stored:?}, the account lists {listed:?}"
        )));
    }
    Ok(())
}
