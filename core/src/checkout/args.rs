//! The arguments of `checkout.quote` and `checkout.commit`: the basket's lines, the
//! redemption asked for, and the request they make once the customer, the car and the
//! exclusive catalogue are checked.

use crate::amount::QTY_MAX;
use crate::context::Ctx;
use crate::customer::{self, Customer, CustomerRef};
use crate::error::{Error, ErrorCode, Result};
use crate::ledger;
use crate::naming;
use crate::normalize::{self, TEXT_CHARS_MAX};
use crate::program::{LineKind, Program};
use crate::store::Reader;
use crate::vehicle::{self, VehicleRef};
use crate::visit::{self, LINES_MAX};
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

/// Refuse lines of the exclusive catalogue the customer's tier does not reach; every
/// such line is named with the tier it needs.
pub(super) fn check_exclusive(
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

pub(super) struct Request {
    pub(super) customer: Customer,
    /// The customer as the caller named them, for messages.
    pub(super) who: String,
    pub(super) vehicle: Option<vehicle::Vehicle>,
    pub(super) mileage: Option<u32>,
    pub(super) lines: Vec<LineInput>,
    pub(super) redeem: Redeem,
}

#[derive(Clone, Copy)]
pub(super) enum Redeem {
    None,
    Max,
    Points(Decimal),
}

/// Run a check of line `index`'s field `name` under the bare name, and only when it fails
/// again under the line's full path (`lines[3].sku`) for the error: a valid basket
/// formats no field names. Formatting three per line was 6% of a quote's CPU in a
/// profile; `plugin_bench --profile quote-none`, four interleaved pairs: 28,060 -> 29,390
/// quotes/s (medians). The checks are pure, so the second run fails as the first did.
fn on_line<T>(index: usize, name: &str, check: impl Fn(&str) -> Result<T>) -> Result<T> {
    let bare = match check(name) {
        Ok(value) => return Ok(value),
        Err(bare) => bare,
    };
    match check(&line_field(index, name)) {
        Err(named) => Err(named),
        Ok(_) => {
            debug_assert!(false, "a line check passed the second time");
            Err(bare)
        }
    }
}

/// The path of line `index`'s field `name` in a request, as errors name it.
fn line_field(index: usize, name: &str) -> String {
    format!("lines[{index}].{name}")
}

pub(crate) fn check_lines(lines: &[LineInput]) -> Result<()> {
    if lines.is_empty() {
        return Err(Error::invalid("lines", "the basket is empty"));
    }
    if lines.len() > LINES_MAX {
        return Err(Error::too_large("lines", LINES_MAX));
    }
    for (i, line) in lines.iter().enumerate() {
        let field = |name: &str| line_field(i, name);
        on_line(i, "sku", |field| normalize::identifier(field, &line.sku))?;
        on_line(i, "name", |field| {
            normalize::text(field, &line.name, TEXT_CHARS_MAX)
        })?;
        if let Some(category) = &line.category {
            on_line(i, "category", |field| {
                normalize::optional_text(field, category, 64)
            })?;
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

pub(super) fn parse_redeem(value: &Option<String>, scale: u32) -> Result<Redeem> {
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

pub(super) fn load_request<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    args: &CheckoutArgs,
) -> Result<Request> {
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
    if let Some(branch) = &args.branch {
        normalize::optional_text("branch", branch, visit::BRANCH_CHARS_MAX)?;
    }
    if let Some(advisor) = &args.advisor {
        normalize::optional_text("advisor", advisor, TEXT_CHARS_MAX)?;
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
pub(super) fn agreement_code<R: Reader>(reader: &R, customer: &Customer) -> Result<Option<String>> {
    if customer.agreement.is_some() {
        return Ok(customer.agreement.clone());
    }
    match customer.company {
        Some(company) => Ok(customer::load(reader, company)?.agreement),
        None => Ok(None),
    }
}
