//! Checking a plugin's output: every effect is parsed and validated against the limits
//! and the basket before anything is applied; a bad effect fails the plugin, never the
//! operation's data.

use super::*;
use super::{Hook, Limits, PluginError, PluginErrorKind};
use crate::context::Ctx;
use crate::normalize;
use crate::program::Program;
use crate::visit::VisitLine;
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

/// Most effects one plugin may return in one call.
pub const EFFECTS_MAX: usize = 64;

/// Longest message text in characters.
pub const MESSAGE_CHARS_MAX: usize = 500;

/// Highest accrual multiplier.
pub const MULTIPLIER_MAX: Decimal = Decimal::from_parts(10, 0, 0, false, 0);

/// Farthest a reminder or a bonus expiry may lie, in days.
pub const DAYS_MAX: u32 = 3660;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Output {
    #[serde(default)]
    pub(super) effects: Option<Vec<Value>>,
    #[serde(default)]
    pub(super) error: Option<GuestError>,
}

/// The output schema as serde's internally tagged enum: what `flat` must agree with.
#[cfg(test)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TypedOutput {
    pub(super) effects: Vec<EffectInput>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GuestError {
    pub(super) code: String,
    pub(super) message: String,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum EffectInput {
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
pub(super) struct Frame<'a> {
    pub(super) hook: Hook,
    pub(super) ctx: &'a Ctx,
    pub(super) program: &'a Program,
    /// Lines as priced before any plugin (checkout only).
    pub(super) lines: &'a [VisitLine],
}

pub(super) fn invalid(index: usize, message: impl Into<String>) -> PluginError {
    PluginError::new(
        PluginErrorKind::InvalidEffect,
        format!("effect {index}: {}", message.into()),
    )
    .with_detail("effect", index)
}

pub(super) fn money_value(
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

pub(super) fn percent_value(
    index: usize,
    value: Decimal,
) -> std::result::Result<Decimal, PluginError> {
    if value <= Decimal::ZERO || value > Decimal::ONE_HUNDRED || value.normalize().scale() > 2 {
        return Err(invalid(
            index,
            format!("percent {value} must be in (0, 100] with at most 2 decimals"),
        ));
    }
    Ok(value.normalize())
}

pub(super) fn reason_text(
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

pub(super) fn one_of(
    index: usize,
    percent: Option<Decimal>,
    amount: Option<Decimal>,
    base: Decimal,
    what: impl FnOnce() -> String,
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
                    format!("a discount of {amount} exceeds {} of {base}", what()),
                ));
            }
            Ok((None, amount))
        }
        _ => Err(invalid(index, "give exactly one of percent, amount")),
    }
}

type Checked<T> = std::result::Result<T, PluginError>;

/// Check one effect a plugin returned and turn it into what will be applied.
pub(super) fn validate(
    frame: &Frame<'_>,
    limits: &Limits,
    index: usize,
    effect: EffectInput,
) -> Checked<AppliedEffect> {
    match effect {
        EffectInput::LineDiscount {
            line,
            percent,
            amount,
            exclusive,
            reason,
        } => {
            checkout_only(frame, index, "line_discount")?;
            line_discount(frame, index, line, (percent, amount), exclusive, reason)
        }
        EffectInput::BasketDiscount {
            percent,
            amount,
            exclusive,
            reason,
        } => {
            checkout_only(frame, index, "basket_discount")?;
            let net: Decimal = frame.lines.iter().map(|l| l.net).sum();
            let (percent, requested) = one_of(index, percent, amount, net, || {
                "the basket's amount".to_string()
            })?;
            Ok(AppliedEffect::BasketDiscount {
                percent,
                requested,
                applied: normalize::money(Decimal::ZERO),
                exclusive,
                reason: reason_text(index, reason)?,
            })
        }
        EffectInput::BonusPoints {
            points,
            reason,
            expires_in_days,
        } => bonus_points(frame, limits, index, points, reason, expires_in_days),
        EffectInput::Accrual { multiplier, reason } => {
            checkout_only(frame, index, "accrual")?;
            accrual(index, multiplier, reason)
        }
        EffectInput::Message { to, text } => {
            let text = normalize::text("text", &text, MESSAGE_CHARS_MAX)
                .map_err(|err| invalid(index, err.message))?;
            Ok(AppliedEffect::Message { to, text })
        }
        EffectInput::AddTags { tags } => add_tags(index, &tags),
        EffectInput::Reminder {
            kind,
            due_on,
            in_days,
            text,
        } => reminder(frame, index, kind, (due_on, in_days), text),
    }
}

