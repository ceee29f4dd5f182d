//! History import: visits another system recorded before the shop adopted Pitstop
//! (`visit.import`), and paged export of customers, visits and the ledger
//! (`customer.list`, `visit.export`, `ledger.export`).
//!
//! An imported visit is history, not a sale made under the programme: it keeps the
//! source's order id (a second import of the same id changes nothing), its lines and
//! mileage, and counts toward spend, visit counts and tier windows — a customer who
//! spent a lot last year was a good customer — but it creates no ledger entry (balances
//! come separately, as opening balances), calls no plugin and prices nothing.
//!
//! One call is one atomic batch of up to [`IMPORT_VISITS_MAX`] visits; each customer's
//! and vehicle's records are read and written once per batch, not once per visit, and
//! an engine opened in import durability syncs once at the end of the whole load.

use crate::checkout::{self, LineInput};
use crate::context::Ctx;
use crate::customer::{self, Customer, CustomerRef};
use crate::error::{Error, Result};
use crate::ledger::{self, Entry};
use crate::normalize::{self, TEXT_CHARS_MAX};
use crate::paging::PageSize;
use crate::reminder;
use crate::store::keys::{self, KeyBuilder, KeyReader, tag};
use crate::store::{Reader, WriteTxn};
use crate::tier;
use crate::vehicle::{self, MileageReading, Vehicle, VehicleRef};
use crate::visit::{self, Totals, Visit, VisitDays, VisitLine};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Most visits in one `visit.import` call.
pub const IMPORT_VISITS_MAX: usize = 2000;
/// Pages of the exports (`customer.list`, `visit.export`, `ledger.export`).
pub const EXPORT_PAGE: PageSize = PageSize::new(100, 1000);

/// One historical visit as the source system recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportedVisit {
    /// The source's order id (unique; a second import of it changes nothing).
    pub order_id: String,
    /// Who.
    pub customer: CustomerRef,
    /// Vehicle serviced.
    #[serde(default)]
    pub vehicle: Option<VehicleRef>,
    /// Local date of the visit (give this or `at`); its instant is taken as noon UTC.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Instant of the visit (give this or `date`).
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    /// Odometer at the visit (needs the vehicle): recorded as a reading.
    #[serde(default)]
    pub mileage: Option<u32>,
    /// Branch.
    #[serde(default)]
    pub branch: Option<String>,
    /// Service advisor or cashier.
    #[serde(default)]
    pub advisor: Option<String>,
    /// Lines as sold: `discount` is what the source system took off the line.
    pub lines: Vec<LineInput>,
}

/// Arguments of `visit.import`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportArgs {
    /// 1..=2000 visits.
    pub visits: Vec<ImportedVisit>,
    /// `false` (default): the first invalid visit fails the whole call, which changes
    /// nothing. `true`: invalid visits are listed in `rejected`, the rest imported.
    #[serde(default)]
    pub skip_invalid: bool,
}

/// A visit `visit.import` left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedVisit {
    /// Position in `visits`.
    pub index: usize,
    /// Its order id as given.
    pub order_id: String,
    /// Error code.
    pub code: String,
    /// Why.
    pub message: String,
}

/// Result of `visit.import`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportResult {
    /// Visits recorded by this call.
    pub imported: usize,
    /// Order ids already recorded (by an earlier import or a checkout): unchanged.
    pub already_present: Vec<String>,
    /// Invalid visits left out (only with `skip_invalid`).
    pub rejected: Vec<RejectedVisit>,
    /// Customers whose tier changed with the imported history.
    pub tiers_changed: usize,
}

/// A customer touched by the batch, written once at the end.
struct Touched {
    customer: Customer,
    days: VisitDays,
    imported: usize,
    review_dates: HashSet<NaiveDate>,
}

