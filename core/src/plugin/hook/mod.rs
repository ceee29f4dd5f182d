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

mod apply;
mod effects;
mod flat;
mod input;

pub use super::outcome::{AppliedEffect, Audience, OutcomeError, OutcomeStatus, PluginOutcome};
use super::{ActiveSet, Hook, Limits, OnError, PluginError, PluginErrorKind, PluginHost};
use crate::context::Ctx;
use crate::customer::Customer;
use crate::error::Result;
use crate::ledger::Book;
use crate::program::Program;
use crate::store::Reader;
use crate::visit::VisitLine;
use crate::wording::Message;
use apply::*;
pub(crate) use apply::{bonus_lots, commit_effects};
use chrono::Datelike;
pub use effects::MULTIPLIER_MAX;
use effects::*;
pub(crate) use input::CheckoutFacts;
use input::*;
use rust_decimal::Decimal;
use std::sync::Arc;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

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
