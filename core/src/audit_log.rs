//! The audit log: who changed what. The changes an operation noted in its write
//! transaction ([`crate::audit::Change`]) are written here by [`flush`], in the same
//! batch, as one record per customer touched (and one for changes of no customer),
//! with the operation's name, instant and operator.
//!
//! Records are keyed by instant, so a period is one range scan; two indexes, by
//! operator and by customer, make a filtered `report.changes` read only what it
//! returns. `customer.erase` scrubs a customer's personal values ([`scrub_customer`]);
//! `store.check` verifies that every index entry names a record and every record has
//! its index entries ([`check`]).

use crate::audit::{Change, Entity, OPERATOR_CHARS_MAX};
use crate::context::{Ctx, next_id};
use crate::error::{Error, Result};
use crate::normalize;
use crate::paging::PageSize;
use crate::store::keys::{self, KeyBuilder, KeyReader, tag};
use crate::store::{Reader, WriteTxn};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Meta counter of audit records.
const AUDIT_SEQ: &str = "audit_seq";
/// Pages of `report.changes`.
pub const CHANGES_PAGE: PageSize = PageSize::new(100, 1000);
/// Longest period of `report.changes`, in days.
pub const CHANGES_PERIOD_DAYS_MAX: i64 = 3660;
/// Index entries read per step while filtering.
const SCAN_STEP: usize = 256;

/// One operation's changes to one customer (or to nothing of a customer's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Order of writing (the store's audit counter).
    pub seq: u64,
    /// The operation's instant.
    pub at: DateTime<Utc>,
    /// The operation (`customer.update`, `checkout.commit`, ...).
    pub op: String,
    /// Who did it at the host, if the request said.
    pub operator: Option<String>,
    /// Whose data changed.
    pub customer: Option<u64>,
    /// What changed.
    pub changes: Vec<Change>,
}