impl Touched {
    /// Count an imported visit on its customer: spend, visits, first and last dates,
    /// the day totals, and a tier review when the visit is still inside the window.
    fn count(&mut self, ctx: &Ctx, date: NaiveDate, net: Decimal) {
        self.imported += 1;
        let customer = &mut self.customer;
        customer.total_spend += net;
        customer.visits = customer.visits.saturating_add(1);
        customer.first_visit = Some(customer.first_visit.map_or(date, |d| d.min(date)));
        customer.last_visit = Some(customer.last_visit.map_or(date, |d| d.max(date)));
        visit::add_day(&mut self.days, date, net);
        if let Some(program) = ctx.program.as_deref()
            && date + Duration::days(i64::from(program.tiers.window_days)) > ctx.today
        {
            self.review_dates.insert(date);
        }
    }
}

/// A reference as a cache key (exactly one field is set in a valid reference).
fn customer_ref_key(r: &CustomerRef) -> String {
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        r.id, r.card, r.phone, r.email, r.external_id, r.plate, r.vin
    )
}

fn vehicle_ref_key(r: &VehicleRef) -> String {
    format!("{:?}|{:?}|{:?}", r.id, r.vin, r.plate)
}

/// Everything about one visit that can be checked before writing.
struct Checked {
    order_id: String,
    customer: u64,
    vehicle: Option<u64>,
    at: DateTime<Utc>,
    date: NaiveDate,
    lines: Vec<VisitLine>,
    totals: Totals,
}

struct Batch<'c> {
    ctx: &'c Ctx,
    customers: HashMap<u64, Touched>,
    customer_refs: HashMap<String, u64>,
    vehicles: HashMap<u64, Vehicle>,
    vehicle_refs: HashMap<String, u64>,
    orders: HashSet<String>,
    /// Cars known by plate that the batch's orders gave a VIN.
    new_vins: Vec<(u64, String)>,
}

