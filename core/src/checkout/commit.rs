//! Committing a priced basket: the visit, the ledger entries, the tier, referral
//! rewards, reminders and plugin effects, in one atomic batch.

use super::*;
use crate::context::{Ctx, next_id};
use crate::customer;
use crate::error::{Error, ErrorCode, Result};
use crate::ledger::{Book, Credit, EntryKind};
use crate::normalize;
use crate::plugin::hook::{self as plugin_hook, Plugins};
use crate::store::WriteTxn;
use crate::tier;
use crate::vehicle;
use crate::visit::{self, Visit};
use chrono::Duration;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The receipt of a committed visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Receipt {
    /// Visit id.
    pub visit: u64,
    /// Host's order id.
    pub order_id: String,
    /// Priced basket.
    #[serde(flatten)]
    pub priced: Priced,
    /// Balance after.
    pub balance: Decimal,
    /// Available after.
    pub available: Decimal,
    /// Pending after.
    pub pending: Decimal,
    /// Tier before and after.
    pub tier_before: Option<String>,
    /// Tier after the visit.
    pub tier_after: Option<String>,
    /// Referral points this visit paid (signup rewards, cashback to referrers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referral: Vec<crate::referral::Grant>,
}

/// The order's key and the customer (when given by id) are a checkout's first reads:
/// asked for together, they are one round trip on a shared store.
fn read_ahead(txn: &WriteTxn<'_>, args: &CheckoutArgs) -> Result<()> {
    let mut keys = Vec::new();
    if let Some(order_id) = args.order_id.as_deref()
        && let Ok(order_id) = normalize::identifier("order_id", order_id)
    {
        keys.push(visit::order_key(&order_id));
    }
    if let Some(id) = args.customer.id {
        keys.push(customer::customer_key(id));
    }
    txn.read_ahead(&keys)
}

/// The host's order id of a new visit: given, and not recorded yet.
fn new_order(txn: &WriteTxn<'_>, order_id: Option<&str>) -> Result<String> {
    let Some(order_id) = order_id else {
        return Err(Error::invalid(
            "order_id",
            "commit needs the host's order id",
        ));
    };
    let order_id = normalize::identifier("order_id", order_id)?;
    if let Some(existing) = visit::by_order(txn, &order_id)? {
        return Err(Error::new(
            ErrorCode::AlreadyExists,
            format!("order {order_id} is already recorded"),
        )
        .with_details(json!({ "field": "order_id", "value": order_id, "visit": existing })));
    }
    Ok(order_id)
}

/// Pay with points: debit what the priced basket redeems, first to expire first; the
/// lots it took.
fn redeem(
    ctx: &Ctx,
    book: &mut Book,
    points: Decimal,
    visit_id: u64,
) -> Result<Vec<crate::ledger::Allocation>> {
    if points <= Decimal::ZERO {
        return Ok(Vec::new());
    }
    book.debit(
        ctx,
        EntryKind::Redemption,
        points,
        Some(visit_id),
        None,
        None,
    )
}

/// The car's mileage as read at this visit.
fn record_reading(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    vehicle: &crate::vehicle::Vehicle,
    km: u32,
    visit_id: u64,
) -> Result<()> {
    let mut vehicle = vehicle.clone();
    vehicle::record_mileage(txn, ctx, &mut vehicle, km, Some(visit_id), false)?;
    vehicle::save(txn, &vehicle)
}

/// Credit the visit's accrual, burning on `expires_on` (the date the visit records) and
/// pending for the programme's pending days; the lot, if any.
fn accrue(
    ctx: &Ctx,
    book: &mut Book,
    (accrual, expires_on): (Decimal, Option<chrono::NaiveDate>),
    visit_id: u64,
) -> Result<Option<u64>> {
    if accrual <= Decimal::ZERO {
        return Ok(None);
    }
    let program = ctx.program()?;
    let pending_until = (program.pending_days > 0)
        .then(|| ctx.today + Duration::days(i64::from(program.pending_days)));
    let lot = book.credit(
        ctx,
        Credit::new(EntryKind::Accrual, accrual)
            .expiring(expires_on)
            .pending_until(pending_until)
            .for_visit(visit_id),
    )?;
    Ok(Some(lot))
}

