//! The per-table moves of `customer.merge`: every record filed under the merged
//! customer's id is re-filed under the kept customer's, and every record naming the
//! merged customer as its owner names the kept one.

use crate::customer::Card;
use crate::error::{Error, Result};
use crate::feedback::Feedback;
use crate::order::SpecialOrder;
use crate::plugin::outcome::AppliedEffect;
use crate::recommendation::Recommendation;
use crate::store::keys::{self, KeyBuilder, KeyReader, tag};
use crate::store::{Reader, WriteTxn};
use crate::tyre_storage::TyreStorage;
use crate::vehicle::{self, Vehicle};
use crate::visit::{self, Visit, VisitDays};
use chrono::Datelike;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Every per-customer table but the ledger, the referrals and the customer record.
pub fn all(txn: &mut WriteTxn<'_>, from: u64, to: u64, lot_offset: u64) -> Result<super::Moved> {
    crate::feedback::move_counts(txn, (from, to), MOVE_MAX)?;
    let [recommendations, tyre_storage, special_orders, feedback] = owned_records(txn, from, to)?;
    Ok(super::Moved {
        cards: cards(txn, from, to)?,
        vehicles: vehicles(txn, from, to)?,
        visits: visits(txn, from, to, lot_offset)?,
        consent_events: crate::customer::move_consent_history(txn, from, to)?,
        notifications: notifications(txn, from, to)?,
        recommendations,
        tyre_storage,
        special_orders,
        feedback,
        reminder_marks: reminder_marks(txn, from, to)?,
        birthday_grants: refile(txn, tag::BIRTHDAY_GRANT, from, to, "birthday grants")?.len(),
    })
}

/// Most records of one table one merge moves (a customer with more is refused, naming
/// the table, rather than made one enormous batch).
pub const MOVE_MAX: usize = 100_000;
const CHUNK: usize = 1024;

fn prefix(table: u8, customer: u64) -> Vec<u8> {
    KeyBuilder::new(table).u64(customer).build()
}

/// Keys filed under `customer` in `table` (at most [`MOVE_MAX`], else `too_large`).
pub fn keys_of<R: Reader>(
    reader: &R,
    table: u8,
    customer: u64,
    what: &str,
) -> Result<Vec<Vec<u8>>> {
    let start = prefix(table, customer);
    let end = keys::prefix_end(&start);
    let mut out = Vec::new();
    let mut from = start.clone();
    loop {
        let chunk = reader.scan_raw(&from, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else {
            return Ok(out);
        };
        from = last.clone();
        from.push(0);
        out.extend(chunk.into_iter().map(|(k, _)| k));
        if out.len() > MOVE_MAX {
            return Err(Error::too_large(what, MOVE_MAX));
        }
    }
}

/// The key `key` would have under `to` instead of its customer id (the id right after the tag).
fn refiled(key: &[u8], to: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len());
    out.push(key[0]);
    out.extend_from_slice(&to.to_be_bytes());
    out.extend_from_slice(key.get(9..).unwrap_or_default());
    out
}

/// Re-file every key of `table` under `from` to `to`. Where `to` already has the same
/// key (both customers got the same birthday bonus year), the kept one's stays.
pub fn refile(
    txn: &mut WriteTxn<'_>,
    table: u8,
    from: u64,
    to: u64,
    what: &str,
) -> Result<Vec<Vec<u8>>> {
    let keys = keys_of(txn, table, from, what)?;
    let mut moved = Vec::with_capacity(keys.len());
    for key in keys {
        let target = refiled(&key, to);
        if txn.contains(&target)? {
            txn.delete(key);
        } else {
            txn.move_record(&key, target.clone())?;
            moved.push(target);
        }
    }
    Ok(moved)
}