impl Batch<'_> {
    fn customer(&mut self, txn: &WriteTxn<'_>, reference: &CustomerRef) -> Result<u64> {
        let key = customer_ref_key(reference);
        if let Some(id) = self.customer_refs.get(&key) {
            return Ok(*id);
        }
        let found = customer::resolve(txn, self.ctx, reference)?;
        let id = found.id;
        if let std::collections::hash_map::Entry::Vacant(slot) = self.customers.entry(id) {
            let days = visit::visit_days(txn, id)?;
            slot.insert(Touched {
                customer: found,
                days,
                imported: 0,
                review_dates: HashSet::new(),
            });
        }
        self.customer_refs.insert(key, id);
        Ok(id)
    }

    fn vehicle(&mut self, txn: &WriteTxn<'_>, reference: &VehicleRef) -> Result<u64> {
        let key = vehicle_ref_key(reference);
        if let Some(id) = self.vehicle_refs.get(&key) {
            return Ok(*id);
        }
        let found = match (reference.id, &reference.vin, &reference.plate) {
            // Both identifiers (a migrated order): the same car is recognised by either,
            // the VIN first.
            (None, Some(vin), Some(plate)) => {
                let vin = normalize::vin("vehicle.vin", vin)?;
                let by_vin = VehicleRef {
                    vin: Some(vin.clone()),
                    ..VehicleRef::default()
                };
                let known = self.vehicle_refs.get(&vehicle_ref_key(&by_vin)).copied();
                match known {
                    Some(id) => return Ok(id),
                    None => match vehicle::find_by_vin(txn, &vin) {
                        Ok(car) => car,
                        Err(err) if err.code == crate::error::ErrorCode::NotFound => {
                            let plate = normalize::plate("vehicle.plate", plate)?;
                            let car = vehicle::find_by_plate(txn, &plate)?;
                            if car.vin.as_ref().is_some_and(|v| *v != vin) {
                                return Err(Error::invalid(
                                    "vehicle",
                                    format!(
                                        "plate {plate} is on the car with VIN {}, not {vin}",
                                        car.vin.clone().unwrap_or_default()
                                    ),
                                ));
                            }
                            self.new_vins.push((car.id, vin.clone()));
                            self.vehicle_refs.insert(vehicle_ref_key(&by_vin), car.id);
                            car
                        }
                        Err(err) => return Err(err),
                    },
                }
            }
            _ => vehicle::resolve(txn, reference)?,
        };
        let id = found.id;
        self.vehicles.entry(id).or_insert(found);
        self.vehicle_refs.insert(key, id);
        Ok(id)
    }

    fn check(&mut self, txn: &WriteTxn<'_>, input: &ImportedVisit) -> Result<Option<Checked>> {
        let order_id = normalize::identifier("order_id", &input.order_id)?;
        // Before the store lookup: the overlay already holds this call's own orders.
        if self.orders.contains(&order_id) {
            return Err(Error::invalid(
                "order_id",
                format!("order {order_id} appears twice in this call"),
            ));
        }
        if visit::by_order(txn, &order_id)?.is_some() {
            return Ok(None);
        }
        let (at, date) = match (input.at, input.date) {
            (Some(at), None) => (at, local_date(self.ctx, at)),
            (None, Some(date)) => (
                date.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default())
                    .and_utc(),
                date,
            ),
            _ => return Err(Error::invalid("date", "give exactly one of date, at")),
        };
        if date > self.ctx.today {
            return Err(Error::invalid(
                "date",
                format!(
                    "{date} is in the future: history ends today ({})",
                    self.ctx.today
                ),
            ));
        }
        checkout::check_lines(&input.lines)?;
        if let Some(branch) = &input.branch {
            normalize::optional_text("branch", branch, visit::BRANCH_CHARS_MAX)?;
        }
        if let Some(advisor) = &input.advisor {
            normalize::optional_text("advisor", advisor, TEXT_CHARS_MAX)?;
        }
        let customer = self.customer(txn, &input.customer)?;
        let vehicle = match &input.vehicle {
            Some(reference) => Some(self.owned_vehicle(txn, reference, customer)?),
            None => None,
        };
        match input.mileage {
            Some(_) if vehicle.is_none() => {
                return Err(Error::invalid("mileage", "a mileage needs the vehicle"));
            }
            Some(km) if km > vehicle::MILEAGE_KM_MAX => {
                return Err(Error::invalid(
                    "mileage",
                    format!("must be at most {} km", vehicle::MILEAGE_KM_MAX),
                ));
            }
            _ => {}
        }
        let points_scale = self.ctx.program.as_deref().map_or(0, |p| p.points.scale);
        let (lines, totals) = imported_lines(&input.lines, points_scale);
        Ok(Some(Checked {
            order_id,
            customer,
            vehicle,
            at,
            date,
            lines,
            totals,
        }))
    }
}

impl Batch<'_> {
    /// The car of an imported visit, which must be the customer's. History may predate a
    /// change of owner: any owner, past or present, or the company a driver drives for.
    fn owned_vehicle(
        &mut self,
        txn: &WriteTxn<'_>,
        reference: &VehicleRef,
        customer: u64,
    ) -> Result<u64> {
        let id = self.vehicle(txn, reference)?;
        let company = self
            .customers
            .get(&customer)
            .and_then(|t| t.customer.company);
        let owned = self.vehicles.get(&id).is_some_and(|v| {
            v.customer == customer
                || Some(v.customer) == company
                || v.owners.iter().any(|o| o.customer == customer)
        });
        if !owned {
            let owner = self.vehicles.get(&id).map_or(0, |v| v.customer);
            return Err(Error::invalid(
                "vehicle",
                format!("vehicle {id} belongs to customer {owner}, not customer {customer}"),
            ));
        }
        Ok(id)
    }
}

