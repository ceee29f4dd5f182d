//! Checkout: price a basket for a customer (discounts, points that may pay, points
//! that will be earned, cashier messages), commit it atomically as a visit, and
//! refund it whole or by lines, reversing exactly the share of what it did.
//!
//! `checkout.quote` and `checkout.commit` run the same [`price`] function on the same
//! input, so what the cashier was quoted is what is committed.

use crate::amount::QTY_MAX;
use crate::context::{Ctx, days_since_birthday, days_until_birthday, next_id};
use crate::customer::{self, Customer, CustomerRef};
use crate::error::{Error, ErrorCode, Result};
use crate::ledger::{self, Book, EntryKind};
use crate::naming;
use crate::normalize::{self, TEXT_CHARS_MAX};
use crate::plugin::PluginOutcome;
use crate::plugin::hook::{self as plugin_hook, Plugins};
use crate::program::{DiscountCombination, LineKind, Program};
use crate::store::{Reader, WriteTxn};
use crate::tier::{self, WindowStats};
use crate::vehicle::{self, VehicleRef};
use crate::visit::{self, LINES_MAX, Totals, Visit, VisitLine};
use crate::wording::{Language, Message, format_date};
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Largest unit price.
pub const PRICE_MAX: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 0);

/// A basket line as the host sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// Host's article.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Labour, part or goods.
    pub kind: LineKind,
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
    /// Quantity (up to 3 decimals: litres of oil).
    #[serde(deserialize_with = "crate::amount::decimal")]
    pub qty: Decimal,
    /// Price per unit.
    #[serde(deserialize_with = "crate::amount::decimal")]
    pub unit_price: Decimal,
    /// Discount the host already gave on this line (amount).
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub discount: Option<Decimal>,
    /// Sold at a campaign price.
    #[serde(default)]
    pub promo: bool,
}

/// Arguments of `checkout.quote` and `checkout.commit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutArgs {
    /// Who pays.
    pub customer: CustomerRef,
    /// Vehicle serviced.
    #[serde(default)]
    pub vehicle: Option<VehicleRef>,
    /// Odometer now.
    #[serde(default)]
    pub mileage: Option<u32>,
    /// Basket.
    pub lines: Vec<LineInput>,
    /// Points to pay with: `"max"` or an amount.
    #[serde(default)]
    pub redeem: Option<String>,
    /// Host's order id (required to commit).
    #[serde(default)]
    pub order_id: Option<String>,
    /// Branch.
    #[serde(default)]
    pub branch: Option<String>,
    /// Advisor or cashier.
    #[serde(default)]
    pub advisor: Option<String>,
}

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

/// The tier benefit that makes `priority_service` true.
pub const PRIORITY_SERVICE: &str = "priority_service";

/// Refuse lines of the exclusive catalogue the customer's tier does not reach; every
/// such line is named with the tier it needs.
fn check_exclusive(
    program: &Program,
    customer: &Customer,
    who: &str,
    lines: &[LineInput],
) -> Result<()> {
    if program.exclusive.is_empty() {
        return Ok(());
    }
    let have = customer.tier.as_deref();
    let mut refused = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let sku = line.sku.trim();
        let category = line.category.as_deref().map(str::trim);
        let needed = program
            .exclusive
            .iter()
            .filter(|rule| rule.matches(sku, category))
            .filter(|rule| !program.tier_reaches(have, &rule.min_tier))
            .max_by_key(|rule| program.tier_rank(Some(&rule.min_tier)));
        if let Some(rule) = needed {
            let tier_name = program
                .tier(&rule.min_tier)
                .map(|t| {
                    if t.name.is_empty() {
                        t.code.clone()
                    } else {
                        t.name.clone()
                    }
                })
                .unwrap_or_else(|| rule.min_tier.clone());
            refused.push((index, sku.to_string(), rule.min_tier.clone(), tier_name));
        }
    }
    let Some((index, sku, _, tier_name)) = refused.first() else {
        return Ok(());
    };
    let more = if refused.len() > 1 {
        format!(" (and {} more line(s))", refused.len() - 1)
    } else {
        String::new()
    };
    Err(Error::new(
        ErrorCode::TierRequired,
        format!(
            "line {index} ({sku}) is sold from tier {tier_name} up; {who} is at {}{more}",
            have.unwrap_or("no tier")
        ),
    )
    .with_details(json!({
        "customer": customer.id,
        "tier": have,
        "lines": refused.iter().map(|(line, sku, code, name)| json!({
            "line": line, "sku": sku, "min_tier": code, "min_tier_name": name,
        })).collect::<Vec<_>>(),
    })))
}