/// Write the visit with the tier it leaves the customer in (re-evaluated now, reviewed
/// again when the visit leaves the window); the tier before and after.
fn record_visit(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    customer: &mut crate::customer::Customer,
    visit: &mut Visit,
) -> Result<(Option<String>, Option<String>)> {
    let program = ctx.program()?;
    visit::save_new(txn, visit)?;
    let (tier_before, tier_after) =
        tier::reevaluate(txn, program, customer, ctx.today, tier::MoveReason::Visit)?;
    tier::schedule_review(txn, program, customer.id, ctx.today)?;
    visit.tier_after = tier_after.clone();
    visit::save_record(txn, visit)?;
    Ok((tier_before, tier_after))
}

/// Count a visit on its customer: spend, visits, first and last dates.
fn count_visit(customer: &mut crate::customer::Customer, net: Decimal, today: chrono::NaiveDate) {
    customer.total_spend += net;
    customer.visits += 1;
    customer.first_visit = Some(customer.first_visit.map_or(today, |d| d.min(today)));
    customer.last_visit = Some(customer.last_visit.map_or(today, |d| d.max(today)));
}

/// Plugin outcomes as the visit keeps them: the effects, without the log lines (those go
/// back to the caller in the receipt).
fn without_logs(outcomes: &[crate::plugin::PluginOutcome]) -> Vec<crate::plugin::PluginOutcome> {
    outcomes
        .iter()
        .cloned()
        .map(|mut outcome| {
            outcome.log.clear();
            outcome
        })
        .collect()
}

/// `checkout.commit`: price and record the visit atomically.
pub fn commit(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    plugins: &Plugins<'_>,
    args: &CheckoutArgs,
) -> Result<Receipt> {
    let program = ctx.program()?;
    read_ahead(txn, args)?;
    let order_id = new_order(txn, args.order_id.as_deref())?;
    let request = load_request(txn, ctx, args)?;
    let mut book = Book::load(txn, request.customer.id)?;
    book.settle(ctx)?;
    let (mut priced, _) = price(txn, ctx, plugins, &request, &book)?;
    let visit_id = next_id(txn, "next_visit")?;
    let redemption = redeem(ctx, &mut book, priced.totals.points, visit_id)?;
    let accrual_expires_on = program.expiry_date(ctx.today);
    let accrual_lot = accrue(
        ctx,
        &mut book,
        (priced.totals.accrual, accrual_expires_on),
        visit_id,
    )?;
    let mut customer = request.customer.clone();
    let bonus_lot = plugin_hook::commit_effects(
        ctx,
        &mut customer,
        &mut book,
        Some(visit_id),
        &mut priced.plugins,
    )?;
    count_visit(&mut customer, priced.totals.net, ctx.today);
    customer::save(txn, &customer)?;
    customer::record_tags(txn, customer.id, &request.customer.tags, &customer.tags);
    let vehicle_id = request.vehicle.as_ref().map(|v| v.id);
    if let (Some(vehicle), Some(km)) = (&request.vehicle, args.mileage) {
        record_reading(txn, ctx, vehicle, km, visit_id)?;
    }
    let mut visit = Visit {
        id: visit_id,
        customer: customer.id,
        vehicle: vehicle_id,
        order_id: order_id.clone(),
        at: ctx.at,
        date: ctx.today,
        branch: crate::visit::branch_of(args.branch.as_deref(), ctx),
        advisor: args.advisor.as_ref().map(|a| a.trim().to_string()),
        mileage: args.mileage,
        program_version: program.version,
        lines: priced.lines.clone(),
        totals: priced.totals.clone(),
        redemption_left: redemption,
        accrual_lot,
        accrual_expires_on: accrual_lot.and(accrual_expires_on),
        bonus_lot,
        tier_before: customer.tier.clone(),
        tier_after: None,
        refunds: Vec::new(),
        // Log lines go back to the caller in the receipt; the visit keeps the effects.
        plugins: without_logs(&priced.plugins),
    };
    let (tier_before, tier_after) = record_visit(txn, ctx, &mut customer, &mut visit)?;
    let referral = crate::referral::on_commit(txn, ctx, &customer, &visit, &mut book)?;
    crate::reminder::on_visit(txn, program, &visit)?;
    let account = book.save(txn)?;
    Ok(Receipt {
        visit: visit_id,
        order_id,
        priced,
        balance: account.balance,
        available: account.available(),
        pending: account.pending,
        tier_before,
        tier_after,
        referral,
    })
}
