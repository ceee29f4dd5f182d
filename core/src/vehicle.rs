//! Vehicles: VIN and plate (unique among current vehicles), make, model, year,
//! usage, mileage readings over time with the daily mileage they imply, and the
//! history of owners.

use crate::audit::{Change, Entity};
use crate::context::{Ctx, must, next_id};
use crate::error::{Error, ErrorCode, Result};
use crate::normalize::{self, TEXT_CHARS_MAX};
use crate::reference::CustomerRef;
pub use crate::reference::VehicleRef;
use crate::store::keys::{KeyBuilder, KeyReader, prefix_end, tag};
use crate::store::{Reader, WriteTxn};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Personal or commercial use (taxis and vans wear out faster).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Usage {
    /// Private car.
    #[default]
    Personal,
    /// Taxi, delivery, fleet.
    Commercial,
}

/// One period of ownership.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ownership {
    /// Owner.
    pub customer: u64,
    /// From (local date).
    pub from: NaiveDate,
    /// Until (exclusive), `None` for the current owner.
    pub to: Option<NaiveDate>,
}

/// A vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Vehicle {
    /// Id.
    pub id: u64,
    /// Current owner.
    pub customer: u64,
    /// VIN.
    pub vin: Option<String>,
    /// Plate, normalised.
    pub plate: Option<String>,
    /// Make.
    pub make: String,
    /// Model.
    pub model: String,
    /// Model year.
    pub year: Option<u16>,
    /// Usage.
    pub usage: Usage,
    /// Latest odometer reading in km.
    pub mileage_km: Option<u32>,
    /// Date of the latest reading.
    pub mileage_date: Option<NaiveDate>,
    /// Owners, oldest first.
    pub owners: Vec<Ownership>,
    /// When added.
    pub added_at: DateTime<Utc>,
}

/// An odometer reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MileageReading {
    /// When.
    pub at: DateTime<Utc>,
    /// Local date.
    pub date: NaiveDate,
    /// Kilometres.
    pub km: u32,
    /// Visit that recorded it, if any.
    pub visit: Option<u64>,
}

fn vehicle_key(id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::VEHICLE).u64(id).build()
}
fn vin_key(vin: &str) -> Vec<u8> {
    KeyBuilder::new(tag::VIN).str(vin).build()
}
fn plate_key(plate: &str) -> Vec<u8> {
    KeyBuilder::new(tag::PLATE).str(plate).build()
}
fn owner_key(customer: u64, vehicle: u64) -> Vec<u8> {
    KeyBuilder::new(tag::CUSTOMER_VEHICLE)
        .u64(customer)
        .u64(vehicle)
        .build()
}
fn mileage_key(vehicle: u64, at: DateTime<Utc>, seq: u64) -> Vec<u8> {
    KeyBuilder::new(tag::MILEAGE)
        .u64(vehicle)
        .i64(at.timestamp_micros())
        .u64(seq)
        .build()
}

/// Load a vehicle by id.
pub fn load<R: Reader>(reader: &R, id: u64) -> Result<Vehicle> {
    must(reader.get(&vehicle_key(id))?, "vehicle", id)
}

/// The vehicle with this VIN.
pub fn find_by_vin<R: Reader>(reader: &R, vin: &str) -> Result<Vehicle> {
    let id: u64 = must(reader.get(&vin_key(vin))?, "vehicle with VIN", vin)?;
    load(reader, id)
}

/// The vehicle with this plate.
pub fn find_by_plate<R: Reader>(reader: &R, plate: &str) -> Result<Vehicle> {
    let id: u64 = must(reader.get(&plate_key(plate))?, "vehicle with plate", plate)?;
    load(reader, id)
}

