//! Applying checked effects to a priced basket: line discounts (stacking or exclusive),
//! basket discounts spread in proportion, bonus lots, and what the commit records.

use super::*;
use crate::amount::split_largest_remainder;
use crate::context::Ctx;
use crate::customer::Customer;
use crate::error::Result;
use crate::ledger::{Book, Credit, EntryKind};
use crate::normalize;
use crate::visit::VisitLine;
use crate::wording::Message;
use chrono::NaiveDate;
use rust_decimal::Decimal;

pub(super) fn summarise(outcomes: Vec<PluginOutcome>) -> CheckoutEffects {
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

pub(super) fn add_source(line: &mut VisitLine, source: &str) {
    match &mut line.discount_source {
        Some(existing) if existing.split('+').any(|s| s == source) => {}
        Some(existing) => {
            existing.push('+');
            existing.push_str(source);
        }
        None => line.discount_source = Some(source.to_string()),
    }
}

pub(super) fn set_discount(line: &mut VisitLine, discount: Decimal) {
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

pub(super) fn apply_line_discounts(outcomes: &mut [PluginOutcome], lines: &mut [VisitLine]) {
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

/// Split `total` cents over lines in proportion to `weights` cents, never above them
/// (and never more than their sum).
pub(super) fn spread(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i64 = weights.iter().sum();
    let decimal_weights: Vec<Decimal> = weights.iter().map(|w| Decimal::from(*w)).collect();
    split_largest_remainder(total.min(sum), &decimal_weights, weights)
}

pub(super) fn cents(value: Decimal) -> i64 {
    let cents = (value * Decimal::ONE_HUNDRED).trunc();
    i64::try_from(cents.mantissa() / 10i128.pow(cents.scale())).unwrap_or(0)
}

pub(super) fn apply_basket_discounts(outcomes: &mut [PluginOutcome], lines: &mut [VisitLine]) {
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
                        Credit::new(EntryKind::Bonus, *points)
                            .expiring(*expires_on)
                            .for_visit(visit)
                            .because(format!("{}: {reason}", outcome.plugin))
                            .by(format!("plugin:{}", outcome.plugin)),
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
