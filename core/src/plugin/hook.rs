//! The hooks: build a plugin's input, run the enabled plugins in order, validate every
//! effect they return, and apply the effects to a priced basket.
//!
//! Order inside `checkout::price` (documented in `plugins/ABI.md`):
//! 1. host discounts, then the programme's discounts (tier, agreement, cumulative, VIP);
//! 2. every enabled checkout plugin, by priority (higher first, ties by name), each on
//!    the same input — plugins do not see each other's effects;
//! 3. line discounts: non-exclusive ones stack on the programme's discount, each
//!    limited to what is left of the line; an exclusive one replaces all of them if it is
//!    larger than their sum (the largest exclusive one wins, earlier plugin on a tie);
//! 4. basket discounts on what is left after line discounts, spread over the lines in
//!    proportion to their amounts (an exclusive one is the only basket discount);
//! 5. redemption (points pay) on the amounts after every discount;
//! 6. accrual on the money part, then multiplied by the plugins' accrual multipliers;
//! 7. bonus points as separate lots; messages after the programme's; tags and the
//!    reminder request are applied when the visit is committed.

pub use super::outcome::{AppliedEffect, Audience, OutcomeError, OutcomeStatus, PluginOutcome};
use super::{ActiveSet, Hook, Limits, OnError, PluginError, PluginErrorKind, PluginHost};
use crate::context::{Ctx, days_since_birthday, days_until_birthday};
use crate::customer::{Customer, CustomerKind, Gender};
use crate::error::{Error, Result};
use crate::ledger::{Book, EntryKind};
use crate::normalize;
use crate::program::{LineKind, Program};
use crate::store::Reader;
use crate::vehicle::{Usage, Vehicle};
use crate::visit::VisitLine;
use crate::wording::Message;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// Most effects one plugin may return in one call.
pub const EFFECTS_MAX: usize = 64;
/// Longest message text in characters.
pub const MESSAGE_CHARS_MAX: usize = 500;
/// Highest accrual multiplier.
pub const MULTIPLIER_MAX: Decimal = Decimal::from_parts(10, 0, 0, false, 0);
/// Farthest a reminder or a bonus expiry may lie, in days.
pub const DAYS_MAX: u32 = 3660;

// ---------------------------------------------------------------------------------------
// Input.

#[derive(Serialize)]
struct PointsInput {
    value: Decimal,
    scale: u32,
}

#[derive(Serialize)]
struct CustomerInput<'a> {
    id: u64,
    name: &'a str,
    kind: CustomerKind,
    gender: Gender,
    tier: Option<&'a str>,
    tags: &'a [String],
    vip: bool,
    agreement: Option<&'a str>,
    company: Option<u64>,
    source: Option<&'a str>,
    birthday: Option<NaiveDate>,
    days_to_birthday: Option<i64>,
    days_since_birthday: Option<i64>,
    balance: Decimal,
    available: Decimal,
    visits: u32,
    first_visit: bool,
    days_since_last_visit: Option<i64>,
    total_spend: Decimal,
    registered_on: NaiveDate,
}

#[derive(Serialize)]
struct VehicleInput<'a> {
    id: u64,
    make: &'a str,
    model: &'a str,
    year: Option<u16>,
    age_years: Option<i32>,
    mileage_km: Option<u32>,
    usage: Usage,
}

#[derive(Serialize)]
struct LineFacts<'a> {
    index: u32,
    sku: &'a str,
    name: &'a str,
    kind: LineKind,
    category: Option<&'a str>,
    qty: Decimal,
    unit_price: Decimal,
    gross: Decimal,
    host_discount: Decimal,
    promo: bool,
    discount: Decimal,
    discount_source: Option<&'a str>,
    net: Decimal,
}

#[derive(Serialize)]
struct BasketInput<'a> {
    lines: Vec<LineFacts<'a>>,
    gross: Decimal,
    net: Decimal,
}

#[derive(Serialize)]
struct CommonInput<'a> {
    date: NaiveDate,
    weekday: u32,
    at: DateTime<Utc>,
    currency: &'a str,
    points: PointsInput,
    customer: CustomerInput<'a>,
    vehicle: Option<VehicleInput<'a>>,
    basket: Option<BasketInput<'a>>,
}

