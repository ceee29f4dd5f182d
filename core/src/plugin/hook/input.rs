//! Building a plugin's input: the customer, the car, the basket and the programme as the
//! plugin ABI (plugins/ABI.md) describes them, encoded once per operation and shared by
//! every plugin.

use super::Hook;
use crate::context::{Ctx, days_since_birthday, days_until_birthday};
use crate::customer::{Customer, CustomerKind, Gender};
use crate::error::{Error, Result};
use crate::ledger::Book;
use crate::normalize;
use crate::program::{LineKind, Program};
use crate::vehicle::{Usage, Vehicle};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
pub(super) struct PointsInput {
    pub(super) value: Decimal,
    pub(super) scale: u32,
}

#[derive(Serialize)]
pub(super) struct CustomerInput<'a> {
    pub(super) id: u64,
    pub(super) name: &'a str,
    pub(super) kind: CustomerKind,
    pub(super) gender: Gender,
    pub(super) tier: Option<&'a str>,
    pub(super) tags: &'a [String],
    pub(super) vip: bool,
    pub(super) agreement: Option<&'a str>,
    pub(super) company: Option<u64>,
    pub(super) source: Option<&'a str>,
    pub(super) birthday: Option<NaiveDate>,
    pub(super) days_to_birthday: Option<i64>,
    pub(super) days_since_birthday: Option<i64>,
    pub(super) balance: Decimal,
    pub(super) available: Decimal,
    pub(super) visits: u32,
    pub(super) first_visit: bool,
    pub(super) days_since_last_visit: Option<i64>,
    pub(super) total_spend: Decimal,
    pub(super) registered_on: NaiveDate,
}

#[derive(Serialize)]
pub(super) struct VehicleInput<'a> {
    pub(super) id: u64,
    pub(super) make: &'a str,
    pub(super) model: &'a str,
    pub(super) year: Option<u16>,
    pub(super) age_years: Option<i32>,
    pub(super) mileage_km: Option<u32>,
    pub(super) usage: Usage,
}

#[derive(Serialize)]
pub(super) struct LineFacts<'a> {
    pub(super) index: u32,
    pub(super) sku: &'a str,
    pub(super) name: &'a str,
    pub(super) kind: LineKind,
    pub(super) category: Option<&'a str>,
    pub(super) qty: Decimal,
    pub(super) unit_price: Decimal,
    pub(super) gross: Decimal,
    pub(super) host_discount: Decimal,
    pub(super) promo: bool,
    pub(super) discount: Decimal,
    pub(super) discount_source: Option<&'a str>,
    pub(super) net: Decimal,
}

#[derive(Serialize)]
pub(super) struct BasketInput<'a> {
    pub(super) lines: Vec<LineFacts<'a>>,
    pub(super) gross: Decimal,
    pub(super) net: Decimal,
}

#[derive(Serialize)]
pub(super) struct CommonInput<'a> {
    pub(super) date: NaiveDate,
    pub(super) weekday: u32,
    pub(super) at: DateTime<Utc>,
    pub(super) currency: &'a str,
    pub(super) points: PointsInput,
    pub(super) customer: CustomerInput<'a>,
    pub(super) vehicle: Option<VehicleInput<'a>>,
    pub(super) basket: Option<BasketInput<'a>>,
}

/// What the checkout knows when it calls the plugins.
pub(crate) struct CheckoutFacts<'a> {
    pub(crate) customer: &'a Customer,
    pub(crate) vehicle: Option<&'a Vehicle>,
    pub(crate) mileage: Option<u32>,
    pub(crate) book: &'a Book,
}

pub(super) fn customer_input<'a>(
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

pub(super) fn common_json(
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
pub(super) fn input_for(hook: Hook, name: &str, config_json: &str, common: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(common.len() + config_json.len() + 96);
    out.extend_from_slice(b"{\"abi\":");
    out.extend_from_slice(crate::plugin::ABI_VERSION.to_string().as_bytes());
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
