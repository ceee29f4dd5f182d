//! Verification of a whole store: every record's checksum, every account's ledger
//! invariants (lots against the account, entries chained and summing to the balance),
//! and the size on disk against the raw size of the data.

use crate::audit_log;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::ledger::{self, Account, Book};
use crate::store::keys::{KeyBuilder, KeyReader, tag};
use crate::store::{Reader, Store, verify_sealed};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Most problems listed in one report.
const PROBLEMS_MAX: usize = 100;
const SCAN_CHUNK: usize = 4096;

/// What `store.check` found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CheckReport {
    /// Records read.
    pub records: u64,
    /// Accounts verified.
    pub accounts: u64,
    /// Ledger entries verified.
    pub entries: u64,
    /// Audit records verified with their operator and customer index entries.
    #[serde(default)]
    pub audit_records: u64,
    /// The report aggregates: `verified` against a recount from history (differences are
    /// among the problems), or `not_built` (a store from before them: its reports scan
    /// history until `store.rebuild_aggregates`).
    #[serde(default)]
    pub aggregates: String,
    /// Problems (at most 100); empty when the store is sound.
    pub problems: Vec<String>,
}

fn note(report: &mut CheckReport, problem: String) {
    if report.problems.len() < PROBLEMS_MAX {
        report.problems.push(problem);
    }
}

