//! Two accounts made one (`customer.merge`): every open lot of the merged customer's
//! account moves to the kept customer's with its dates (expiry, pending period, source),
//! under a new id, and each side gets one `merge` entry, so both ledgers still chain and
//! the two entries sum to zero.

use super::{Book, Change, EntryKind, expiry_key, release_key};
use crate::context::Ctx;
use crate::error::{Error, ErrorCode, Result};
use crate::store::WriteTxn;
use chrono::Duration;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What moved between the two accounts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MovedPoints {
    /// Points moved (the merged account's balance after settling).
    pub points: Decimal,
    /// Of them, still in their return window.
    pub pending: Decimal,
    /// Open lots moved.
    pub lots: usize,
    /// Added to every lot id of the merged account: lot `n` there is lot `n + lot_offset`
    /// in the kept account (visits and referral grants that name lots are rewritten with it).
    pub lot_offset: u64,
}

/// The hold ids still reserving points in either account; a merge waits for them.
pub fn refuse_active_holds(keep: &Book, merged: &Book) -> Result<()> {
    let active: Vec<(u64, u64)> = keep
        .holds()
        .chain(merged.holds())
        .map(|h| (h.customer, h.id))
        .collect();
    if let Some((customer, hold)) = active.first() {
        return Err(Error::new(
            ErrorCode::Blocked,
            format!(
                "customer {customer} has an active hold {hold}: capture or release it before merging"
            ),
        )
        .with_details(json!({ "reason": "active_hold", "customer": customer, "holds": active.iter().map(|(_, h)| h).collect::<Vec<_>>() })));
    }
    Ok(())
}

/// Move everything of `merged`'s account into `keep`'s, after settling both at `ctx`'s
/// moment (expired lots burn first, as they would have that day). Refused while either
/// account has an active hold.
pub fn merge_accounts(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    keep: u64,
    merged: u64,
) -> Result<MovedPoints> {
    let mut into = Book::load(txn, keep)?;
    let mut from = Book::load(txn, merged)?;
    refuse_active_holds(&into, &from)?;
    into.settle(ctx)?;
    from.settle(ctx)?;
    let offset = into.account.next_lot;
    let mut moved = MovedPoints {
        lot_offset: offset,
        ..MovedPoints::default()
    };
    if from.account.seq == 0 && from.lots.is_empty() {
        // The merged customer never had points: nothing to move, no entries.
        into.account.next_lot += from.account.next_lot;
        into.save(txn)?;
        return Ok(moved);
    }
    let lots: Vec<_> = std::mem::take(&mut from.lots).into_values().collect();
    moved.points = from.account.balance;
    moved.pending = from.account.pending;
    moved.lots = lots.len();
    for lot in &lots {
        if let Some(expires_on) = lot.expires_on {
            from.index_deletes
                .push(expiry_key(expires_on + Duration::days(1), merged, lot.id));
            into.index_puts.push(expiry_key(
                expires_on + Duration::days(1),
                keep,
                lot.id + offset,
            ));
        }
        if let Some(date) = lot.pending_until {
            from.index_deletes.push(release_key(date, merged, lot.id));
            into.index_puts
                .push(release_key(date, keep, lot.id + offset));
        }
    }
    let out = Change {
        amount: -moved.points,
        pending: -moved.pending,
        lots: lots.iter().map(|l| (l.id, -l.remaining)).collect(),
        reason: Some(format!("merged into customer {keep}")),
        ..Change::default()
    };
    from.push_entry(ctx, EntryKind::Merge, out);
    let figures = &mut from.account;
    into.account.credited += std::mem::take(&mut figures.credited);
    into.account.redeemed += std::mem::take(&mut figures.redeemed);
    into.account.expired += std::mem::take(&mut figures.expired);
    into.account.next_lot += figures.next_lot;
    let change = Change {
        amount: moved.points,
        pending: moved.pending,
        lots: lots.iter().map(|l| (l.id + offset, l.remaining)).collect(),
        reason: Some(format!("merged from customer {merged}")),
        ..Change::default()
    };
    for mut lot in lots {
        lot.id += offset;
        into.lots.insert(lot.id, lot);
    }
    into.push_entry(ctx, EntryKind::Merge, change);
    from.save(txn)?;
    into.save(txn)?;
    Ok(moved)
}
