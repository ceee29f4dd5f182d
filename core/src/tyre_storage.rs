//! Seasonal tyre storage: which set of which customer lies where, since when, and for
//! which season, so the shop can call everyone with a stored set when the season turns.

use crate::context::{Ctx, ids_under, must, next_id};
use crate::customer::{self, CustomerRef};
use crate::error::{Error, Result};
use crate::normalize::{self, NOTES_CHARS_MAX, TEXT_CHARS_MAX};
use crate::paging::{Page, PageSize};
use crate::store::keys::{self, KeyBuilder, KeyReader, tag};
use crate::store::{Reader, WriteTxn};
use crate::vehicle::{self, VehicleRef};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The season a stored set is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Season {
    /// Summer tyres (picked up in spring).
    Summer,
    /// Winter tyres (picked up in autumn).
    Winter,
    /// All-season (no seasonal call).
    AllSeason,
}

/// A stored set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TyreStorage {
    /// Id.
    pub id: u64,
    /// Owner.
    pub customer: u64,
    /// Car the set belongs to.
    pub vehicle: Option<u64>,
    /// What was handed in (`Nokian Hakkapeliitta 9 205/55 R16 ×4`, `диски`).
    pub items: Vec<String>,
    /// Where it lies (rack, shelf).
    pub location: String,
    /// Season of the stored set.
    pub season: Season,
    /// Note.
    pub note: Option<String>,
    /// Checked in at.
    pub at: DateTime<Utc>,
    /// Local date checked in.
    pub checked_in: NaiveDate,
    /// Local date handed back (`None` while stored).
    pub checked_out: Option<NaiveDate>,
}

/// Most items in one set.
pub const ITEMS_MAX: usize = 16;
/// Pages of the listing.
pub const LIST_PAGE: PageSize = PageSize::new(50, 200);

fn key(id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::TYRE_STORAGE).u64(id).build()
}
/// Key of the index of sets in storage now.
pub(crate) fn active_key(id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::TYRE_STORAGE_ACTIVE).u64(id).build()
}

/// Load a set by id.
pub fn load<R: Reader>(reader: &R, id: u64) -> Result<TyreStorage> {
    must(reader.get(&key(id))?, "tyre storage", id)
}

/// Arguments of `storage.checkin`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckinArgs {
    /// Owner.
    pub customer: CustomerRef,
    /// Car.
    #[serde(default)]
    pub vehicle: Option<VehicleRef>,
    /// What (1..=16 lines).
    pub items: Vec<String>,
    /// Where.
    pub location: String,
    /// Season of the set.
    pub season: Season,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// `storage.checkin`.
pub fn checkin(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: CheckinArgs) -> Result<TyreStorage> {
    let owner = customer::resolve(txn, ctx, &args.customer)?;
    if args.items.is_empty() {
        return Err(Error::invalid("items", "list what is stored"));
    }
    if args.items.len() > ITEMS_MAX {
        return Err(Error::too_large("items", ITEMS_MAX));
    }
    let items = args
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| normalize::text(&format!("items[{i}]"), item, TEXT_CHARS_MAX))
        .collect::<Result<Vec<_>>>()?;
    let location = normalize::text("location", &args.location, TEXT_CHARS_MAX)?;
    let vehicle = vehicle::resolve_owned(txn, args.vehicle.as_ref(), owner.id)?;
    let note = normalize::optional_note("note", args.note.as_deref(), NOTES_CHARS_MAX)?;
    let id = next_id(txn, "next_tyre_storage")?;
    let record = TyreStorage {
        id,
        customer: owner.id,
        vehicle,
        items,
        location,
        season: args.season,
        note,
        at: ctx.at,
        checked_in: ctx.today,
        checked_out: None,
    };
    txn.put(key(id), &record)?;
    txn.put(active_key(id), &())?;
    txn.put(
        KeyBuilder::new(tag::CUSTOMER_TYRE_STORAGE)
            .u64(owner.id)
            .u64(id)
            .build(),
        &(),
    )?;
    Ok(record)
}

/// Arguments of `storage.checkout`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutArgs {
    /// Which set.
    pub id: u64,
}

/// `storage.checkout`: the set goes back to the customer; the record stays.
pub fn checkout(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: CheckoutArgs) -> Result<TyreStorage> {
    let mut record = load(txn, args.id)?;
    if let Some(date) = record.checked_out {
        return Err(Error::invalid(
            "id",
            format!("tyre set {} was already handed back on {date}", record.id),
        )
        .with_details(json!({ "field": "id", "checked_out": date })));
    }
    record.checked_out = Some(ctx.today);
    txn.put(key(record.id), &record)?;
    txn.delete(active_key(record.id));
    Ok(record)
}

/// Arguments of `storage.list`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// One customer's sets (newest first, stored and returned); without it, every set
    /// in storage now, by id.
    #[serde(default)]
    pub customer: Option<CustomerRef>,
    /// With a customer: only sets in storage now.
    #[serde(default)]
    pub active_only: bool,
    /// Page size (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Without a customer: the last id of the previous page.
    #[serde(default)]
    pub after: Option<u64>,
}

/// A page of sets; `next` is the `after` of the next page.
pub type StoragePage = Page<TyreStorage, u64>;

/// `storage.list`.
pub fn list<R: Reader>(reader: &R, ctx: &Ctx, args: &ListArgs) -> Result<StoragePage> {
    let limit = LIST_PAGE.of(args.limit)?;
    if let Some(reference) = &args.customer {
        if args.after.is_some() {
            return Err(Error::invalid("after", "pages only the list of every set"));
        }
        let owner = customer::resolve(reader, ctx, reference)?;
        let items = of_customer(reader, owner.id, args.active_only, limit)?;
        return Ok(Page { items, next: None });
    }
    let items = active_after(reader, args.after, limit)?;
    let next = (items.len() == limit)
        .then(|| items.last().map(|s| s.id))
        .flatten();
    Ok(Page { items, next })
}

/// A customer's sets, newest first.
pub fn of_customer<R: Reader>(
    reader: &R,
    customer: u64,
    active_only: bool,
    limit: usize,
) -> Result<Vec<TyreStorage>> {
    let prefix = KeyBuilder::new(tag::CUSTOMER_TYRE_STORAGE)
        .u64(customer)
        .build();
    let mut out = Vec::new();
    for id in ids_under(reader, &prefix, LIST_PAGE.max * 10, true)? {
        let record = load(reader, id)?;
        if active_only && record.checked_out.is_some() {
            continue;
        }
        out.push(record);
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

/// Sets in storage now with ids after `after`, `limit` at a time, by id.
pub fn active_after<R: Reader>(
    reader: &R,
    after: Option<u64>,
    limit: usize,
) -> Result<Vec<TyreStorage>> {
    let start = match after {
        Some(after) => KeyBuilder::new(tag::TYRE_STORAGE_ACTIVE)
            .u64(after.saturating_add(1))
            .build(),
        None => vec![tag::TYRE_STORAGE_ACTIVE],
    };
    let end = keys::prefix_end(&[tag::TYRE_STORAGE_ACTIVE]);
    let rows = reader.scan_raw(&start, &end, limit, false)?;
    let mut items = Vec::with_capacity(rows.len());
    for (key, _) in &rows {
        let id = KeyReader::of(key, tag::TYRE_STORAGE_ACTIVE, "active tyre storage")?.u64()?;
        items.push(load(reader, id)?);
    }
    Ok(items)
}