/// Records owned through an index `(customer, record id)`: re-file the index and set
/// the owner in each record.
pub fn owned<T: Serialize + DeserializeOwned>(
    txn: &mut WriteTxn<'_>,
    (index, record_table): (u8, u8),
    (from, to): (u64, u64),
    what: &str,
    owner: impl Fn(&mut T) -> &mut u64,
) -> Result<usize> {
    let moved = refile(txn, index, from, to, what)?;
    for key in &moved {
        let id = KeyReader::of(key, index, "customer's records")?.last_u64()?;
        let record_key = KeyBuilder::new(record_table).u64(id).build();
        let mut record: T = crate::context::must(txn.get(&record_key)?, what, id)?;
        *owner(&mut record) = to;
        txn.put(record_key, &record)?;
    }
    Ok(moved.len())
}

/// Recommendations, tyre sets in storage, special orders and feedback.
pub fn owned_records(txn: &mut WriteTxn<'_>, from: u64, to: u64) -> Result<[usize; 4]> {
    let pair = (from, to);
    Ok([
        owned::<Recommendation>(
            txn,
            (tag::CUSTOMER_RECOMMENDATION, tag::RECOMMENDATION),
            pair,
            "recommendations",
            |r| &mut r.customer,
        )?,
        owned::<TyreStorage>(
            txn,
            (tag::CUSTOMER_TYRE_STORAGE, tag::TYRE_STORAGE),
            pair,
            "tyre storage",
            |r| &mut r.customer,
        )?,
        owned::<SpecialOrder>(
            txn,
            (tag::CUSTOMER_SPECIAL_ORDER, tag::SPECIAL_ORDER),
            pair,
            "special orders",
            |r| &mut r.customer,
        )?,
        owned::<Feedback>(
            txn,
            (tag::CUSTOMER_FEEDBACK, tag::FEEDBACK),
            pair,
            "feedback",
            |r| &mut r.customer,
        )?,
    ])
}

/// Cards: the index of a customer's cards and each card's owner.
pub fn cards(txn: &mut WriteTxn<'_>, from: u64, to: u64) -> Result<usize> {
    let moved = refile(txn, tag::CUSTOMER_CARD, from, to, "cards")?;
    for key in &moved {
        let number = std::str::from_utf8(key.get(9..).unwrap_or_default()).map_err(|_| {
            Error::corrupted(format!(
                "card index key {} is malformed",
                keys::display(key)
            ))
        })?;
        let card_key = KeyBuilder::new(tag::CARD).str(number).build();
        let mut card: Card = crate::context::must(txn.get(&card_key)?, "card", number)?;
        card.customer = to;
        txn.put(card_key, &card)?;
    }
    Ok(moved.len())
}

/// Vehicles: the owner now and in the ownership history.
pub fn vehicles(txn: &mut WriteTxn<'_>, from: u64, to: u64) -> Result<usize> {
    let moved = refile(txn, tag::CUSTOMER_VEHICLE, from, to, "vehicles")?;
    for key in &moved {
        let id = KeyReader::of(key, tag::CUSTOMER_VEHICLE, "customer's vehicles")?.last_u64()?;
        let mut car: Vehicle = vehicle::load(txn, id)?;
        car.customer = to;
        for period in car.owners.iter_mut().filter(|o| o.customer == from) {
            period.customer = to;
        }
        vehicle::save(txn, &car)?;
    }
    Ok(moved.len())
}

/// Visits: the customer's visit index re-filed, each visit (and its date indexes)
/// naming the kept customer and the lots it names shifted into the kept account's ids,
/// and the per-day spend record added to the kept customer's.
pub fn visits(txn: &mut WriteTxn<'_>, from: u64, to: u64, lot_offset: u64) -> Result<usize> {
    let moved = refile(txn, tag::CUSTOMER_VISIT, from, to, "visits")?;
    for key in &moved {
        let id = KeyReader::of(key, tag::CUSTOMER_VISIT, "customer's visits")?.last_u64()?;
        let mut record: Visit = visit::load(txn, id)?;
        record.customer = to;
        shift_lots(&mut record, lot_offset);
        visit::save(txn, &record)?;
    }
    let days = combined_days(&visit::visit_days(txn, to)?, &visit::visit_days(txn, from)?);
    visit::save_visit_days(txn, to, &days)?;
    txn.delete(KeyBuilder::new(tag::VISIT_DAYS).u64(from).build());
    Ok(moved.len())
}