/// What the checkout knows when it calls the plugins.
pub(crate) struct CheckoutFacts<'a> {
    pub(crate) customer: &'a Customer,
    pub(crate) vehicle: Option<&'a Vehicle>,
    pub(crate) mileage: Option<u32>,
    pub(crate) book: &'a Book,
}

fn customer_input<'a>(
    ctx: &Ctx,
    program: &Program,
    customer: &'a Customer,
    book: Option<&Book>,
) -> CustomerInput<'a> {
    let zero = normalize::exact_scale(Decimal::ZERO, program.points.scale);
    CustomerInput {
        id: customer.id,
        name: &customer.full_name,
        kind: customer.kind,
        gender: customer.gender,
        tier: customer.tier.as_deref(),
        tags: &customer.tags,
        vip: customer.vip,
        agreement: customer.agreement.as_deref(),
        company: customer.company,
        source: customer.source.as_deref(),
        birthday: customer.birthday,
        days_to_birthday: customer.birthday.map(|b| days_until_birthday(b, ctx.today)),
        days_since_birthday: customer.birthday.map(|b| days_since_birthday(b, ctx.today)),
        balance: book.map_or(zero, |b| b.account.balance),
        available: book.map_or(zero, |b| b.available()),
        visits: customer.visits,
        first_visit: customer.visits == 0,
        days_since_last_visit: customer.last_visit.map(|d| (ctx.today - d).num_days()),
        total_spend: customer.total_spend,
        registered_on: program.local_date(customer.registered_at),
    }
}

fn common_json(
    ctx: &Ctx,
    program: &Program,
    customer: CustomerInput<'_>,
    vehicle: Option<VehicleInput<'_>>,
    basket: Option<BasketInput<'_>>,
) -> Result<String> {
    let common = CommonInput {
        date: ctx.today,
        weekday: ctx.today.weekday().number_from_monday(),
        at: ctx.at,
        currency: &program.currency,
        points: PointsInput {
            value: program.points.value,
            scale: program.points.scale,
        },
        customer,
        vehicle,
        basket,
    };
    serde_json::to_string(&common)
        .map_err(|err| Error::internal(format!("cannot encode the plugin input: {err}")))
}

/// `{"abi":1,"hook":..,"plugin":..,"config":..,` + the common part without its `{`.
fn input_for(hook: Hook, name: &str, config_json: &str, common: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(common.len() + config_json.len() + 96);
    out.extend_from_slice(b"{\"abi\":");
    out.extend_from_slice(super::ABI_VERSION.to_string().as_bytes());
    out.extend_from_slice(b",\"hook\":\"");
    out.extend_from_slice(hook.as_str().as_bytes());
    out.extend_from_slice(b"\",\"plugin\":");
    out.extend_from_slice(Value::String(name.to_string()).to_string().as_bytes());
    out.extend_from_slice(b",\"config\":");
    out.extend_from_slice(config_json.as_bytes());
    out.push(b',');
    out.extend_from_slice(&common.as_bytes()[1..]);
    out
}

