//! Pricing a basket: line discounts, the plugins' effects, redemption and accrual,
//! spread over the lines in whole units of money and points so every total adds up.

use super::*;
use crate::amount::split_largest_remainder;
use crate::context::Ctx;
use crate::customer::Customer;
use crate::error::{Error, ErrorCode, Result};
use crate::ledger::Book;
use crate::normalize;
use crate::plugin::PluginOutcome;
use crate::plugin::hook::{self as plugin_hook, Plugins};
use crate::program::{Agreement, DiscountCombination, LineKind, Program};
use crate::store::Reader;
use crate::tier::{self, WindowStats};
use crate::visit::{Totals, VisitLine};
use crate::wording::{Language, Message};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What redemption was possible and what was applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedemptionInfo {
    /// Points available before the visit.
    pub available: Decimal,
    /// Most points this basket may take.
    pub max: Decimal,
    /// Points applied.
    pub applied: Decimal,
    /// Why `max` is lower than available, if it is.
    pub limited_by: Option<String>,
}

/// A priced basket: the quote, and the body of the receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Priced {
    /// Customer id.
    pub customer: u64,
    /// Customer name.
    pub customer_name: String,
    /// Tier the basket was priced at.
    pub tier: Option<String>,
    /// Lines.
    pub lines: Vec<VisitLine>,
    /// Totals.
    pub totals: Totals,
    /// Redemption.
    pub redemption: RedemptionInfo,
    /// Why nothing (or less) is earned, if so.
    pub accrual_note: Option<String>,
    /// Messages.
    pub messages: Vec<Message>,
    /// Programme version.
    pub program_version: u32,
    /// What each checkout plugin did, in calling order (see `plugins/ABI.md`).
    #[serde(default)]
    pub plugins: Vec<PluginOutcome>,
    /// The customer's tier grants priority service (book them first).
    #[serde(default)]
    pub priority_service: bool,
}

pub(super) fn line_discount(
    program: &Program,
    customer: &Customer,
    agreement: Option<&str>,
    line: &LineInput,
) -> (Decimal, Option<String>) {
    let rules = &program.discounts;
    let host_discounted = line.discount.is_some_and(|d| d > Decimal::ZERO);
    if (line.promo && !rules.on_promo_lines) || (host_discounted && !rules.on_discounted_lines) {
        return (Decimal::ZERO, None);
    }
    let mut candidates: Vec<(Decimal, &str)> = Vec::new();
    if let Some(tier) = customer.tier.as_deref().and_then(|code| program.tier(code)) {
        let percent = tier
            .discount_by_kind
            .get(line.kind)
            .unwrap_or(tier.discount_percent);
        candidates.push((percent, "tier"));
    }
    if let Some(agreement) = agreement.and_then(|code| program.agreement(code))
        && let Some(percent) = agreement.discount_by_kind.get(line.kind)
    {
        candidates.push((percent, "agreement"));
    }
    if let Some(step) = rules
        .cumulative
        .iter()
        .rev()
        .find(|s| customer.total_spend >= s.min_total_spend)
    {
        candidates.push((step.percent, "cumulative"));
    }
    if customer.vip
        && let Some(vip) = &rules.vip
    {
        candidates.push((vip.discount_percent, "vip"));
    }
    candidates.retain(|(percent, _)| *percent > Decimal::ZERO);
    let (percent, source) = match rules.combination {
        DiscountCombination::Best => match candidates.iter().max_by_key(|(p, _)| *p) {
            Some((p, s)) => (*p, Some(s.to_string())),
            None => (Decimal::ZERO, None),
        },
        DiscountCombination::Sum => {
            let total: Decimal = candidates.iter().map(|(p, _)| *p).sum();
            let sources: Vec<&str> = candidates.iter().map(|(_, s)| *s).collect();
            (
                total,
                if sources.is_empty() {
                    None
                } else {
                    Some(sources.join("+"))
                },
            )
        }
    };
    (percent.min(rules.max_percent), source)
}

