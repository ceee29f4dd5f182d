//! Reminders: who should be contacted on a date and why. The host sends the messages
//! and reports back with `reminders.mark`, so nobody is reminded twice for one reason.
//!
//! `reminders.due` is a pure read: every kind is found through a date-keyed index that
//! the writes keep (recommendations by date, arrivals by date, visits by date, lots by
//! burn date, birthdays by month-day, sets in storage, cars by predicted service date
//! and by predicted lapse date), so a day costs what is due around it, not the size of
//! the base. What was done about a reminder is the only state it adds: one mark per
//! stable reason key (`kind:subject:...`). A reminder stays due for the programme's
//! `window_days` after its date, so a host that skips a day loses nothing.

use crate::context::Ctx;
use crate::customer::{self, Channel, Customer, CustomerRef, CustomerStatus};
use crate::error::{Error, ErrorCode, Result};
use crate::ledger::Book;
use crate::order::{self, OrderStatus};
use crate::plugin::AppliedEffect;
use crate::program::Program;
use crate::program::reminder_rules::{
    LapsedRules, ServiceRule, glob_match_lowered, parse_month_day, render_with,
};
pub use crate::program::reminder_rules::{ReminderKind, ReminderRules};
use crate::recommendation::{self, RecommendationStatus};
use crate::store::keys::{self, KeyBuilder, read_date, read_u64, tag};
use crate::store::{Pair, Reader, WriteTxn};
use crate::tyre_storage::{self, Season};
use crate::vehicle::{self, Vehicle};
use crate::visit::{self, DatedVisit, Visit};
use crate::wording::{Language, format_date};
use crate::{feedback, jobs};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------
// What the writes keep: a car's service history and its predicted dates.

/// A service done on a car.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceDone {
    /// Service kind code.
    pub kind: String,
    /// Local date.
    pub date: NaiveDate,
    /// Odometer then.
    pub km: Option<u32>,
    /// Visit.
    pub visit: u64,
}

/// What reminders keep per car.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CarHistory {
    /// Distinct visit dates, oldest first (the last 12).
    pub visit_dates: Vec<NaiveDate>,
    /// Last time each service kind was done.
    pub services: Vec<ServiceDone>,
    /// Service index entries written: (kind, reminder date).
    pub service_index: Vec<(String, NaiveDate)>,
    /// Lapse index entry written.
    pub lapse_index: Option<NaiveDate>,
}

/// Visit dates kept per car.
const VISIT_DATES_MAX: usize = 12;

fn history_key(vehicle: u64) -> Vec<u8> {
    KeyBuilder::new(tag::CAR_HISTORY).u64(vehicle).build()
}
fn service_key(date: NaiveDate, vehicle: u64, kind: &str) -> Vec<u8> {
    KeyBuilder::new(tag::SERVICE_DUE)
        .date(date)
        .u64(vehicle)
        .str(kind)
        .build()
}
fn lapse_key(date: NaiveDate, vehicle: u64) -> Vec<u8> {
    KeyBuilder::new(tag::LAPSE_DUE)
        .date(date)
        .u64(vehicle)
        .build()
}

fn load_history<R: Reader>(reader: &R, vehicle: u64) -> Result<Option<CarHistory>> {
    reader.get(&history_key(vehicle))
}

/// Predicted date a service falls due: the earlier of its time and its mileage limit
/// (mileage extrapolated from the car's readings).
fn service_due_on(
    rule: &ServiceRule,
    done: &ServiceDone,
    car: &Vehicle,
    daily_km: Option<Decimal>,
) -> Option<(NaiveDate, Option<u32>)> {
    let by_time = rule
        .months
        .and_then(|m| done.date.checked_add_months(Months::new(m)));
    let due_km = match (rule.km, done.km) {
        (Some(interval), Some(km)) => Some(km.saturating_add(interval)),
        _ => None,
    };
    let by_km = match (due_km, car.mileage_km, car.mileage_date, daily_km) {
        (Some(target), Some(now_km), Some(read_on), _) if now_km >= target => Some(read_on),
        (Some(target), Some(now_km), Some(read_on), Some(per_day)) if per_day > Decimal::ZERO => {
            let days = (Decimal::from(target - now_km) / per_day).ceil();
            let days = i64::try_from(days).ok()?.min(36_600);
            Some(read_on + Duration::days(days))
        }
        _ => None,
    };
    let due = match (by_time, by_km) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some((due, due_km))
}

/// The usual number of days between a car's visits (median gap), if known.
fn usual_interval(dates: &[NaiveDate], min_visits: u32) -> Option<i64> {
    if dates.len() < min_visits.max(2) as usize {
        return None;
    }
    let mut gaps: Vec<i64> = dates.windows(2).map(|w| (w[1] - w[0]).num_days()).collect();
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2];
    (median > 0).then_some(median)
}

