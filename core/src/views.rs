//! What the reads of one record return: a customer's card (profile, cards, vehicles,
//! balance, tier and progress, last visits), a vehicle with its readings, a visit, a
//! customer's visits.

use crate::context::Ctx;
use crate::customer::{self, Customer, CustomerRef};
use crate::error::{Error, Result};
use crate::ledger::Book;
use crate::paging::PageSize;
use crate::points::{self, Balance};
use crate::store::Reader;
use crate::tier::{self, WindowStats};
use crate::vehicle::{self, Vehicle, VehicleRef};
use crate::visit::{self, Visit};
use crate::{order, recommendation, tyre_storage};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Arguments that are only a customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetCustomerArgs {
    /// Who.
    pub customer: CustomerRef,
}

/// Arguments of `vehicle.get`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetVehicleArgs {
    /// Which.
    pub vehicle: VehicleRef,
}

/// Arguments of `visit.get`: one of the two.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetVisitArgs {
    /// Visit id.
    #[serde(default)]
    pub visit: Option<u64>,
    /// Host order id.
    #[serde(default)]
    pub order_id: Option<String>,
}

/// Arguments of `visit.list`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListVisitsArgs {
    /// Whose.
    pub customer: CustomerRef,
    /// How many (1..=200, default 20).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A tier with progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TierView {
    /// Current code.
    pub code: Option<String>,
    /// Current display name.
    pub name: Option<String>,
    /// Benefits.
    pub benefits: Vec<String>,
    /// Spend and visits in the window.
    pub window: WindowStats,
    /// Next tier code.
    pub next: Option<String>,
    /// Spend missing for it.
    pub spend_missing: Option<Decimal>,
    /// Visits missing for it.
    pub visits_missing: Option<u32>,
}

/// `customer.get` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomerView {
    /// Profile.
    pub customer: Customer,
    /// Vehicles.
    pub vehicles: Vec<Vehicle>,
    /// Points.
    pub balance: Option<Balance>,
    /// Tier.
    pub tier: Option<TierView>,
    /// Latest visits.
    pub last_visits: Vec<VisitBrief>,
    /// Works recommended and not yet done (defect sheet), newest first.
    #[serde(default)]
    pub open_recommendations: Vec<recommendation::Recommendation>,
    /// Tyre sets in storage now.
    #[serde(default)]
    pub tyre_storage: Vec<tyre_storage::TyreStorage>,
    /// Special orders not yet handed over.
    #[serde(default)]
    pub special_orders: Vec<order::SpecialOrder>,
}

/// A visit in a list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisitBrief {
    /// Id.
    pub visit: u64,
    /// Host order id.
    pub order_id: String,
    /// Date.
    pub date: chrono::NaiveDate,
    /// Net amount.
    pub net: Decimal,
    /// Points paid.
    pub points: Decimal,
    /// Points earned.
    pub accrual: Decimal,
    /// Vehicle.
    pub vehicle: Option<u64>,
    /// Mileage.
    pub mileage: Option<u32>,
    /// Refunds made.
    pub refunds: usize,
}

impl From<&Visit> for VisitBrief {
    fn from(v: &Visit) -> Self {
        VisitBrief {
            visit: v.id,
            order_id: v.order_id.clone(),
            date: v.date,
            net: v.totals.net,
            points: v.totals.points,
            accrual: v.totals.accrual,
            vehicle: v.vehicle,
            mileage: v.mileage,
            refunds: v.refunds.len(),
        }
    }
}

pub(crate) fn customer_view<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    reference: &CustomerRef,
) -> Result<CustomerView> {
    let customer = customer::resolve(reader, ctx, reference)?;
    let vehicles = vehicle::of_customer(reader, customer.id)?;
    let last_visits = visit::latest(reader, customer.id, 5)?
        .iter()
        .map(VisitBrief::from)
        .collect();
    let (balance, tier) = match ctx.program.as_deref() {
        Some(program) => {
            let mut book = Book::load(reader, customer.id)?;
            book.settle(ctx)?;
            let stats = tier::window_stats(reader, program, customer.id, ctx.today)?;
            let current = customer.tier.as_deref().and_then(|code| program.tier(code));
            let next = tier::next_tier(program, customer.tier.as_deref(), &stats);
            let view = TierView {
                code: customer.tier.clone(),
                name: current.map(|t| t.name.clone()),
                benefits: current.map(|t| t.benefits.clone()).unwrap_or_default(),
                window: stats.clone(),
                next: next.map(|(t, _, _)| t.code.clone()),
                spend_missing: next.map(|(_, s, _)| s),
                visits_missing: next.map(|(_, _, v)| v),
            };
            (
                Some(points::balance_of(&book, program.points.value, ctx.today)),
                Some(view),
            )
        }
        None => (None, None),
    };
    let open_recommendations = recommendation::open_of_customer(reader, customer.id)?;
    let tyre_storage =
        tyre_storage::of_customer(reader, customer.id, true, tyre_storage::LIST_PAGE.max)?;
    let special_orders = order::open_of_customer(reader, customer.id)?;
    Ok(CustomerView {
        customer,
        vehicles,
        balance,
        tier,
        last_visits,
        open_recommendations,
        tyre_storage,
        special_orders,
    })
}

/// `vehicle.get` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VehicleView {
    /// The vehicle.
    pub vehicle: Vehicle,
    /// Readings, oldest first (last 100).
    pub readings: Vec<vehicle::MileageReading>,
    /// Estimated km per day.
    pub daily_km: Option<Decimal>,
}

pub(crate) fn vehicle_view<R: Reader>(reader: &R, reference: &VehicleRef) -> Result<VehicleView> {
    let vehicle = vehicle::resolve(reader, reference)?;
    Ok(VehicleView {
        readings: vehicle::latest_readings(reader, vehicle.id, 100)?,
        daily_km: vehicle::km_per_day(reader, vehicle.id)?,
        vehicle,
    })
}

pub(crate) fn get_visit<R: Reader>(reader: &R, args: &GetVisitArgs) -> Result<Visit> {
    match (&args.visit, &args.order_id) {
        (Some(id), None) => visit::load(reader, *id),
        (None, Some(order_id)) => {
            let id = visit::by_order(reader, order_id)?
                .ok_or_else(|| Error::not_found("order", order_id))?;
            visit::load(reader, id)
        }
        _ => Err(Error::invalid(
            "visit",
            "give exactly one of visit, order_id",
        )),
    }
}

/// Pages of `visit.list`.
pub const LIST_VISITS_PAGE: PageSize = PageSize::new(20, 200);

pub(crate) fn list_visits<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    args: &ListVisitsArgs,
) -> Result<Vec<VisitBrief>> {
    let limit = LIST_VISITS_PAGE.of(args.limit)?;
    let customer = customer::resolve(reader, ctx, &args.customer)?;
    Ok(visit::latest(reader, customer.id, limit)?
        .iter()
        .map(VisitBrief::from)
        .collect())
}