pub(super) fn accrual_rate(program: &Program, customer: &Customer, kind: LineKind) -> Decimal {
    let tier = customer.tier.as_deref().and_then(|code| program.tier(code));
    tier.and_then(|t| t.rate_by_kind.get(kind).or(t.rate_percent))
        .or_else(|| program.accrual.rate_by_kind.get(kind))
        .unwrap_or(program.accrual.rate_percent)
}

pub(super) fn to_units(value: Decimal, unit: Decimal) -> i64 {
    let units = (value / unit).floor();
    i64::try_from(units.mantissa() / 10i128.pow(units.scale())).unwrap_or(i64::MAX)
}

/// A priced basket's totals: the sums of its lines, the net before redemption, the
/// points applied and the plugins' bonus.
fn totals_of(lines: &[VisitLine], net: Decimal, points: Decimal, bonus: Decimal) -> Totals {
    Totals {
        gross: lines.iter().map(|l| l.gross).sum(),
        host_discount: lines.iter().map(|l| l.host_discount).sum(),
        discount: lines.iter().map(|l| l.discount).sum(),
        net,
        points,
        points_money: lines.iter().map(|l| l.points_money).sum(),
        money: lines.iter().map(|l| l.money).sum(),
        accrual: lines.iter().map(|l| l.accrual).sum(),
        bonus,
    }
}

/// Price a basket. Pure: reads the customer's state, writes nothing.
pub(super) fn price<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    plugins: &Plugins<'_>,
    request: &Request,
    book: &Book,
) -> Result<(Priced, WindowStats)> {
    let program = ctx.program()?;
    let customer = &request.customer;
    check_exclusive(program, customer, &request.who, &request.lines)?;
    let agreement = agreement_code(reader, customer)?;
    let agreement_rules = agreement
        .as_deref()
        .and_then(|code| program.agreement(code));
    let mut lines = discounted_lines(program, customer, agreement.as_deref(), request);
    // Promotion plugins: after the programme's discounts, before redemption and accrual.
    let facts = plugin_hook::CheckoutFacts {
        customer,
        vehicle: request.vehicle.as_ref(),
        mileage: request.mileage,
        book,
    };
    let plugin_effects = plugin_hook::checkout(plugins, reader, ctx, program, &facts, &mut lines)?;
    let net_total: Decimal = lines.iter().map(|l| l.net).sum();

    let redemption = redeem(program, request, book, agreement_rules, &mut lines)?;
    let applied = redemption.applied;
    let accrual_note = accrue(
        program,
        customer,
        agreement_rules,
        &plugin_effects.accrual,
        applied,
        &mut lines,
    );
    let bonus = normalize::exact_scale(plugin_effects.bonus, program.points.scale);
    let totals = totals_of(&lines, net_total, applied, bonus);
    assert_totals(&lines, &totals)?;
    let stats = tier::window_stats(reader, program, customer.id, ctx.today)?;
    let mut messages = messages(program, ctx, customer, book, &stats);
    messages.extend(crate::recommendation::cashier_messages(
        reader,
        customer.id,
        request.vehicle.as_ref().map(|v| v.id),
        Language::of_tag(&program.locale),
    )?);
    messages.extend(plugin_effects.messages);
    Ok((
        Priced {
            customer: customer.id,
            customer_name: customer.full_name.clone(),
            tier: customer.tier.clone(),
            lines,
            totals,
            redemption,
            accrual_note,
            messages,
            program_version: program.version,
            plugins: plugin_effects.outcomes,
            priority_service: customer
                .tier
                .as_deref()
                .and_then(|code| program.tier(code))
                .is_some_and(|t| t.benefits.iter().any(|b| b == PRIORITY_SERVICE)),
        },
        stats,
    ))
}

