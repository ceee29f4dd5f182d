//! `checkout.refund`: reverse exactly the share of a visit that the refunded lines
//! carry: redeemed points come back, earned and bonus points are taken back (or their
//! value is deducted from the money when already spent), and only points that really
//! burned unused go uncharged.
//!
//! The arguments and the result are declared in [`crate::checkout`], beside the other
//! checkout requests.

use crate::context::Ctx;
use crate::customer::{self, Customer};
use crate::error::{Error, ErrorCode, Result};
use crate::ledger::{Allocation, Book, EntryKind};
use crate::normalize::{self, TEXT_CHARS_MAX};
use crate::plugin::hook as plugin_hook;
use crate::store::{Reader, WriteTxn};
use crate::tier;
use crate::visit::{self, LINES_MAX, Refund, Visit};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Share of `value` for refunding `qty` of `total_qty`, the last refund taking the rest.
fn share(
    value: Decimal,
    already: Decimal,
    qty: Decimal,
    left_qty: Decimal,
    total_qty: Decimal,
    round: impl Fn(Decimal) -> Decimal,
) -> Decimal {
    if qty == left_qty {
        value - already
    } else {
        round(value * qty / total_qty).min(value - already)
    }
}

/// What reversing points earned in lots did.
struct Reversed {
    /// Taken back from the balance.
    taken: Decimal,
    /// Burned unused before the refund: nothing to take, nothing to charge.
    expired: Decimal,
    /// Already spent and not covered by the balance: settled in money.
    shortfall: Decimal,
}

impl Reversed {
    fn zero(scale: u32) -> Reversed {
        let zero = normalize::exact_scale(Decimal::ZERO, scale);
        Reversed {
            taken: zero,
            expired: zero,
            shortfall: zero,
        }
    }
}

/// Reverse `amount` points earned in one lot. Of them, the points of the lot that
/// burned unused and that no earlier refund of the visit excused (`excused_before`) go
/// uncharged; the unused points go first, as before the lot's date a refund takes the
/// lot's own points first. The rest was spent: taken back from the lot, then from the
/// other lots soonest-expiring first, and what the balance cannot cover is shortfall.
#[allow(clippy::too_many_arguments)]
fn reverse_earned<R: Reader>(
    reader: &R,
    book: &mut Book,
    ctx: &Ctx,
    kind: EntryKind,
    lot: Option<u64>,
    amount: Decimal,
    excused_before: Decimal,
    visit: u64,
    out: &mut Reversed,
) -> Result<()> {
    if amount <= Decimal::ZERO {
        return Ok(());
    }
    let burned = match lot {
        // A lot a merge brought may have burned in the merged customer's account first.
        Some(id) => {
            book.burned(reader, id)?
                + crate::merge::burned_before_merge(reader, book.account.customer, id)?
        }
        None => Decimal::ZERO,
    };
    let expired = (burned - excused_before).max(Decimal::ZERO).min(amount);
    let owed = amount - expired;
    let taken = book.claw_back(ctx, kind, owed, lot, Some(visit))?;
    out.expired += expired;
    out.taken += taken;
    out.shortfall += owed - taken;
    Ok(())
}

/// Take back the refund's share of the visit's promotion bonus: the share of the net
/// refunded (the refund that empties the visit takes the rest), walked through the bonus
/// lots in the order the plugins created them, so successive refunds never reverse a
/// point twice. Returns the share and what became of it.
fn reverse_bonus<R: Reader>(
    reader: &R,
    visit: &Visit,
    book: &mut Book,
    ctx: &Ctx,
    net_back: Decimal,
) -> Result<(Decimal, Reversed)> {
    let scale = ctx.program()?.points.scale;
    let mut out = Reversed::zero(scale);
    let total = visit.totals.bonus;
    let already: Decimal = visit.refunds.iter().map(|r| r.bonus_back).sum();
    let left = total - already;
    if left <= Decimal::ZERO {
        return Ok((normalize::exact_scale(Decimal::ZERO, scale), out));
    }
    let net_total: Decimal = visit.lines.iter().map(|l| l.net).sum();
    let back = if visit.fully_refunded() {
        left
    } else if net_total > Decimal::ZERO {
        normalize::points_floor(total * net_back / net_total, scale).min(left)
    } else {
        normalize::exact_scale(Decimal::ZERO, scale)
    };
    // Walk the lots as one sequence: [already, already + back) of the bonus total.
    // Earlier refunds excused expired points lot by lot in the same order.
    let mut excused_left: Decimal = visit.refunds.iter().map(|r| r.bonus_expired).sum();
    let mut start = already;
    let end = already + back;
    let mut offset = Decimal::ZERO;
    for (lot, points, _) in plugin_hook::bonus_lots(&visit.plugins) {
        let lot_end = offset + points;
        let reversed_before = (already.min(lot_end) - offset).max(Decimal::ZERO);
        let excused_before = excused_left.min(reversed_before);
        excused_left -= excused_before;
        let from = start.max(offset);
        let to = end.min(lot_end);
        if to > from {
            let kind = EntryKind::BonusReversal;
            let amount = to - from;
            reverse_earned(
                reader,
                book,
                ctx,
                kind,
                lot,
                amount,
                excused_before,
                visit.id,
                &mut out,
            )?;
            start = to;
        }
        offset = lot_end;
    }
    if start != end {
        return Err(Error::internal(format!(
            "order {} records {total} bonus points but its plugin lots hold {offset}",
            visit.order_id
        )));
    }
    debug_assert_eq!(out.taken + out.expired + out.shortfall, back);
    Ok((back, out))
}