/// Check a request's `operator`: 1..=64 visible characters, no control characters.
pub fn check_operator(text: &str) -> Result<String> {
    let operator = normalize::text("operator", text, OPERATOR_CHARS_MAX)?;
    if operator.chars().any(char::is_control) {
        return Err(Error::invalid("operator", "contains control characters"));
    }
    Ok(operator)
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn record_key(at: DateTime<Utc>, seq: u64) -> Vec<u8> {
    KeyBuilder::new(tag::AUDIT).i64(micros(at)).u64(seq).build()
}

fn operator_key(operator: &str, at: DateTime<Utc>, seq: u64) -> Vec<u8> {
    KeyBuilder::new(tag::AUDIT_BY_OPERATOR)
        .str_sep(operator)
        .i64(micros(at))
        .u64(seq)
        .build()
}

fn customer_key(customer: u64, at: DateTime<Utc>, seq: u64) -> Vec<u8> {
    KeyBuilder::new(tag::AUDIT_BY_CUSTOMER)
        .u64(customer)
        .i64(micros(at))
        .u64(seq)
        .build()
}

/// Write the changes noted in `txn` as audit records of `op`, done at `ctx.at` by
/// `ctx.operator`. An operation that changed none of the audited things (an order, a
/// stored tyre set, a campaign) is still recorded, without changes, when an operator
/// did it: who did what and when is kept for every operation a person did. Without an
/// operator and without changes nothing is written.
pub fn flush(txn: &mut WriteTxn<'_>, ctx: &Ctx, op: &str) -> Result<()> {
    let changes = txn.take_changes();
    if changes.is_empty() && ctx.operator.is_none() {
        return Ok(());
    }
    let mut by_customer: BTreeMap<Option<u64>, Vec<Change>> = BTreeMap::new();
    if changes.is_empty() {
        by_customer.insert(None, Vec::new());
    }
    for change in changes {
        by_customer.entry(change.customer).or_default().push(change);
    }
    for (customer, changes) in by_customer {
        let seq = next_id(txn, AUDIT_SEQ)?;
        let record = AuditRecord {
            seq,
            at: ctx.at,
            op: op.to_string(),
            operator: ctx.operator.as_deref().map(str::to_string),
            customer,
            changes,
        };
        put(txn, &record)?;
    }
    Ok(())
}

fn put(txn: &mut WriteTxn<'_>, record: &AuditRecord) -> Result<()> {
    if let Some(operator) = &record.operator {
        txn.put(operator_key(operator, record.at, record.seq), &())?;
    }
    if let Some(customer) = record.customer {
        txn.put(customer_key(customer, record.at, record.seq), &())?;
    }
    txn.put(record_key(record.at, record.seq), record)
}

/// Replace the personal values in every record of `customer` by the erasure marker
/// (the fact of each change, its operator and instant stay). Returns how many records
/// were rewritten.
pub fn scrub_customer(txn: &mut WriteTxn<'_>, customer: u64) -> Result<u64> {
    let prefix = KeyBuilder::new(tag::AUDIT_BY_CUSTOMER)
        .u64(customer)
        .build();
    let end = keys::prefix_end(&prefix);
    let mut start = prefix;
    let mut rewritten = 0;
    loop {
        let entries = txn.scan_raw(&start, &end, SCAN_STEP, false)?;
        let Some((last, _)) = entries.last() else {
            break;
        };
        start = after(last);
        for (key, _) in &entries {
            let (at, seq) = index_position(key, tag::AUDIT_BY_CUSTOMER, 9)?;
            let record = load(txn, at, seq)?;
            let scrubbed = AuditRecord {
                changes: record
                    .changes
                    .iter()
                    .cloned()
                    .map(Change::scrubbed)
                    .collect(),
                ..record.clone()
            };
            if scrubbed != record {
                txn.put(record_key(at, seq), &scrubbed)?;
                rewritten += 1;
            }
        }
        if entries.len() < SCAN_STEP {
            break;
        }
    }
    Ok(rewritten)
}

/// The first key after `key` in key order.
fn after(key: &[u8]) -> Vec<u8> {
    let mut next = key.to_vec();
    next.push(0);
    next
}

/// The instant and sequence at the end of an index key; `skip` is the length of the
/// key's own part after the tag (the customer id's 8 bytes, or the operator and its
/// separator).
fn index_position(key: &[u8], table: u8, skip: usize) -> Result<(DateTime<Utc>, u64)> {
    let index = match table {
        tag::AUDIT_BY_CUSTOMER => "audit by customer",
        tag::AUDIT_BY_OPERATOR => "audit by operator",
        _ => "audit",
    };
    let bad = || Error::corrupted(format!("{index} key {} is malformed", keys::display(key)));
    let tail = key.get(skip..).ok_or_else(bad)?;
    let mut rebuilt = vec![table];
    rebuilt.extend_from_slice(tail);
    let mut reader = KeyReader::of(&rebuilt, table, index)?;
    let at = reader.i64()?;
    let seq = reader.last_u64()?;
    let at = DateTime::from_timestamp_micros(at).ok_or_else(bad)?;
    Ok((at, seq))
}

fn load<R: Reader>(reader: &R, at: DateTime<Utc>, seq: u64) -> Result<AuditRecord> {
    reader.get(&record_key(at, seq))?.ok_or_else(|| {
        Error::corrupted(format!(
            "the audit index names a record that is missing ({at}, {seq})"
        ))
    })
}

/// Arguments of `report.changes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangesArgs {
    /// First local date.
    pub from: NaiveDate,
    /// Last local date.
    pub to: NaiveDate,
    /// Only what this operator did.
    #[serde(default)]
    pub operator: Option<String>,
    /// Only changes of this customer (by id: an erased customer is found by nothing else).
    #[serde(default)]
    pub customer: Option<u64>,
    /// Records per page (1..=1000, default 100).
    #[serde(default)]
    pub limit: Option<usize>,
    /// The `next_after` of the previous page.
    #[serde(default)]
    pub after: Option<String>,
}

/// One page of `report.changes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChangesPage {
    /// Records in the order they happened (by instant, then as written).
    pub records: Vec<AuditRecordView>,
    /// Cursor of the next page (`after`), absent on the last.
    pub next_after: Option<String>,
}

/// A record as `report.changes` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditRecordView {
    /// Order of writing.
    pub seq: u64,
    /// The operation's instant.
    pub at: DateTime<Utc>,
    /// The operation.
    pub op: String,
    /// Who did it.
    pub operator: Option<String>,
    /// Whose data changed.
    pub customer: Option<u64>,
    /// What changed.
    pub changes: Vec<ChangeView>,
}