/// The receipt of a committed visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

struct Request {
    customer: Customer,
    /// The customer as the caller named them, for messages.
    who: String,
    vehicle: Option<vehicle::Vehicle>,
    mileage: Option<u32>,
    lines: Vec<LineInput>,
    redeem: Redeem,
}

#[derive(Clone, Copy)]
enum Redeem {
    None,
    Max,
    Points(Decimal),
}

pub(crate) fn check_lines(lines: &[LineInput]) -> Result<()> {
    if lines.is_empty() {
        return Err(Error::invalid("lines", "the basket is empty"));
    }
    if lines.len() > LINES_MAX {
        return Err(Error::too_large("lines", LINES_MAX));
    }
    for (i, line) in lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        normalize::identifier(&field("sku"), &line.sku)?;
        normalize::text(&field("name"), &line.name, TEXT_CHARS_MAX)?;
        if let Some(category) = &line.category {
            normalize::optional_text(&field("category"), category, 64)?;
        }
        if line.qty <= Decimal::ZERO || line.qty > QTY_MAX || line.qty.normalize().scale() > 3 {
            return Err(Error::invalid(
                &field("qty"),
                format!(
                    "{} must be positive, at most {QTY_MAX}, 3 decimals",
                    line.qty
                ),
            ));
        }
        if line.unit_price < Decimal::ZERO
            || line.unit_price > PRICE_MAX
            || line.unit_price.normalize().scale() > 2
        {
            return Err(Error::invalid(
                &field("unit_price"),
                format!(
                    "{} must be 0..={PRICE_MAX} with at most 2 decimals",
                    line.unit_price
                ),
            ));
        }
        if let Some(discount) = line.discount {
            let gross = normalize::money(line.qty * line.unit_price);
            if discount < Decimal::ZERO || discount > gross || discount.normalize().scale() > 2 {
                return Err(Error::invalid(
                    &field("discount"),
                    format!("{discount} must be 0..={gross} with at most 2 decimals"),
                ));
            }
        }
    }
    Ok(())
}

fn parse_redeem(value: &Option<String>, scale: u32) -> Result<Redeem> {
    // The same grammar as every other amount: no spaces, no comma (see crate::amount).
    match value.as_deref() {
        None | Some("") => Ok(Redeem::None),
        Some("max") => Ok(Redeem::Max),
        Some(text) => {
            let points = crate::amount::parse_field("redeem", text)?;
            if points.is_zero() {
                return Ok(Redeem::None);
            }
            Ok(Redeem::Points(ledger::check_points(
                "redeem", points, scale,
            )?))
        }
    }
}

fn load_request<R: Reader>(reader: &R, ctx: &Ctx, args: &CheckoutArgs) -> Result<Request> {
    let program = ctx.program()?;
    check_lines(&args.lines)?;
    let customer = customer::resolve_active(reader, ctx, &args.customer)?;
    let vehicle = match &args.vehicle {
        Some(reference) => {
            let vehicle = vehicle::resolve(reader, reference)?;
            if vehicle.customer != customer.id && Some(vehicle.customer) != customer.company {
                return Err(Error::invalid(
                    "vehicle",
                    format!(
                        "{} is not a vehicle of {}",
                        naming::vehicle(reference),
                        naming::customer(&args.customer)
                    ),
                )
                .with_details(json!({
                    "field": "vehicle",
                    "vehicle": vehicle.id,
                    "owner": vehicle.customer,
                    "customer": customer.id,
                })));
            }
            Some(vehicle)
        }
        None => None,
    };
    if args.mileage.is_some() && vehicle.is_none() {
        return Err(Error::invalid("mileage", "a mileage needs the vehicle"));
    }
    if let Some(km) = args.mileage
        && km > vehicle::MILEAGE_KM_MAX
    {
        return Err(Error::invalid(
            "mileage",
            format!("must be at most {} km", vehicle::MILEAGE_KM_MAX),
        ));
    }
    for (field, value) in [("branch", &args.branch), ("advisor", &args.advisor)] {
        if let Some(value) = value {
            normalize::optional_text(field, value, TEXT_CHARS_MAX)?;
        }
    }
    Ok(Request {
        customer,
        who: naming::customer(&args.customer),
        vehicle,
        mileage: args.mileage,
        lines: args.lines.clone(),
        redeem: parse_redeem(&args.redeem, program.points.scale)?,
    })
}