/// Resolve a vehicle reference.
/// Resolve an optional vehicle reference that must name a car of `owner` (a stored
/// set, a special order, a recommendation): its id, or `invalid_argument` naming both
/// owners.
pub fn resolve_owned<R: Reader>(
    reader: &R,
    reference: Option<&VehicleRef>,
    owner: u64,
) -> Result<Option<u64>> {
    let Some(reference) = reference else {
        return Ok(None);
    };
    let car = resolve(reader, reference)?;
    if car.customer != owner {
        return Err(Error::invalid(
            "vehicle",
            format!(
                "vehicle {} belongs to customer {}, not {owner}",
                car.id, car.customer
            ),
        ));
    }
    Ok(Some(car.id))
}

/// Resolve a vehicle reference.
pub fn resolve<R: Reader>(reader: &R, reference: &VehicleRef) -> Result<Vehicle> {
    match (reference.id, &reference.vin, &reference.plate) {
        (Some(id), None, None) => load(reader, id),
        (None, Some(vin), None) => find_by_vin(reader, &normalize::vin("vehicle.vin", vin)?),
        (None, None, Some(plate)) => {
            find_by_plate(reader, &normalize::plate("vehicle.plate", plate)?)
        }
        _ => Err(Error::invalid(
            "vehicle",
            "name the vehicle with exactly one of id, vin, plate",
        )),
    }
}

/// Drop a vehicle's VIN and plate (personal data erasure): the indexes are freed so
/// the car can be registered again; the record, readings and history stay anonymous.
pub fn forget_identifiers(txn: &mut WriteTxn<'_>, vehicle: &mut Vehicle) -> Result<()> {
    if let Some(vin) = vehicle.vin.take()
        && txn.get::<u64>(&vin_key(&vin))? == Some(vehicle.id)
    {
        txn.delete(vin_key(&vin));
    }
    if let Some(plate) = vehicle.plate.take()
        && txn.get::<u64>(&plate_key(&plate))? == Some(vehicle.id)
    {
        txn.delete(plate_key(&plate));
    }
    save(txn, vehicle)
}

/// Vehicles a customer owns now.
pub fn of_customer<R: Reader>(reader: &R, customer: u64) -> Result<Vec<Vehicle>> {
    let prefix = KeyBuilder::new(tag::CUSTOMER_VEHICLE).u64(customer).build();
    let keys = reader.scan_keys(&prefix, 1000)?;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let mut fields = KeyReader::of(&key, tag::CUSTOMER_VEHICLE, "customer's vehicles")?;
        fields.u64()?;
        let id = fields.u64()?;
        out.push(load(reader, id)?);
    }
    Ok(out)
}

/// Arguments of `vehicle.add`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddArgs {
    /// Owner.
    pub customer: CustomerRef,
    /// VIN.
    #[serde(default)]
    pub vin: Option<String>,
    /// Plate.
    #[serde(default)]
    pub plate: Option<String>,
    /// Make.
    pub make: String,
    /// Model.
    pub model: String,
    /// Model year.
    #[serde(default)]
    pub year: Option<u16>,
    /// Usage.
    #[serde(default)]
    pub usage: Usage,
    /// Current odometer reading.
    #[serde(default)]
    pub mileage: Option<u32>,
    /// Move a vehicle already registered to someone else to this customer.
    #[serde(default)]
    pub transfer: bool,
}

/// Most kilometres an odometer may show.
pub const MILEAGE_KM_MAX: u32 = 3_000_000;

fn check_year(year: Option<u16>, today: NaiveDate) -> Result<Option<u16>> {
    match year {
        Some(y) if y < 1900 || i32::from(y) > today.year() + 1 => Err(Error::invalid(
            "year",
            format!("{y} is not a plausible model year"),
        )),
        other => Ok(other),
    }
}

