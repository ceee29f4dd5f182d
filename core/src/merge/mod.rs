//! Duplicate customers and their merge: `customer.duplicates` proposes pairs that look
//! like one person (see [`duplicates`]), `customer.distinct` dismisses a pair, and
//! `customer.merge` moves everything of one customer to another in one atomic batch,
//! leaving a redirect so the merged customer's id, cards and identifiers still lead to
//! the kept one.

mod combine;
pub mod duplicates;
mod moves;

use crate::audit::{Change, Entity};
use crate::context::Ctx;
use crate::customer::{self, Customer, CustomerRef, Redirect};
use crate::error::{Error, Result};
use crate::ledger::{self, Book, MovedPoints};
use crate::referral::{self, ReferralsMoved};
use crate::store::keys::{tag, unique};
use crate::store::{Reader, WriteTxn};
use crate::tier::{self, MoveReason};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use duplicates::{Candidate, DuplicatesArgs, DuplicatesPage, Reason, duplicates};

/// Arguments of `customer.merge`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeArgs {
    /// The customer who stays.
    pub keep: CustomerRef,
    /// The customer merged into `keep`; by id, a repeated merge returns the first result.
    pub merge: CustomerRef,
    /// Only say what would move; nothing is written.
    #[serde(default)]
    pub dry_run: bool,
}

/// Records a merge moved (or, with `dry_run`, would move), by kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Moved {
    /// Cards (they stay valid, for the kept customer).
    pub cards: usize,
    /// Vehicles.
    pub vehicles: usize,
    /// Visits.
    pub visits: usize,
    /// Consent history events.
    pub consent_events: usize,
    /// Campaign notifications.
    pub notifications: usize,
    /// Recommendations (defect sheet).
    pub recommendations: usize,
    /// Tyre sets in storage.
    pub tyre_storage: usize,
    /// Special orders.
    pub special_orders: usize,
    /// Feedback.
    pub feedback: usize,
    /// Reminder outcomes (points expiring, birthday).
    pub reminder_marks: usize,
    /// Birthday bonus years (a year both got stays once).
    pub birthday_grants: usize,
}

/// What a merge did (or, with `dry_run`, would do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MergeResult {
    /// The customer who stays.
    pub keep: u64,
    /// The merged customer's id (it now leads to `keep`).
    pub merged: u64,
    /// Nothing was written.
    pub dry_run: bool,
    /// The merged customer's fields the kept one took because it had none
    /// (`phone`, `email`, `birthday`, ...).
    pub adopted: Vec<String>,
    /// Records moved, by kind.
    #[serde(flatten)]
    pub moved: Moved,
    /// Points moved with their lots (expiry dates kept).
    pub points: MovedPoints,
    /// Referrals.
    pub referrals: ReferralsMoved,
    /// The kept customer's tier before and after (re-evaluated on the combined history).
    pub tier_before: Option<String>,
    /// After.
    pub tier_after: Option<String>,
    /// The kept customer as the merge leaves them (with `dry_run`: as now).
    pub customer: Customer,
}

/// The two customers of a merge: `keep` after its own redirects, `merge` as named.
fn pair<R: Reader>(reader: &R, ctx: &Ctx, args: &MergeArgs) -> Result<(Customer, Customer)> {
    let keep = customer::resolve(reader, ctx, &args.keep)?;
    let gone = customer::resolve(reader, ctx, &args.merge)?;
    if keep.id == gone.id {
        return Err(Error::invalid(
            "merge",
            format!(
                "names customer {}, the same customer as keep (merged already?)",
                gone.id
            ),
        ));
    }
    Ok((keep, gone))
}

/// A merge named by id that already happened: its first result.
fn earlier<R: Reader>(reader: &R, ctx: &Ctx, args: &MergeArgs) -> Result<Option<MergeResult>> {
    let Some(id) = args.merge.id else {
        return Ok(None);
    };
    let Some(redirect) = customer::redirect_of(reader, id)? else {
        return Ok(None);
    };
    let keep = customer::resolve(reader, ctx, &args.keep)?;
    if customer::follow(reader, redirect.into)? != keep.id {
        return Err(Error::invalid(
            "merge",
            format!(
                "customer {id} was merged into customer {} already, not into {}",
                redirect.into, keep.id
            ),
        ));
    }
    let first: MergeResult = serde_json::from_str(&redirect.result)
        .map_err(|err| Error::corrupted(format!("merge record of customer {id}: {err}")))?;
    Ok(Some(first))
}

