//! The defect sheet: works an advisor recommended at a visit and the customer declined
//! (or put off). Open ones come up at the car's next quote as cashier messages, on the
//! customer's card, and as reminders after the programme's delay; closing one records
//! how it ended. Nothing is ever deleted: the history settles disputes ("you were told").

use crate::context::{Ctx, check_money, ids_under, must, next_id};
use crate::customer::{self, CustomerRef};
use crate::error::{Error, Result};
use crate::normalize::{self, NOTES_CHARS_MAX, TEXT_CHARS_MAX};
use crate::paging::PageSize;
use crate::store::keys::{KeyBuilder, tag};
use crate::store::{Reader, WriteTxn};
use crate::vehicle::{self, VehicleRef};
use crate::visit;
use crate::wording::Language;
use crate::wording::{Message, format_date};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How soon the work should be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Urgency {
    /// Safety: do it now (brakes, steering).
    Critical,
    /// Soon (within weeks).
    #[default]
    Soon,
    /// At the next service.
    Planned,
}

/// Where a recommendation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecommendationStatus {
    /// Declined or put off; still to do.
    Open,
    /// Done at this shop.
    DoneHere,
    /// Done at another shop.
    DoneElsewhere,
    /// No longer relevant (car sold, advisor's mistake).
    Cancelled,
}

/// How a recommendation is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done at this shop.
    DoneHere,
    /// Done at another shop.
    DoneElsewhere,
    /// No longer relevant.
    Cancelled,
}

/// A recommended work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recommendation {
    /// Id.
    pub id: u64,
    /// Customer at the time.
    pub customer: u64,
    /// The car.
    pub vehicle: Option<u64>,
    /// Visit at which it was recommended.
    pub visit: Option<u64>,
    /// The work (`Замена тормозных колодок`).
    pub work: String,
    /// How soon.
    pub urgency: Urgency,
    /// Estimated price.
    pub price: Option<Decimal>,
    /// Advisor's note.
    pub note: Option<String>,
    /// Who recommended it.
    pub advisor: Option<String>,
    /// When recorded.
    pub at: DateTime<Utc>,
    /// Local date recorded.
    pub date: NaiveDate,
    /// Where it stands.
    pub status: RecommendationStatus,
    /// Local date closed.
    pub closed_on: Option<NaiveDate>,
    /// Visit that did the work (done here).
    pub closed_visit: Option<u64>,
    /// Why closed so.
    pub close_note: Option<String>,
}

/// Pages of the listing.
pub const LIST_PAGE: PageSize = PageSize::new(50, 200);
/// Most open recommendations shown to the cashier in one quote.
pub const MESSAGES_MAX: usize = 10;

fn key(id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::RECOMMENDATION).u64(id).build()
}

/// Key of the creation-date index (reminders scan it).
pub fn date_key(date: NaiveDate, id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::RECOMMENDATION_BY_DATE)
        .date(date)
        .u64(id)
        .build()
}

/// Load one by id.
pub fn load<R: Reader>(reader: &R, id: u64) -> Result<Recommendation> {
    must(reader.get(&key(id))?, "recommendation", id)
}

/// Arguments of `recommendation.add`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddArgs {
    /// Visit id at which it was recommended.
    #[serde(default)]
    pub visit: Option<u64>,
    /// Or the host's order id of that visit.
    #[serde(default)]
    pub order_id: Option<String>,
    /// Or, without a visit, the customer ...
    #[serde(default)]
    pub customer: Option<CustomerRef>,
    /// ... and the car (also overrides the visit's car).
    #[serde(default)]
    pub vehicle: Option<VehicleRef>,
    /// The work.
    pub work: String,
    /// How soon.
    #[serde(default)]
    pub urgency: Urgency,
    /// Estimated price.
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub price: Option<Decimal>,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
    /// Advisor (default: the visit's).
    #[serde(default)]
    pub advisor: Option<String>,
}

