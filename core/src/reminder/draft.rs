//! Drafting: one index entry of a kind becomes a reminder draft, if it is still due.
//! One function per kind; each reads only the records its entry points to.

use super::history::{lapse_on, load_history, service_due_on};
use super::season_now;
use crate::context::Ctx;
use crate::customer;
use crate::error::{Error, Result};
use crate::feedback;
use crate::ledger::Book;
use crate::order::{self, OrderStatus};
use crate::plugin::AppliedEffect;
use crate::program::Program;
use crate::program::reminder_rules::ReminderKind;
use crate::recommendation::{self, RecommendationStatus};
use crate::store::Reader;
use crate::store::keys::{self, KeyReader, tag};
use crate::tyre_storage::{self, Season};
use crate::vehicle::{self, Vehicle};
use crate::visit::{self, DatedVisit};
use crate::wording::{Language, format_date};
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// A reminder before the customer checks.
pub(super) struct Draft {
    pub(super) reason: String,
    pub(super) customer: u64,
    pub(super) vehicle: Option<Vehicle>,
    pub(super) due_on: NaiveDate,
    pub(super) fields: Vec<(&'static str, String)>,
    pub(super) details: Value,
}

/// One entry of a date-keyed index, with what drafting it needs.
struct IndexEntry<'a, R> {
    reader: &'a R,
    day: &'a Ctx,
    program: &'a Program,
    key: &'a [u8],
    value: &'a [u8],
}

impl<R> Clone for IndexEntry<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for IndexEntry<'_, R> {}

/// The car a record names, if it names one.
fn car_of<R: Reader>(reader: &R, vehicle: Option<u64>) -> Result<Option<Vehicle>> {
    vehicle.map(|id| vehicle::load(reader, id)).transpose()
}

impl<R> IndexEntry<'_, R> {
    /// The entry's key, to read back field by field; it must be a key of `table`.
    fn fields(&self, table: u8, index: &'static str) -> Result<KeyReader<'_>> {
        KeyReader::of(self.key, table, index)
    }
}

/// Turn one index entry into a draft reminder, if it is due.
pub(super) fn draft<R: Reader>(
    reader: &R,
    day: &Ctx,
    program: &Program,
    kind: ReminderKind,
    key: &[u8],
    value: &[u8],
) -> Result<Option<Draft>> {
    let entry = IndexEntry {
        reader,
        day,
        program,
        key,
        value,
    };
    match kind {
        ReminderKind::ServiceDue => service_due(&entry),
        ReminderKind::PointsExpiring => points_expiring(&entry),
        ReminderKind::Birthday => birthday(&entry),
        ReminderKind::Recommendation => recommendation(&entry),
        ReminderKind::TyreSeason => tyre_season(&entry),
        ReminderKind::OrderArrived => order_arrived(&entry),
        ReminderKind::QualityCall => quality_call(&entry),
        ReminderKind::Lapsed => lapsed(&entry),
        ReminderKind::Promotion => promotion(&entry),
    }
}

/// A periodic service by time or mileage, from the car's predicted date.
fn service_due<R: Reader>(entry: &IndexEntry<'_, R>) -> Result<Option<Draft>> {
    let IndexEntry {
        reader,
        day,
        program,
        ..
    } = *entry;
    let rules = &program.reminders;
    let date = day.today;
    let mut fields = entry.fields(tag::SERVICE_DUE, "service due index")?;
    fields.date()?;
    let vehicle_id = fields.u64()?;
    let service = fields.rest_str()?;
    let Some(rule) = rules.service(service) else {
        return Ok(None);
    };
    let Some(history) = load_history(reader, vehicle_id)? else {
        return Ok(None);
    };
    let Some(done) = history.services.iter().find(|s| s.kind == service) else {
        return Ok(None);
    };
    let car = vehicle::load(reader, vehicle_id)?;
    let daily_km = vehicle::km_per_day(reader, car.id)?;
    let Some((due_on, due_km)) = service_due_on(rule, done, &car, daily_km) else {
        return Ok(None);
    };
    // The programme may have changed since the index was written.
    if due_on - Duration::days(i64::from(rules.service_days_before)) > date {
        return Ok(None);
    }
    Ok(Some(Draft {
        reason: format!("service_due:{}:{}:{}", car.id, service, done.date),
        customer: car.customer,
        due_on,
        fields: vec![
            ("service", rule.name.clone()),
            ("due_km", due_km.map(|k| k.to_string()).unwrap_or_default()),
        ],
        details: json!({ "service": service, "last_done": done.date, "last_km": done.km,
                "due_km": due_km, "daily_km": daily_km, "mileage_km": car.mileage_km }),
        vehicle: Some(car),
    }))
}