/// Add a vehicle to customer `owner` (the caller resolved `args.customer` to it), or
/// transfer an existing one when asked.
pub fn add(txn: &mut WriteTxn<'_>, ctx: &Ctx, owner: u64, args: AddArgs) -> Result<Vehicle> {
    let (vin, plate) = identifiers(&args)?;
    let make = normalize::text("make", &args.make, TEXT_CHARS_MAX)?;
    let model = normalize::text("model", &args.model, TEXT_CHARS_MAX)?;
    let year = check_year(args.year, ctx.today)?;
    if args.mileage.is_some_and(|km| km > MILEAGE_KM_MAX) {
        return Err(Error::invalid(
            "mileage",
            format!("must be at most {MILEAGE_KM_MAX} km"),
        ));
    }
    let existing = match &vin {
        Some(vin) => txn.get::<u64>(&vin_key(vin))?,
        None => None,
    };
    if existing.is_none()
        && let (Some(vin), Some(plate)) = (&vin, &plate)
        && let Some(mut car) = without_vin(txn, plate, owner)?
    {
        // The owner's car known by its plate alone: the same car, now with its VIN.
        let before = car.clone();
        attach_vin(txn, &mut car, vin)?;
        car.year = car.year.or(year);
        txn.put(vehicle_key(car.id), &car)?;
        note_change(txn, Some(&before), &car)?;
        return Ok(car);
    }
    let described = Described {
        make,
        model,
        year,
        usage: args.usage,
    };
    let before = existing.map(|id| load(txn, id)).transpose()?;
    let mut vehicle = match existing {
        Some(id) => transfer(
            txn,
            ctx,
            id,
            owner,
            vin.as_deref(),
            args.transfer,
            described,
        )?,
        None => Vehicle {
            id: next_id(txn, "next_vehicle")?,
            customer: owner,
            vin: vin.clone(),
            plate: None,
            make: described.make,
            model: described.model,
            year: described.year,
            usage: described.usage,
            mileage_km: None,
            mileage_date: None,
            owners: vec![Ownership {
                customer: owner,
                from: ctx.today,
                to: None,
            }],
            added_at: ctx.at,
        },
    };
    if let Some(plate) = plate {
        claim_plate(txn, &mut vehicle, plate)?;
    }
    if let Some(vin) = &vin {
        txn.put(vin_key(vin), &vehicle.id)?;
    }
    txn.put(owner_key(owner, vehicle.id), &())?;
    if let Some(km) = args.mileage {
        record_mileage(txn, ctx, &mut vehicle, km, None, false)?;
    }
    txn.put(vehicle_key(vehicle.id), &vehicle)?;
    note_change(txn, before.as_ref(), &vehicle)?;
    Ok(vehicle)
}

/// Note for the audit log what `vehicle.add` changed on a car (`before` absent: new):
/// its owner, VIN, plate and description; the VIN and plate are personal data.
fn note_change(txn: &mut WriteTxn<'_>, before: Option<&Vehicle>, after: &Vehicle) -> Result<()> {
    let encode = |vehicle: &Vehicle| {
        serde_json::to_value(vehicle)
            .map_err(|err| Error::internal(format!("cannot encode a vehicle: {err}")))
    };
    let old = before.map(encode).transpose()?;
    let new = encode(after)?;
    let skip = ["id", "mileage_km", "mileage_date", "owners", "added_at"];
    let changes = Change::diff(Entity::Vehicle, after.id, old.as_ref(), &new, &skip);
    txn.record_all(changes.into_iter().map(|change| {
        let personal = matches!(change.field.as_str(), "vin" | "plate");
        let change = change.of_customer(after.customer);
        if personal { change.personal() } else { change }
    }));
    Ok(())
}

/// A new car's VIN and plate, normalised; at least one of them.
fn identifiers(args: &AddArgs) -> Result<(Option<String>, Option<String>)> {
    let vin = args
        .vin
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .map(|v| normalize::vin("vin", v))
        .transpose()?;
    let plate = args
        .plate
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(|p| normalize::plate("plate", p))
        .transpose()?;
    if vin.is_none() && plate.is_none() {
        return Err(Error::invalid("vehicle", "give a VIN or a plate"));
    }
    Ok((vin, plate))
}

/// What a request says about a car besides its identifiers.
struct Described {
    make: String,
    model: String,
    year: Option<u16>,
    usage: Usage,
}

