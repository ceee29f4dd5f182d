//! Points operations: balance, statement, manual adjustment, and holds for two-step
//! payment (hold, capture, release).

use crate::context::Ctx;
use crate::customer::{self, CustomerRef};
use crate::error::{Error, Result};
use crate::ledger::{self, Book, Credit, Entry, EntryKind, Hold, HoldStatus};
use crate::normalize::{self, TEXT_CHARS_MAX};
use crate::paging::PageSize;
use crate::store::{Reader, WriteTxn};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Arguments naming only a customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerArgs {
    /// Who.
    pub customer: CustomerRef,
}

/// Points that expire on one date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expiring {
    /// Last day they may be used.
    pub date: NaiveDate,
    /// Points.
    pub points: Decimal,
}

/// `points.balance` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Balance {
    /// Customer id.
    pub customer: u64,
    /// Spendable now.
    pub available: Decimal,
    /// In the return window.
    pub pending: Decimal,
    /// Reserved by holds.
    pub held: Decimal,
    /// Everything on the account.
    pub total: Decimal,
    /// Money value of `available`.
    pub available_money: Decimal,
    /// Next expiries from today on, soonest first (up to [`NEXT_EXPIRIES_MAX`] dates).
    pub next_expiries: Vec<Expiring>,
    /// Pending points by release date.
    pub pending_releases: Vec<Expiring>,
}

/// The balance as of `ctx` (settled in memory, nothing written).
pub fn balance<R: Reader>(reader: &R, ctx: &Ctx, args: &CustomerArgs) -> Result<Balance> {
    let program = ctx.program()?;
    let customer = customer::resolve(reader, ctx, &args.customer)?;
    let mut book = Book::load(reader, customer.id)?;
    book.settle(ctx)?;
    Ok(balance_of(&book, program.points.value, ctx.today))
}

/// Most dates `next_expiries` lists; points expiring later are in `total` only.
pub const NEXT_EXPIRIES_MAX: usize = 5;

/// Summarise a book settled as of `today`. Only dates from `today` on are listed as
/// expiries: a lot past its date still holds points only while a hold reserves them,
/// and those burn when the hold is released or lapses, not on a day to come.
pub fn balance_of(book: &Book, point_value: Decimal, today: NaiveDate) -> Balance {
    let mut next_expiries: Vec<Expiring> = Vec::new();
    let mut pending_releases: Vec<Expiring> = Vec::new();
    for lot in book.lots() {
        if let Some(date) = lot.pending_until {
            match pending_releases.iter_mut().find(|e| e.date == date) {
                Some(e) => e.points += lot.remaining,
                None => pending_releases.push(Expiring {
                    date,
                    points: lot.remaining,
                }),
            }
        }
        if let Some(date) = lot.expires_on
            && date >= today
            && lot.remaining > Decimal::ZERO
        {
            match next_expiries.iter_mut().find(|e| e.date == date) {
                Some(e) => e.points += lot.remaining,
                None => next_expiries.push(Expiring {
                    date,
                    points: lot.remaining,
                }),
            }
        }
    }
    next_expiries.sort_by_key(|e| e.date);
    next_expiries.truncate(NEXT_EXPIRIES_MAX);
    pending_releases.sort_by_key(|e| e.date);
    let account = &book.account;
    Balance {
        customer: account.customer,
        available: account.available(),
        pending: account.pending,
        held: account.held,
        total: account.balance,
        available_money: normalize::money(account.available() * point_value),
        next_expiries,
        pending_releases,
    }
}

/// Arguments of `points.statement`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementArgs {
    /// Who.
    pub customer: CustomerRef,
    /// Entries with a sequence below this (paging backwards).
    #[serde(default)]
    pub before: Option<u64>,
    /// Page size (1..=500, default 50).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// `points.statement` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Statement {
    /// Customer id.
    pub customer: u64,
    /// Entries, newest first.
    pub entries: Vec<Entry>,
    /// Cursor for the next (older) page.
    pub next_before: Option<u64>,
    /// Balance now (as stored).
    pub balance: Decimal,
}

/// Pages of `points.statement`.
pub const STATEMENT_PAGE: PageSize = PageSize::new(50, 500);

/// Paged statement, newest first.
pub fn statement<R: Reader>(reader: &R, ctx: &Ctx, args: &StatementArgs) -> Result<Statement> {
    let limit = STATEMENT_PAGE.of(args.limit)?;
    let customer = customer::resolve(reader, ctx, &args.customer)?;
    let entries = ledger::entries(reader, customer.id, args.before, limit)?;
    let next_before = if entries.len() == limit {
        entries.last().map(|e| e.seq).filter(|s| *s > 1)
    } else {
        None
    };
    let account = ledger::load_account(reader, customer.id)?;
    Ok(Statement {
        customer: customer.id,
        entries,
        next_before,
        balance: account.balance,
    })
}

/// Arguments of `points.adjust`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustArgs {
    /// Who.
    pub customer: CustomerRef,
    /// Signed points: positive credits a lot, negative spends soonest-expiring first.
    #[serde(deserialize_with = "crate::amount::decimal")]
    pub points: Decimal,
    /// Why (required).
    pub reason: String,
    /// Who did it (required).
    pub operator: String,
    /// Days the credited points live (default: the programme's expiry).
    #[serde(default)]
    pub expiry_days: Option<u32>,
}

/// Result of a points change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointsChange {
    /// Entries written.
    pub entries: Vec<Entry>,
    /// Balance after.
    pub balance: Balance,
}