/// Basket effects make sense only while a basket is being priced.
fn checkout_only(frame: &Frame<'_>, index: usize, name: &str) -> Checked<()> {
    if frame.hook == Hook::Checkout {
        return Ok(());
    }
    Err(invalid(
        index,
        format!(
            "{name} is not available in the {} hook",
            frame.hook.as_str()
        ),
    ))
}

fn line_discount(
    frame: &Frame<'_>,
    index: usize,
    line: u32,
    (percent, amount): (Option<Decimal>, Option<Decimal>),
    exclusive: bool,
    reason: Option<String>,
) -> Checked<AppliedEffect> {
    let Some(priced) = frame.lines.get(line as usize) else {
        return Err(invalid(
            index,
            format!(
                "line {line} does not exist (the basket has {})",
                frame.lines.len()
            ),
        ));
    };
    // An exclusive discount replaces the programme's, so it is measured against the line
    // before it; a stacking one against what the programme left.
    let base = if exclusive {
        priced.gross - priced.host_discount
    } else {
        priced.net
    };
    let (percent, requested) = one_of(index, percent, amount, base, || {
        format!("line {line}'s amount")
    })?;
    Ok(AppliedEffect::LineDiscount {
        line,
        percent,
        requested,
        applied: normalize::money(Decimal::ZERO),
        exclusive,
        reason: reason_text(index, reason)?,
    })
}

fn bonus_points(
    frame: &Frame<'_>,
    limits: &Limits,
    index: usize,
    points: Decimal,
    reason: String,
    expires_in_days: Option<u32>,
) -> Checked<AppliedEffect> {
    let scale = frame.program.points.scale;
    if points <= Decimal::ZERO || points.normalize().scale() > scale {
        return Err(invalid(
            index,
            format!("bonus of {points} points must be positive with at most {scale} decimals"),
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
    Ok(AppliedEffect::BonusPoints {
        points: normalize::exact_scale(points, scale),
        expires_on,
        reason,
        lot: None,
    })
}

fn accrual(index: usize, multiplier: Decimal, reason: Option<String>) -> Checked<AppliedEffect> {
    if multiplier < Decimal::ZERO
        || multiplier > MULTIPLIER_MAX
        || multiplier.normalize().scale() > 2
    {
        return Err(invalid(
            index,
            format!("multiplier {multiplier} must be 0..={MULTIPLIER_MAX} with at most 2 decimals"),
        ));
    }
    Ok(AppliedEffect::Accrual {
        multiplier: multiplier.normalize(),
        reason: reason_text(index, reason)?,
    })
}

fn add_tags(index: usize, tags: &[String]) -> Checked<AppliedEffect> {
    if tags.is_empty() || tags.len() > 8 {
        return Err(invalid(index, "add_tags takes 1..=8 tags"));
    }
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = normalize::text("tags", tag, 64)
            .map_err(|err| invalid(index, err.message))?
            .to_lowercase();
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(AppliedEffect::AddTags { tags: out })
}

fn reminder(
    frame: &Frame<'_>,
    index: usize,
    kind: String,
    (due_on, in_days): (Option<NaiveDate>, Option<u32>),
    text: Option<String>,
) -> Checked<AppliedEffect> {
    let kind = normalize::identifier("kind", &kind).map_err(|err| invalid(index, err.message))?;
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
    Ok(AppliedEffect::Reminder { kind, due_on, text })
}

pub(super) fn parse_output(
    frame: &Frame<'_>,
    limits: &Limits,
    output: &[u8],
) -> std::result::Result<Vec<AppliedEffect>, PluginError> {
    // Fast path: a well-formed output decodes in one pass straight into typed effects
    // (no intermediate tree, see `flat`); anything else goes the slow way below, which
    // names the offending effect.
    if let Ok(flat) = serde_json::from_slice::<super::flat::FlatOutput>(output)
        && flat.len() <= EFFECTS_MAX
        && let Some(effects) = flat.into_effects()
    {
        let mut out = Vec::with_capacity(effects.len());
        for (index, effect) in effects.into_iter().enumerate() {
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