/// Points about to burn: one reminder per customer, at the soonest lot.
fn points_expiring<R: Reader>(entry: &IndexEntry<'_, R>) -> Result<Option<Draft>> {
    let IndexEntry {
        reader,
        day,
        program,
        ..
    } = *entry;
    let rules = &program.reminders;
    let date = day.today;
    let mut fields = entry.fields(tag::EXPIRY, "expiry index")?;
    let burn = fields.date()?;
    let customer_id = fields.u64()?;
    let lot_id = fields.u64()?;
    let days = i64::from(rules.points_expiring_days.unwrap_or(0));
    let horizon = date + Duration::days(days);
    let mut book = Book::load(reader, customer_id)?;
    book.settle(day)?;
    let lots: Vec<_> = book
        .lots()
        .into_iter()
        .filter(|l| {
            l.remaining > Decimal::ZERO && l.expires_on.is_some_and(|e| e >= date && e <= horizon)
        })
        .collect();
    // One reminder per customer: emitted at the index entry of the soonest lot.
    let Some(first) = lots.first() else {
        return Ok(None);
    };
    let expires_on = first.expires_on.unwrap_or(date);
    if expires_on + Duration::days(1) != burn || first.id != lot_id {
        return Ok(None);
    }
    let points: Decimal = lots.iter().map(|l| l.remaining).sum();
    Ok(Some(Draft {
        reason: format!("points_expiring:{customer_id}:{expires_on}"),
        customer: customer_id,
        vehicle: None,
        due_on: expires_on,
        fields: vec![
            (
                "points",
                Language::of_tag(&program.locale).number(&points.to_string()),
            ),
            ("expires_on", format_date(expires_on)),
        ],
        details: json!({ "points": points, "expires_on": expires_on }),
    }))
}

/// A birthday within the programme's days before it.
fn birthday<R: Reader>(entry: &IndexEntry<'_, R>) -> Result<Option<Draft>> {
    let IndexEntry {
        reader,
        day,
        program,
        ..
    } = *entry;
    let rules = &program.reminders;
    let date = day.today;
    let mut fields = entry.fields(tag::BIRTHDAY, "birthday index")?;
    fields.u16()?;
    let customer_id = fields.u64()?;
    let customer = customer::load(reader, customer_id)?;
    let Some(birthday) = customer.birthday else {
        return Ok(None);
    };
    let until = crate::context::days_until_birthday(birthday, date);
    let before = i64::from(rules.birthday_days_before.unwrap_or(0));
    if until > before {
        return Ok(None);
    }
    let on = date + Duration::days(until);
    Ok(Some(Draft {
        reason: format!("birthday:{customer_id}:{}", on.year()),
        customer: customer_id,
        vehicle: None,
        due_on: on,
        fields: vec![("birthday", format!("{:02}.{:02}", on.day(), on.month()))],
        details: json!({ "birthday": on }),
    }))
}

