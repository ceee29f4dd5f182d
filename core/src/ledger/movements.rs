//! Points moving in and out of a customer's book: credits (new lots), debits first
//! expiring first out, returns to the lots they came from, and claw-backs of points
//! already spent.

use super::*;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::store::Reader;
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

/// Points to credit as a new lot: what kind, how many, and what the entry records.
#[derive(Debug, Clone)]
pub struct Credit {
    kind: EntryKind,
    points: Decimal,
    expires_on: Option<NaiveDate>,
    pending_until: Option<NaiveDate>,
    visit: Option<u64>,
    reason: Option<String>,
    operator: Option<String>,
}

impl Credit {
    /// `points` of `kind`, never expiring, available at once, with no note.
    pub fn new(kind: EntryKind, points: Decimal) -> Credit {
        Credit {
            kind,
            points,
            expires_on: None,
            pending_until: None,
            visit: None,
            reason: None,
            operator: None,
        }
    }

    /// The last day the lot may be used.
    pub fn expiring(mut self, expires_on: Option<NaiveDate>) -> Credit {
        self.expires_on = expires_on;
        self
    }

    /// Held back until this day (the programme's pending days).
    pub fn pending_until(mut self, pending_until: Option<NaiveDate>) -> Credit {
        self.pending_until = pending_until;
        self
    }

    /// The visit the points come from.
    pub fn for_visit(mut self, visit: impl Into<Option<u64>>) -> Credit {
        self.visit = visit.into();
        self
    }

    /// Why, as the statement shows it.
    pub fn because(mut self, reason: impl Into<Option<String>>) -> Credit {
        self.reason = reason.into();
        self
    }

    /// Who credited them (an operator, `plugin:NAME`).
    pub fn by(mut self, operator: impl Into<Option<String>>) -> Credit {
        self.operator = operator.into();
        self
    }
}

impl Book {
    /// Credit points as a new lot.
    #[allow(clippy::too_many_arguments)]
    pub fn credit(&mut self, ctx: &Ctx, credit: Credit) -> Result<u64> {
        let Credit {
            kind,
            points,
            expires_on,
            pending_until,
            visit,
            reason,
            operator,
        } = credit;
        if points <= Decimal::ZERO || points > POINTS_MAX {
            return Err(Error::internal(format!("credit of {points} points")));
        }
        let customer = self.account.customer;
        self.account.next_lot += 1;
        let id = self.account.next_lot;
        let pending_until = pending_until.filter(|d| *d > ctx.today);
        let lot = Lot {
            id,
            source: kind,
            created: ctx.today,
            amount: points,
            remaining: points,
            held: Decimal::ZERO,
            expires_on,
            pending_until,
            visit,
        };
        if let Some(expires_on) = expires_on {
            self.index_puts
                .push(expiry_key(expires_on + Duration::days(1), customer, id));
        }
        if let Some(date) = pending_until {
            self.index_puts.push(release_key(date, customer, id));
        }
        let pending = if pending_until.is_some() {
            points
        } else {
            Decimal::ZERO
        };
        self.lots.insert(id, lot);
        self.account.credited += points;
        let change = Change {
            amount: points,
            pending,
            lots: vec![(id, points)],
            visit,
            reason,
            operator,
            ..Change::default()
        };
        self.push_entry(ctx, kind, change);
        // A back-dated credit may already be past its expiry.
        self.burn_expired(ctx);
        Ok(id)
    }

    /// Take `points` from spendable lots, soonest expiry first.
    pub(super) fn take_fefo(&mut self, points: Decimal, reserve: bool) -> Result<Vec<Allocation>> {
        let spendable: Decimal = self.lots.values().map(Lot::spendable).sum();
        if points > spendable {
            return Err(insufficient(self.account.customer, points, spendable));
        }
        let order: Vec<u64> = self.lots().iter().map(|lot| lot.id).collect();
        let mut left = points;
        let mut allocation = Vec::new();
        for id in order {
            if left.is_zero() {
                break;
            }
            let Some(lot) = self.lots.get_mut(&id) else {
                continue;
            };
            let take = lot.spendable().min(left);
            if take <= Decimal::ZERO {
                continue;
            }
            if reserve {
                lot.held += take;
            } else {
                lot.remaining -= take;
            }
            left -= take;
            allocation.push(Allocation {
                lot: id,
                points: take,
                expires_on: lot.expires_on,
                created: lot.created,
                source: lot.source,
            });
        }
        if !left.is_zero() {
            return Err(Error::internal(
                "available points did not cover a checked redemption",
            ));
        }
        Ok(allocation)
    }

    /// Spend points (redemption), soonest-expiring lots first.
    pub fn debit(
        &mut self,
        ctx: &Ctx,
        kind: EntryKind,
        points: Decimal,
        visit: Option<u64>,
        reason: Option<String>,
        operator: Option<String>,
    ) -> Result<Vec<Allocation>> {
        let allocation = self.take_fefo(points, false)?;
        self.account.redeemed += if kind == EntryKind::Redemption {
            points
        } else {
            Decimal::ZERO
        };
        let lots = allocation.iter().map(|a| (a.lot, -a.points)).collect();
        self.push_entry(
            ctx,
            kind,
            Change {
                amount: -points,
                lots,
                visit,
                reason,
                operator,
                ..Change::default()
            },
        );
        Ok(allocation)
    }