/// One change as `report.changes` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChangeView {
    /// customer, card, balance, program or plugin.
    pub entity: Entity,
    /// Which one.
    pub id: String,
    /// Which field (for a balance, the ledger movement).
    pub field: String,
    /// Before (absent: not set).
    pub before: Option<String>,
    /// After (absent: not set).
    pub after: Option<String>,
}

/// The UTC instant a local date starts at in the programme's timezone (UTC without one).
fn local_midnight(ctx: &Ctx, date: NaiveDate, field: &str) -> Result<DateTime<Utc>> {
    let naive = date
        .and_hms_opt(0, 0, 0)
        .ok_or_else(|| Error::internal("midnight does not exist"))?;
    match ctx.program.as_deref() {
        None => Ok(Utc.from_utc_datetime(&naive)),
        Some(program) => program
            .tz()
            .from_local_datetime(&naive)
            .earliest()
            .map(|local| local.with_timezone(&Utc))
            .ok_or_else(|| Error::invalid(field, format!("{date} has no midnight"))),
    }
}

/// The checked limits of a `report.changes` request: page size and operator filter.
fn checked(args: &ChangesArgs) -> Result<(usize, Option<String>)> {
    if args.to < args.from {
        return Err(Error::invalid(
            "to",
            format!("{} is before {}", args.to, args.from),
        ));
    }
    if (args.to - args.from).num_days() > CHANGES_PERIOD_DAYS_MAX {
        return Err(Error::invalid(
            "to",
            format!("the period is longer than {CHANGES_PERIOD_DAYS_MAX} days"),
        ));
    }
    let limit = CHANGES_PAGE.of(args.limit)?;
    let operator = args.operator.as_deref().map(check_operator).transpose()?;
    Ok((limit, operator))
}

/// Where a `report.changes` query reads: the table, and the key prefix within it that
/// comes before the instant (the customer's or operator's part of an index key).
fn source(customer: Option<u64>, operator: Option<&str>) -> (u8, Vec<u8>) {
    match (customer, operator) {
        (Some(customer), _) => (
            tag::AUDIT_BY_CUSTOMER,
            KeyBuilder::new(tag::AUDIT_BY_CUSTOMER)
                .u64(customer)
                .build(),
        ),
        (None, Some(operator)) => (
            tag::AUDIT_BY_OPERATOR,
            KeyBuilder::new(tag::AUDIT_BY_OPERATOR)
                .str_sep(operator)
                .build(),
        ),
        (None, None) => (tag::AUDIT, vec![tag::AUDIT]),
    }
}

/// `report.changes`: who changed customer cards, cards, vehicles, balances, the
/// programme and plugins in `[from, to]`, oldest first, one page at a time. With
/// `customer` or `operator` it walks that index only; with both, the customer's (the
/// narrower) and filters.
pub fn changes<R: Reader>(reader: &R, ctx: &Ctx, args: &ChangesArgs) -> Result<ChangesPage> {
    let (limit, operator) = checked(args)?;
    let from = local_midnight(ctx, args.from, "from")?;
    let to = local_midnight(ctx, args.to + Duration::days(1), "to")?;
    let (table, head) = source(args.customer, operator.as_deref());
    let bound = |at: DateTime<Utc>| {
        let mut key = head.clone();
        key.extend_from_slice(&KeyBuilder::new(0).i64(micros(at)).build()[1..]);
        key
    };
    let end = bound(to);
    let start = match &args.after {
        Some(text) => {
            let cursor = keys::cursor_key(text, "report.changes")?;
            if !cursor.starts_with(&head) || cursor < bound(from) || cursor >= end {
                return Err(Error::invalid(
                    "after",
                    "the cursor belongs to another query",
                ));
            }
            after(&cursor)
        }
        None => bound(from),
    };
    let walk = Walk {
        table,
        head_len: head.len(),
        end,
        limit,
        operator,
    };
    walk.page(reader, start)
}

/// One page's walk over a table of the audit log.
struct Walk {
    table: u8,
    head_len: usize,
    end: Vec<u8>,
    limit: usize,
    operator: Option<String>,
}