fn lapse_on(dates: &[NaiveDate], rules: &LapsedRules) -> Option<(NaiveDate, i64)> {
    let usual = usual_interval(dates, rules.min_car_visits)?;
    let last = *dates.last()?;
    let after = (Decimal::from(usual) * rules.factor).ceil();
    Some((last + Duration::days(i64::try_from(after).ok()?), usual))
}

/// Re-predict a car's dates and move its index entries.
fn reindex(
    txn: &mut WriteTxn<'_>,
    program: &Program,
    car: &Vehicle,
    history: &mut CarHistory,
) -> Result<()> {
    let rules = &program.reminders;
    for (kind, date) in history.service_index.drain(..) {
        txn.delete(service_key(date, car.id, &kind));
    }
    if let Some(date) = history.lapse_index.take() {
        txn.delete(lapse_key(date, car.id));
    }
    let daily_km = vehicle::daily_km(&vehicle::readings(txn, car.id, 10_000)?);
    for done in &history.services {
        let Some(rule) = rules.service(&done.kind) else {
            continue;
        };
        if let Some((due, _)) = service_due_on(rule, done, car, daily_km) {
            let remind = due - Duration::days(i64::from(rules.service_days_before));
            txn.put(service_key(remind, car.id, &done.kind), &())?;
            history.service_index.push((done.kind.clone(), remind));
        }
    }
    if let Some(lapsed) = &rules.lapsed
        && let Some((date, _)) = lapse_on(&history.visit_dates, lapsed)
    {
        txn.put(lapse_key(date, car.id), &())?;
        history.lapse_index = Some(date);
    }
    txn.put(history_key(car.id), history)
}

/// After a visit with a car is saved: record its date and the services its lines
/// match, and re-predict the car's dates.
pub fn on_visit(txn: &mut WriteTxn<'_>, program: &Program, visit: &Visit) -> Result<()> {
    for (position, due_on) in plugin_reminders(visit) {
        txn.put(plugin_reminder_key(due_on, visit.id, position), &())?;
    }
    let Some(vehicle_id) = visit.vehicle else {
        return Ok(());
    };
    let car = vehicle::load(txn, vehicle_id)?;
    let mut history = load_history(txn, vehicle_id)?.unwrap_or_default();
    record_visit(&mut history, program, &car, visit);
    reindex(txn, program, &car, &mut history)
}

/// After `visit.import` saved a batch: the imported visits of one car (as saved, with
/// the batch's readings) feed its history like checkouts, in any date order, with one
/// re-prediction for the batch.
pub fn on_imported_visits(
    txn: &mut WriteTxn<'_>,
    program: &Program,
    car: &Vehicle,
    visits: &[Visit],
) -> Result<()> {
    if visits.is_empty() {
        return Ok(());
    }
    let mut history = load_history(txn, car.id)?.unwrap_or_default();
    for visit in visits {
        debug_assert_eq!(visit.vehicle, Some(car.id));
        record_visit(&mut history, program, car, visit);
    }
    reindex(txn, program, car, &mut history)
}

/// Add a visit's date and the services its lines match to a car's history.
fn record_visit(history: &mut CarHistory, program: &Program, car: &Vehicle, visit: &Visit) {
    if let Err(position) = history.visit_dates.binary_search(&visit.date) {
        history.visit_dates.insert(position, visit.date);
        if history.visit_dates.len() > VISIT_DATES_MAX {
            history.visit_dates.remove(0);
        }
    }
    let km = visit.mileage.or(if car.mileage_date == Some(visit.date) {
        car.mileage_km
    } else {
        None
    });
    if program.reminders.services.is_empty() {
        return;
    }
    let lines: Vec<(String, String)> = visit
        .lines
        .iter()
        .filter(|line| line.refunded_qty < line.qty)
        .map(|line| (line.sku.to_lowercase(), line.name.to_lowercase()))
        .collect();
    for rule in &program.reminders.services {
        let matched = rule.patterns.iter().any(|pattern| {
            let pattern = pattern.to_lowercase();
            lines.iter().any(|(sku, name)| {
                glob_match_lowered(&pattern, sku) || glob_match_lowered(&pattern, name)
            })
        });
        if !matched {
            continue;
        }
        let done = ServiceDone {
            kind: rule.kind.clone(),
            date: visit.date,
            km,
            visit: visit.id,
        };
        match history.services.iter_mut().find(|s| s.kind == rule.kind) {
            Some(previous) if previous.date > visit.date => {}
            Some(previous) => *previous = done,
            None => history.services.push(done),
        }
    }
}

/// The reminders a visit's plugins asked for: (position among the visit's effects, due date).
fn plugin_reminders(visit: &Visit) -> impl Iterator<Item = (u64, NaiveDate)> + '_ {
    visit
        .plugins
        .iter()
        .flat_map(|outcome| outcome.effects.iter())
        .enumerate()
        .filter_map(|(position, effect)| match effect {
            AppliedEffect::Reminder { due_on, .. } => Some((position as u64, *due_on)),
            _ => None,
        })
}

