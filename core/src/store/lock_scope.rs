//! What a writer on a shared store locks for what it reads and writes, derived from the
//! key layout ([`super::keys`]), so that writers of different customers run at once and
//! the domain code never names a lock.
//!
//! - A key whose first component is a customer id (the customer, their account, ledger,
//!   cars, visit list, visit days...) belongs to that customer: reading or writing any of
//!   them takes the customer's lock, exclusively. Two tills serving two customers never
//!   wait for each other; two serving one customer take turns.
//! - Any other key is its own scope, locked by a hash of the key: a visit record, an
//!   index entry, a day cell, an idempotency record. A read of a key that is absent
//!   locks it too, so two writers that both find a phone unused cannot both take it.
//!   A few keys that nearly every writer reads and almost none writes (the programme, the
//!   plugins, the aggregates' mark) are read under a shared lock.
//! - A range read that stays inside one customer's keys takes that customer's lock. Any
//!   other range read (by date, over every customer) cannot be covered by key locks: the
//!   writer must hold the whole store exclusively ([`Scope::Store`]).

use super::keys::{self, aggregate_tag, tag};

/// What a read or write of a key locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Every key of one customer.
    Customer(u64),
    /// One key, identified by a stable 64-bit hash of it.
    Key(u64),
    /// The whole store.
    Store,
}

/// How a scope is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// Others may hold it shared too.
    Shared,
    /// Nobody else holds it.
    Exclusive,
}

/// Tags whose keys start with a customer id.
const CUSTOMER_FIRST: [u8; 21] = [
    tag::CUSTOMER,
    tag::CUSTOMER_VEHICLE,
    tag::CUSTOMER_VISIT,
    tag::ACCOUNT,
    tag::LOTS,
    tag::ENTRY,
    tag::VISIT_DAYS,
    tag::REFERRAL,
    tag::REFERRAL_LINK,
    tag::CONSENT_HISTORY,
    tag::CUSTOMER_CARD,
    tag::ERASURE,
    tag::CUSTOMER_CAMPAIGN,
    tag::CUSTOMER_RECOMMENDATION,
    tag::CUSTOMER_TYRE_STORAGE,
    tag::CUSTOMER_SPECIAL_ORDER,
    tag::CUSTOMER_FEEDBACK,
    tag::BIRTHDAY_GRANT,
    tag::AUDIT_BY_CUSTOMER,
    tag::REGISTRATION,
    tag::REDIRECT,
];

/// Sub-tags of [`tag::AGGREGATE`] whose keys continue with a customer id: a customer's
/// visit days (`p`) and their figures as a referee (`e`).
const AGGREGATE_CUSTOMER_FIRST: [u8; 2] = [aggregate_tag::VISIT_DAYS, aggregate_tag::REFEREE];

/// Where the customer id starts in `key`, if the key belongs to a customer.
fn customer_id_at(key: &[u8]) -> Option<usize> {
    let first = *key.first()?;
    let at = if CUSTOMER_FIRST.contains(&first) {
        1
    } else if first == tag::AGGREGATE && AGGREGATE_CUSTOMER_FIRST.contains(key.get(1)?) {
        2
    } else {
        return None;
    };
    (key.len() >= at + 8).then_some(at)
}

fn customer_of(key: &[u8]) -> Option<u64> {
    let at = customer_id_at(key)?;
    let bytes: [u8; 8] = key.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// Whether a key is read by nearly every writer and written by almost none, so reading it
/// takes a shared lock: the meta records, the programme versions, the plugins and their
/// modules, the aggregates' mark.
fn read_mostly(key: &[u8]) -> bool {
    match key.first() {
        Some(&tag::META) | Some(&tag::PROGRAM) | Some(&tag::PLUGIN) | Some(&tag::PLUGIN_MODULE) => {
            true
        }
        _ => key == keys::aggregates_mark().as_slice(),
    }
}

/// Read-mostly records that nearly every writer reads, so a shared store reads them with
/// the writer's first round trip: the aggregates' mark (every change of a visit, an
/// account or feedback asks whether the aggregates are kept), and the versions of the
/// programme and of the plugins (every write checks that it ran with the current ones).
pub fn read_by_every_writer() -> Vec<Vec<u8>> {
    let keys = vec![
        keys::aggregates_mark(),
        keys::meta(keys::META_PROGRAM),
        keys::meta(keys::META_PLUGINS),
    ];
    debug_assert!(keys.iter().all(|key| read_mostly(key)));
    keys
}

/// Tags of a customer's one-record tables (the customer, the account, visit days,
/// referral, erasure, registration, redirect), read together when the customer is
/// locked: an operation on a customer reads most of them.
const CUSTOMER_RECORDS: [u8; 7] = [
    tag::CUSTOMER,
    tag::ACCOUNT,
    tag::VISIT_DAYS,
    tag::REFERRAL,
    tag::ERASURE,
    tag::REGISTRATION,
    tag::REDIRECT,
];

/// The keys of a customer's one-record tables, and of their figures as a referee.
pub fn customer_records(customer: u64) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = CUSTOMER_RECORDS
        .iter()
        .map(|&table| keys::KeyBuilder::new(table).u64(customer).build())
        .collect();
    out.push(
        keys::KeyBuilder::new(tag::AGGREGATE)
            .byte(aggregate_tag::REFEREE)
            .u64(customer)
            .build(),
    );
    out
}