impl Walk {
    /// Up to `limit` records from `start`, reading the index in bounded steps.
    fn page<R: Reader>(&self, reader: &R, mut start: Vec<u8>) -> Result<ChangesPage> {
        let step = if self.table == tag::AUDIT {
            self.limit
        } else {
            SCAN_STEP
        };
        let mut records = Vec::new();
        loop {
            let pairs = reader.scan_raw(&start, &self.end, step, false)?;
            for (key, raw) in &pairs {
                let record: AuditRecord = if self.table == tag::AUDIT {
                    crate::store::decode(key, raw)?
                } else {
                    let (at, seq) = index_position(key, self.table, self.head_len)?;
                    load(reader, at, seq)?
                };
                if self.operator.is_some() && record.operator != self.operator {
                    continue;
                }
                records.push(view(record));
                if records.len() == self.limit {
                    return Ok(ChangesPage {
                        records,
                        next_after: Some(keys::cursor_text(key)),
                    });
                }
            }
            match pairs.last() {
                Some((key, _)) if pairs.len() == step => start = after(key),
                _ => {
                    return Ok(ChangesPage {
                        records,
                        next_after: None,
                    });
                }
            }
        }
    }
}

fn view(record: AuditRecord) -> AuditRecordView {
    AuditRecordView {
        seq: record.seq,
        at: record.at,
        op: record.op,
        operator: record.operator,
        customer: record.customer,
        changes: record
            .changes
            .into_iter()
            .map(|change| ChangeView {
                entity: change.entity,
                id: change.id,
                field: change.field,
                before: change.before,
                after: change.after,
            })
            .collect(),
    }
}

/// What `store.check` found in the audit log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditCheck {
    /// Records read.
    pub records: u64,
    /// Index entries read.
    pub index_entries: u64,
}

/// Verify the audit log: every record decodes and has its operator and customer index
/// entries; every index entry names a record that has that operator or customer.
pub fn check<R: Reader>(reader: &R) -> Result<AuditCheck> {
    let mut found = AuditCheck::default();
    let mut expected: u64 = 0;
    each_pair(reader, tag::AUDIT, |key, raw| {
        expected += check_record(reader, key, raw)?;
        found.records += 1;
        Ok(())
    })?;
    for table in [tag::AUDIT_BY_OPERATOR, tag::AUDIT_BY_CUSTOMER] {
        each_pair(reader, table, |key, _| {
            found.index_entries += 1;
            check_index_entry(reader, table, key)
        })?;
    }
    if found.index_entries != expected {
        return Err(Error::corrupted(format!(
            "the audit indexes hold {} entries, the records call for {expected}",
            found.index_entries
        )));
    }
    Ok(found)
}