    /// Put spent points back into the lots they came from (refund), recreating lots
    /// that were emptied; points returned to an expired lot burn at once.
    pub fn return_points(
        &mut self,
        ctx: &Ctx,
        allocation: &[Allocation],
        visit: Option<u64>,
    ) -> Result<Decimal> {
        let customer = self.account.customer;
        let mut total = Decimal::ZERO;
        let mut lots = Vec::new();
        for part in allocation {
            if part.points <= Decimal::ZERO {
                continue;
            }
            match self.lots.get_mut(&part.lot) {
                Some(lot) => lot.remaining += part.points,
                None => {
                    self.lots.insert(
                        part.lot,
                        Lot {
                            id: part.lot,
                            source: part.source,
                            created: part.created,
                            amount: part.points,
                            remaining: part.points,
                            held: Decimal::ZERO,
                            expires_on: part.expires_on,
                            pending_until: None,
                            visit: None,
                        },
                    );
                    if let Some(expires_on) = part.expires_on
                        && expires_on >= ctx.today
                    {
                        self.index_puts.push(expiry_key(
                            expires_on + Duration::days(1),
                            customer,
                            part.lot,
                        ));
                    }
                }
            }
            total += part.points;
            lots.push((part.lot, part.points));
        }
        if total.is_zero() {
            return Ok(total);
        }
        self.account.redeemed -= total;
        self.push_entry(
            ctx,
            EntryKind::RedemptionReturn,
            Change {
                amount: total,
                lots,
                visit,
                ..Change::default()
            },
        );
        self.burn_expired(ctx);
        Ok(total)
    }

    /// Points of lot `id` that burned at expiry, over the lot's whole life: the entries
    /// added since loading, then the stored ones newest first back to the entry that
    /// created the lot (lot ids grow with the sequence, so nothing older can touch it).
    /// Points a refund returned to the lot after its date, which burn at once, count too:
    /// the customer kept nothing of them either.
    pub fn burned<R: Reader>(&self, reader: &R, id: u64) -> Result<Decimal> {
        const PAGE: usize = 256;
        let of = |entry: &Entry| -> Decimal {
            if entry.kind != EntryKind::Expiry {
                return Decimal::ZERO;
            }
            entry
                .lots
                .iter()
                .filter(|(lot, _)| *lot == id)
                .map(|(_, points)| -*points)
                .sum()
        };
        let creates = |entry: &Entry| {
            matches!(
                entry.kind,
                EntryKind::Accrual
                    | EntryKind::Welcome
                    | EntryKind::Birthday
                    | EntryKind::Bonus
                    | EntryKind::Adjustment
            ) && entry
                .lots
                .iter()
                .any(|(lot, points)| *lot == id && *points > Decimal::ZERO)
        };
        let mut burned: Decimal = self.entries.iter().map(of).sum();
        if self.entries.iter().any(creates) {
            return Ok(burned);
        }
        let mut before = self.account.seq + 1 - self.entries.len() as u64;
        while before > 1 {
            let page = entries(reader, self.account.customer, Some(before), PAGE)?;
            for entry in &page {
                burned += of(entry);
                if creates(entry) {
                    return Ok(burned);
                }
            }
            match page.last() {
                Some(last) if page.len() == PAGE => before = last.seq,
                _ => break,
            }
        }
        Ok(burned)
    }

    /// Take back earned points (refund): first from the lot the visit created, then
    /// from other spendable lots. Returns what was taken; the rest is a shortfall the
    /// caller settles in money. `kind` names the entry (`AccrualReversal` or
    /// `BonusReversal`).
    pub fn claw_back(
        &mut self,
        ctx: &Ctx,
        kind: EntryKind,
        points: Decimal,
        own_lot: Option<u64>,
        visit: Option<u64>,
    ) -> Result<Decimal> {
        if points <= Decimal::ZERO {
            return Ok(Decimal::ZERO);
        }
        let mut left = points;
        let mut lots = Vec::new();
        let mut pending_change = Decimal::ZERO;
        if let Some(id) = own_lot
            && let Some(lot) = self.lots.get_mut(&id)
        {
            let take = (lot.remaining - lot.held).min(left);
            if take > Decimal::ZERO {
                lot.remaining -= take;
                if lot.pending_until.is_some() {
                    pending_change -= take;
                }
                left -= take;
                lots.push((id, -take));
            }
        }
        // The account's figures are updated when the entry is pushed, so count what the
        // lots can still give after the own-lot step above.
        let spendable: Decimal = self.lots.values().map(Lot::spendable).sum();
        let from_others = left.min(spendable);
        if from_others > Decimal::ZERO {
            for part in self.take_fefo(from_others, false)? {
                lots.push((part.lot, -part.points));
            }
            left -= from_others;
        }
        let taken = points - left;
        if taken > Decimal::ZERO {
            self.account.credited -= taken;
            let change = Change {
                amount: -taken,
                pending: pending_change,
                lots,
                visit,
                ..Change::default()
            };
            debug_assert!(matches!(
                kind,
                EntryKind::AccrualReversal | EntryKind::BonusReversal
            ));
            self.push_entry(ctx, kind, change);
        }
        Ok(taken)
    }
}