/// An open recommendation of work, some days after it was made.
fn recommendation<R: Reader>(entry: &IndexEntry<'_, R>) -> Result<Option<Draft>> {
    let IndexEntry {
        reader, program, ..
    } = *entry;
    let rules = &program.reminders;
    let mut fields = entry.fields(tag::RECOMMENDATION_BY_DATE, "recommendation date index")?;
    fields.date()?;
    let id = fields.u64()?;
    let record = recommendation::load(reader, id)?;
    if record.status != RecommendationStatus::Open {
        return Ok(None);
    }
    let car = car_of(reader, record.vehicle)?;
    let customer = car.as_ref().map_or(record.customer, |c| c.customer);
    let after = i64::from(rules.recommendation_after_days.unwrap_or(0));
    Ok(Some(Draft {
        reason: format!("recommendation:{id}"),
        customer,
        vehicle: car,
        due_on: record.date + Duration::days(after),
        fields: vec![
            ("work", record.work.clone()),
            (
                "price",
                record.price.map(|p| p.to_string()).unwrap_or_default(),
            ),
            ("recommended_on", format_date(record.date)),
        ],
        details: json!({ "recommendation": id, "work": record.work, "urgency": record.urgency,
                "price": record.price, "recommended_on": record.date }),
    }))
}

/// A stored set of tyres whose season is starting.
fn tyre_season<R: Reader>(entry: &IndexEntry<'_, R>) -> Result<Option<Draft>> {
    let IndexEntry {
        reader,
        day,
        program,
        ..
    } = *entry;
    let rules = &program.reminders;
    let date = day.today;
    let id = entry
        .fields(tag::TYRE_STORAGE_ACTIVE, "active tyre storage")?
        .u64()?;
    let Some((due, name, start)) = season_now(rules, date) else {
        return Ok(None);
    };
    let set = tyre_storage::load(reader, id)?;
    if set.season != due || set.checked_out.is_some() || set.checked_in > date {
        return Ok(None);
    }
    let car = car_of(reader, set.vehicle)?;
    let season = match set.season {
        Season::Winter => "зимние шины",
        Season::Summer => "летние шины",
        Season::AllSeason => "всесезонные шины",
    };
    Ok(Some(Draft {
        reason: format!("tyre_season:{id}:{}-{name}", start.year()),
        customer: set.customer,
        vehicle: car,
        due_on: start,
        fields: vec![
            ("season", season.into()),
            ("location", set.location.clone()),
            ("items", set.items.join(", ")),
        ],
        details: json!({ "storage": id, "season": set.season, "location": set.location,
                "items": set.items }),
    }))
}

/// A special order that has arrived.
fn order_arrived<R: Reader>(entry: &IndexEntry<'_, R>) -> Result<Option<Draft>> {
    let IndexEntry { reader, day, .. } = *entry;
    let date = day.today;
    let mut fields = entry.fields(tag::SPECIAL_ORDER_ARRIVED, "arrived orders index")?;
    fields.date()?;
    let id = fields.u64()?;
    let order = order::load(reader, id)?;
    if order.status != OrderStatus::Arrived {
        return Ok(None);
    }
    let car = car_of(reader, order.vehicle)?;
    Ok(Some(Draft {
        reason: format!("order_arrived:{id}"),
        customer: order.customer,
        vehicle: car,
        due_on: order.arrived_on.unwrap_or(date),
        fields: vec![
            ("part", order.part.clone()),
            ("qty", order.qty.normalize().to_string()),
        ],
        details: json!({ "order": id, "part": order.part, "qty": order.qty,
                "arrived_on": order.arrived_on }),
    }))
}

/// A call after a visit that has no feedback yet.
fn quality_call<R: Reader>(entry: &IndexEntry<'_, R>) -> Result<Option<Draft>> {
    let IndexEntry {
        reader,
        program,
        key,
        value,
        ..
    } = *entry;
    let rules = &program.reminders;
    let mut fields = entry.fields(tag::VISIT_BY_DATE, "visit date index")?;
    fields.date()?;
    let visit_id = fields.u64()?;
    let dated: DatedVisit = crate::store::decode(key, value)?;
    if !dated.counted || reader.contains(&feedback::visit_key(visit_id))? {
        return Ok(None);
    }
    let visit = visit::load(reader, visit_id)?;
    let car = car_of(reader, visit.vehicle)?;
    let after = rules.quality_call.as_ref().map_or(2, |c| c.after_days_min);
    Ok(Some(Draft {
        reason: format!("quality_call:{visit_id}"),
        customer: visit.customer,
        vehicle: car,
        due_on: visit.date + Duration::days(i64::from(after)),
        fields: vec![
            ("visit_date", format_date(visit.date)),
            ("order_id", visit.order_id.clone()),
        ],
        details: json!({ "visit": visit_id, "order_id": visit.order_id, "visit_date": visit.date,
                "advisor": visit.advisor }),
    }))
}