/// Every pair of a table, read in bounded steps.
fn each_pair<R: Reader>(
    reader: &R,
    table: u8,
    mut visit: impl FnMut(&[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    let mut start = vec![table];
    let end = keys::prefix_end(&[table]);
    loop {
        let pairs = reader.scan_raw(&start, &end, SCAN_STEP, false)?;
        for (key, raw) in &pairs {
            visit(key, raw)?;
        }
        match pairs.last() {
            Some((key, _)) if pairs.len() == SCAN_STEP => start = after(key),
            _ => return Ok(()),
        }
    }
}

/// A record decodes, sits under its own key and has its index entries; returns how
/// many index entries it calls for.
fn check_record<R: Reader>(reader: &R, key: &[u8], raw: &[u8]) -> Result<u64> {
    let record: AuditRecord = crate::store::decode(key, raw)?;
    if key != record_key(record.at, record.seq) {
        return Err(Error::corrupted(format!(
            "audit record {} is stored under another key",
            record.seq
        )));
    }
    if let Some(operator) = &record.operator
        && reader
            .get_raw(&operator_key(operator, record.at, record.seq))?
            .is_none()
    {
        return Err(missing_index("operator", record.seq));
    }
    if let Some(customer) = record.customer
        && reader
            .get_raw(&customer_key(customer, record.at, record.seq))?
            .is_none()
    {
        return Err(missing_index("customer", record.seq));
    }
    Ok(u64::from(record.operator.is_some()) + u64::from(record.customer.is_some()))
}

/// An index entry names a record that has that operator or customer.
fn check_index_entry<R: Reader>(reader: &R, table: u8, key: &[u8]) -> Result<()> {
    let own = if table == tag::AUDIT_BY_CUSTOMER {
        9
    } else {
        1 + key[1..]
            .iter()
            .position(|b| *b == 0)
            .map_or(key.len(), |p| p + 1)
    };
    let (at, seq) = index_position(key, table, own)?;
    let record = load(reader, at, seq)?;
    let rebuilt = if table == tag::AUDIT_BY_CUSTOMER {
        record.customer.map(|c| customer_key(c, at, seq))
    } else {
        record.operator.as_deref().map(|o| operator_key(o, at, seq))
    };
    if rebuilt.as_deref() != Some(key) {
        return Err(Error::corrupted(format!(
            "audit index entry {} does not match record {seq}",
            keys::display(key)
        )));
    }
    Ok(())
}

fn missing_index(which: &str, seq: u64) -> Error {
    Error::corrupted(format!("audit record {seq} has no {which} index entry"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Entity;
    use crate::store::Store;
    use std::sync::Arc;

    fn ctx(at: &str, operator: Option<&str>) -> Ctx {
        let at = DateTime::parse_from_rfc3339(at)
            .unwrap()
            .with_timezone(&Utc);
        Ctx::new(at, None).with_operator(operator.map(Arc::from))
    }

    fn balance(customer: u64, before: &str, after: &str) -> Change {
        Change::new(
            Entity::Balance,
            customer,
            "adjustment",
            Some(before.into()),
            Some(after.into()),
        )
        .of_customer(customer)
    }

    /// Two customers' changes in one operation: two records, each indexed.
    fn store_with_log() -> Store {
        let store = Store::scratch().unwrap();
        let mut txn = store.write().unwrap();
        txn.record(balance(7, "0", "100"));
        txn.record(balance(9, "5", "0"));
        txn.record(balance(7, "100", "150"));
        flush(
            &mut txn,
            &ctx("2025-03-01T10:00:00Z", Some("Кассир Петрова")),
            "campaign.notify",
        )
        .unwrap();
        assert!(txn.take_changes().is_empty(), "flush takes every change");
        txn.commit().unwrap();
        store
    }

    #[test]
    fn one_record_per_customer_and_check_finds_them_sound() {
        let store = store_with_log();
        let view = store.read().unwrap();
        let found = check(&view).unwrap();
        assert_eq!(
            found,
            AuditCheck {
                records: 2,
                index_entries: 4
            }
        );
        let ctx = ctx("2025-03-02T00:00:00Z", None);
        let args = ChangesArgs {
            from: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            operator: None,
            customer: Some(7),
            limit: None,
            after: None,
        };
        let page = changes(&view, &ctx, &args).unwrap();
        assert_eq!(page.records.len(), 1);
        assert_eq!(
            page.records[0].changes.len(),
            2,
            "both of customer 7's changes"
        );
        assert_eq!(page.records[0].operator.as_deref(), Some("Кассир Петрова"));
    }

    #[test]
    fn check_names_a_missing_or_stray_index_entry() {
        let at = DateTime::parse_from_rfc3339("2025-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for damage in ["missing", "stray"] {
            let store = store_with_log();
            let mut txn = store.write().unwrap();
            match damage {
                "missing" => txn.delete(customer_key(9, at, 2)),
                _ => txn
                    .put(operator_key("Кассир Петрова", at, 99), &())
                    .unwrap(),
            }
            txn.commit().unwrap();
            let err = check(&store.read().unwrap()).unwrap_err();
            assert_eq!(err.code, crate::ErrorCode::Corrupted, "{damage}: {err:?}");
        }
    }

    #[test]
    fn nothing_noted_writes_nothing() {
        let store = Store::scratch().unwrap();
        let mut txn = store.write().unwrap();
        flush(&mut txn, &ctx("2025-03-01T10:00:00Z", None), "store.stats").unwrap();
        assert_eq!(txn.get_raw(&keys::meta(AUDIT_SEQ)).unwrap(), None);
    }
}