/// `recommendation.add`.
pub fn add(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: AddArgs) -> Result<Recommendation> {
    let work = normalize::text("work", &args.work, TEXT_CHARS_MAX)?;
    let price = args.price.map(|p| check_money("price", p)).transpose()?;
    let note = opt(&args.note, "note", NOTES_CHARS_MAX)?;
    let mut advisor = opt(&args.advisor, "advisor", TEXT_CHARS_MAX)?;
    let visit = match (&args.visit, &args.order_id, &args.customer) {
        (Some(id), None, None) => Some(visit::load(txn, *id)?),
        (None, Some(order), None) => {
            let order = normalize::identifier("order_id", order)?;
            let id =
                visit::by_order(txn, &order)?.ok_or_else(|| Error::not_found("order", &order))?;
            Some(visit::load(txn, id)?)
        }
        (None, None, Some(_)) => None,
        _ => {
            return Err(Error::invalid(
                "visit",
                "give exactly one of visit, order_id, customer",
            ));
        }
    };
    let (customer, mut vehicle) = match (&visit, &args.customer) {
        (Some(visit), _) => (visit.customer, visit.vehicle),
        (None, Some(reference)) => (customer::resolve(txn, ctx, reference)?.id, None),
        (None, None) => return Err(Error::internal("recommendation without an owner")),
    };
    if let Some(car) = vehicle::resolve_owned(txn, args.vehicle.as_ref(), customer)? {
        vehicle = Some(car);
    }
    if advisor.is_none() {
        advisor = visit.as_ref().and_then(|v| v.advisor.clone());
    }
    let id = next_id(txn, "next_recommendation")?;
    let record = Recommendation {
        id,
        customer,
        vehicle,
        visit: visit.as_ref().map(|v| v.id),
        work,
        urgency: args.urgency,
        price,
        note,
        advisor,
        at: ctx.at,
        date: ctx.today,
        status: RecommendationStatus::Open,
        closed_on: None,
        closed_visit: None,
        close_note: None,
    };
    txn.put(key(id), &record)?;
    txn.put(
        KeyBuilder::new(tag::CUSTOMER_RECOMMENDATION)
            .u64(customer)
            .u64(id)
            .build(),
        &(),
    )?;
    if let Some(vehicle) = vehicle {
        txn.put(
            KeyBuilder::new(tag::VEHICLE_RECOMMENDATION)
                .u64(vehicle)
                .u64(id)
                .build(),
            &(),
        )?;
    }
    txn.put(date_key(ctx.today, id), &())?;
    Ok(record)
}

fn opt(value: &Option<String>, field: &str, max: usize) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) => {
            let v = normalize::optional_text(field, v, max)?;
            Ok((!v.is_empty()).then_some(v))
        }
    }
}

/// Arguments of `recommendation.close`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseArgs {
    /// Which.
    pub id: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Visit that did the work (for `done_here`).
    #[serde(default)]
    pub visit: Option<u64>,
    /// Why.
    #[serde(default)]
    pub note: Option<String>,
}

/// `recommendation.close`: the record stays, with its outcome and date.
pub fn close(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: CloseArgs) -> Result<Recommendation> {
    let mut record = load(txn, args.id)?;
    if record.status != RecommendationStatus::Open {
        return Err(Error::invalid(
            "id",
            format!(
                "recommendation {} is already closed ({:?} on {})",
                record.id,
                record.status,
                record.closed_on.map(|d| d.to_string()).unwrap_or_default()
            ),
        )
        .with_details(json!({ "field": "id", "status": record.status })));
    }
    if let Some(visit_id) = args.visit {
        if args.outcome != Outcome::DoneHere {
            return Err(Error::invalid("visit", "only done_here names a visit"));
        }
        let visit = visit::load(txn, visit_id)?;
        if visit.customer != record.customer
            && visit.vehicle.is_none_or(|v| Some(v) != record.vehicle)
        {
            return Err(Error::invalid(
                "visit",
                format!("visit {visit_id} is not of this customer or car"),
            ));
        }
    }
    record.status = match args.outcome {
        Outcome::DoneHere => RecommendationStatus::DoneHere,
        Outcome::DoneElsewhere => RecommendationStatus::DoneElsewhere,
        Outcome::Cancelled => RecommendationStatus::Cancelled,
    };
    record.closed_on = Some(ctx.today);
    record.closed_visit = args.visit;
    record.close_note = opt(&args.note, "note", NOTES_CHARS_MAX)?;
    txn.put(key(record.id), &record)?;
    Ok(record)
}