fn shift_lots(record: &mut Visit, offset: u64) {
    for lot in [&mut record.accrual_lot, &mut record.bonus_lot]
        .into_iter()
        .flatten()
    {
        *lot += offset;
    }
    for allocation in &mut record.redemption_left {
        allocation.lot += offset;
    }
    for outcome in &mut record.plugins {
        for effect in &mut outcome.effects {
            if let AppliedEffect::BonusPoints { lot: Some(lot), .. } = effect {
                *lot += offset;
            }
        }
    }
}

/// Two customers' spend per day as one: the sums per day, complete from the later of
/// the two records' first complete days.
pub fn combined_days(keep: &VisitDays, gone: &VisitDays) -> VisitDays {
    let complete_from = match (keep.complete_from, gone.complete_from) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let first = complete_from.map_or(i32::MIN, |d| d.num_days_from_ce());
    let mut days: std::collections::BTreeMap<i32, (rust_decimal::Decimal, u32)> =
        std::collections::BTreeMap::new();
    for (day, net, count) in keep.days.iter().chain(gone.days.iter()) {
        if *day < first {
            continue;
        }
        let entry = days.entry(*day).or_default();
        entry.0 += *net;
        entry.1 += *count;
    }
    VisitDays {
        complete_from,
        days: days.into_iter().map(|(d, (n, c))| (d, n, c)).collect(),
    }
}

/// Campaign notifications: the merged customer's are the kept one's, except for a
/// campaign that told both (the kept customer's notification stays).
pub fn notifications(txn: &mut WriteTxn<'_>, from: u64, to: u64) -> Result<usize> {
    let keys = keys_of(txn, tag::CUSTOMER_CAMPAIGN, from, "campaign notifications")?;
    let mut moved = 0;
    for key in keys {
        let campaign =
            KeyReader::of(&key, tag::CUSTOMER_CAMPAIGN, "customer's campaigns")?.last_u64()?;
        let by_campaign = |customer: u64| {
            KeyBuilder::new(tag::CAMPAIGN_NOTIFIED)
                .u64(campaign)
                .u64(customer)
                .build()
        };
        let target = refiled(&key, to);
        let notification: Option<crate::campaign::Notification> = txn.get(&key)?;
        txn.delete(key);
        txn.delete(by_campaign(from));
        if txn.contains(&target)? {
            continue;
        }
        if let Some(mut notification) = notification {
            notification.customer = to;
            txn.put(target, &notification)?;
            txn.put(by_campaign(to), &notification)?;
            moved += 1;
        }
    }
    Ok(moved)
}

/// Reminder outcomes whose reason names the customer (points expiring, birthday), so
/// a reminder already sent to the merged customer is not sent again.
pub fn reminder_marks(txn: &mut WriteTxn<'_>, from: u64, to: u64) -> Result<usize> {
    let mut moved = 0;
    for kind in ["points_expiring", "birthday"] {
        let old = KeyBuilder::new(tag::REMINDER_MARK)
            .str(&format!("{kind}:{from}:"))
            .build();
        let end = keys::prefix_end(&old);
        let pairs = txn.scan_raw(&old, &end, MOVE_MAX, false)?;
        for (key, _) in pairs {
            let rest = std::str::from_utf8(&key[old.len()..])
                .unwrap_or_default()
                .to_string();
            let target = KeyBuilder::new(tag::REMINDER_MARK)
                .str(&format!("{kind}:{to}:{rest}"))
                .build();
            if txn.contains(&target)? {
                txn.delete(key);
            } else {
                txn.move_record(&key, target)?;
                moved += 1;
            }
        }
    }
    Ok(moved)
}
