//! Consent: which channels a customer agreed to, since when, and the dated history of
//! every change (kept for the personal-data export).

use super::*;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::store::keys::{KeyBuilder, KeyReader, tag};
use crate::store::{Reader, WriteTxn, keys};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Consent for one channel with the date it was given or withdrawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    /// The channel.
    pub channel: Channel,
    /// Granted or withdrawn.
    pub granted: bool,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// One change of a consent, kept for ever (the record of what the customer agreed to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentEvent {
    /// The channel.
    pub channel: Channel,
    /// Granted or withdrawn.
    pub granted: bool,
    /// When.
    pub at: DateTime<Utc>,
    /// Where it came from (`pos`, `web form`, `paper form no. 12`, `erasure`).
    pub source: Option<String>,
}

pub(super) fn consent_event_key(customer: u64, seq: u64) -> Vec<u8> {
    KeyBuilder::new(tag::CONSENT_HISTORY)
        .u64(customer)
        .u64(seq)
        .build()
}

/// A customer's consent changes, oldest first (at most 10 000).
pub fn consent_history<R: Reader>(reader: &R, customer: u64) -> Result<Vec<ConsentEvent>> {
    let prefix = KeyBuilder::new(tag::CONSENT_HISTORY).u64(customer).build();
    Ok(reader
        .scan_prefix::<ConsentEvent>(&prefix, 10_000)?
        .into_iter()
        .map(|(_, e)| e)
        .collect())
}

/// Record the consents that differ between `old` and `new` as dated events.
pub fn record_consents(
    txn: &mut WriteTxn<'_>,
    customer: u64,
    old: &[Consent],
    new: &[Consent],
    source: Option<&str>,
) -> Result<()> {
    let prefix = KeyBuilder::new(tag::CONSENT_HISTORY).u64(customer).build();
    let end = keys::prefix_end(&prefix);
    let last = txn.scan_raw(&prefix, &end, 1, true)?;
    let mut seq = match last.first() {
        Some((key, _)) => {
            let mut fields = KeyReader::of(key, tag::CONSENT_HISTORY, "consent history")?;
            fields.u64()?;
            fields.u64()?
        }
        None => 0,
    };
    for consent in new {
        let before = old.iter().find(|c| c.channel == consent.channel);
        if before.is_some_and(|b| b.granted == consent.granted) {
            continue;
        }
        seq += 1;
        let event = ConsentEvent {
            channel: consent.channel,
            granted: consent.granted,
            at: consent.at,
            source: source.map(str::to_string),
        };
        txn.put(consent_event_key(customer, seq), &event)?;
    }
    Ok(())
}

/// The instant consents take: `consents_at`, which may not be in the future.
pub(super) fn consents_instant(ctx: &Ctx, at: Option<DateTime<Utc>>) -> Result<DateTime<Utc>> {
    match at {
        Some(at) if at > ctx.at => Err(Error::invalid(
            "consents_at",
            format!("{} is in the future", at.to_rfc3339()),
        )),
        Some(at) => Ok(at),
        None => Ok(ctx.at),
    }
}

pub(super) fn consents_from(
    input: &ConsentInput,
    at: DateTime<Utc>,
    previous: &[Consent],
) -> Vec<Consent> {
    let mut out: Vec<Consent> = previous.to_vec();
    for (channel, granted) in input {
        match out.iter_mut().find(|c| c.channel == *channel) {
            Some(existing) if existing.granted == *granted => {}
            Some(existing) => {
                existing.granted = *granted;
                existing.at = at;
            }
            None => out.push(Consent {
                channel: *channel,
                granted: *granted,
                at,
            }),
        }
    }
    out.sort_by_key(|c| c.channel);
    out
}

/// Move a merged customer's consent history after the kept customer's (`customer.merge`):
/// the events keep their dates and sources and follow the kept customer's last sequence.
pub fn move_consent_history(txn: &mut WriteTxn<'_>, from: u64, to: u64) -> Result<usize> {
    let from_prefix = KeyBuilder::new(tag::CONSENT_HISTORY).u64(from).build();
    let moved = txn.scan_prefix::<ConsentEvent>(&from_prefix, 10_000)?;
    let prefix = KeyBuilder::new(tag::CONSENT_HISTORY).u64(to).build();
    let end = keys::prefix_end(&prefix);
    let mut seq = match txn.scan_raw(&prefix, &end, 1, true)?.first() {
        Some((key, _)) => {
            let mut fields = KeyReader::of(key, tag::CONSENT_HISTORY, "consent history")?;
            fields.u64()?;
            fields.u64()?
        }
        None => 0,
    };
    for (key, event) in &moved {
        txn.delete(key.clone());
        seq += 1;
        txn.put(consent_event_key(to, seq), event)?;
    }
    Ok(moved.len())
}
