//! Special orders: a part ordered for one customer, its arrival (which makes the
//! customer due for a call) and its hand-over.

use crate::context::{Ctx, ids_under, must, next_id};
use crate::customer::{self, CustomerRef};
use crate::error::{Error, Result};
use crate::normalize::{self, NOTES_CHARS_MAX, TEXT_CHARS_MAX};
use crate::paging::{Page, PageSize};
use crate::store::keys::{self, KeyBuilder, tag};
use crate::store::{Reader, WriteTxn};
use crate::vehicle::{self, VehicleRef};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OrderStatus {
    /// Ordered from the supplier.
    Ordered,
    /// At the shop, waiting for the customer.
    Arrived,
    /// Given to the customer (or fitted).
    HandedOver,
}

/// A special order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpecialOrder {
    /// Id.
    pub id: u64,
    /// For whom.
    pub customer: u64,
    /// For which car.
    pub vehicle: Option<u64>,
    /// The part (`Колодки тормозные передние TRW GDB1550`).
    pub part: String,
    /// Host's article.
    pub sku: Option<String>,
    /// Quantity.
    pub qty: Decimal,
    /// Expected arrival date.
    pub expected: Option<NaiveDate>,
    /// Note.
    pub note: Option<String>,
    /// Status.
    pub status: OrderStatus,
    /// Created at.
    pub at: DateTime<Utc>,
    /// Local date ordered.
    pub ordered_on: NaiveDate,
    /// Local date it arrived.
    pub arrived_on: Option<NaiveDate>,
    /// Local date handed over.
    pub handed_over_on: Option<NaiveDate>,
}

/// Pages of the listing.
pub const LIST_PAGE: PageSize = PageSize::new(50, 200);

fn key(id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::SPECIAL_ORDER).u64(id).build()
}

/// Key of the arrival-date index.
pub fn arrived_key(date: NaiveDate, id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::SPECIAL_ORDER_ARRIVED)
        .date(date)
        .u64(id)
        .build()
}

/// Load an order.
pub fn load<R: Reader>(reader: &R, id: u64) -> Result<SpecialOrder> {
    must(reader.get(&key(id))?, "special order", id)
}

/// Arguments of `order.create`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateArgs {
    /// For whom.
    pub customer: CustomerRef,
    /// For which car.
    #[serde(default)]
    pub vehicle: Option<VehicleRef>,
    /// The part.
    pub part: String,
    /// Host's article.
    #[serde(default)]
    pub sku: Option<String>,
    /// Quantity (default 1).
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub qty: Option<Decimal>,
    /// Expected arrival.
    #[serde(default)]
    pub expected: Option<NaiveDate>,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// `order.create`.
pub fn create(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: CreateArgs) -> Result<SpecialOrder> {
    let owner = customer::resolve(txn, ctx, &args.customer)?;
    let part = normalize::text("part", &args.part, TEXT_CHARS_MAX)?;
    let sku = args
        .sku
        .as_deref()
        .map(|s| normalize::identifier("sku", s))
        .transpose()?;
    let qty = args.qty.unwrap_or(Decimal::ONE);
    if qty <= Decimal::ZERO || qty > crate::amount::QTY_MAX || qty.normalize().scale() > 3 {
        return Err(Error::invalid(
            "qty",
            format!("{qty} must be positive, at most 100000, 3 decimals"),
        ));
    }
    if let Some(expected) = args.expected
        && (expected < ctx.today - chrono::Duration::days(366)
            || expected > ctx.today + chrono::Duration::days(366))
    {
        return Err(Error::invalid(
            "expected",
            format!("{expected} must lie within a year of today"),
        ));
    }
    let vehicle = vehicle::resolve_owned(txn, args.vehicle.as_ref(), owner.id)?;
    let note = normalize::optional_note("note", args.note.as_deref(), NOTES_CHARS_MAX)?;
    let id = next_id(txn, "next_special_order")?;
    let order = SpecialOrder {
        id,
        customer: owner.id,
        vehicle,
        part,
        sku,
        qty,
        expected: args.expected,
        note,
        status: OrderStatus::Ordered,
        at: ctx.at,
        ordered_on: ctx.today,
        arrived_on: None,
        handed_over_on: None,
    };
    txn.put(key(id), &order)?;
    txn.put(
        KeyBuilder::new(tag::CUSTOMER_SPECIAL_ORDER)
            .u64(owner.id)
            .u64(id)
            .build(),
        &(),
    )?;
    Ok(order)
}

/// Arguments naming one order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdArgs {
    /// Order id.
    pub id: u64,
}