fn plugin_reminder_key(due_on: NaiveDate, visit: u64, position: u64) -> Vec<u8> {
    KeyBuilder::new(tag::PLUGIN_REMINDER)
        .date(due_on)
        .u64(visit)
        .u64(position)
        .build()
}

/// After an odometer reading: re-predict the car's service dates.
pub fn on_mileage(txn: &mut WriteTxn<'_>, ctx: &Ctx, car: &Vehicle) -> Result<()> {
    let Some(program) = ctx.program.as_deref() else {
        return Ok(());
    };
    match load_history(txn, car.id)? {
        Some(mut history) => reindex(txn, program, car, &mut history),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// Marks.

/// What the host reports about a reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkStatus {
    /// Delivered: never due again.
    Sent,
    /// Delivery failed: it stays due (and says so).
    Failed,
    /// The customer declined, or the shop decided not to send: never due again.
    Declined,
}

/// The stored outcome of a reminder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReminderMark {
    /// Reason key.
    pub id: String,
    /// Latest status.
    pub status: MarkStatus,
    /// Channel used.
    pub channel: Option<Channel>,
    /// When marked.
    pub at: DateTime<Utc>,
    /// Local date marked.
    pub date: NaiveDate,
    /// Times marked (failed attempts count).
    pub attempts: u32,
}

fn mark_key(id: &str) -> Vec<u8> {
    KeyBuilder::new(tag::REMINDER_MARK).str(id).build()
}

/// Longest reason key.
pub const ID_CHARS_MAX: usize = 128;

/// Arguments of `reminders.mark`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkArgs {
    /// The reminder's id (its reason key) from `reminders.due`.
    pub id: String,
    /// Outcome.
    pub status: MarkStatus,
    /// Channel used.
    #[serde(default)]
    pub channel: Option<Channel>,
}

/// `reminders.mark`.
pub fn mark(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: MarkArgs) -> Result<ReminderMark> {
    let id = args.id.trim();
    let kind = id.split(':').next().and_then(ReminderKind::from_name);
    if id.len() > ID_CHARS_MAX || kind.is_none() || id.contains('\0') || !id.contains(':') {
        return Err(Error::invalid(
            "id",
            format!(
                "'{}' is not a reminder id from reminders.due",
                id.chars().take(64).collect::<String>()
            ),
        ));
    }
    let previous: Option<ReminderMark> = txn.get(&mark_key(id))?;
    if let Some(previous) = &previous
        && previous.status != MarkStatus::Failed
    {
        if previous.status == args.status && previous.channel == args.channel {
            return Ok(previous.clone());
        }
        return Err(Error::new(
            ErrorCode::AlreadyExists,
            format!(
                "reminder {id} was already marked {:?} on {}",
                previous.status, previous.date
            )
            .to_lowercase(),
        )
        .with_details(json!({ "field": "id", "status": previous.status, "date": previous.date })));
    }
    let record = ReminderMark {
        id: id.to_string(),
        status: args.status,
        channel: args.channel,
        at: ctx.at,
        date: ctx.today,
        attempts: previous.map_or(0, |p| p.attempts).saturating_add(1),
    };
    txn.put(mark_key(id), &record)?;
    Ok(record)
}

// ---------------------------------------------------------------------------------------
// reminders.due

/// Arguments of `reminders.due`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DueArgs {
    /// Local date (default: today).
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Only these kinds.
    #[serde(default)]
    pub kinds: Option<Vec<ReminderKind>>,
    /// Only customers who agreed to this channel.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// Only this customer's reminders (read from their own records, not the day's list).
    #[serde(default)]
    pub customer: Option<CustomerRef>,
    /// Page size (1..=500, default 100).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Cursor from the previous page.
    #[serde(default)]
    pub after: Option<String>,
}

/// One customer to contact and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reminder {
    /// Stable reason key: pass it to `reminders.mark`.
    pub id: String,
    /// Why.
    pub kind: ReminderKind,
    /// Customer.
    pub customer: u64,
    /// Name.
    pub customer_name: String,
    /// Phone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Car concerned.
    pub vehicle: Option<u64>,
    /// Its plate.
    pub plate: Option<String>,
    /// The date the reason falls due.
    pub due_on: NaiveDate,
    /// Channels the customer agreed to (as of the date).
    pub channels: Vec<Channel>,
    /// Rendered text.
    pub text: String,
    /// Kind-specific figures.
    pub details: Value,
    /// Earlier failed attempts.
    pub failed_attempts: u32,
}

/// A page of due reminders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuePage {
    /// Date computed for.
    pub date: NaiveDate,
    /// Reminders.
    pub items: Vec<Reminder>,
    /// Cursor for the next page, if there may be more.
    pub next: Option<String>,
}

/// Largest page.
pub const DUE_LIMIT_MAX: usize = 500;
/// Index entries examined per page, per requested reminder.
const BUDGET_PER_ITEM: usize = 20;
const SCAN_CHUNK: usize = 256;