/// An imported basket as visit lines: what the source charged, no pricing, no points.
fn imported_lines(input: &[LineInput], points_scale: u32) -> (Vec<VisitLine>, Totals) {
    let zero_points = normalize::exact_scale(Decimal::ZERO, points_scale);
    let zero_money = normalize::money(Decimal::ZERO);
    let mut totals = Totals {
        gross: zero_money,
        host_discount: zero_money,
        discount: zero_money,
        net: zero_money,
        points: zero_points,
        points_money: zero_money,
        money: zero_money,
        accrual: zero_points,
        bonus: zero_points,
    };
    let mut lines = Vec::with_capacity(input.len());
    for (index, line) in input.iter().enumerate() {
        let gross = normalize::money(line.qty * line.unit_price);
        let host_discount = normalize::money(line.discount.unwrap_or_default());
        let net = gross - host_discount;
        totals.gross += gross;
        totals.host_discount += host_discount;
        totals.net += net;
        totals.money += net;
        lines.push(VisitLine {
            index: index as u32,
            sku: line.sku.trim().to_string(),
            name: line.name.trim().to_string(),
            kind: line.kind,
            category: line.category.as_ref().map(|c| c.trim().to_string()),
            qty: line.qty,
            unit_price: line.unit_price,
            promo: line.promo,
            gross,
            host_discount,
            net,
            money: net,
            ..VisitLine::new(index as u32, line.kind, points_scale)
        });
    }
    (lines, totals)
}

fn local_date(ctx: &Ctx, at: DateTime<Utc>) -> NaiveDate {
    match ctx.program.as_deref() {
        Some(program) => program.local_date(at),
        None => at.date_naive(),
    }
}

/// `visit.import`.
pub fn import(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: ImportArgs) -> Result<ImportResult> {
    if args.visits.is_empty() {
        return Err(Error::invalid("visits", "give at least one visit"));
    }
    if args.visits.len() > IMPORT_VISITS_MAX {
        return Err(Error::too_large("visits", IMPORT_VISITS_MAX));
    }
    let mut batch = Batch {
        ctx,
        customers: HashMap::new(),
        customer_refs: HashMap::new(),
        vehicles: HashMap::new(),
        vehicle_refs: HashMap::new(),
        orders: HashSet::new(),
        new_vins: Vec::new(),
    };
    let mut result = ImportResult {
        imported: 0,
        already_present: Vec::new(),
        rejected: Vec::new(),
        tiers_changed: 0,
    };
    // Imported visits by car, in id order (for the reminders' car histories).
    let mut car_visits: BTreeMap<u64, Vec<Visit>> = BTreeMap::new();
    for (index, input) in args.visits.into_iter().enumerate() {
        let checked = match batch.check(txn, &input) {
            Ok(Some(checked)) => checked,
            Ok(None) => {
                result
                    .already_present
                    .push(input.order_id.trim().to_string());
                continue;
            }
            Err(err) if args.skip_invalid => {
                result.rejected.push(RejectedVisit {
                    index,
                    order_id: input.order_id.clone(),
                    code: err.code.as_str().to_string(),
                    message: err.message,
                });
                continue;
            }
            Err(err) => return Err(failed_visit(index, &input.order_id, err)),
        };
        let visit = record_visit(txn, &mut batch, &input, checked)?;
        if let Some(vehicle) = visit.vehicle {
            car_visits.entry(vehicle).or_default().push(visit);
        }
        result.imported += 1;
    }
    save_cars(txn, &mut batch, &car_visits)?;
    result.tiers_changed = save_customers(txn, ctx, batch.customers)?;
    Ok(result)
}