/// A car that has not come back in its usual interval (valuable owners only).
fn lapsed<R: Reader>(entry: &IndexEntry<'_, R>) -> Result<Option<Draft>> {
    let IndexEntry {
        reader,
        day,
        program,
        ..
    } = *entry;
    let rules = &program.reminders;
    let date = day.today;
    let mut fields = entry.fields(tag::LAPSE_DUE, "lapse index")?;
    fields.date()?;
    let vehicle_id = fields.u64()?;
    let Some(lapsed) = &rules.lapsed else {
        return Ok(None);
    };
    let Some(history) = load_history(reader, vehicle_id)? else {
        return Ok(None);
    };
    let Some((lapse, usual)) = lapse_on(&history.visit_dates, lapsed) else {
        return Ok(None);
    };
    if lapse > date {
        return Ok(None);
    }
    let car = vehicle::load(reader, vehicle_id)?;
    let owner = customer::load(reader, car.customer)?;
    let valuable = match (lapsed.min_visits, lapsed.min_spend) {
        (None, None) => true,
        (visits, spend) => {
            visits.is_some_and(|v| owner.visits >= v)
                || spend.is_some_and(|s| owner.total_spend >= s)
        }
    };
    let last = history.visit_dates.last().copied().unwrap_or(date);
    if !valuable {
        return Ok(None);
    }
    Ok(Some(Draft {
        reason: format!("lapsed:{vehicle_id}:{last}"),
        customer: owner.id,
        vehicle: Some(car),
        due_on: lapse,
        fields: vec![
            ("last_visit", format_date(last)),
            ("usual_days", usual.to_string()),
        ],
        details: json!({ "last_visit": last, "usual_days": usual,
                "visits": owner.visits, "total_spend": owner.total_spend }),
    }))
}

/// A reminder a plugin asked for at checkout, unless the visit was refunded.
fn promotion<R: Reader>(entry: &IndexEntry<'_, R>) -> Result<Option<Draft>> {
    let IndexEntry { reader, key, .. } = *entry;
    let mut fields = entry.fields(tag::PLUGIN_REMINDER, "plugin reminder index")?;
    fields.date()?;
    let visit_id = fields.u64()?;
    let position = fields.u64()?;
    let visit = visit::load(reader, visit_id)?;
    // A refunded visit takes back what its promotions promised.
    if visit.fully_refunded() {
        return Ok(None);
    }
    let found = visit
        .plugins
        .iter()
        .flat_map(|outcome| {
            outcome
                .effects
                .iter()
                .map(move |effect| (outcome.plugin.as_str(), effect))
        })
        .nth(usize::try_from(position).unwrap_or(usize::MAX));
    let Some((plugin, AppliedEffect::Reminder { kind, due_on, text })) = found else {
        return Err(Error::corrupted(format!(
            "reminder index {} names no reminder of visit {visit_id}",
            keys::display(key)
        )));
    };
    let car = car_of(reader, visit.vehicle)?;
    Ok(Some(Draft {
        reason: format!("promotion:{visit_id}:{position}"),
        customer: visit.customer,
        vehicle: car,
        due_on: *due_on,
        fields: vec![
            ("text", text.clone().unwrap_or_else(|| kind.clone())),
            ("plugin", plugin.to_string()),
            ("reminder_kind", kind.clone()),
            ("order_id", visit.order_id.clone()),
        ],
        details: json!({ "visit": visit_id, "order_id": visit.order_id,
                "plugin": plugin, "reminder_kind": kind, "plugin_text": text }),
    }))
}