/// Manual correction with reason and operator.
pub fn adjust(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: &AdjustArgs) -> Result<PointsChange> {
    let program = ctx.program()?;
    let reason = normalize::text("reason", &args.reason, TEXT_CHARS_MAX)?;
    let operator = normalize::text("operator", &args.operator, 64)?;
    let magnitude = ledger::check_points("points", args.points.abs(), program.points.scale)?;
    let customer = customer::resolve(txn, ctx, &args.customer)?;
    let mut book = Book::load(txn, customer.id)?;
    book.settle(ctx)?;
    if args.points > Decimal::ZERO {
        let expires_on = match args.expiry_days {
            Some(0) => return Err(Error::invalid("expiry_days", "must be at least 1")),
            Some(days) if days > 3660 => {
                return Err(Error::invalid("expiry_days", "must be at most 3660"));
            }
            Some(days) => Some(ctx.today + Duration::days(i64::from(days))),
            None => program.expiry_date(ctx.today),
        };
        book.credit(
            ctx,
            Credit::new(EntryKind::Adjustment, magnitude)
                .expiring(expires_on)
                .because(reason)
                .by(operator),
        )?;
    } else {
        if args.expiry_days.is_some() {
            return Err(Error::invalid("expiry_days", "only a credit has an expiry"));
        }
        book.debit(
            ctx,
            EntryKind::Adjustment,
            magnitude,
            None,
            Some(reason),
            Some(operator),
        )?;
    }
    finish(txn, book, program.points.value, ctx.today)
}

fn finish(
    txn: &mut WriteTxn<'_>,
    book: Book,
    point_value: Decimal,
    today: NaiveDate,
) -> Result<PointsChange> {
    let entries = book.new_entries().to_vec();
    let balance = balance_of(&book, point_value, today);
    book.save(txn)?;
    Ok(PointsChange { entries, balance })
}

/// Arguments of `points.hold`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldArgs {
    /// Who.
    pub customer: CustomerRef,
    /// Points to reserve.
    #[serde(deserialize_with = "crate::amount::decimal")]
    pub points: Decimal,
    /// Host's reference (order).
    #[serde(default)]
    pub reference: Option<String>,
    /// Minutes until it lapses (default: the programme's).
    #[serde(default)]
    pub ttl_minutes: Option<u32>,
}

/// Result of a hold operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldResult {
    /// The hold.
    pub hold: Hold,
    /// Balance after.
    pub balance: Balance,
}

/// Reserve points.
pub fn hold(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: &HoldArgs) -> Result<HoldResult> {
    let program = ctx.program()?;
    let points = ledger::check_points("points", args.points, program.points.scale)?;
    let ttl = args.ttl_minutes.unwrap_or(program.hold_ttl_minutes);
    if !(1..=10_080).contains(&ttl) {
        return Err(Error::invalid("ttl_minutes", "must be 1..=10080"));
    }
    let reference = args
        .reference
        .as_deref()
        .map(|r| normalize::identifier("reference", r))
        .transpose()?;
    let customer = customer::resolve_active(txn, ctx, &args.customer)?;
    let mut book = Book::load(txn, customer.id)?;
    book.settle(ctx)?;
    let hold = book.hold(txn, ctx, points, ttl, reference)?;
    let balance = balance_of(&book, program.points.value, ctx.today);
    book.save(txn)?;
    Ok(HoldResult { hold, balance })
}

/// Arguments of `points.capture`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureArgs {
    /// Hold id.
    pub hold: u64,
    /// Points to capture (default: all); the rest is released.
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub points: Option<Decimal>,
}

/// Arguments of `points.release`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseArgs {
    /// Hold id.
    pub hold: u64,
}

fn resolve(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    id: u64,
    capture: Option<Decimal>,
    status: HoldStatus,
) -> Result<HoldResult> {
    let program = ctx.program()?;
    let stored = ledger::load_hold(txn, id)?;
    let mut book = Book::load(txn, stored.customer)?;
    // Settle first: a hold past its time lapses and can no longer be captured.
    book.settle(ctx)?;
    let capture = match capture {
        Some(points) if points.is_zero() => Decimal::ZERO,
        Some(points) => ledger::check_points("points", points, program.points.scale)?,
        None if status == HoldStatus::Captured => stored.points,
        None => Decimal::ZERO,
    };
    let hold = match book.resolve_hold(ctx, id, capture, status) {
        Ok(hold) => hold,
        Err(err) if err.code == crate::ErrorCode::HoldNotActive => {
            let current = ledger::load_hold(txn, id)?;
            let lapsed = book.holds().all(|h| h.id != id) && current.status == HoldStatus::Active;
            let status = if lapsed {
                HoldStatus::Expired
            } else {
                current.status
            };
            return Err(Error::new(
                crate::ErrorCode::HoldNotActive,
                format!("hold {id} is {status:?}").to_lowercase(),
            )
            .with_details(serde_json::json!({ "hold": id, "status": status })));
        }
        Err(err) => return Err(err),
    };
    let balance = balance_of(&book, program.points.value, ctx.today);
    book.save(txn)?;
    Ok(HoldResult { hold, balance })
}

/// Capture a hold (fully or partly) as payment.
pub fn capture(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: &CaptureArgs) -> Result<HoldResult> {
    resolve(txn, ctx, args.hold, args.points, HoldStatus::Captured)
}

/// Release a hold without payment.
pub fn release(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: &ReleaseArgs) -> Result<HoldResult> {
    resolve(
        txn,
        ctx,
        args.hold,
        Some(Decimal::ZERO),
        HoldStatus::Released,
    )
}