/// A customer's ranges read with the customer's lock: their visit days (read by every
/// change of a visit), their open recommendations and their open lots (read by every
/// quote and checkout). Small for nearly every customer; a range's first rows only when
/// it is large.
pub fn customer_ranges(customer: u64) -> [(Vec<u8>, Vec<u8>); 3] {
    let visit_days = keys::KeyBuilder::new(tag::AGGREGATE)
        .byte(aggregate_tag::VISIT_DAYS)
        .u64(customer)
        .build();
    let recommendations = keys::KeyBuilder::new(tag::CUSTOMER_RECOMMENDATION)
        .u64(customer)
        .build();
    let lots = keys::KeyBuilder::new(tag::LOTS).u64(customer).build();
    [visit_days, recommendations, lots].map(|prefix| {
        let end = keys::prefix_end(&prefix);
        (prefix, end)
    })
}

/// What reading (`write` false) or writing `key` locks, and how.
pub fn of_key(key: &[u8], write: bool) -> (Scope, Mode) {
    if let Some(customer) = customer_of(key) {
        return (Scope::Customer(customer), Mode::Exclusive);
    }
    let mode = if !write && read_mostly(key) {
        Mode::Shared
    } else {
        Mode::Exclusive
    };
    (Scope::Key(key_hash(key)), mode)
}

/// What a range read of `[start, end)` locks: the customer whose keys contain it, or the
/// whole store.
pub fn of_range(start: &[u8], end: &[u8]) -> Scope {
    let Some(at) = customer_id_at(start) else {
        return Scope::Store;
    };
    let customer_prefix = &start[..at + 8];
    if end <= keys::prefix_end(customer_prefix).as_slice() {
        customer_of(start).map_or(Scope::Store, Scope::Customer)
    } else {
        Scope::Store
    }
}

/// 64-bit FNV-1a: stable across processes, builds and versions (every process sharing a
/// store must derive the same lock from the same key; std's hasher promises no such
/// thing).
pub fn key_hash(bytes: &[u8]) -> u64 {
    fnv1a(0xcbf2_9ce4_8422_2325, bytes)
}

/// Continue an FNV-1a hash over more bytes.
pub fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::KeyBuilder;

    #[test]
    fn a_customers_records_share_the_customers_lock() {
        let account = KeyBuilder::new(tag::ACCOUNT).u64(7).build();
        let entry = KeyBuilder::new(tag::ENTRY).u64(7).u64(3).build();
        let days = KeyBuilder::new(tag::AGGREGATE).byte(b'p').u64(7).build();
        for key in [&account, &entry, &days] {
            assert_eq!(of_key(key, false), (Scope::Customer(7), Mode::Exclusive));
        }
        let visit = KeyBuilder::new(tag::VISIT).u64(7).build();
        assert_eq!(
            of_key(&visit, false),
            (Scope::Key(key_hash(&visit)), Mode::Exclusive)
        );
        let mark = keys::aggregates_mark();
        assert_eq!(of_key(&mark, false).1, Mode::Shared);
        assert_eq!(of_key(&mark, true).1, Mode::Exclusive);
    }

    #[test]
    fn a_range_inside_one_customer_takes_the_customer_and_any_other_the_store() {
        let start = KeyBuilder::new(tag::CUSTOMER_RECOMMENDATION).u64(9).build();
        let end = keys::prefix_end(&start);
        assert_eq!(of_range(&start, &end), Scope::Customer(9));
        let inner_end = KeyBuilder::new(tag::CUSTOMER_RECOMMENDATION)
            .u64(9)
            .u64(5)
            .build();
        assert_eq!(of_range(&start, &inner_end), Scope::Customer(9));
        let beyond = KeyBuilder::new(tag::CUSTOMER_RECOMMENDATION)
            .u64(10)
            .u64(0)
            .build();
        assert_eq!(of_range(&start, &beyond), Scope::Store);
        let by_date = KeyBuilder::new(tag::VISIT_BY_DATE).u64(1).build();
        assert_eq!(
            of_range(&by_date, &keys::prefix_end(&by_date)),
            Scope::Store
        );
        // A prefix too short to name a customer covers many.
        assert_eq!(of_range(&[tag::ACCOUNT], &[tag::ACCOUNT + 1]), Scope::Store);
    }

    #[test]
    fn the_hash_is_fnv1a() {
        assert_eq!(key_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(key_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