/// A reminder before the customer checks.
struct Draft {
    reason: String,
    customer: u64,
    vehicle: Option<Vehicle>,
    due_on: NaiveDate,
    fields: Vec<(&'static str, String)>,
    details: Value,
}

/// Key ranges a kind scans for a date.
fn ranges(rules: &ReminderRules, kind: ReminderKind, date: NaiveDate) -> Vec<(Vec<u8>, Vec<u8>)> {
    let window = Duration::days(i64::from(rules.window_days));
    let day = Duration::days(1);
    let dated = |table: u8, from: NaiveDate, to: NaiveDate| {
        (
            KeyBuilder::new(table).date(from).build(),
            KeyBuilder::new(table).date(to + day).build(),
        )
    };
    match kind {
        ReminderKind::ServiceDue if !rules.services.is_empty() => {
            vec![dated(tag::SERVICE_DUE, date - window, date)]
        }
        ReminderKind::PointsExpiring => match rules.points_expiring_days {
            // Keys hold the burn date, the day after the last usable day.
            Some(days) => vec![dated(
                tag::EXPIRY,
                date + day,
                date + Duration::days(i64::from(days)) + day,
            )],
            None => Vec::new(),
        },
        ReminderKind::Birthday => match rules.birthday_days_before {
            Some(before) => {
                let first = date;
                let last = date + Duration::days(i64::from(before));
                let md = |d: NaiveDate| (d.month() * 100 + d.day()) as u16;
                // In a common year 29 February birthdays are kept on the 28th: a window
                // ending on the 28th takes them in.
                let md_last = |d: NaiveDate| {
                    if d.month() == 2 && d.day() == 28 && !d.leap_year() {
                        229
                    } else {
                        md(d)
                    }
                };
                let range = |a: u16, b: u16| {
                    (
                        KeyBuilder::new(tag::BIRTHDAY).u16(a).build(),
                        KeyBuilder::new(tag::BIRTHDAY).u16(b + 1).build(),
                    )
                };
                if first.year() == last.year() {
                    vec![range(md(first), md_last(last))]
                } else {
                    vec![range(md(first), 1231), range(101, md_last(last))]
                }
            }
            None => Vec::new(),
        },
        ReminderKind::Recommendation => match rules.recommendation_after_days {
            Some(after) => {
                let created = date - Duration::days(i64::from(after));
                vec![dated(
                    tag::RECOMMENDATION_BY_DATE,
                    created - window,
                    created,
                )]
            }
            None => Vec::new(),
        },
        ReminderKind::TyreSeason => match season_now(rules, date) {
            Some(_) => vec![(
                vec![tag::TYRE_STORAGE_ACTIVE],
                keys::prefix_end(&[tag::TYRE_STORAGE_ACTIVE]),
            )],
            None => Vec::new(),
        },
        ReminderKind::OrderArrived if rules.order_arrived => {
            vec![dated(tag::SPECIAL_ORDER_ARRIVED, date - window, date)]
        }
        ReminderKind::QualityCall => match &rules.quality_call {
            Some(call) => vec![dated(
                tag::VISIT_BY_DATE,
                date - Duration::days(i64::from(call.after_days_max)),
                date - Duration::days(i64::from(call.after_days_min)),
            )],
            None => Vec::new(),
        },
        ReminderKind::Lapsed if rules.lapsed.is_some() => {
            vec![dated(tag::LAPSE_DUE, date - window, date)]
        }
        ReminderKind::Promotion => vec![dated(tag::PLUGIN_REMINDER, date - window, date)],
        _ => Vec::new(),
    }
}

/// The season window `date` lies in: (stored season that is due, name, window start).
fn season_now(rules: &ReminderRules, date: NaiveDate) -> Option<(Season, &'static str, NaiveDate)> {
    let season = rules.tyre_season.as_ref()?;
    for (window, due, name) in [
        (&season.autumn, Season::Winter, "autumn"),
        (&season.spring, Season::Summer, "spring"),
    ] {
        let (fm, fd) = parse_month_day(&window.from)?;
        let (tm, td) = parse_month_day(&window.to)?;
        let at = |year: i32, m: u32, d: u32| {
            NaiveDate::from_ymd_opt(year, m, d).or_else(|| NaiveDate::from_ymd_opt(year, m, 28))
        };
        for start_year in [date.year() - 1, date.year()] {
            let start = at(start_year, fm, fd)?;
            let end_year = if (tm, td) < (fm, fd) {
                start_year + 1
            } else {
                start_year
            };
            let end = at(end_year, tm, td)?;
            if start <= date && date <= end {
                return Some((due, name, start));
            }
        }
    }
    None
}

fn car_fields(car: Option<&Vehicle>) -> Vec<(&'static str, String)> {
    let Some(car) = car else {
        return vec![
            ("car", "автомобиль".into()),
            ("make", String::new()),
            ("model", String::new()),
            ("plate", String::new()),
        ];
    };
    let mut name = format!("{} {}", car.make, car.model);
    if let Some(plate) = &car.plate {
        name.push_str(&format!(" ({plate})"));
    }
    vec![
        ("car", name),
        ("make", car.make.clone()),
        ("model", car.model.clone()),
        ("plate", car.plate.clone().unwrap_or_default()),
    ]
}

/// Turn one index entry into a draft reminder, if it is due.
fn draft<R: Reader>(
    reader: &R,
    day: &Ctx,
    program: &Program,
    kind: ReminderKind,
    key: &[u8],
    value: &[u8],
) -> Result<Option<Draft>> {
    let rules = &program.reminders;
    let date = day.today;
    let short = || Error::corrupted(format!("index key {} too short", keys::display(key)));
    Ok(match kind {
        ReminderKind::ServiceDue => {
            let vehicle_id = read_u64(key, 5).ok_or_else(short)?;
            let service =
                std::str::from_utf8(key.get(13..).ok_or_else(short)?).map_err(|_| short())?;
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
            let daily_km = vehicle::daily_km(&vehicle::readings(reader, car.id, 10_000)?);
            let Some((due_on, due_km)) = service_due_on(rule, done, &car, daily_km) else {
                return Ok(None);
            };
            // The programme may have changed since the index was written.
            if due_on - Duration::days(i64::from(rules.service_days_before)) > date {
                return Ok(None);
            }
            Some(Draft {
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
            })
        }
        ReminderKind::PointsExpiring => {
            let burn = read_date(key, 1).ok_or_else(short)?;
            let customer_id = read_u64(key, 5).ok_or_else(short)?;
            let lot_id = read_u64(key, 13).ok_or_else(short)?;
            let days = i64::from(rules.points_expiring_days.unwrap_or(0));
            let horizon = date + Duration::days(days);
            let mut book = Book::load(reader, customer_id)?;
            book.settle(day)?;
            let lots: Vec<_> = book
                .lots()
                .into_iter()
                .filter(|l| {
                    l.remaining > Decimal::ZERO
                        && l.expires_on.is_some_and(|e| e >= date && e <= horizon)
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
            Some(Draft {
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
            })
        }
        ReminderKind::Birthday => {
            let customer_id = read_u64(key, 3).ok_or_else(short)?;
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
            Some(Draft {
                reason: format!("birthday:{customer_id}:{}", on.year()),
                customer: customer_id,
                vehicle: None,
                due_on: on,
                fields: vec![("birthday", format!("{:02}.{:02}", on.day(), on.month()))],
                details: json!({ "birthday": on }),
            })
        }
        ReminderKind::Recommendation => {
            let id = read_u64(key, 5).ok_or_else(short)?;
            let record = recommendation::load(reader, id)?;
            if record.status != RecommendationStatus::Open {
                return Ok(None);
            }
            let car = record
                .vehicle
                .map(|v| vehicle::load(reader, v))
                .transpose()?;
            let customer = car.as_ref().map_or(record.customer, |c| c.customer);
            let after = i64::from(rules.recommendation_after_days.unwrap_or(0));
            Some(Draft {
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
            })
        }
        ReminderKind::TyreSeason => {
            let id = read_u64(key, 1).ok_or_else(short)?;
            let Some((due, name, start)) = season_now(rules, date) else {
                return Ok(None);
            };
            let set = tyre_storage::load(reader, id)?;
            if set.season != due || set.checked_out.is_some() || set.checked_in > date {
                return Ok(None);
            }
            let car = set.vehicle.map(|v| vehicle::load(reader, v)).transpose()?;
            let season = match set.season {
                Season::Winter => "зимние шины",
                Season::Summer => "летние шины",
                Season::AllSeason => "всесезонные шины",
            };
            Some(Draft {
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
            })
        }
        ReminderKind::OrderArrived => {
            let id = read_u64(key, 5).ok_or_else(short)?;
            let order = order::load(reader, id)?;
            if order.status != OrderStatus::Arrived {
                return Ok(None);
            }
            let car = order
                .vehicle
                .map(|v| vehicle::load(reader, v))
                .transpose()?;
            Some(Draft {
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
            })
        }
        ReminderKind::QualityCall => {
            let visit_id = read_u64(key, 5).ok_or_else(short)?;
            let dated: DatedVisit = crate::store::decode(key, value)?;
            if !dated.counted || reader.contains(&feedback::visit_key(visit_id))? {
                return Ok(None);
            }
            let visit = visit::load(reader, visit_id)?;
            let car = visit
                .vehicle
                .map(|v| vehicle::load(reader, v))
                .transpose()?;
            let after = rules.quality_call.as_ref().map_or(2, |c| c.after_days_min);
            Some(Draft {
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
            })
        }
        ReminderKind::Lapsed => {
            let vehicle_id = read_u64(key, 5).ok_or_else(short)?;
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
            Some(Draft {
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
            })
        }
        ReminderKind::Promotion => {
            let visit_id = read_u64(key, 5).ok_or_else(short)?;
            let position = read_u64(key, 13).ok_or_else(short)?;
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
            let car = visit
                .vehicle
                .map(|v| vehicle::load(reader, v))
                .transpose()?;
            Some(Draft {
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
            })
        }
    })
}

/// Channels a customer agreed to as of `date` (consents are dated), never when
/// blacklisted or blocked.
fn channels_on(customer: &Customer, program: &Program, date: NaiveDate) -> Vec<Channel> {
    if customer.blacklisted || customer.status == CustomerStatus::Blocked {
        return Vec::new();
    }
    customer
        .consents
        .iter()
        .filter(|c| c.granted && program.local_date(c.at) <= date)
        .map(|c| c.channel)
        .collect()
}

fn first_name(full_name: &str) -> String {
    // ФИО: the family name comes first, the given name second.
    let words: Vec<&str> = full_name.split_whitespace().collect();
    match words.as_slice() {
        [_, given, ..] => (*given).to_string(),
        [only] => (*only).to_string(),
        [] => String::new(),
    }
}

fn finish<R: Reader>(
    reader: &R,
    program: &Program,
    kind: ReminderKind,
    date: NaiveDate,
    channel: Option<Channel>,
    draft: Draft,
) -> Result<Option<Reminder>> {
    let mark: Option<ReminderMark> = reader.get(&mark_key(&draft.reason))?;
    if mark
        .as_ref()
        .is_some_and(|m| m.status != MarkStatus::Failed)
    {
        return Ok(None);
    }
    let customer = customer::load(reader, draft.customer)?;
    let mut channels = channels_on(&customer, program, date);
    // A task for staff and a message for the customer never share a channel, so no
    // export for a gateway can carry an instruction to staff: a staff task goes out as a
    // call (to a customer who agreed to calls), a message in every other channel.
    channels.retain(|c| (*c == Channel::Call) == kind.is_staff_task());
    if let Some(wanted) = channel {
        channels.retain(|c| *c == wanted);
    }
    if channels.is_empty() {
        return Ok(None);
    }
    let mut fields: BTreeMap<&str, String> = BTreeMap::new();
    fields.insert("full_name", customer.full_name.clone());
    fields.insert("first_name", first_name(&customer.full_name));
    fields.insert("shop", program.name.clone());
    fields.insert("due_on", format_date(draft.due_on));
    for (name, value) in car_fields(draft.vehicle.as_ref())
        .into_iter()
        .chain(draft.fields)
    {
        fields.insert(name, value);
    }
    let text = render_with(program.reminders.template(kind), |name| {
        fields.get(name).cloned().unwrap_or_default()
    })
    .map_err(|problem| Error::internal(format!("template of {}: {problem}", kind.as_str())))?;
    Ok(Some(Reminder {
        id: draft.reason,
        kind,
        customer: customer.id,
        customer_name: customer.full_name.clone(),
        phone: customer.phone.clone(),
        email: customer.email.clone(),
        vehicle: draft.vehicle.as_ref().map(|v| v.id),
        plate: draft.vehicle.as_ref().and_then(|v| v.plate.clone()),
        due_on: draft.due_on,
        channels,
        text,
        details: draft.details,
        failed_attempts: mark.map_or(0, |m| m.attempts),
    }))
}

/// Cursor: kind, range index and the last key examined.
fn encode_cursor(kind: ReminderKind, range: usize, key: &[u8]) -> String {
    format!(
        "{}.{range}.{}",
        kind.as_str(),
        crate::store::keys::cursor_text(key)
    )
}

fn decode_cursor(text: &str) -> Result<(ReminderKind, usize, Vec<u8>)> {
    let bad = || Error::invalid("after", "not a cursor from reminders.due");
    let mut parts = text.splitn(3, '.');
    let kind = parts
        .next()
        .and_then(ReminderKind::from_name)
        .ok_or_else(bad)?;
    let range: usize = parts.next().and_then(|r| r.parse().ok()).ok_or_else(bad)?;
    let hex = parts.next().ok_or_else(bad)?;
    let key = crate::store::keys::cursor_key(hex, "reminders.due")?;
    Ok((kind, range, key))
}

/// Most records of one kind read for one customer's reminders (cars, recommendations,
/// visits in the quality-call window); a customer's own records are few, this only
/// bounds a pathological one.
const CUSTOMER_RECORDS_MAX: usize = 1000;

/// The index entries one customer's own records put in `kind`'s index, in key order, or
/// `None` when the kind's index cannot be reached from the customer (promotion
/// reminders, found through the day's range and kept when the visit is theirs). With a
/// customer, `reminders.due` reads these instead of the day's whole range, so a
/// customer's card costs what the customer has, not what the shop has due. The entries
/// go through the same `draft` as the day's list, so what is due is decided once.
fn customer_entries<R: Reader>(
    reader: &R,
    program: &Program,
    kind: ReminderKind,
    owner: &Customer,
    cars: &[Vehicle],
    date: NaiveDate,
) -> Result<Option<Vec<Pair>>> {
    let rules = &program.reminders;
    let mut keys: Vec<Vec<u8>> = Vec::new();
    match kind {
        ReminderKind::ServiceDue | ReminderKind::Lapsed => {
            for car in cars {
                let Some(history) = load_history(reader, car.id)? else {
                    continue;
                };
                if kind == ReminderKind::ServiceDue {
                    for (service, on) in &history.service_index {
                        keys.push(service_key(*on, car.id, service));
                    }
                } else if let Some(on) = history.lapse_index {
                    keys.push(lapse_key(on, car.id));
                }
            }
        }
        ReminderKind::PointsExpiring => {
            let book = Book::load(reader, owner.id)?;
            for lot in book.lots() {
                if let Some(expires_on) = lot.expires_on {
                    keys.push(crate::ledger::expiry_key(
                        expires_on + Duration::days(1),
                        owner.id,
                        lot.id,
                    ));
                }
            }
        }
        ReminderKind::Birthday => {
            if let Some(birthday) = owner.birthday {
                keys.push(customer::birthday_key(birthday, owner.id));
            }
        }
        ReminderKind::Recommendation => {
            // The customer's own sheet, and the sheets of the cars they own now (a
            // recommendation follows its car to a new owner).
            let mut prefixes = vec![
                KeyBuilder::new(tag::CUSTOMER_RECOMMENDATION)
                    .u64(owner.id)
                    .build(),
            ];
            prefixes.extend(cars.iter().map(|car| {
                KeyBuilder::new(tag::VEHICLE_RECOMMENDATION)
                    .u64(car.id)
                    .build()
            }));
            for prefix in prefixes {
                for id in crate::context::ids_under(reader, &prefix, CUSTOMER_RECORDS_MAX, true)? {
                    let record = recommendation::load(reader, id)?;
                    if record.status == RecommendationStatus::Open {
                        keys.push(recommendation::date_key(record.date, id));
                    }
                }
            }
        }
        ReminderKind::TyreSeason => {
            for set in tyre_storage::of_customer(reader, owner.id, true, CUSTOMER_RECORDS_MAX)? {
                keys.push(tyre_storage::active_key(set.id));
            }
        }
        ReminderKind::OrderArrived => {
            for order in order::open_of_customer(reader, owner.id)? {
                if let (OrderStatus::Arrived, Some(on)) = (order.status, order.arrived_on) {
                    keys.push(order::arrived_key(on, order.id));
                }
            }
        }
        ReminderKind::QualityCall => {
            if let Some(call) = &rules.quality_call {
                let from = date - Duration::days(i64::from(call.after_days_max));
                let to = date - Duration::days(i64::from(call.after_days_min));
                for (on, summary) in
                    visit::summaries(reader, owner.id, from, to, CUSTOMER_RECORDS_MAX)?
                {
                    keys.push(
                        KeyBuilder::new(tag::VISIT_BY_DATE)
                            .date(on)
                            .u64(summary.visit)
                            .build(),
                    );
                }
            }
        }
        ReminderKind::Promotion => return Ok(None),
    }
    keys.sort();
    keys.dedup();
    // Only what the index holds: a key derived from a record but not (or no longer)
    // indexed is not due, exactly as in the day's scan.
    let mut entries = Vec::with_capacity(keys.len());
    for key in keys {
        if let Some(value) = reader.get_raw(&key)? {
            entries.push((key, value));
        }
    }
    Ok(Some(entries))
}

/// `reminders.due`: a pure read, paged; kinds in a fixed order.
pub fn due<R: Reader>(reader: &R, ctx: &Ctx, args: &DueArgs) -> Result<DuePage> {
    let program = ctx.program()?;
    let date = args.date.unwrap_or(ctx.today);
    let limit = args.limit.unwrap_or(100);
    if limit == 0 || limit > DUE_LIMIT_MAX {
        return Err(Error::invalid(
            "limit",
            format!("must be 1..={DUE_LIMIT_MAX}"),
        ));
    }
    let kinds: Vec<ReminderKind> = match &args.kinds {
        Some(kinds) if kinds.is_empty() => {
            return Err(Error::invalid("kinds", "list at least one kind"));
        }
        Some(kinds) => ReminderKind::ALL
            .into_iter()
            .filter(|k| kinds.contains(k))
            .collect(),
        None => ReminderKind::ALL.to_vec(),
    };
    let day = Ctx {
        at: jobs::start_of_day(ctx, date)?,
        today: date,
        program: ctx.program.clone(),
    };
    let cursor = args.after.as_deref().map(decode_cursor).transpose()?;
    if let Some((kind, _, _)) = &cursor
        && !kinds.contains(kind)
    {
        return Err(Error::invalid("after", "the cursor belongs to other kinds"));
    }
    let owner = args
        .customer
        .as_ref()
        .map(|reference| customer::resolve(reader, ctx, reference))
        .transpose()?;
    let cars = match &owner {
        Some(owner) => vehicle::of_customer(reader, owner.id)?,
        None => Vec::new(),
    };
    let mut items = Vec::new();
    let mut budget = limit.saturating_mul(BUDGET_PER_ITEM);
    for kind in kinds {
        if let Some((cursor_kind, _, _)) = &cursor
            && kind < *cursor_kind
        {
            continue;
        }
        let own = match &owner {
            Some(owner) => customer_entries(reader, program, kind, owner, &cars, date)?,
            None => None,
        };
        for (index, (start, end)) in ranges(&program.reminders, kind, date)
            .into_iter()
            .enumerate()
        {
            let mut from = start;
            if let Some((cursor_kind, cursor_range, key)) = &cursor
                && *cursor_kind == kind
            {
                if index < *cursor_range {
                    continue;
                }
                if index == *cursor_range {
                    from = key.clone();
                    from.push(0);
                }
            }
            // The customer's own entries of this range, or the range itself in chunks.
            let mut listed = own.as_ref().map(|entries| {
                entries
                    .iter()
                    .filter(|(key, _)| *key >= from && *key < end)
                    .cloned()
                    .collect::<Vec<Pair>>()
                    .into_iter()
            });
            loop {
                let rows: Vec<Pair> = match listed.as_mut() {
                    Some(entries) => entries.by_ref().take(SCAN_CHUNK).collect(),
                    None => reader.scan_raw(&from, &end, SCAN_CHUNK.min(budget.max(1)), false)?,
                };
                let Some((last, _)) = rows.last() else { break };
                let mut next_from = last.clone();
                next_from.push(0);
                for (key, value) in &rows {
                    budget = budget.saturating_sub(1);
                    if let Some(draft) = draft(reader, &day, program, kind, key, value)?
                        && owner.as_ref().is_none_or(|o| o.id == draft.customer)
                        && let Some(reminder) =
                            finish(reader, program, kind, date, args.channel, draft)?
                    {
                        items.push(reminder);
                    }
                    if items.len() == limit || budget == 0 {
                        return Ok(DuePage {
                            date,
                            items,
                            next: Some(encode_cursor(kind, index, key)),
                        });
                    }
                }
                from = next_from;
            }
        }
    }
    Ok(DuePage {
        date,
        items,
        next: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::reminder_rules::placeholders;

    fn glob_match(pattern: &str, text: &str) -> bool {
        glob_match_lowered(&pattern.to_lowercase(), &text.to_lowercase())
    }

    #[test]
    fn glob_matches_like_a_shell() {
        assert!(glob_match("TO-*", "to-2"));
        assert!(glob_match("*замена масла*", "Замена масла двигателя"));
        assert!(glob_match("*ремень грм*", "Ремень ГРМ"));
        assert!(!glob_match("TO-*", "FTO-2"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        // A star resumes on whole characters only: "ё" must not match half of "е".
        assert!(glob_match("*ЁЖ", "ееёж"));
        assert!(!glob_match("*ёж", "ееж"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("а", ""));
    }

    /// The shop's name is a nominative: a default template that put it after a
    /// preposition read «Ждём вас в Клуб автосервиса». Nor may a count stand before
    /// «баллов», which is wrong for 1, 2, 21 … points.
    #[test]
    fn default_templates_use_the_shop_name_in_the_nominative() {
        let prepositions = ["в", "во", "у", "из", "от", "для", "на", "к", "с", "о"];
        for kind in ReminderKind::ALL {
            let template = kind.default_template();
            let words: Vec<&str> = template.split_whitespace().collect();
            for pair in words.windows(2) {
                if pair[1].starts_with("{shop}") {
                    let before = pair[0].to_lowercase();
                    assert!(
                        !prepositions.contains(&before.as_str()),
                        "{}: «{} {}»",
                        kind.as_str(),
                        pair[0],
                        pair[1]
                    );
                }
                assert!(
                    !(pair[0].starts_with('{') && pair[1].starts_with("балл")),
                    "{}: a count before «{}»",
                    kind.as_str(),
                    pair[1]
                );
            }
        }
    }

    #[test]
    fn templates_substitute_and_reject_bad_braces() {
        let text = render_with("Привет, {first_name}! {{скобки}}", |name| {
            assert_eq!(name, "first_name");
            "Иван".into()
        })
        .unwrap();
        assert_eq!(text, "Привет, Иван! {скобки}");
        assert!(placeholders("{unclosed").is_err());
        assert!(placeholders("lone }").is_err());
        assert!(placeholders("{Bad Name}").is_err());
        assert_eq!(placeholders("{a} {b}").unwrap(), vec!["a", "b"]);
    }

    #[test]
    fn usual_interval_is_the_median_gap() {
        let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
        assert_eq!(usual_interval(&[d(1, 1), d(2, 1)], 3), None);
        assert_eq!(
            usual_interval(&[d(1, 1), d(2, 1), d(3, 1), d(9, 1)], 3),
            Some(31)
        );
    }
}