fn wrong_state(order: &SpecialOrder, wanted: &str) -> Error {
    Error::invalid(
        "id",
        format!(
            "special order {} is {}, it cannot be marked {wanted}",
            order.id,
            match order.status {
                OrderStatus::Ordered => "still ordered",
                OrderStatus::Arrived => "already arrived",
                OrderStatus::HandedOver => "already handed over",
            }
        ),
    )
    .with_details(json!({ "field": "id", "status": order.status }))
}

/// `order.arrived`: the customer becomes due for a call.
pub fn arrived(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: IdArgs) -> Result<SpecialOrder> {
    let mut order = load(txn, args.id)?;
    if order.status != OrderStatus::Ordered {
        return Err(wrong_state(&order, "arrived"));
    }
    order.status = OrderStatus::Arrived;
    order.arrived_on = Some(ctx.today);
    txn.put(key(order.id), &order)?;
    txn.put(arrived_key(ctx.today, order.id), &())?;
    Ok(order)
}

/// `order.handed_over`: done; no more calls.
pub fn handed_over(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: IdArgs) -> Result<SpecialOrder> {
    let mut order = load(txn, args.id)?;
    if order.status == OrderStatus::HandedOver {
        return Err(wrong_state(&order, "handed over"));
    }
    if let Some(date) = order.arrived_on {
        txn.delete(arrived_key(date, order.id));
    }
    order.status = OrderStatus::HandedOver;
    order.arrived_on = order.arrived_on.or(Some(ctx.today));
    order.handed_over_on = Some(ctx.today);
    txn.put(key(order.id), &order)?;
    Ok(order)
}

/// Arguments of `order.list`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// One customer's orders (newest first); without it every order by id.
    #[serde(default)]
    pub customer: Option<CustomerRef>,
    /// Only orders in this state.
    #[serde(default)]
    pub status: Option<OrderStatus>,
    /// Page size (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Without a customer: the last id of the previous page.
    #[serde(default)]
    pub after: Option<u64>,
}

/// A page of orders; `next` is the `after` of the next page.
pub type OrderPage = Page<SpecialOrder, u64>;

/// `order.list`.
pub fn list<R: Reader>(reader: &R, ctx: &Ctx, args: &ListArgs) -> Result<OrderPage> {
    let limit = LIST_PAGE.of(args.limit)?;
    let wanted = |o: &SpecialOrder| args.status.is_none_or(|s| s == o.status);
    if let Some(reference) = &args.customer {
        if args.after.is_some() {
            return Err(Error::invalid(
                "after",
                "pages only the list of every order",
            ));
        }
        let owner = customer::resolve(reader, ctx, reference)?;
        let prefix = KeyBuilder::new(tag::CUSTOMER_SPECIAL_ORDER)
            .u64(owner.id)
            .build();
        let mut items = Vec::new();
        for id in ids_under(reader, &prefix, LIST_PAGE.max * 10, true)? {
            let order = load(reader, id)?;
            if wanted(&order) {
                items.push(order);
                if items.len() == limit {
                    break;
                }
            }
        }
        return Ok(Page { items, next: None });
    }
    let mut start = match args.after {
        Some(after) => key(after.saturating_add(1)),
        None => vec![tag::SPECIAL_ORDER],
    };
    let end = keys::prefix_end(&[tag::SPECIAL_ORDER]);
    let mut items = Vec::new();
    let mut last = None;
    // Bounded: at most this many orders are read per page.
    let mut budget = LIST_PAGE.max * 10;
    while items.len() < limit && budget > 0 {
        let rows = reader.scan_range::<SpecialOrder>(&start, &end, limit.min(budget), false)?;
        if rows.is_empty() {
            last = None;
            break;
        }
        budget = budget.saturating_sub(rows.len());
        for (_, order) in rows {
            last = Some(order.id);
            if wanted(&order) {
                items.push(order);
                if items.len() == limit {
                    break;
                }
            }
        }
        if let Some(id) = last {
            start = key(id.saturating_add(1));
        }
    }
    Ok(Page { items, next: last })
}

/// Orders of a customer not yet handed over (for the card).
pub fn open_of_customer<R: Reader>(reader: &R, customer: u64) -> Result<Vec<SpecialOrder>> {
    let prefix = KeyBuilder::new(tag::CUSTOMER_SPECIAL_ORDER)
        .u64(customer)
        .build();
    let mut out = Vec::new();
    for id in ids_under(reader, &prefix, LIST_PAGE.max, true)? {
        let order = load(reader, id)?;
        if order.status != OrderStatus::HandedOver {
            out.push(order);
        }
    }
    Ok(out)
}
