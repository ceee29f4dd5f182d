//! Referral totals: what `report.referrals` totals (referees, of them rewarded, points
//! kept, their revenue) per referrer and over every referral, kept by difference. Each
//! referee's figures as last counted are stored beside them, so a write of the referee's
//! referral record ([`on_referee`]) or of their customer record ([`on_spend`]) moves the
//! totals from the stored figures to the new ones in the same batch.

use super::ready;
use crate::error::{Error, Result};
use crate::store::keys::aggregate_tag::{REFEREE, REFERRALS, REFERRER};
use crate::store::keys::{KeyBuilder, KeyReader, tag};
use crate::store::{Reader, WriteTxn};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One referee as the totals count them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefereeFigures {
    /// Who brought them.
    pub referrer: u64,
    /// Signup rewards paid and kept.
    pub rewarded: bool,
    /// Points paid and kept for them (signup and cashback).
    pub points: Decimal,
    /// Their net spend.
    pub revenue: Decimal,
}

/// Referees together: one referrer's, or every one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralTotals {
    /// Referees.
    pub referees: u64,
    /// Of them, with signup rewards paid and kept.
    pub rewarded: u64,
    /// Points paid and kept.
    pub points: Decimal,
    /// Revenue.
    pub revenue: Decimal,
}

impl ReferralTotals {
    /// Count one referee in (`sign` 1) or out (`sign` -1).
    pub fn add(&mut self, referee: &RefereeFigures, sign: i64) -> Result<()> {
        let step = |value: u64, by: i64| {
            u64::try_from(i128::from(value) + i128::from(by))
                .map_err(|_| Error::internal("referral totals: a count went below zero"))
        };
        self.referees = step(self.referees, sign)?;
        if referee.rewarded {
            self.rewarded = step(self.rewarded, sign)?;
        }
        let sign = Decimal::from(sign);
        self.points += sign * referee.points;
        self.revenue += sign * referee.revenue;
        Ok(())
    }
}

fn referee_key(referee: u64) -> Vec<u8> {
    KeyBuilder::new(tag::AGGREGATE)
        .byte(REFEREE)
        .u64(referee)
        .build()
}

fn totals_key(referrer: Option<u64>) -> Vec<u8> {
    match referrer {
        Some(id) => KeyBuilder::new(tag::AGGREGATE)
            .byte(REFERRER)
            .u64(id)
            .build(),
        None => KeyBuilder::new(tag::AGGREGATE).byte(REFERRALS).build(),
    }
}

/// The totals of one referrer's referees, or of every referee.
pub fn referral_totals<R: Reader>(reader: &R, referrer: Option<u64>) -> Result<ReferralTotals> {
    Ok(reader.get(&totals_key(referrer))?.unwrap_or_default())
}

/// A referee's figures as counted.
pub fn referee_figures<R: Reader>(reader: &R, referee: u64) -> Result<Option<RefereeFigures>> {
    reader.get(&referee_key(referee))
}

/// Write totals (rebuild); empty ones are deleted.
pub fn put_referral_totals(
    txn: &mut WriteTxn<'_>,
    referrer: Option<u64>,
    totals: &ReferralTotals,
) -> Result<()> {
    let key = totals_key(referrer);
    if totals.referees == 0 && referrer.is_some() {
        txn.delete(key);
        return Ok(());
    }
    txn.put(key, totals)
}

/// Write a referee's figures (rebuild).
pub fn put_referee_figures(
    txn: &mut WriteTxn<'_>,
    referee: u64,
    figures: &RefereeFigures,
) -> Result<()> {
    txn.put(referee_key(referee), figures)
}

/// Every referee with counted figures, a chunk at a time after `after` (check).
pub fn all_referee_figures<R: Reader>(
    reader: &R,
    after: Option<u64>,
    chunk: usize,
) -> Result<Vec<(u64, RefereeFigures)>> {
    let prefix = KeyBuilder::new(tag::AGGREGATE).byte(REFEREE).build();
    let start = match after {
        Some(id) => {
            let mut key = referee_key(id);
            key.push(0);
            key
        }
        None => prefix.clone(),
    };
    let end = crate::store::keys::prefix_end(&prefix);
    let mut out = Vec::new();
    for (key, figures) in reader.scan_range::<RefereeFigures>(&start, &end, chunk, false)? {
        let mut fields = KeyReader::of(&key, tag::AGGREGATE, "referral figures")?;
        if fields.byte()? != REFEREE {
            return Err(Error::internal("malformed referral figures key"));
        }
        out.push((fields.u64()?, figures));
    }
    Ok(out)
}

/// Referrers with stored totals, in order (check).
pub fn referrers_counted<R: Reader>(
    reader: &R,
    after: Option<u64>,
    chunk: usize,
) -> Result<Vec<u64>> {
    let prefix = KeyBuilder::new(tag::AGGREGATE).byte(REFERRER).build();
    let start = match after {
        Some(id) => {
            let mut key = totals_key(Some(id));
            key.push(0);
            key
        }
        None => prefix.clone(),
    };
    let end = crate::store::keys::prefix_end(&prefix);
    let mut out = Vec::new();
    for (key, _) in reader.scan_raw(&start, &end, chunk, false)? {
        let mut fields = KeyReader::of(&key, tag::AGGREGATE, "referral totals")?;
        if fields.byte()? != REFERRER {
            return Err(Error::internal("malformed referral totals key"));
        }
        out.push(fields.u64()?);
    }
    Ok(out)
}

fn apply(txn: &mut WriteTxn<'_>, figures: &RefereeFigures, sign: i64) -> Result<()> {
    for referrer in [Some(figures.referrer), None] {
        let mut totals = referral_totals(txn, referrer)?;
        totals.add(figures, sign)?;
        put_referral_totals(txn, referrer, &totals)?;
    }
    Ok(())
}

/// A referee's referral record is written: `after` is how the totals count them now
/// (`None`: not a referee any more). Same batch.
pub fn on_referee(
    txn: &mut WriteTxn<'_>,
    referee: u64,
    after: Option<&RefereeFigures>,
) -> Result<()> {
    if !ready(txn)? {
        return Ok(());
    }
    let before = referee_figures(txn, referee)?;
    if before.as_ref() == after {
        return Ok(());
    }
    if let Some(before) = &before {
        apply(txn, before, -1)?;
    }
    match after {
        Some(after) => {
            apply(txn, after, 1)?;
            put_referee_figures(txn, referee, after)
        }
        None => {
            txn.delete(referee_key(referee));
            Ok(())
        }
    }
}

/// A customer record is written with this net spend: a referee's revenue follows.
pub fn on_spend(txn: &mut WriteTxn<'_>, customer: u64, spend: Decimal) -> Result<()> {
    if !ready(txn)? {
        return Ok(());
    }
    let Some(before) = referee_figures(txn, customer)? else {
        return Ok(());
    };
    if before.revenue == spend {
        return Ok(());
    }
    let after = RefereeFigures {
        revenue: spend,
        ..before
    };
    on_referee(txn, customer, Some(&after))
}