/// The error of a whole import that one invalid visit fails: which visit, and why.
fn failed_visit(index: usize, order_id: &str, err: Error) -> Error {
    let mut details = match err.details {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    details.insert("index".into(), json!(index));
    details.insert("order_id".into(), json!(order_id));
    Error::new(
        err.code,
        format!("visits[{index}] (order {order_id}): {}", err.message),
    )
    .with_details(Value::Object(details))
}

/// Write one checked visit and its mileage reading; count it on its customer.
fn record_visit(
    txn: &mut WriteTxn<'_>,
    batch: &mut Batch<'_>,
    input: &ImportedVisit,
    checked: Checked,
) -> Result<Visit> {
    let ctx = batch.ctx;
    let id = txn.next_id("next_visit")?;
    batch.orders.insert(checked.order_id.clone());
    if let (Some(vehicle_id), Some(km)) = (checked.vehicle, input.mileage) {
        let seq = txn.next_id("next_mileage")?;
        let vehicle = batch
            .vehicles
            .get_mut(&vehicle_id)
            .ok_or_else(|| Error::internal("imported visit's vehicle not loaded"))?;
        let reading = MileageReading {
            at: checked.at,
            date: checked.date,
            km,
            visit: Some(id),
        };
        vehicle::insert_reading(txn, vehicle, reading, seq)?;
    }
    let touched = batch
        .customers
        .get_mut(&checked.customer)
        .ok_or_else(|| Error::internal("imported visit's customer not loaded"))?;
    touched.count(ctx, checked.date, checked.totals.net);
    let visit = Visit {
        id,
        customer: checked.customer,
        vehicle: checked.vehicle,
        order_id: checked.order_id,
        at: checked.at,
        date: checked.date,
        branch: visit::branch_of(input.branch.as_deref(), ctx),
        advisor: input.advisor.as_ref().map(|a| a.trim().to_string()),
        mileage: input.mileage,
        program_version: ctx.program.as_deref().map_or(0, |p| p.version),
        lines: checked.lines,
        totals: checked.totals,
        redemption_left: Vec::new(),
        accrual_lot: None,
        accrual_expires_on: None,
        bonus_lot: None,
        tier_before: None,
        tier_after: None,
        refunds: Vec::new(),
        plugins: Vec::new(),
    };
    visit::insert_new(txn, &visit)?;
    Ok(visit)
}

/// The batch's cars: VINs learnt from the history, readings, and what the history tells
/// the reminders (service by time and mileage, lapsed cars), as checkouts do.
fn save_cars(
    txn: &mut WriteTxn<'_>,
    batch: &mut Batch<'_>,
    car_visits: &BTreeMap<u64, Vec<Visit>>,
) -> Result<()> {
    for (id, vin) in std::mem::take(&mut batch.new_vins) {
        // Only a car whose order was imported: a rejected order changes nothing.
        if let Some(car) = batch.vehicles.get_mut(&id)
            && car.vin.is_none()
            && car_visits.contains_key(&id)
        {
            vehicle::attach_vin(txn, car, &vin)?;
        }
    }
    for vehicle in batch.vehicles.values() {
        vehicle::save(txn, vehicle)?;
    }
    if let Some(program) = batch.ctx.program.as_deref() {
        for (vehicle, visits) in car_visits {
            let car = batch
                .vehicles
                .get(vehicle)
                .ok_or_else(|| Error::internal("imported visit's vehicle not loaded"))?;
            reminder::on_imported_visits(txn, program, car, visits)?;
        }
    }
    Ok(())
}

/// The batch's customers, in id order so the batch is the same whatever the hash order:
/// their visit days, counters and tiers. Returns how many changed tier.
fn save_customers(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    customers: HashMap<u64, Touched>,
) -> Result<usize> {
    let mut tiers_changed = 0;
    let touched: BTreeMap<u64, Touched> = customers.into_iter().collect();
    for (id, mut touched) in touched {
        if touched.imported == 0 {
            // Resolved but nothing imported for them (every visit already present).
            continue;
        }
        visit::save_visit_days(txn, id, &touched.days)?;
        customer::save(txn, &touched.customer)?;
        if let Some(program) = ctx.program.as_deref() {
            let (before, after) = tier::reevaluate(
                txn,
                program,
                &mut touched.customer,
                ctx.today,
                tier::MoveReason::Import,
            )?;
            if before != after {
                tiers_changed += 1;
            }
            for date in touched.review_dates {
                tier::schedule_review(txn, program, id, date)?;
            }
        }
    }
    Ok(tiers_changed)
}

/// Arguments of a paged export: items after an id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageArgs {
    /// Continue after this id (`next_after` of the previous page).
    #[serde(default)]
    pub after: Option<u64>,
    /// Page size, 1..=1000 (default 100).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A page of an export. Unlike the listings' `paging::Page`, its cursor is named
/// `next_after` on the wire: the exports published it under that name first, and the
/// doors' page walkers follow it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<T, C = u64> {
    /// Records, in the export's order.
    pub items: Vec<T>,
    /// Pass as `after` for the next page; `null` at the end.
    pub next_after: Option<C>,
}