/// A car already registered under its VIN, moved to `owner` when the request allows it:
/// the old ownership ends today, the old plate is released, the description is updated.
fn transfer(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    id: u64,
    owner: u64,
    vin: Option<&str>,
    allowed: bool,
    described: Described,
) -> Result<Vehicle> {
    let mut vehicle = load(txn, id)?;
    let vin = vin.unwrap_or_default();
    if vehicle.customer == owner {
        return Err(Error::new(
            ErrorCode::AlreadyExists,
            format!("vehicle {id} with VIN {vin} is already registered to customer {owner}"),
        )
        .with_details(json!({ "field": "vin", "vehicle": id, "customer": owner })));
    }
    if !allowed {
        return Err(Error::new(
            ErrorCode::AlreadyExists,
            format!(
                "VIN {vin} belongs to vehicle {id} of customer {}; pass transfer: true to move it",
                vehicle.customer
            ),
        )
        .with_details(json!({ "field": "vin", "vehicle": id, "customer": vehicle.customer })));
    }
    txn.delete(owner_key(vehicle.customer, id));
    if let Some(current) = vehicle.owners.last_mut() {
        current.to = Some(ctx.today);
    }
    vehicle.owners.push(Ownership {
        customer: owner,
        from: ctx.today,
        to: None,
    });
    vehicle.customer = owner;
    if let Some(old_plate) = vehicle.plate.take() {
        txn.delete(plate_key(&old_plate));
    }
    vehicle.make = described.make;
    vehicle.model = described.model;
    vehicle.year = described.year.or(vehicle.year);
    vehicle.usage = described.usage;
    Ok(vehicle)
}

/// The car of `owner` with this plate, when it has no VIN yet.
pub fn without_vin<R: Reader>(reader: &R, plate: &str, owner: u64) -> Result<Option<Vehicle>> {
    let Some(id) = reader.get::<u64>(&plate_key(plate))? else {
        return Ok(None);
    };
    let car = load(reader, id)?;
    Ok((car.vin.is_none() && car.customer == owner).then_some(car))
}

/// Give a car without a VIN its VIN (free: the caller looked it up).
pub fn attach_vin(txn: &mut WriteTxn<'_>, car: &mut Vehicle, vin: &str) -> Result<()> {
    car.vin = Some(vin.to_string());
    txn.put(vin_key(vin), &car.id)
}

fn claim_plate(txn: &mut WriteTxn<'_>, vehicle: &mut Vehicle, plate: String) -> Result<()> {
    if let Some(holder) = txn.get::<u64>(&plate_key(&plate))?
        && holder != vehicle.id
    {
        let other = load(txn, holder)?;
        return Err(Error::new(
            ErrorCode::AlreadyExists,
            format!(
                "plate {plate} is on vehicle {holder} of customer {}",
                other.customer
            ),
        )
        .with_details(json!({ "field": "plate", "vehicle": holder, "customer": other.customer })));
    }
    if let Some(old) = vehicle.plate.replace(plate.clone()) {
        txn.delete(plate_key(&old));
    }
    txn.put(plate_key(&plate), &vehicle.id)
}

/// Record an odometer reading; a reading lower than the last is refused unless it
/// is a correction (odometer replaced or typo fixed).
pub fn record_mileage(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    vehicle: &mut Vehicle,
    km: u32,
    visit: Option<u64>,
    correction: bool,
) -> Result<()> {
    if km > MILEAGE_KM_MAX {
        return Err(Error::invalid(
            "mileage",
            format!("must be at most {MILEAGE_KM_MAX} km"),
        ));
    }
    if let Some(last) = vehicle.mileage_km
        && km < last
        && !correction
    {
        return Err(Error::invalid(
            "mileage",
            format!(
                "{km} km is less than the last reading of {last} km for vehicle {}; pass correction: true",
                vehicle.id
            ),
        ));
    }
    let seq = next_id(txn, "next_mileage")?;
    let reading = MileageReading {
        at: ctx.at,
        date: ctx.today,
        km,
        visit,
    };
    txn.put(mileage_key(vehicle.id, ctx.at, seq), &reading)?;
    let newer = vehicle.mileage_date.is_none_or(|d| d <= ctx.today);
    if newer || correction {
        vehicle.mileage_km = Some(km);
        vehicle.mileage_date = Some(ctx.today);
    }
    Ok(())
}