/// `customer.merge` with `dry_run`: what would move, read only.
pub fn preview<R: Reader>(reader: &R, ctx: &Ctx, args: MergeArgs) -> Result<MergeResult> {
    if let Some(first) = earlier(reader, ctx, &args)? {
        return Ok(first);
    }
    let (keep, gone) = pair(reader, ctx, &args)?;
    ledger::refuse_active_holds(&Book::load(reader, keep.id)?, &Book::load(reader, gone.id)?)?;
    let (_, adopted) = combine::customers(&keep, &gone, ctx.at);
    let count = |table: u8, what: &str| -> Result<usize> {
        Ok(moves::keys_of(reader, table, gone.id, what)?.len())
    };
    let account = ledger::load_account(reader, gone.id)?;
    Ok(MergeResult {
        keep: keep.id,
        merged: gone.id,
        dry_run: true,
        adopted,
        moved: Moved {
            cards: count(tag::CUSTOMER_CARD, "cards")?,
            vehicles: count(tag::CUSTOMER_VEHICLE, "vehicles")?,
            visits: count(tag::CUSTOMER_VISIT, "visits")?,
            consent_events: count(tag::CONSENT_HISTORY, "consent history")?,
            notifications: count(tag::CUSTOMER_CAMPAIGN, "campaign notifications")?,
            recommendations: count(tag::CUSTOMER_RECOMMENDATION, "recommendations")?,
            tyre_storage: count(tag::CUSTOMER_TYRE_STORAGE, "tyre storage")?,
            special_orders: count(tag::CUSTOMER_SPECIAL_ORDER, "special orders")?,
            feedback: count(tag::CUSTOMER_FEEDBACK, "feedback")?,
            reminder_marks: 0,
            birthday_grants: count(tag::BIRTHDAY_GRANT, "birthday grants")?,
        },
        points: MovedPoints {
            points: account.balance,
            pending: account.pending,
            ..MovedPoints::default()
        },
        referrals: ReferralsMoved {
            referees: referral::referees(reader, gone.id, moves::MOVE_MAX)?.len(),
            ..ReferralsMoved::default()
        },
        tier_before: keep.tier.clone(),
        tier_after: None,
        customer: keep,
    })
}

/// `customer.merge`: move everything of `merge` to `keep` in this batch.
pub fn merge(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: MergeArgs) -> Result<MergeResult> {
    if args.dry_run {
        return preview(txn, ctx, args);
    }
    if let Some(first) = earlier(txn, ctx, &args)? {
        return Ok(first);
    }
    let program = ctx.program()?;
    let (keep, gone) = pair(txn, ctx, &args)?;
    let (from, to) = (gone.id, keep.id);
    let points = ledger::merge_accounts(txn, ctx, to, from)?;
    let lot_offset = points.lot_offset;
    let moved = moves::all(txn, from, to, points.lot_offset)?;
    let gone_code = referral::load(txn, from)?.code;
    let referrals = referral::merge_referrals(txn, to, from, points.lot_offset)?;
    let (mut combined, adopted) = combine::customers(&keep, &gone, ctx.at);
    // The merged customer's unique values lead to the kept customer from now on.
    let mut aliases = Vec::new();
    for (kind, value) in [
        (unique::PHONE, &gone.phone),
        (unique::EMAIL, &gone.email),
        (unique::EXTERNAL_ID, &gone.external_id),
    ] {
        if let Some(value) = value {
            customer::repoint_unique(txn, kind, value, to)?;
            aliases.push((kind, value.clone()));
        }
    }
    aliases.extend(gone_code.map(|code| (unique::REFERRAL_CODE, code)));
    customer::record_consents(txn, to, &keep.consents, &combined.consents, Some("merge"))?;
    customer::remove_merged(txn, &gone);
    customer::save_indexed(txn, &keep, &combined)?;
    record_merge(txn, &keep, &combined, from)?;
    let (_, tier_after) =
        tier::reevaluate(txn, program, &mut combined, ctx.today, MoveReason::Review)?;
    let result = MergeResult {
        keep: to,
        merged: from,
        dry_run: false,
        adopted,
        moved,
        points,
        referrals,
        tier_before: keep.tier.clone(),
        tier_after,
        customer: combined,
    };
    let text = serde_json::to_string(&result)
        .map_err(|err| Error::internal(format!("cannot encode a merge result: {err}")))?;
    customer::put_redirect(
        txn,
        &Redirect {
            merged: from,
            into: to,
            at: ctx.at,
            result: text,
            aliases,
            lot_offset,
        },
    )?;
    Ok(result)
}