/// Arguments of `recommendation.list`: a customer or a vehicle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Whose.
    #[serde(default)]
    pub customer: Option<CustomerRef>,
    /// Or which car.
    #[serde(default)]
    pub vehicle: Option<VehicleRef>,
    /// Only those still open.
    #[serde(default)]
    pub open_only: bool,
    /// How many, newest first (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// `recommendation.list`, newest first.
pub fn list<R: Reader>(reader: &R, ctx: &Ctx, args: &ListArgs) -> Result<Vec<Recommendation>> {
    let limit = LIST_PAGE.of(args.limit)?;
    let prefix = match (&args.customer, &args.vehicle) {
        (Some(reference), None) => KeyBuilder::new(tag::CUSTOMER_RECOMMENDATION)
            .u64(customer::resolve(reader, ctx, reference)?.id)
            .build(),
        (None, Some(reference)) => KeyBuilder::new(tag::VEHICLE_RECOMMENDATION)
            .u64(vehicle::resolve(reader, reference)?.id)
            .build(),
        _ => {
            return Err(Error::invalid(
                "customer",
                "give exactly one of customer, vehicle",
            ));
        }
    };
    collect(reader, &prefix, limit, args.open_only)
}

fn collect<R: Reader>(
    reader: &R,
    prefix: &[u8],
    limit: usize,
    open_only: bool,
) -> Result<Vec<Recommendation>> {
    // Bounded: a car's or customer's sheet is short; at most this many are examined.
    let ids = ids_under(reader, prefix, LIST_PAGE.max * 10, true)?;
    let mut out = Vec::new();
    for id in ids {
        let record = load(reader, id)?;
        if open_only && record.status != RecommendationStatus::Open {
            continue;
        }
        out.push(record);
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

/// Open recommendations of a customer, newest first (for the card).
pub fn open_of_customer<R: Reader>(reader: &R, customer: u64) -> Result<Vec<Recommendation>> {
    let prefix = KeyBuilder::new(tag::CUSTOMER_RECOMMENDATION)
        .u64(customer)
        .build();
    collect(reader, &prefix, LIST_PAGE.max, true)
}

/// Cashier messages for a quote: open works for the car being serviced (or, without a
/// car, every open work of the customer).
pub fn cashier_messages<R: Reader>(
    reader: &R,
    customer: u64,
    vehicle: Option<u64>,
    language: Language,
) -> Result<Vec<Message>> {
    let prefix = match vehicle {
        Some(vehicle) => KeyBuilder::new(tag::VEHICLE_RECOMMENDATION)
            .u64(vehicle)
            .build(),
        None => KeyBuilder::new(tag::CUSTOMER_RECOMMENDATION)
            .u64(customer)
            .build(),
    };
    let open = collect(reader, &prefix, MESSAGES_MAX, true)?;
    Ok(open
        .iter()
        .map(|r| {
            let mut text = format!("Рекомендовано {}: {}", format_date(r.date), r.work);
            if let Some(price) = r.price {
                text.push_str(&format!(" (≈{})", language.number(&price.to_string())));
            }
            if r.urgency == Urgency::Critical {
                text.push_str(" — срочно");
            }
            Message {
                kind: "recommendation".into(),
                text,
            }
        })
        .collect())
}