/// The agreement a customer buys under: their own or their company's.
fn agreement_code<R: Reader>(reader: &R, customer: &Customer) -> Result<Option<String>> {
    if customer.agreement.is_some() {
        return Ok(customer.agreement.clone());
    }
    match customer.company {
        Some(company) => Ok(customer::load(reader, company)?.agreement),
        None => Ok(None),
    }
}

fn line_discount(
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

fn accrual_rate(program: &Program, customer: &Customer, kind: LineKind) -> Decimal {
    let tier = customer.tier.as_deref().and_then(|code| program.tier(code));
    tier.and_then(|t| t.rate_by_kind.get(kind).or(t.rate_percent))
        .or_else(|| program.accrual.rate_by_kind.get(kind))
        .unwrap_or(program.accrual.rate_percent)
}

/// Split `total` units over lines pro rata to `weights`, never above `caps`;
/// largest remainders get the leftover units, ties to the lower index.
fn allocate_units(total: i64, weights: &[Decimal], caps: &[i64]) -> Vec<i64> {
    let weight_sum: Decimal = weights.iter().copied().sum();
    let mut shares = vec![0i64; weights.len()];
    if total <= 0 || weight_sum <= Decimal::ZERO {
        return shares;
    }
    let mut remainders: Vec<(Decimal, usize)> = Vec::with_capacity(weights.len());
    let mut given = 0i64;
    for (i, weight) in weights.iter().enumerate() {
        let exact = Decimal::from(total) * *weight / weight_sum;
        let floor = exact.floor();
        let units = i64::try_from(floor.mantissa() / 10i128.pow(floor.scale()))
            .unwrap_or(0)
            .min(caps[i])
            .max(0);
        shares[i] = units;
        given += units;
        remainders.push((exact - Decimal::from(units), i));
    }
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut left = total - given;
    // Each pass gives at most one unit per line; caps sum to at least `total`.
    while left > 0 {
        let before = left;
        for (_, i) in &remainders {
            if left == 0 {
                break;
            }
            if shares[*i] < caps[*i] {
                shares[*i] += 1;
                left -= 1;
            }
        }
        if left == before {
            break;
        }
    }
    shares
}

fn to_units(value: Decimal, unit: Decimal) -> i64 {
    let units = (value / unit).floor();
    i64::try_from(units.mantissa() / 10i128.pow(units.scale())).unwrap_or(i64::MAX)
}

/// Price a basket. Pure: reads the customer's state, writes nothing.
fn price<R: Reader>(
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
    let zero_points = normalize::exact_scale(Decimal::ZERO, program.points.scale);
    let zero_money = normalize::money(Decimal::ZERO);
    let mut lines = Vec::with_capacity(request.lines.len());
    for (index, input) in request.lines.iter().enumerate() {
        let gross = normalize::money(input.qty * input.unit_price);
        let host_discount = normalize::money(input.discount.unwrap_or(Decimal::ZERO));
        let base = gross - host_discount;
        let (percent, source) = line_discount(program, customer, agreement.as_deref(), input);
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
            points: zero_points,
            points_money: zero_money,
            money: net,
            accrual: zero_points,
            refunded_qty: Decimal::ZERO,
            refunded_money: zero_money,
            refunded_points: zero_points,
            refunded_accrual: zero_points,
            refunded_net: zero_money,
        });
    }
    // Promotion plugins: after the programme's discounts, before redemption and accrual.
    let facts = plugin_hook::CheckoutFacts {
        customer,
        vehicle: request.vehicle.as_ref(),
        mileage: request.mileage,
        book,
    };
    let plugin_effects = plugin_hook::checkout(plugins, reader, ctx, program, &facts, &mut lines)?;
    let net_total: Decimal = lines.iter().map(|l| l.net).sum();

    // Redemption.
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
    let mut limited_by = None;
    // The cap is floored in whole point units straight from the exact share: rounding
    // the share to kopecks first could lift it above the cap (30 % of 666.66 is 199.998).
    let cap_exact = eligible_total * rules.cap_percent / Decimal::ONE_HUNDRED;
    let mut max_units = to_units(cap_exact, unit_money).min(caps.iter().sum());
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
    let max_points = normalize::exact_scale(Decimal::from(max_units) * unit, program.points.scale);
    let applied_units = match request.redeem {
        Redeem::None => 0,
        Redeem::Max => max_units,
        Redeem::Points(points) => {
            if points > available {
                return Err(Error::new(
                    ErrorCode::InsufficientPoints,
                    format!("{} has {available} points available, {points} requested", request.who),
                )
                .with_details(json!({ "customer": customer.id, "requested": points.to_string(), "available": available.to_string() })));
            }
            if points > max_points {
                return Err(Error::invalid(
                    "redeem",
                    format!(
                        "{points} points exceed the {max_points} this basket allows ({})",
                        limited_by.clone().unwrap_or_else(|| "cap".into())
                    ),
                )
                .with_details(json!({ "field": "redeem", "max": max_points.to_string(), "limited_by": limited_by })));
            }
            to_units(points, unit)
        }
    };
    let weights: Vec<Decimal> = lines
        .iter()
        .zip(&eligible)
        .map(|(l, e)| if *e { l.net } else { Decimal::ZERO })
        .collect();
    let shares = allocate_units(applied_units, &weights, &caps);
    for (line, units) in lines.iter_mut().zip(&shares) {
        line.points = normalize::exact_scale(Decimal::from(*units) * unit, program.points.scale);
        line.points_money = normalize::money(Decimal::from(*units) * unit_money);
        line.money = line.net - line.points_money;
    }
    let applied = normalize::exact_scale(Decimal::from(applied_units) * unit, program.points.scale);

    // Accrual.
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
        for line in &mut lines {
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
    if let Some((multiplier, names)) = &plugin_effects.accrual {
        for line in &mut lines {
            line.accrual =
                normalize::points_floor(line.accrual * *multiplier, program.points.scale);
        }
        if *multiplier < Decimal::ONE {
            plugin_note = Some(format!("plugin:{}", names.join(",")));
        }
    }
    let totals = Totals {
        gross: lines.iter().map(|l| l.gross).sum(),
        host_discount: lines.iter().map(|l| l.host_discount).sum(),
        discount: lines.iter().map(|l| l.discount).sum(),
        net: net_total,
        points: applied,
        points_money: lines.iter().map(|l| l.points_money).sum(),
        money: lines.iter().map(|l| l.money).sum(),
        accrual: lines.iter().map(|l| l.accrual).sum(),
        bonus: normalize::exact_scale(plugin_effects.bonus, program.points.scale),
    };
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
            redemption: RedemptionInfo {
                available,
                max: max_points,
                applied,
                limited_by,
            },
            accrual_note: accrual_note.map(str::to_string).or(plugin_note),
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

fn assert_totals(lines: &[VisitLine], totals: &Totals) -> Result<()> {
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

fn messages(
    program: &Program,
    ctx: &Ctx,
    customer: &Customer,
    book: &Book,
    stats: &WindowStats,
) -> Vec<Message> {
    // The notes are Russian texts; numbers in them follow the programme's locale.
    let language = Language::of_tag(&program.locale);
    let mut out = Vec::new();
    let tier_name = customer
        .tier
        .as_deref()
        .and_then(|code| program.tier(code))
        .map(|t| {
            if t.name.is_empty() {
                t.code.clone()
            } else {
                t.name.clone()
            }
        });
    let mut greeting = format!("Клиент: {}", customer.full_name);
    if let Some(name) = &tier_name {
        greeting.push_str(&format!(", уровень {name}"));
    }
    if customer.vip {
        greeting.push_str(", VIP");
    }
    out.push(Message {
        kind: "customer".into(),
        text: greeting,
    });
    if let Some(birthday) = customer.birthday {
        let until = days_until_birthday(birthday, ctx.today);
        let since = days_since_birthday(birthday, ctx.today);
        let text = if until == 0 {
            Some("Сегодня день рождения клиента!".to_string())
        } else if until <= 7 {
            Some(format!(
                "День рождения через {until} дн. ({:02}.{:02})",
                birthday.day(),
                birthday.month()
            ))
        } else if since <= 7 {
            Some(format!("День рождения был {since} дн. назад"))
        } else {
            None
        };
        if let Some(text) = text {
            out.push(Message {
                kind: "birthday".into(),
                text,
            });
        }
    }
    let horizon = ctx.today + Duration::days(i64::from(program.expiring_notice_days));
    let mut expiring = Decimal::ZERO;
    let mut first_date: Option<NaiveDate> = None;
    for lot in book.lots() {
        if let Some(date) = lot.expires_on
            && date <= horizon
            && lot.pending_until.is_none()
            && lot.remaining > Decimal::ZERO
        {
            expiring += lot.remaining;
            first_date = Some(first_date.map_or(date, |d: NaiveDate| d.min(date)));
        }
    }
    if let Some(date) = first_date {
        out.push(Message {
            kind: "points_expiring".into(),
            text: format!(
                "Сгорят баллы: {}, ближайшие — {}",
                language.number(&expiring.to_string()),
                format_date(date)
            ),
        });
    }
    if book.account.pending > Decimal::ZERO {
        out.push(Message {
            kind: "points_pending".into(),
            text: format!(
                "Ожидают начисления баллы: {}",
                language.number(&book.account.pending.to_string())
            ),
        });
    }
    if let Some(tier) = customer.tier.as_deref().and_then(|code| program.tier(code)) {
        for benefit in &tier.benefits {
            out.push(Message {
                kind: "benefit".into(),
                text: benefit.clone(),
            });
        }
    }
    out.extend(tier_progress(program, customer, stats, language));
    out
}

/// What the customer still needs for the next tier: «До уровня Золото осталось:
/// 12 345,00 ₽ и 2 визита».
fn tier_progress(
    program: &Program,
    customer: &Customer,
    stats: &WindowStats,
    language: Language,
) -> Option<Message> {
    let (next, spend, visits) = tier::next_tier(program, customer.tier.as_deref(), stats)?;
    let name = if next.name.is_empty() {
        next.code.clone()
    } else {
        next.name.clone()
    };
    let currency = if program.currency == "RUB" {
        "₽"
    } else {
        program.currency.as_str()
    };
    let mut missing = Vec::new();
    if spend > Decimal::ZERO {
        missing.push(format!(
            "{} {currency}",
            language.number(&normalize::money(spend).to_string())
        ));
    }
    if visits > 0 {
        missing.push(language.count(u64::from(visits), ("визит", "визита", "визитов")));
    }
    (!missing.is_empty()).then(|| Message {
        kind: "tier_progress".into(),
        text: format!("До уровня {name} осталось: {}", missing.join(" и ")),
    })
}

/// `checkout.quote`: price the basket, change nothing.
pub fn quote<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    plugins: &Plugins<'_>,
    args: &CheckoutArgs,
) -> Result<Priced> {
    let request = load_request(reader, ctx, args)?;
    let mut book = Book::load(reader, request.customer.id)?;
    book.settle(ctx)?;
    Ok(price(reader, ctx, plugins, &request, &book)?.0)
}

/// `checkout.commit`: price and record the visit atomically.
pub fn commit(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    plugins: &Plugins<'_>,
    args: &CheckoutArgs,
) -> Result<Receipt> {
    let program = ctx.program()?;
    let order_id = match &args.order_id {
        Some(order_id) => normalize::identifier("order_id", order_id)?,
        None => {
            return Err(Error::invalid(
                "order_id",
                "commit needs the host's order id",
            ));
        }
    };
    if let Some(existing) = visit::by_order(txn, &order_id)? {
        return Err(Error::new(
            ErrorCode::AlreadyExists,
            format!("order {order_id} is already recorded"),
        )
        .with_details(json!({ "field": "order_id", "value": order_id, "visit": existing })));
    }
    let request = load_request(txn, ctx, args)?;
    let mut book = Book::load(txn, request.customer.id)?;
    book.settle(ctx)?;
    let (mut priced, _) = price(txn, ctx, plugins, &request, &book)?;
    let visit_id = next_id(txn, "next_visit")?;
    let redemption = if priced.totals.points > Decimal::ZERO {
        book.debit(
            ctx,
            EntryKind::Redemption,
            priced.totals.points,
            Some(visit_id),
            None,
            None,
        )?
    } else {
        Vec::new()
    };
    let accrual_expires_on = program.expiry_date(ctx.today);
    let accrual_lot = if priced.totals.accrual > Decimal::ZERO {
        let expires_on = accrual_expires_on;
        let pending_until = (program.pending_days > 0)
            .then(|| ctx.today + Duration::days(i64::from(program.pending_days)));
        Some(book.credit(
            ctx,
            EntryKind::Accrual,
            priced.totals.accrual,
            expires_on,
            pending_until,
            Some(visit_id),
            None,
            None,
        )?)
    } else {
        None
    };
    let mut customer = request.customer.clone();
    let bonus_lot = plugin_hook::commit_effects(
        ctx,
        &mut customer,
        &mut book,
        Some(visit_id),
        &mut priced.plugins,
    )?;
    customer.total_spend += priced.totals.net;
    customer.visits += 1;
    customer.first_visit = Some(customer.first_visit.map_or(ctx.today, |d| d.min(ctx.today)));
    customer.last_visit = Some(customer.last_visit.map_or(ctx.today, |d| d.max(ctx.today)));
    customer::save(txn, &customer)?;
    let mut vehicle_id = None;
    if let Some(mut vehicle) = request.vehicle.clone() {
        vehicle_id = Some(vehicle.id);
        if let Some(km) = args.mileage {
            vehicle::record_mileage(txn, ctx, &mut vehicle, km, Some(visit_id), false)?;
            vehicle::save(txn, &vehicle)?;
        }
    }
    let mut visit = Visit {
        id: visit_id,
        customer: customer.id,
        vehicle: vehicle_id,
        order_id: order_id.clone(),
        at: ctx.at,
        date: ctx.today,
        branch: args.branch.as_ref().map(|b| b.trim().to_string()),
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
        plugins: priced
            .plugins
            .iter()
            .cloned()
            .map(|mut outcome| {
                outcome.log.clear();
                outcome
            })
            .collect(),
    };
    visit::save(txn, &visit)?;
    let (tier_before, tier_after) = tier::reevaluate(txn, program, &mut customer, ctx.today)?;
    tier::schedule_review(txn, program, customer.id, ctx.today)?;
    visit.tier_after = tier_after.clone();
    visit::save(txn, &visit)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact_and_deterministic() {
        let weights = [
            Decimal::new(100, 0),
            Decimal::new(100, 0),
            Decimal::new(100, 0),
        ];
        let caps = [100, 100, 100];
        let shares = allocate_units(100, &weights, &caps);
        assert_eq!(shares.iter().sum::<i64>(), 100);
        assert_eq!(shares, vec![34, 33, 33]);
    }

    #[test]
    fn allocation_respects_caps() {
        let weights = [
            Decimal::new(5, 1),
            Decimal::new(5, 1),
            Decimal::new(1000, 0),
        ];
        let caps = [0, 0, 1000];
        let shares = allocate_units(1000, &weights, &caps);
        assert_eq!(shares, vec![0, 0, 1000]);
    }
}