/// Take a refund off the customer's counters: the spend refunded, and the visit itself
/// once nothing of it is left.
fn uncount(customer: &mut Customer, net: Decimal, fully_refunded: bool) {
    customer.total_spend -= net;
    if fully_refunded {
        customer.visits = customer.visits.saturating_sub(1);
    }
}

/// The visit of an order and the quantities to refund of its lines; refused when
/// nothing is left to refund.
fn refundable(
    txn: &WriteTxn<'_>,
    order_id: &str,
    lines: Option<&[RefundLine]>,
) -> Result<(Visit, Vec<(u32, Decimal)>)> {
    let visit_id =
        visit::by_order(txn, order_id)?.ok_or_else(|| Error::not_found("order", order_id))?;
    let visit = visit::load(txn, visit_id)?;
    let requested = requested_lines(&visit, order_id, lines)?;
    if requested.is_empty() {
        return Err(Error::new(
            ErrorCode::RefundExceedsVisit,
            format!("order {order_id} is already fully refunded"),
        )
        .with_details(json!({ "order_id": order_id })));
    }
    Ok((visit, requested))
}

/// The lines and quantities a refund asks for, checked against what is left, in the
/// caller's terms (the order id and the line numbers of the receipt).
fn requested_lines(
    visit: &Visit,
    order_id: &str,
    lines: Option<&[RefundLine]>,
) -> Result<Vec<(u32, Decimal)>> {
    let Some(lines) = lines else {
        return Ok(visit
            .lines
            .iter()
            .filter(|l| l.refunded_qty < l.qty)
            .map(|l| (l.index, l.qty - l.refunded_qty))
            .collect());
    };
    if lines.is_empty() || lines.len() > LINES_MAX {
        return Err(Error::invalid(
            "lines",
            format!("give 1..={LINES_MAX} lines or omit them"),
        ));
    }
    let mut out: Vec<(u32, Decimal)> = Vec::new();
    for (position, item) in lines.iter().enumerate() {
        let field = format!("lines[{position}].line");
        let line = visit.lines.get(item.line as usize).ok_or_else(|| {
            Error::invalid(
                &field,
                format!("order {order_id} has no line {}", item.line),
            )
            .with_details(json!({ "field": field, "order_id": order_id, "line": item.line }))
        })?;
        if out.iter().any(|(index, _)| *index == item.line) {
            return Err(Error::invalid(
                &field,
                format!("line {} is listed twice", item.line),
            ));
        }
        let left = line.qty - line.refunded_qty;
        if left.is_zero() {
            return Err(Error::new(
                ErrorCode::RefundExceedsVisit,
                format!(
                    "line {} of order {order_id} is already fully refunded",
                    item.line
                ),
            )
            .with_details(json!({ "order_id": order_id, "line": item.line, "left": "0" })));
        }
        let qty = item.qty.unwrap_or(left);
        if qty <= Decimal::ZERO || qty.normalize().scale() > 3 {
            return Err(Error::invalid(
                &format!("lines[{position}].qty"),
                format!("qty {qty} of line {} must be positive", item.line),
            ));
        }
        out.push((item.line, qty));
    }
    Ok(out)
}

/// The refund's shares of the visit's figures, summed over the lines.
struct Shares {
    money: Decimal,
    points: Decimal,
    accrual: Decimal,
    net: Decimal,
}

/// Record the refunded quantities on the visit's lines and sum their shares.
fn take_shares(
    visit: &mut Visit,
    order_id: &str,
    requested: &[(u32, Decimal)],
    scale: u32,
) -> Result<Shares> {
    let points_floor = |v| normalize::points_floor(v, scale);
    let mut sum = Shares {
        money: Decimal::ZERO,
        points: Decimal::ZERO,
        accrual: Decimal::ZERO,
        net: Decimal::ZERO,
    };
    for (index, qty) in requested {
        let line = &mut visit.lines[*index as usize];
        let left = line.qty - line.refunded_qty;
        if *qty > left {
            return Err(Error::new(
                ErrorCode::RefundExceedsVisit,
                format!(
                    "line {index} of order {order_id} has {left} left to refund, {qty} requested"
                ),
            )
            .with_details(
                json!({ "order_id": order_id, "line": index, "left": left.to_string() }),
            ));
        }
        let (q, total) = (*qty, line.qty);
        let money = share(
            line.money,
            line.refunded_money,
            q,
            left,
            total,
            normalize::money,
        );
        let points = share(
            line.points,
            line.refunded_points,
            q,
            left,
            total,
            points_floor,
        );
        let accrual = share(
            line.accrual,
            line.refunded_accrual,
            q,
            left,
            total,
            points_floor,
        );
        let net = share(
            line.net,
            line.refunded_net,
            q,
            left,
            total,
            normalize::money,
        );
        line.refunded_qty += q;
        line.refunded_money += money;
        line.refunded_points += points;
        line.refunded_accrual += accrual;
        line.refunded_net += net;
        sum.money += money;
        sum.points += points;
        sum.accrual += accrual;
        sum.net += net;
    }
    Ok(sum)
}