/// Visit every record in key order, chunk by chunk.
fn for_each_record<R: Reader>(
    reader: &R,
    mut visit: impl FnMut(&[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    let mut start: Vec<u8> = Vec::new();
    let end = vec![0xffu8; 1024];
    loop {
        let chunk = reader.scan_raw(&start, &end, SCAN_CHUNK, false)?;
        let Some((last, _)) = chunk.last() else {
            return Ok(());
        };
        let mut next = last.clone();
        next.push(0);
        for (key, value) in &chunk {
            visit(key, value)?;
        }
        start = next;
    }
}

/// Verify the whole store. Damage is reported as problems, not as an error, so one
/// run lists everything it can see.
pub fn check<R: Reader>(reader: &R, _ctx: &Ctx) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    let mut accounts: Vec<u64> = Vec::new();
    for_each_record(reader, |key, value| {
        report.records += 1;
        if let Err(err) = verify_sealed(key, value) {
            note(&mut report, err.message);
        } else if key.first() == Some(&tag::ACCOUNT)
            && let Ok(id) = KeyReader::of(key, tag::ACCOUNT, "account").and_then(|mut k| k.u64())
        {
            accounts.push(id);
        }
        Ok(())
    })?;
    for customer in accounts {
        report.accounts += 1;
        if let Err(err) = check_account(reader, customer, &mut report) {
            note(&mut report, format!("customer {customer}: {}", err.message));
        }
    }
    check_redirects(reader, &mut report)?;
    match audit_log::check(reader) {
        Ok(found) => report.audit_records = found.records,
        Err(err) => note(&mut report, format!("audit log: {}", err.message)),
    }
    report.aggregates = if crate::aggregate::ready(reader)? {
        let mut found = Vec::new();
        match crate::recount::verify(reader, |problem| found.push(problem)) {
            Ok(()) => found
                .into_iter()
                .for_each(|problem| note(&mut report, problem)),
            Err(err) => note(&mut report, format!("aggregates: {}", err.message)),
        }
        "verified".to_string()
    } else {
        "not_built".to_string()
    };
    Ok(report)
}

/// Tables a merge empties of the merged customer's keys.
const MERGED_TABLES: [(u8, &str); 9] = [
    (tag::CUSTOMER_CARD, "cards"),
    (tag::LOTS, "points lots"),
    (tag::CUSTOMER_VEHICLE, "vehicles"),
    (tag::CUSTOMER_VISIT, "visits"),
    (tag::CONSENT_HISTORY, "consent history"),
    (tag::CUSTOMER_CAMPAIGN, "campaign notifications"),
    (tag::CUSTOMER_RECOMMENDATION, "recommendations"),
    (tag::CUSTOMER_TYRE_STORAGE, "tyre storage"),
    (tag::CUSTOMER_FEEDBACK, "feedback"),
];

/// Every merged customer's redirect leads to a customer that exists, and nothing is
/// left filed under the merged id: no customer record, no points, no cards, cars or visits.
fn check_redirects<R: Reader>(reader: &R, report: &mut CheckReport) -> Result<()> {
    let mut after = None;
    loop {
        let chunk = crate::customer::redirects(reader, after, SCAN_CHUNK)?;
        let Some(last) = chunk.last() else {
            return Ok(());
        };
        after = Some(last.merged);
        for redirect in &chunk {
            if let Err(err) = check_redirect(reader, redirect) {
                note(
                    report,
                    format!("merged customer {}: {}", redirect.merged, err.message),
                );
            }
        }
    }
}

fn check_redirect<R: Reader>(reader: &R, redirect: &crate::customer::Redirect) -> Result<()> {
    let merged = redirect.merged;
    let kept = crate::customer::follow(reader, merged)?;
    if kept == merged || !reader.contains(&KeyBuilder::new(tag::CUSTOMER).u64(kept).build())? {
        return Err(Error::corrupted(format!(
            "leads to customer {kept}, who does not exist"
        )));
    }
    if reader.contains(&KeyBuilder::new(tag::CUSTOMER).u64(merged).build())? {
        return Err(Error::corrupted("still has a customer record".to_string()));
    }
    let account = ledger::load_account(reader, merged)?;
    if !account.balance.is_zero() {
        return Err(Error::corrupted(format!(
            "still has {} points",
            account.balance
        )));
    }
    for (table, what) in MERGED_TABLES {
        let prefix = KeyBuilder::new(table).u64(merged).build();
        if !reader.scan_keys(&prefix, 1)?.is_empty() {
            return Err(Error::corrupted(format!(
                "still has {what} filed under its id"
            )));
        }
    }
    Ok(())
}

fn check_account<R: Reader>(reader: &R, customer: u64, report: &mut CheckReport) -> Result<()> {
    ledger::check_blocks(reader, customer)?;
    let book = Book::load(reader, customer)?;
    let account: &Account = &book.account;
    let mut expected_seq = 1u64;
    let all = ledger::entries(reader, customer, None, usize::MAX)?;
    let mut balance = Decimal::ZERO;
    for entry in all.iter().rev() {
        if entry.seq != expected_seq {
            return Err(Error::corrupted(format!(
                "entry {expected_seq} is missing (found {})",
                entry.seq
            )));
        }
        balance += entry.amount;
        if entry.balance_after != balance {
            return Err(Error::corrupted(format!(
                "entry {} says balance {} but entries sum to {balance}",
                entry.seq, entry.balance_after
            )));
        }
        expected_seq += 1;
    }
    if expected_seq - 1 != account.seq {
        return Err(Error::corrupted(format!(
            "account ends at entry {} but {} entries exist",
            account.seq,
            expected_seq - 1
        )));
    }
    report.entries += all.len() as u64;
    if balance != account.balance {
        return Err(Error::corrupted(format!(
            "entries sum to {balance}, account balance is {}",
            account.balance
        )));
    }
    Ok(())
}

/// What `store.stats` reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoreStats {
    /// Sequence of the last applied batch.
    pub seq: u64,
    /// Records.
    pub records: u64,
    /// Σ key + value bytes (the raw encoded data).
    pub raw_bytes: u64,
    /// Bytes on disk.
    pub disk_bytes: u64,
    /// disk / raw.
    pub amplification: Decimal,
}

/// Size on disk against raw data size.
pub fn stats<R: Reader>(reader: &R, store: &Store) -> Result<StoreStats> {
    let mut stats = StoreStats {
        seq: store.applied_seq(),
        ..StoreStats::default()
    };
    for_each_record(reader, |key, value| {
        stats.records += 1;
        stats.raw_bytes += (key.len() + value.len()) as u64;
        Ok(())
    })?;
    stats.disk_bytes = store.backend().size_on_disk()?;
    if stats.raw_bytes > 0 {
        stats.amplification =
            (Decimal::from(stats.disk_bytes) / Decimal::from(stats.raw_bytes)).round_dp(2);
    }
    Ok(stats)
}