fn readings_range(vehicle: u64) -> (Vec<u8>, Vec<u8>) {
    let prefix = KeyBuilder::new(tag::MILEAGE).u64(vehicle).build();
    let end = prefix_end(&prefix);
    (prefix, end)
}

/// The last `count` readings of a vehicle, oldest first.
pub fn latest_readings<R: Reader>(
    reader: &R,
    vehicle: u64,
    count: usize,
) -> Result<Vec<MileageReading>> {
    let (start, end) = readings_range(vehicle);
    let mut latest: Vec<MileageReading> = reader
        .scan_range(&start, &end, count, true)?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    latest.reverse();
    Ok(latest)
}

/// Average kilometres per day between the vehicle's first and last readings (read as
/// two records, however long its history), if they are far enough apart.
pub fn km_per_day<R: Reader>(reader: &R, vehicle: u64) -> Result<Option<Decimal>> {
    let (start, end) = readings_range(vehicle);
    let first = reader.scan_range::<MileageReading>(&start, &end, 1, false)?;
    let last = reader.scan_range::<MileageReading>(&start, &end, 1, true)?;
    Ok(match (first.first(), last.first()) {
        (Some((_, first)), Some((_, last))) => daily_km(first, last),
        _ => None,
    })
}

/// Average kilometres per day from `first` to `last`, if they are a week apart or more.
fn daily_km(first: &MileageReading, last: &MileageReading) -> Option<Decimal> {
    let days = (last.date - first.date).num_days();
    if days < 7 || last.km <= first.km {
        return None;
    }
    let per_day = Decimal::from(last.km - first.km) / Decimal::from(days);
    Some(per_day.round_dp(1))
}

/// Arguments of `vehicle.mileage`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MileageArgs {
    /// Which vehicle.
    pub vehicle: VehicleRef,
    /// Odometer in km.
    pub km: u32,
    /// Allow a lower reading than the last one.
    #[serde(default)]
    pub correction: bool,
}

/// What `vehicle.mileage` returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MileageResult {
    /// The vehicle after the reading.
    pub vehicle: Vehicle,
    /// Estimated kilometres per day.
    pub daily_km: Option<Decimal>,
}

/// Record a reading through the operation. The caller then moves the car's predicted
/// service date (`reminder::on_mileage`), a rule of a higher layer.
pub fn mileage(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: MileageArgs) -> Result<MileageResult> {
    let mut vehicle = resolve(txn, &args.vehicle)?;
    record_mileage(txn, ctx, &mut vehicle, args.km, None, args.correction)?;
    txn.put(vehicle_key(vehicle.id), &vehicle)?;
    Ok(MileageResult {
        daily_km: km_per_day(txn, vehicle.id)?,
        vehicle,
    })
}

/// Save a vehicle changed by another module (checkout records mileage).
pub fn save(txn: &mut WriteTxn<'_>, vehicle: &Vehicle) -> Result<()> {
    txn.put(vehicle_key(vehicle.id), vehicle)
}

/// Record a historical odometer reading (history import): readings of the past may
/// arrive in any order, so a lower figure than the latest is no error; the vehicle's
/// current mileage moves only for a reading at least as recent as the one it shows.
/// `seq` orders readings of the same instant (the caller allocates it).
pub fn insert_reading(
    txn: &mut WriteTxn<'_>,
    vehicle: &mut Vehicle,
    reading: MileageReading,
    seq: u64,
) -> Result<()> {
    if reading.km > MILEAGE_KM_MAX {
        return Err(Error::invalid(
            "mileage",
            format!("must be at most {MILEAGE_KM_MAX} km"),
        ));
    }
    txn.put(mileage_key(vehicle.id, reading.at, seq), &reading)?;
    if vehicle.mileage_date.is_none_or(|d| d <= reading.date) {
        vehicle.mileage_km = Some(reading.km);
        vehicle.mileage_date = Some(reading.date);
    }
    Ok(())
}