/// `customer.list`: every customer in id order, paged.
pub fn customers<R: Reader>(reader: &R, args: &PageArgs) -> Result<Page<Customer>> {
    let limit = EXPORT_PAGE.of(args.limit)?;
    let start = match args.after {
        Some(id) => match id.checked_add(1) {
            Some(next) => KeyBuilder::new(tag::CUSTOMER).u64(next).build(),
            None => {
                return Ok(Page {
                    items: Vec::new(),
                    next_after: None,
                });
            }
        },
        None => vec![tag::CUSTOMER],
    };
    let end = keys::prefix_end(&[tag::CUSTOMER]);
    let items: Vec<Customer> = reader
        .scan_range::<Customer>(&start, &end, limit, false)?
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    let next_after = (items.len() == limit)
        .then(|| items.last().map(|c| c.id))
        .flatten();
    Ok(Page { items, next_after })
}

/// Arguments of `visit.export`: a page, optionally of one branch's visits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitPageArgs {
    /// Continue after this id (`next_after` of the previous page).
    #[serde(default)]
    pub after: Option<u64>,
    /// Page size, 1..=1000 (default 100).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Only the visits recorded at this branch.
    #[serde(default)]
    pub branch: Option<String>,
}

/// `visit.export`: every visit (or every visit of one branch) in id order, paged.
pub fn visits<R: Reader>(reader: &R, args: &VisitPageArgs) -> Result<Page<Visit>> {
    let limit = EXPORT_PAGE.of(args.limit)?;
    let branch = visit::branch_filter(args.branch.as_deref())?;
    let items = visit::page(reader, args.after, limit, branch)?;
    let next_after = (items.len() == limit)
        .then(|| items.last().map(|v| v.id))
        .flatten();
    Ok(Page { items, next_after })
}

/// Where a ledger export continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerCursor {
    /// Customer id.
    pub customer: u64,
    /// Entry sequence within the customer's account.
    pub seq: u64,
}

/// Arguments of `ledger.export`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerPageArgs {
    /// Continue after this entry (`next_after` of the previous page).
    #[serde(default)]
    pub after: Option<LedgerCursor>,
    /// Page size, 1..=1000 (default 100).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A ledger entry with its customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerRow {
    /// Customer id.
    pub customer: u64,
    /// The entry.
    #[serde(flatten)]
    pub entry: Entry,
}

/// A page of the ledger: entries by customer, then sequence.
pub type LedgerPage = Page<LedgerRow, LedgerCursor>;

/// `ledger.export`: every ledger entry by customer and sequence, paged.
pub fn ledger_page<R: Reader>(reader: &R, args: &LedgerPageArgs) -> Result<LedgerPage> {
    let limit = EXPORT_PAGE.of(args.limit)?;
    let start = match args.after {
        Some(cursor) => {
            let mut key = ledger::entry_key(cursor.customer, cursor.seq);
            key.push(0);
            key
        }
        None => vec![tag::ENTRY],
    };
    let end = keys::prefix_end(&[tag::ENTRY]);
    let mut items = Vec::new();
    for (key, entry) in reader.scan_range::<Entry>(&start, &end, limit, false)? {
        let customer = KeyReader::of(&key, tag::ENTRY, "ledger entry")?.u64()?;
        items.push(LedgerRow { customer, entry });
    }
    let next_after = (items.len() == limit)
        .then(|| {
            items.last().map(|row| LedgerCursor {
                customer: row.customer,
                seq: row.entry.seq,
            })
        })
        .flatten();
    Ok(LedgerPage { items, next_after })
}