/// The redeemed points a refund gives back: the latest-expiring first, so the customer
/// keeps the longest life.
fn redemption_to_return(visit: &mut Visit, points: Decimal) -> Result<Vec<Allocation>> {
    let mut to_return = Vec::new();
    let mut left = points;
    while left > Decimal::ZERO {
        let Some(mut part) = visit.redemption_left.pop() else {
            return Err(Error::internal(format!(
                "order {} has fewer redeemed points left than its lines say",
                visit.order_id
            )));
        };
        if part.points > left {
            let mut rest: Allocation = part.clone();
            rest.points -= left;
            part.points = left;
            visit.redemption_left.push(rest);
        }
        left -= part.points;
        to_return.push(part);
    }
    Ok(to_return)
}

/// `checkout.refund`: reverse the share of accrual and redemption of the lines refunded.
pub fn refund(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: &RefundArgs) -> Result<RefundResult> {
    let program = ctx.program()?;
    let scale = program.points.scale;
    let order_id = normalize::identifier("order_id", &args.order_id)?;
    let reason = args
        .reason
        .as_deref()
        .map(|r| normalize::optional_text("reason", r, TEXT_CHARS_MAX))
        .transpose()?;
    let (mut visit, requested) = refundable(txn, &order_id, args.lines.as_deref())?;
    let visit_id = visit.id;
    let shares = take_shares(&mut visit, &order_id, &requested, scale)?;
    let mut book = Book::load(txn, visit.customer)?;
    book.settle(ctx)?;
    let to_return = redemption_to_return(&mut visit, shares.points)?;
    let points_returned = book.return_points(ctx, &to_return, Some(visit_id))?;
    let mut accrual = Reversed::zero(scale);
    let excused_before: Decimal = visit.refunds.iter().map(|r| r.accrual_expired).sum();
    reverse_earned(
        txn,
        &mut book,
        ctx,
        EntryKind::AccrualReversal,
        visit.accrual_lot,
        shares.accrual,
        excused_before,
        visit_id,
        &mut accrual,
    )?;
    let (bonus_back, bonus) = reverse_bonus(txn, &visit, &mut book, ctx, shares.net)?;
    let shortfall_points = accrual.shortfall + bonus.shortfall;
    let shortfall_money =
        normalize::money(shortfall_points * program.points.value).min(shares.money);
    let refund = Refund {
        seq: visit.refunds.len() as u32 + 1,
        at: ctx.at,
        lines: requested,
        money: shares.money - shortfall_money,
        points_returned,
        accrual_taken: accrual.taken,
        shortfall_points,
        shortfall_money,
        accrual_expired: accrual.expired,
        bonus_back,
        bonus_taken: bonus.taken,
        bonus_expired: bonus.expired,
        reason,
    };
    visit.refunds.push(refund.clone());
    let mut customer = customer::load(txn, visit.customer)?;
    uncount(&mut customer, shares.net, visit.fully_refunded());
    customer::save(txn, &customer)?;
    visit::save(txn, &visit)?;
    let (tier_before, tier_after) = tier::reevaluate(
        txn,
        program,
        &mut customer,
        ctx.today,
        tier::MoveReason::Refund,
    )?;
    let referral = crate::referral::on_refund(txn, ctx, &visit, &mut book)?;
    let account = book.save(txn)?;
    Ok(RefundResult {
        visit: visit_id,
        order_id,
        refund,
        balance: account.balance,
        available: account.available(),
        tier_before,
        tier_after,
        referral,
    })
}

/// A line to refund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundLine {
    /// Line index in the visit.
    pub line: u32,
    /// Quantity (default: all that is left).
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub qty: Option<Decimal>,
}

/// Arguments of `checkout.refund`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundArgs {
    /// Host's order id of the visit.
    pub order_id: String,
    /// Lines; absent = everything left.
    #[serde(default)]
    pub lines: Option<Vec<RefundLine>>,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a refund did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefundResult {
    /// Visit id.
    pub visit: u64,
    /// Host's order id.
    pub order_id: String,
    /// The refund.
    pub refund: Refund,
    /// Balance after.
    pub balance: Decimal,
    /// Available after.
    pub available: Decimal,
    /// Tier before.
    pub tier_before: Option<String>,
    /// Tier after.
    pub tier_after: Option<String>,
    /// Referral points the refund took back (or could not, when already spent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referral: Vec<crate::referral::Reversal>,
}