// ---------------------------------------------------------------------------------------
// Output.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Output {
    #[serde(default)]
    effects: Option<Vec<Value>>,
    #[serde(default)]
    error: Option<GuestError>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypedOutput {
    effects: Vec<EffectInput>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuestError {
    code: String,
    message: String,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum EffectInput {
    LineDiscount {
        line: u32,
        #[serde(default, deserialize_with = "crate::amount::optional")]
        percent: Option<Decimal>,
        #[serde(default, deserialize_with = "crate::amount::optional")]
        amount: Option<Decimal>,
        #[serde(default)]
        exclusive: bool,
        #[serde(default)]
        reason: Option<String>,
    },
    BasketDiscount {
        #[serde(default, deserialize_with = "crate::amount::optional")]
        percent: Option<Decimal>,
        #[serde(default, deserialize_with = "crate::amount::optional")]
        amount: Option<Decimal>,
        #[serde(default)]
        exclusive: bool,
        #[serde(default)]
        reason: Option<String>,
    },
    BonusPoints {
        #[serde(deserialize_with = "crate::amount::decimal")]
        points: Decimal,
        reason: String,
        #[serde(default)]
        expires_in_days: Option<u32>,
    },
    Accrual {
        #[serde(deserialize_with = "crate::amount::decimal")]
        multiplier: Decimal,
        #[serde(default)]
        reason: Option<String>,
    },
    Message {
        to: Audience,
        text: String,
    },
    AddTags {
        tags: Vec<String>,
    },
    Reminder {
        kind: String,
        #[serde(default)]
        due_on: Option<NaiveDate>,
        #[serde(default)]
        in_days: Option<u32>,
        #[serde(default)]
        text: Option<String>,
    },
}

/// What a hook allows and what the effects are checked against.
struct Frame<'a> {
    hook: Hook,
    ctx: &'a Ctx,
    program: &'a Program,
    /// Lines as priced before any plugin (checkout only).
    lines: &'a [VisitLine],
}

fn invalid(index: usize, message: impl Into<String>) -> PluginError {
    PluginError::new(
        PluginErrorKind::InvalidEffect,
        format!("effect {index}: {}", message.into()),
    )
    .with_detail("effect", index)
}

fn money_value(
    index: usize,
    field: &str,
    value: Decimal,
) -> std::result::Result<Decimal, PluginError> {
    if value <= Decimal::ZERO || value.normalize().scale() > 2 {
        return Err(invalid(
            index,
            format!("{field} {value} must be positive money with at most 2 decimals"),
        ));
    }
    Ok(normalize::money(value))
}

fn percent_value(index: usize, value: Decimal) -> std::result::Result<Decimal, PluginError> {
    if value <= Decimal::ZERO || value > Decimal::ONE_HUNDRED || value.normalize().scale() > 2 {
        return Err(invalid(
            index,
            format!("percent {value} must be in (0, 100] with at most 2 decimals"),
        ));
    }
    Ok(value.normalize())
}

fn reason_text(
    index: usize,
    reason: Option<String>,
) -> std::result::Result<Option<String>, PluginError> {
    match reason {
        None => Ok(None),
        Some(text) => normalize::optional_text("reason", &text, normalize::TEXT_CHARS_MAX)
            .map(|t| (!t.is_empty()).then_some(t))
            .map_err(|err| invalid(index, err.message)),
    }
}

fn one_of(
    index: usize,
    percent: Option<Decimal>,
    amount: Option<Decimal>,
    base: Decimal,
    what: &str,
) -> std::result::Result<(Option<Decimal>, Decimal), PluginError> {
    match (percent, amount) {
        (Some(percent), None) => {
            let percent = percent_value(index, percent)?;
            Ok((
                Some(percent),
                normalize::money(base * percent / Decimal::ONE_HUNDRED),
            ))
        }
        (None, Some(amount)) => {
            let amount = money_value(index, "amount", amount)?;
            if amount > base {
                return Err(invalid(
                    index,
                    format!("a discount of {amount} exceeds {what} of {base}"),
                ));
            }
            Ok((None, amount))
        }
        _ => Err(invalid(index, "give exactly one of percent, amount")),
    }
}

fn validate(
    frame: &Frame<'_>,
    limits: &Limits,
    index: usize,
    effect: EffectInput,
) -> std::result::Result<AppliedEffect, PluginError> {
    let checkout_only = |name: &str| {
        if frame.hook == Hook::Checkout {
            Ok(())
        } else {
            Err(invalid(
                index,
                format!(
                    "{name} is not available in the {} hook",
                    frame.hook.as_str()
                ),
            ))
        }
    };
    Ok(match effect {
        EffectInput::LineDiscount {
            line,
            percent,
            amount,
            exclusive,
            reason,
        } => {
            checkout_only("line_discount")?;
            let Some(priced) = frame.lines.get(line as usize) else {
                return Err(invalid(
                    index,
                    format!(
                        "line {line} does not exist (the basket has {})",
                        frame.lines.len()
                    ),
                ));
            };
            // An exclusive discount replaces the programme's, so it is measured against
            // the line before it; a stacking one against what the programme left.
            let base = if exclusive {
                priced.gross - priced.host_discount
            } else {
                priced.net
            };
            let (percent, requested) = one_of(
                index,
                percent,
                amount,
                base,
                &format!("line {line}'s amount"),
            )?;
            AppliedEffect::LineDiscount {
                line,
                percent,
                requested,
                applied: normalize::money(Decimal::ZERO),
                exclusive,
                reason: reason_text(index, reason)?,
            }
        }
        EffectInput::BasketDiscount {
            percent,
            amount,
            exclusive,
            reason,
        } => {
            checkout_only("basket_discount")?;
            let net: Decimal = frame.lines.iter().map(|l| l.net).sum();
            let (percent, requested) = one_of(index, percent, amount, net, "the basket's amount")?;
            AppliedEffect::BasketDiscount {
                percent,
                requested,
                applied: normalize::money(Decimal::ZERO),
                exclusive,
                reason: reason_text(index, reason)?,
            }
        }
        EffectInput::BonusPoints {
            points,
            reason,
            expires_in_days,
        } => {
            let scale = frame.program.points.scale;
            if points <= Decimal::ZERO || points.normalize().scale() > scale {
                return Err(invalid(
                    index,
                    format!(
                        "bonus of {points} points must be positive with at most {scale} decimals"
                    ),
                ));
            }
            if points > limits.bonus_points_max {
                return Err(invalid(
                    index,
                    format!(
                        "bonus of {points} points exceeds the plugin's limit of {}",
                        limits.bonus_points_max
                    ),
                ));
            }
            let reason = normalize::text("reason", &reason, normalize::TEXT_CHARS_MAX)
                .map_err(|err| invalid(index, err.message))?;
            let expires_on = match expires_in_days {
                Some(days) if days == 0 || days > DAYS_MAX => {
                    return Err(invalid(
                        index,
                        format!("expires_in_days {days} must be 1..={DAYS_MAX}"),
                    ));
                }
                Some(days) => Some(frame.ctx.today + Duration::days(i64::from(days))),
                None => frame.program.expiry_date(frame.ctx.today),
            };
            AppliedEffect::BonusPoints {
                points: normalize::exact_scale(points, scale),
                expires_on,
                reason,
                lot: None,
            }
        }
        EffectInput::Accrual { multiplier, reason } => {
            checkout_only("accrual")?;
            if multiplier < Decimal::ZERO
                || multiplier > MULTIPLIER_MAX
                || multiplier.normalize().scale() > 2
            {
                return Err(invalid(
                    index,
                    format!(
                        "multiplier {multiplier} must be 0..={MULTIPLIER_MAX} with at most 2 decimals"
                    ),
                ));
            }
            AppliedEffect::Accrual {
                multiplier: multiplier.normalize(),
                reason: reason_text(index, reason)?,
            }
        }
        EffectInput::Message { to, text } => {
            let text = normalize::text("text", &text, MESSAGE_CHARS_MAX)
                .map_err(|err| invalid(index, err.message))?;
            AppliedEffect::Message { to, text }
        }
        EffectInput::AddTags { tags } => {
            if tags.is_empty() || tags.len() > 8 {
                return Err(invalid(index, "add_tags takes 1..=8 tags"));
            }
            let mut out: Vec<String> = Vec::new();
            for tag in &tags {
                let tag = normalize::text("tags", tag, 64)
                    .map_err(|err| invalid(index, err.message))?
                    .to_lowercase();
                if !out.contains(&tag) {
                    out.push(tag);
                }
            }
            AppliedEffect::AddTags { tags: out }
        }
        EffectInput::Reminder {
            kind,
            due_on,
            in_days,
            text,
        } => {
            let kind =
                normalize::identifier("kind", &kind).map_err(|err| invalid(index, err.message))?;
            let today = frame.ctx.today;
            let due_on = match (due_on, in_days) {
                (Some(date), None) => date,
                (None, Some(days)) => today + Duration::days(i64::from(days.min(DAYS_MAX + 1))),
                _ => return Err(invalid(index, "give exactly one of due_on, in_days")),
            };
            if due_on < today || due_on > today + Duration::days(i64::from(DAYS_MAX)) {
                return Err(invalid(
                    index,
                    format!("due date {due_on} must lie between today and {DAYS_MAX} days ahead"),
                ));
            }
            let text = match text {
                Some(text) => Some(
                    normalize::text("text", &text, MESSAGE_CHARS_MAX)
                        .map_err(|err| invalid(index, err.message))?,
                ),
                None => None,
            };
            AppliedEffect::Reminder { kind, due_on, text }
        }
    })
}

fn parse_output(
    frame: &Frame<'_>,
    limits: &Limits,
    output: &[u8],
) -> std::result::Result<Vec<AppliedEffect>, PluginError> {
    // Fast path: a well-formed output decodes straight into typed effects; anything else
    // goes the slow way below, which names the offending effect.
    if let Ok(typed) = serde_json::from_slice::<TypedOutput>(output)
        && typed.effects.len() <= EFFECTS_MAX
    {
        let mut out = Vec::with_capacity(typed.effects.len());
        for (index, effect) in typed.effects.into_iter().enumerate() {
            out.push(validate(frame, limits, index, effect)?);
        }
        return Ok(out);
    }
    // Read as a checked value first: a key given twice is refused rather than taken
    // last-wins, as in every other JSON Pitstop reads (the typed fast path above
    // already refuses a repeated field of an effect).
    let value = crate::json::from_slice(output).map_err(|err| {
        PluginError::new(
            PluginErrorKind::BadOutput,
            format!("the output is not the output schema: {err}"),
        )
    })?;
    let parsed: Output = serde_json::from_value(value).map_err(|err| {
        PluginError::new(
            PluginErrorKind::BadOutput,
            format!("the output is not the output schema: {err}"),
        )
    })?;
    let effects = match (parsed.effects, parsed.error) {
        (Some(effects), None) => effects,
        (None, Some(error)) => {
            let code: String = error.code.chars().take(64).collect();
            let message: String = error.message.chars().take(MESSAGE_CHARS_MAX).collect();
            return Err(PluginError::new(
                PluginErrorKind::Failed,
                format!("the plugin reported {code}: {message}"),
            )
            .with_detail("plugin_code", code));
        }
        _ => {
            return Err(PluginError::new(
                PluginErrorKind::BadOutput,
                "the output must have exactly one of effects, error",
            ));
        }
    };
    if effects.len() > EFFECTS_MAX {
        return Err(PluginError::new(
            PluginErrorKind::InvalidEffect,
            format!("{} effects; at most {EFFECTS_MAX}", effects.len()),
        ));
    }
    let mut out = Vec::with_capacity(effects.len());
    for (index, value) in effects.into_iter().enumerate() {
        let effect: EffectInput =
            serde_json::from_value(value).map_err(|err| invalid(index, err.to_string()))?;
        out.push(validate(frame, limits, index, effect)?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Running.

/// The enabled plugins of a snapshot, with the engine's host.
pub(crate) struct Plugins<'a> {
    pub(crate) host: &'a PluginHost,
    pub(crate) active: Arc<ActiveSet>,
}

/// What the plugins did to a checkout, besides the lines they discounted.
#[derive(Debug, Default)]
pub(crate) struct CheckoutEffects {
    /// Outcomes, in calling order.
    pub(crate) outcomes: Vec<PluginOutcome>,
    /// Product of accrual multipliers and the plugins that asked, if any did.
    pub(crate) accrual: Option<(Decimal, Vec<String>)>,
    /// Σ bonus points.
    pub(crate) bonus: Decimal,
    /// Messages to add.
    pub(crate) messages: Vec<Message>,
}

fn run_all<R: Reader>(
    plugins: &Plugins<'_>,
    reader: &R,
    frame: &Frame<'_>,
    common: &str,
) -> Result<Vec<PluginOutcome>> {
    let hook = frame.hook;
    let mut outcomes = Vec::new();
    for plugin in plugins.active.for_hook(hook) {
        let record = &plugin.record;
        let result = plugins.host.module(reader, record).and_then(|module| {
            let runtime = plugins
                .host
                .runtime()
                .map_err(|err| PluginError::new(PluginErrorKind::Internal, err.message))?;
            let input = input_for(hook, &record.name, &plugin.config_json, common);
            let call = module.call(&runtime, hook, &input, &record.limits)?;
            let effects = parse_output(frame, &record.limits, &call.output)?;
            Ok((effects, call.fuel_used, call.log))
        });
        match result {
            Ok((effects, fuel_used, log)) => outcomes.push(PluginOutcome {
                plugin: record.name.clone(),
                sha256: record.sha256.clone(),
                status: OutcomeStatus::Applied,
                error: None,
                effects,
                fuel_used,
                log,
            }),
            Err(err) if record.on_error == OnError::Skip => outcomes.push(PluginOutcome {
                plugin: record.name.clone(),
                sha256: record.sha256.clone(),
                status: OutcomeStatus::Skipped,
                error: Some(OutcomeError {
                    code: err.kind.code().as_str().to_string(),
                    message: err.message,
                }),
                effects: Vec::new(),
                fuel_used: 0,
                log: Vec::new(),
            }),
            Err(err) => return Err(err.into_error(Some((&record.name, &record.sha256)))),
        }
    }
    Ok(outcomes)
}

/// Run the checkout plugins and apply their discounts to `lines` (priced with the
/// programme's discounts, before redemption and accrual).
pub(crate) fn checkout<R: Reader>(
    plugins: &Plugins<'_>,
    reader: &R,
    ctx: &Ctx,
    program: &Program,
    facts: &CheckoutFacts<'_>,
    lines: &mut [VisitLine],
) -> Result<CheckoutEffects> {
    if plugins.active.for_hook(Hook::Checkout).next().is_none() {
        return Ok(CheckoutEffects::default());
    }
    let customer = customer_input(ctx, program, facts.customer, Some(facts.book));
    let vehicle = facts.vehicle.map(|v| VehicleInput {
        id: v.id,
        make: &v.make,
        model: &v.model,
        year: v.year,
        age_years: v.year.map(|y| ctx.today.year() - i32::from(y)),
        mileage_km: facts.mileage.or(v.mileage_km),
        usage: v.usage,
    });
    let basket = BasketInput {
        lines: lines
            .iter()
            .map(|l| LineFacts {
                index: l.index,
                sku: &l.sku,
                name: &l.name,
                kind: l.kind,
                category: l.category.as_deref(),
                qty: l.qty,
                unit_price: l.unit_price,
                gross: l.gross,
                host_discount: l.host_discount,
                promo: l.promo,
                discount: l.discount,
                discount_source: l.discount_source.as_deref(),
                net: l.net,
            })
            .collect(),
        gross: lines.iter().map(|l| l.gross).sum(),
        net: lines.iter().map(|l| l.net).sum(),
    };
    let common = common_json(ctx, program, customer, vehicle, Some(basket))?;
    let before: Vec<VisitLine> = lines.to_vec();
    let frame = Frame {
        hook: Hook::Checkout,
        ctx,
        program,
        lines: &before,
    };
    let mut outcomes = run_all(plugins, reader, &frame, &common)?;
    apply_line_discounts(&mut outcomes, lines);
    apply_basket_discounts(&mut outcomes, lines);
    Ok(summarise(outcomes))
}

/// Run the registration plugins for a new customer.
pub(crate) fn registration<R: Reader>(
    plugins: &Plugins<'_>,
    reader: &R,
    ctx: &Ctx,
    program: &Program,
    customer: &Customer,
    book: &Book,
) -> Result<CheckoutEffects> {
    if plugins.active.for_hook(Hook::Registration).next().is_none() {
        return Ok(CheckoutEffects::default());
    }
    let input = customer_input(ctx, program, customer, Some(book));
    let common = common_json(ctx, program, input, None, None)?;
    let frame = Frame {
        hook: Hook::Registration,
        ctx,
        program,
        lines: &[],
    };
    let outcomes = run_all(plugins, reader, &frame, &common)?;
    Ok(summarise(outcomes))
}

fn summarise(outcomes: Vec<PluginOutcome>) -> CheckoutEffects {
    let mut out = CheckoutEffects::default();
    for outcome in &outcomes {
        if let Some(error) = &outcome.error {
            out.messages.push(Message {
                kind: "plugin_skipped".into(),
                text: format!("Акция «{}» не применена: {}", outcome.plugin, error.code),
            });
        }
        for effect in &outcome.effects {
            match effect {
                AppliedEffect::BonusPoints { points, .. } => out.bonus += *points,
                AppliedEffect::Accrual { multiplier, .. } => {
                    let (product, names) = out
                        .accrual
                        .get_or_insert_with(|| (Decimal::ONE, Vec::new()));
                    *product = (*product * *multiplier).min(MULTIPLIER_MAX);
                    if !names.contains(&outcome.plugin) {
                        names.push(outcome.plugin.clone());
                    }
                }
                AppliedEffect::Message { to, text } => out.messages.push(Message {
                    kind: match to {
                        Audience::Cashier => "promotion".into(),
                        Audience::Customer => "promotion_customer".into(),
                    },
                    text: text.clone(),
                }),
                _ => {}
            }
        }
    }
    out.outcomes = outcomes;
    out
}

fn add_source(line: &mut VisitLine, source: &str) {
    match &mut line.discount_source {
        Some(existing) if existing.split('+').any(|s| s == source) => {}
        Some(existing) => {
            existing.push('+');
            existing.push_str(source);
        }
        None => line.discount_source = Some(source.to_string()),
    }
}

fn set_discount(line: &mut VisitLine, discount: Decimal) {
    let base = line.gross - line.host_discount;
    line.discount = normalize::money(discount.min(base));
    line.net = base - line.discount;
    line.money = line.net;
    line.discount_percent = if base > Decimal::ZERO {
        (line.discount * Decimal::ONE_HUNDRED / base)
            .round_dp(2)
            .normalize()
    } else {
        Decimal::ZERO
    };
}

fn apply_line_discounts(outcomes: &mut [PluginOutcome], lines: &mut [VisitLine]) {
    for line in lines.iter_mut() {
        let index = line.index;
        let mut stacked = line.discount;
        let mut left = line.net;
        let mut stack_sources: Vec<String> = Vec::new();
        let mut best_exclusive: Option<(usize, usize, Decimal)> = None;
        let mut touched = false;
        for (o, outcome) in outcomes.iter_mut().enumerate() {
            for (e, effect) in outcome.effects.iter_mut().enumerate() {
                if let AppliedEffect::LineDiscount {
                    line: target,
                    requested,
                    applied,
                    exclusive,
                    ..
                } = effect
                    && *target == index
                {
                    touched = true;
                    if *exclusive {
                        if best_exclusive.is_none_or(|(_, _, best)| *requested > best) {
                            best_exclusive = Some((o, e, *requested));
                        }
                    } else {
                        *applied = (*requested).min(left);
                        left -= *applied;
                        stacked += *applied;
                        if *applied > Decimal::ZERO {
                            stack_sources.push(format!("plugin:{}", outcome.plugin));
                        }
                    }
                }
            }
        }
        if !touched {
            continue;
        }
        match best_exclusive {
            Some((o, e, amount)) if amount > stacked => {
                // The exclusive discount wins alone: every other one on the line is off.
                for outcome in outcomes.iter_mut() {
                    for effect in outcome.effects.iter_mut() {
                        if let AppliedEffect::LineDiscount {
                            line: target,
                            applied,
                            ..
                        } = effect
                            && *target == index
                        {
                            *applied = normalize::money(Decimal::ZERO);
                        }
                    }
                }
                if let AppliedEffect::LineDiscount { applied, .. } = &mut outcomes[o].effects[e] {
                    *applied = amount;
                }
                line.discount_source = None;
                add_source(line, &format!("plugin:{}", outcomes[o].plugin));
                set_discount(line, amount);
            }
            _ => {
                for source in &stack_sources {
                    add_source(line, source);
                }
                set_discount(line, stacked);
            }
        }
    }
}

/// Split `total` cents over lines in proportion to `weights` cents, never above them;
/// the largest remainders take the leftover cents, ties to the lower index.
fn spread(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i64 = weights.iter().sum();
    let mut shares = vec![0i64; weights.len()];
    if total <= 0 || sum <= 0 {
        return shares;
    }
    let total = total.min(sum);
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    let mut given = 0i64;
    for (i, weight) in weights.iter().enumerate() {
        let exact = i128::from(total) * i128::from(*weight);
        let share = (exact / i128::from(sum)) as i64;
        shares[i] = share.min(*weight);
        given += shares[i];
        remainders.push((exact % i128::from(sum), i));
    }
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut left = total - given;
    while left > 0 {
        let before = left;
        for (_, i) in &remainders {
            if left == 0 {
                break;
            }
            if shares[*i] < weights[*i] {
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

fn cents(value: Decimal) -> i64 {
    let cents = (value * Decimal::ONE_HUNDRED).trunc();
    i64::try_from(cents.mantissa() / 10i128.pow(cents.scale())).unwrap_or(0)
}

fn apply_basket_discounts(outcomes: &mut [PluginOutcome], lines: &mut [VisitLine]) {
    let exclusive_at = outcomes.iter().enumerate().find_map(|(o, outcome)| {
        outcome
            .effects
            .iter()
            .position(|effect| {
                matches!(
                    effect,
                    AppliedEffect::BasketDiscount {
                        exclusive: true,
                        ..
                    }
                )
            })
            .map(|e| (o, e))
    });
    let net: Decimal = lines.iter().map(|l| l.net).sum();
    let mut left = net;
    let mut sources: Vec<String> = Vec::new();
    for (o, outcome) in outcomes.iter_mut().enumerate() {
        for (e, effect) in outcome.effects.iter_mut().enumerate() {
            if let AppliedEffect::BasketDiscount {
                percent,
                requested,
                applied,
                ..
            } = effect
            {
                if exclusive_at.is_some_and(|at| at != (o, e)) {
                    *applied = normalize::money(Decimal::ZERO);
                    continue;
                }
                // A percent applies to the basket after line discounts.
                let amount = match percent {
                    Some(p) => normalize::money(net * *p / Decimal::ONE_HUNDRED),
                    None => *requested,
                };
                *applied = amount.min(left);
                left -= *applied;
                if *applied > Decimal::ZERO {
                    sources.push(format!("plugin:{}", outcome.plugin));
                }
            }
        }
    }
    let total = net - left;
    if total <= Decimal::ZERO {
        return;
    }
    let weights: Vec<i64> = lines.iter().map(|l| cents(l.net)).collect();
    let shares = spread(cents(total), &weights);
    for (line, share) in lines.iter_mut().zip(shares) {
        if share == 0 {
            continue;
        }
        let discount = line.discount + Decimal::new(share, 2);
        for source in &sources {
            add_source(line, source);
        }
        set_discount(line, discount);
    }
}

/// The bonus lots a visit's plugins created, in creation order: (lot, points, expiry).
pub(crate) fn bonus_lots(
    outcomes: &[PluginOutcome],
) -> impl Iterator<Item = (Option<u64>, Decimal, Option<NaiveDate>)> + '_ {
    outcomes
        .iter()
        .flat_map(|outcome| outcome.effects.iter())
        .filter_map(|effect| match effect {
            AppliedEffect::BonusPoints {
                points,
                expires_on,
                lot,
                ..
            } => Some((*lot, *points, *expires_on)),
            _ => None,
        })
}

/// At commit: credit bonus points as their own lots (recording the lot on the effect),
/// add tags to the customer (the caller saves it). Returns the first bonus lot.
pub(crate) fn commit_effects(
    ctx: &Ctx,
    customer: &mut Customer,
    book: &mut Book,
    visit: Option<u64>,
    outcomes: &mut [PluginOutcome],
) -> Result<Option<u64>> {
    let mut first_lot = None;
    for outcome in outcomes.iter_mut() {
        for effect in outcome.effects.iter_mut() {
            match effect {
                AppliedEffect::BonusPoints {
                    points,
                    expires_on,
                    reason,
                    lot,
                } => {
                    let id = book.credit(
                        ctx,
                        EntryKind::Bonus,
                        *points,
                        *expires_on,
                        None,
                        visit,
                        Some(format!("{}: {reason}", outcome.plugin)),
                        Some(format!("plugin:{}", outcome.plugin)),
                    )?;
                    *lot = Some(id);
                    first_lot.get_or_insert(id);
                }
                AppliedEffect::AddTags { tags } => {
                    for tag in tags.iter() {
                        if customer.tags.len() < normalize::TAGS_MAX && !customer.tags.contains(tag)
                        {
                            customer.tags.push(tag.clone());
                        }
                    }
                    customer.tags.sort();
                }
                _ => {}
            }
        }
    }
    Ok(first_lot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_exact_and_capped() {
        assert_eq!(spread(100, &[100, 100, 100]), vec![34, 33, 33]);
        assert_eq!(spread(1000, &[0, 0, 500]), vec![0, 0, 500]);
        assert_eq!(spread(7, &[1, 1000]).iter().sum::<i64>(), 7);
    }

    #[test]
    fn input_splices_config_and_name() {
        let input = input_for(
            Hook::Checkout,
            "x\"y",
            "{\"a\":1}",
            "{\"date\":\"2025-01-01\"}",
        );
        let value: Value = serde_json::from_slice(&input).unwrap();
        assert_eq!(value["plugin"], "x\"y");
        assert_eq!(value["config"]["a"], 1);
        assert_eq!(value["date"], "2025-01-01");
        assert_eq!(value["hook"], "checkout");
    }
}