/// The basket's lines with the host's and the programme's discounts; nothing redeemed
/// or earned yet.
fn discounted_lines(
    program: &Program,
    customer: &Customer,
    agreement: Option<&str>,
    request: &Request,
) -> Vec<VisitLine> {
    let mut lines = Vec::with_capacity(request.lines.len());
    for (index, input) in request.lines.iter().enumerate() {
        let gross = normalize::money(input.qty * input.unit_price);
        let host_discount = normalize::money(input.discount.unwrap_or(Decimal::ZERO));
        let base = gross - host_discount;
        let (percent, source) = line_discount(program, customer, agreement, input);
        let discount = normalize::money(base * percent / Decimal::ONE_HUNDRED);
        let net = base - discount;
        lines.push(VisitLine {
            index: index as u32,
            sku: input.sku.trim().to_string(),
            name: input.name.trim().to_string(),
            kind: input.kind,
            category: input
                .category
                .as_ref()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty()),
            qty: input.qty,
            unit_price: input.unit_price,
            promo: input.promo,
            gross,
            host_discount,
            discount_percent: percent,
            discount_source: source,
            discount,
            net,
            money: net,
            ..VisitLine::new(index as u32, input.kind, program.points.scale)
        });
    }
    lines
}

/// The point units a request redeems: none, the most the basket allows, or the points
/// asked for, which must be available and within what the basket allows.
fn requested_units(
    request: &Request,
    available: Decimal,
    (max_units, max_points): (i64, Decimal),
    limited_by: &Option<String>,
    unit: Decimal,
) -> Result<i64> {
    let points = match request.redeem {
        Redeem::None => return Ok(0),
        Redeem::Max => return Ok(max_units),
        Redeem::Points(points) => points,
    };
    if points > available {
        return Err(Error::new(
            ErrorCode::InsufficientPoints,
            format!("{} has {available} points available, {points} requested", request.who),
        )
        .with_details(json!({ "customer": request.customer.id, "requested": points.to_string(), "available": available.to_string() })));
    }
    if points > max_points {
        return Err(Error::invalid(
            "redeem",
            format!(
                "{points} points exceed the {max_points} this basket allows ({})",
                limited_by.clone().unwrap_or_else(|| "cap".into())
            ),
        )
        .with_details(
            json!({ "field": "redeem", "max": max_points.to_string(), "limited_by": limited_by }),
        ));
    }
    Ok(to_units(points, unit))
}

/// Redemption: the most points this basket may take and why, the points applied as
/// the request asks, spread over the eligible lines in whole point units.
fn redeem(
    program: &Program,
    request: &Request,
    book: &Book,
    agreement_rules: Option<&Agreement>,
    lines: &mut [VisitLine],
) -> Result<RedemptionInfo> {
    let net_total: Decimal = lines.iter().map(|l| l.net).sum();
    let available = book.available();
    let unit = program.point_unit();
    let unit_money = unit * program.points.value;
    let rules = &program.redemption;
    let eligible: Vec<bool> = lines
        .iter()
        .map(|l| {
            rules.kinds.contains(&l.kind)
                && (!l.promo || rules.on_promo_lines)
                && l.net > Decimal::ZERO
        })
        .collect();
    let eligible_total: Decimal = lines
        .iter()
        .zip(&eligible)
        .filter(|(_, e)| **e)
        .map(|(l, _)| l.net)
        .sum();
    let caps: Vec<i64> = lines
        .iter()
        .zip(&eligible)
        .map(|(l, e)| if *e { to_units(l.net, unit_money) } else { 0 })
        .collect();
    let (max_units, limited_by) = redemption_limit(
        program,
        agreement_rules,
        net_total,
        eligible_total,
        caps.iter().sum(),
        available,
    );
    let max_points = normalize::exact_scale(Decimal::from(max_units) * unit, program.points.scale);
    let applied_units = requested_units(
        request,
        available,
        (max_units, max_points),
        &limited_by,
        unit,
    )?;
    let weights: Vec<Decimal> = lines
        .iter()
        .zip(&eligible)
        .map(|(l, e)| if *e { l.net } else { Decimal::ZERO })
        .collect();
    let shares = split_largest_remainder(applied_units, &weights, &caps);
    for (line, units) in lines.iter_mut().zip(&shares) {
        line.points = normalize::exact_scale(Decimal::from(*units) * unit, program.points.scale);
        line.points_money = normalize::money(Decimal::from(*units) * unit_money);
        line.money = line.net - line.points_money;
    }
    let applied = normalize::exact_scale(Decimal::from(applied_units) * unit, program.points.scale);
    Ok(RedemptionInfo {
        available,
        max: max_points,
        applied,
        limited_by,
    })
}

