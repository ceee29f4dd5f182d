//! Where a merged customer's id leads (`customer.merge`), and the pairs a shop marked
//! as distinct people (`customer.distinct`), so neither is proposed as a duplicate again.

use crate::error::{Error, Result};
use crate::store::keys::{KeyBuilder, tag};
use crate::store::{Reader, WriteTxn};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most redirects followed from one id (a customer merged into one that was merged later).
pub const REDIRECT_HOPS_MAX: usize = 16;
/// Most merges into one customer that a lot's history is looked up in.
const MERGES_INTO_MAX: usize = 100_000;

/// A merged customer's id and what the merge did, kept for ever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Redirect {
    /// The merged customer.
    pub merged: u64,
    /// The customer it was merged into.
    pub into: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// The merge's result as first returned (a repeated merge returns it again); emptied
    /// when the kept customer's personal data are erased.
    pub result: String,
    /// The merged customer's unique values (kind under `u`, value) that now lead to the
    /// kept customer; removed with the kept customer's personal data.
    pub aliases: Vec<(u8, String)>,
    /// The merged account's lots are `into`'s lots with ids this much higher (so a
    /// refund of a merged visit finds what its lot's history was before the merge).
    pub lot_offset: u64,
}

const PAIR_MERGED: u8 = b'm';
const PAIR_DISTINCT: u8 = b'd';

fn redirect_key(merged: u64) -> Vec<u8> {
    KeyBuilder::new(tag::REDIRECT).u64(merged).build()
}

fn pair_key(kind: u8, first: u64, second: u64) -> Vec<u8> {
    KeyBuilder::new(tag::CUSTOMER_PAIR)
        .byte(kind)
        .u64(first)
        .u64(second)
        .build()
}

/// The redirect of a merged customer's id, if it was merged.
pub fn redirect_of<R: Reader>(reader: &R, merged: u64) -> Result<Option<Redirect>> {
    reader.get(&redirect_key(merged))
}

/// The customer an id leads to now: itself, or where its merges lead.
pub fn follow<R: Reader>(reader: &R, id: u64) -> Result<u64> {
    let mut current = id;
    for _ in 0..REDIRECT_HOPS_MAX {
        match redirect_of(reader, current)? {
            Some(redirect) => current = redirect.into,
            None => return Ok(current),
        }
    }
    Err(Error::corrupted(format!(
        "customer {id}: more than {REDIRECT_HOPS_MAX} merge redirects in a row"
    )))
}

/// Record that `merged` now leads to `into` (with the merge's result).
pub fn put_redirect(txn: &mut WriteTxn<'_>, redirect: &Redirect) -> Result<()> {
    txn.put(redirect_key(redirect.merged), redirect)?;
    txn.put(pair_key(PAIR_MERGED, redirect.into, redirect.merged), &())
}

/// Erasing `into`'s personal data: the merged customers' phones, emails, external ids
/// and referral codes that led to it are removed, and so is what the merges recorded of
/// it (their results held its record).
pub fn forget_merges(txn: &mut WriteTxn<'_>, into: u64) -> Result<usize> {
    let prefix = KeyBuilder::new(tag::CUSTOMER_PAIR)
        .byte(PAIR_MERGED)
        .u64(into)
        .build();
    let mut forgotten = 0;
    for key in txn.scan_keys(&prefix, 100_000)? {
        let merged = crate::store::keys::KeyReader::of(&key, tag::CUSTOMER_PAIR, "customer pairs")?
            .last_u64()?;
        let Some(mut redirect) = redirect_of(txn, merged)? else {
            continue;
        };
        for (kind, value) in std::mem::take(&mut redirect.aliases) {
            let unique = KeyBuilder::new(tag::UNIQUE).byte(kind).str(&value).build();
            if txn.get::<u64>(&unique)? == Some(into) {
                txn.delete(unique);
            }
        }
        redirect.result = String::new();
        txn.put(redirect_key(merged), &redirect)?;
        forgotten += 1;
    }
    Ok(forgotten)
}

/// Every merge into `into`, in merged id order.
pub fn merged_into<R: Reader>(reader: &R, into: u64) -> Result<Vec<Redirect>> {
    let prefix = KeyBuilder::new(tag::CUSTOMER_PAIR)
        .byte(PAIR_MERGED)
        .u64(into)
        .build();
    let mut found = Vec::new();
    for key in reader.scan_keys(&prefix, MERGES_INTO_MAX)? {
        let merged = crate::store::keys::KeyReader::of(&key, tag::CUSTOMER_PAIR, "customer pairs")?
            .last_u64()?;
        let redirect = redirect_of(reader, merged)?.ok_or_else(|| {
            Error::corrupted(format!(
                "customer {merged} is merged into {into} without its redirect"
            ))
        })?;
        found.push(redirect);
    }
    Ok(found)
}

/// Every redirect, in id order, `chunk` at a time after `after` (for `store.check`).
pub fn redirects<R: Reader>(reader: &R, after: Option<u64>, chunk: usize) -> Result<Vec<Redirect>> {
    let start = match after {
        Some(id) => redirect_key(id.saturating_add(1)),
        None => vec![tag::REDIRECT],
    };
    let end = crate::store::keys::prefix_end(&[tag::REDIRECT]);
    Ok(reader
        .scan_range::<Redirect>(&start, &end, chunk, false)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

/// Mark two customers as different people (or take the mark back).
pub fn set_distinct(txn: &mut WriteTxn<'_>, a: u64, b: u64, distinct: bool) -> Result<()> {
    let key = pair_key(PAIR_DISTINCT, a.min(b), a.max(b));
    if distinct {
        txn.put(key, &())
    } else {
        txn.delete(key);
        Ok(())
    }
}

/// Whether a shop marked the two customers as different people.
pub fn is_distinct<R: Reader>(reader: &R, a: u64, b: u64) -> Result<bool> {
    Ok(reader
        .get_raw(&pair_key(PAIR_DISTINCT, a.min(b), a.max(b)))?
        .is_some())
}