/// The audit log's view of a merge: the kept customer's card as it changed (fields it
/// adopted, consents), and on both customers which one went into which. Points moved
/// are recorded by the ledger itself, one balance change per entry.
fn record_merge(
    txn: &mut WriteTxn<'_>,
    keep: &Customer,
    combined: &Customer,
    merged: u64,
) -> Result<()> {
    customer::record_changes(txn, Some(keep), combined)?;
    let (into, from) = (keep.id.to_string(), merged.to_string());
    txn.record(
        Change::new(Entity::Customer, merged, "merged_into", None, Some(into)).of_customer(merged),
    );
    txn.record(
        Change::new(Entity::Customer, keep.id, "merged_from", None, Some(from))
            .of_customer(keep.id),
    );
    Ok(())
}

/// Points of `lot` (a lot of `customer`'s account) that burned before a merge brought
/// the lot into the account: the merged customer's ledger keeps that history under the
/// lot's old id (and so on back through merges into the merged customer). Zero for a
/// lot the customer's own account created.
pub fn burned_before_merge<R: Reader>(reader: &R, customer: u64, lot: u64) -> Result<Decimal> {
    let mut burned = Decimal::ZERO;
    let (mut customer, mut lot) = (customer, lot);
    for _ in 0..customer::REDIRECT_HOPS_MAX {
        // Merges add their accounts' lots above the lots the account had: the latest
        // merge whose offset the lot reaches is the one that may have brought it.
        let Some(source) = customer::merged_into(reader, customer)?
            .into_iter()
            .filter(|redirect| redirect.lot_offset <= lot)
            .max_by_key(|redirect| redirect.lot_offset)
        else {
            return Ok(burned);
        };
        let old = lot - source.lot_offset;
        let book = Book::load(reader, source.merged)?;
        if old >= book.account.next_lot {
            // A lot created after the merge, in the account itself.
            return Ok(burned);
        }
        burned += book.burned(reader, old)?;
        (customer, lot) = (source.merged, old);
    }
    Err(Error::corrupted(format!(
        "lot {lot} of customer {customer}: more than {} merges to follow",
        customer::REDIRECT_HOPS_MAX
    )))
}

/// Arguments of `customer.distinct`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistinctArgs {
    /// One customer.
    pub a: CustomerRef,
    /// The other.
    pub b: CustomerRef,
    /// `false` takes the mark back (the pair may be proposed again).
    #[serde(default = "yes")]
    pub distinct: bool,
}

fn yes() -> bool {
    true
}

/// What `customer.distinct` recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Distinct {
    /// The lower id.
    pub a: u64,
    /// The higher id.
    pub b: u64,
    /// Whether the pair is now marked as two different people.
    pub distinct: bool,
}

/// `customer.distinct`: a shop says two customers are different people, so
/// `customer.duplicates` stops proposing them.
pub fn distinct(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: DistinctArgs) -> Result<Distinct> {
    let a = customer::resolve(txn, ctx, &args.a)?.id;
    let b = customer::resolve(txn, ctx, &args.b)?.id;
    if a == b {
        return Err(Error::invalid(
            "b",
            format!("names customer {a}, the same as a"),
        ));
    }
    customer::set_distinct(txn, a, b, args.distinct)?;
    Ok(Distinct {
        a: a.min(b),
        b: a.max(b),
        distinct: args.distinct,
    })
}