/// The most whole point units this basket may take, and what limits it (`agreement`,
/// `min_bill`, `no_eligible_lines`, `cap`), before what the customer asks for.
fn redemption_limit(
    program: &Program,
    agreement_rules: Option<&Agreement>,
    net_total: Decimal,
    eligible_total: Decimal,
    caps_total: i64,
    available: Decimal,
) -> (i64, Option<String>) {
    let rules = &program.redemption;
    let unit = program.point_unit();
    let unit_money = unit * program.points.value;
    let mut limited_by = None;
    // The cap is floored in whole point units straight from the exact share: rounding
    // the share to kopecks first could lift it above the cap (30 % of 666.66 is 199.998).
    let cap_exact = eligible_total * rules.cap_percent / Decimal::ONE_HUNDRED;
    let mut max_units = to_units(cap_exact, unit_money).min(caps_total);
    // A division that does not terminate is rounded in its last digit; never let that
    // round up across a whole unit.
    while max_units > 0 && Decimal::from(max_units) * unit_money > cap_exact {
        max_units -= 1;
    }
    if agreement_rules.is_some_and(|a| !a.redemption) {
        max_units = 0;
        limited_by = Some("agreement".to_string());
    } else if net_total < rules.min_bill {
        max_units = 0;
        limited_by = Some("min_bill".to_string());
    } else if eligible_total.is_zero() {
        limited_by = Some("no_eligible_lines".to_string());
    }
    let available_units = to_units(available, unit);
    if available_units < max_units {
        max_units = available_units;
    } else if limited_by.is_none() && max_units < available_units {
        limited_by = Some("cap".to_string());
    }
    (max_units, limited_by)
}

/// Accrual: points earned per line on the money paid, unless a rule stops it (the
/// returned note says which), then the plugins' multiplier.
fn accrue(
    program: &Program,
    customer: &Customer,
    agreement_rules: Option<&Agreement>,
    plugin_accrual: &Option<(Decimal, Vec<String>)>,
    applied: Decimal,
    lines: &mut [VisitLine],
) -> Option<String> {
    let net_total: Decimal = lines.iter().map(|l| l.net).sum();
    let accrual_rules = &program.accrual;
    let accrual_note = if agreement_rules.is_some_and(|a| !a.accrual) {
        Some("agreement")
    } else if applied > Decimal::ZERO && !accrual_rules.when_redeeming {
        Some("redeeming")
    } else if net_total < accrual_rules.min_bill {
        Some("min_bill")
    } else if customer.total_spend < accrual_rules.start_after_total_spend {
        Some("start_after_total_spend")
    } else {
        None
    };
    if accrual_note.is_none() {
        for line in lines.iter_mut() {
            let host_discounted = line.host_discount > Decimal::ZERO;
            let earns = accrual_rules.kinds.contains(&line.kind)
                && (!line.promo || accrual_rules.on_promo_lines)
                && (!host_discounted || accrual_rules.on_discounted_lines);
            if earns {
                let rate = accrual_rate(program, customer, line.kind);
                let points = line.money * rate / Decimal::ONE_HUNDRED / program.points.value;
                line.accrual = normalize::points_floor(points, program.points.scale);
            }
        }
    }
    let mut plugin_note = None;
    if let Some((multiplier, names)) = plugin_accrual {
        for line in lines.iter_mut() {
            line.accrual =
                normalize::points_floor(line.accrual * *multiplier, program.points.scale);
        }
        if *multiplier < Decimal::ONE {
            plugin_note = Some(format!("plugin:{}", names.join(",")));
        }
    }
    accrual_note.map(str::to_string).or(plugin_note)
}

pub(super) fn assert_totals(lines: &[VisitLine], totals: &Totals) -> Result<()> {
    for line in lines {
        let consistent = line.gross - line.host_discount - line.discount == line.net
            && line.net - line.points_money == line.money
            && line.money >= Decimal::ZERO
            && line.points >= Decimal::ZERO
            && line.accrual >= Decimal::ZERO;
        if !consistent {
            return Err(Error::internal(format!(
                "line {} does not add up",
                line.index
            )));
        }
    }
    if totals.net - totals.points_money != totals.money {
        return Err(Error::internal("checkout totals do not add up"));
    }
    Ok(())
}
