//! Holds: points reserved for a basket the till has not committed yet, and their
//! resolution (commit, release, expiry).

use super::*;
use crate::context::{Ctx, next_id};
use crate::error::{Error, ErrorCode, Result};
use crate::store::WriteTxn;
use chrono::Duration;
use rust_decimal::Decimal;
use serde_json::json;

impl Book {
    /// Reserve points for a two-step payment.
    pub fn hold(
        &mut self,
        txn: &mut WriteTxn<'_>,
        ctx: &Ctx,
        points: Decimal,
        ttl_minutes: u32,
        reference: Option<String>,
    ) -> Result<Hold> {
        let allocation = self.take_fefo(points, true)?;
        let id = next_id(txn, "next_hold")?;
        let expires_at = ctx.at + Duration::minutes(i64::from(ttl_minutes));
        let hold = Hold {
            id,
            customer: self.account.customer,
            points,
            status: HoldStatus::Active,
            created_at: ctx.at,
            expires_at,
            allocation: allocation.clone(),
            captured: Decimal::ZERO,
            reference,
            resolved_at: None,
        };
        self.index_puts.push(hold_expiry_key(expires_at, id));
        self.holds.insert(id, hold.clone());
        let lots = allocation.iter().map(|a| (a.lot, a.points)).collect();
        self.push_entry(
            ctx,
            EntryKind::Hold,
            Change {
                held: points,
                lots,
                hold: Some(id),
                ..Change::default()
            },
        );
        Ok(hold)
    }

    /// Take a hold off its lots, capturing `capture` points from them in allocation
    /// order; returns the lots' captured and released parts.
    fn unhold_lots(&mut self, hold: &Hold, capture: Decimal) -> Result<(LotParts, LotParts)> {
        let mut to_capture = capture;
        let mut captured_lots = Vec::new();
        let mut released_lots = Vec::new();
        for part in &hold.allocation {
            let lot = self.lots.get_mut(&part.lot).ok_or_else(|| {
                broken(hold.customer, format!("held lot {} is missing", part.lot))
            })?;
            let take = part.points.min(to_capture);
            lot.held -= part.points;
            lot.remaining -= take;
            to_capture -= take;
            if take > Decimal::ZERO {
                captured_lots.push((part.lot, -take));
            }
            if part.points > take {
                released_lots.push((part.lot, part.points - take));
            }
        }
        Ok((captured_lots, released_lots))
    }

    /// Resolve an active hold exactly once: capture `capture` points of it (0 for a
    /// release or expiry) and free the rest.
    pub fn resolve_hold(
        &mut self,
        ctx: &Ctx,
        id: u64,
        capture: Decimal,
        status: HoldStatus,
    ) -> Result<Hold> {
        let mut hold = self.holds.remove(&id).ok_or_else(|| {
            Error::new(ErrorCode::HoldNotActive, format!("hold {id} is not active"))
                .with_details(json!({ "hold": id }))
        })?;
        if capture < Decimal::ZERO || capture > hold.points {
            self.holds.insert(id, hold.clone());
            return Err(Error::invalid(
                "points",
                format!("capture must be 0..={} for hold {id}", hold.points),
            ));
        }
        let (captured_lots, released_lots) = self.unhold_lots(&hold, capture)?;
        let released = hold.points - capture;
        if capture > Decimal::ZERO {
            self.account.redeemed += capture;
            let change = Change {
                amount: -capture,
                held: -capture,
                lots: captured_lots,
                hold: Some(id),
                ..Change::default()
            };
            self.push_entry(ctx, EntryKind::Capture, change);
        }
        if released > Decimal::ZERO {
            let kind = if status == HoldStatus::Expired {
                EntryKind::HoldExpiry
            } else {
                EntryKind::HoldRelease
            };
            let change = Change {
                held: -released,
                lots: released_lots,
                hold: Some(id),
                ..Change::default()
            };
            self.push_entry(ctx, kind, change);
        }
        hold.status = status;
        hold.captured = capture;
        hold.resolved_at = Some(ctx.at);
        self.index_deletes
            .push(hold_expiry_key(hold.expires_at, id));
        self.resolved_holds.push(hold.clone());
        self.burn_expired(ctx);
        Ok(hold)
    }
}

/// Points per lot, as a ledger entry lists them.
type LotParts = Vec<(u64, Decimal)>;
