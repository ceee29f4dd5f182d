//! What the writes keep for reminders: each car's service history, its predicted
//! service and lapse dates in date-keyed indexes, and the reminders plugins asked for.
//! Called from checkout, import and the mileage operation.

use crate::catalog::Aliases;
use crate::context::Ctx;
use crate::error::Result;
use crate::plugin::AppliedEffect;
use crate::program::Program;
use crate::program::reminder_rules::{LapsedRules, ServiceRule, glob_match_lowered};
use crate::store::keys::{KeyBuilder, tag};
use crate::store::{Reader, WriteTxn};
use crate::vehicle::{self, Vehicle};
use crate::visit::Visit;
use chrono::{Duration, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

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
pub(super) fn service_key(date: NaiveDate, vehicle: u64, kind: &str) -> Vec<u8> {
    KeyBuilder::new(tag::SERVICE_DUE)
        .date(date)
        .u64(vehicle)
        .str(kind)
        .build()
}
pub(super) fn lapse_key(date: NaiveDate, vehicle: u64) -> Vec<u8> {
    KeyBuilder::new(tag::LAPSE_DUE)
        .date(date)
        .u64(vehicle)
        .build()
}

pub(super) fn load_history<R: Reader>(reader: &R, vehicle: u64) -> Result<Option<CarHistory>> {
    reader.get(&history_key(vehicle))
}

/// Predicted date a service falls due: the earlier of its time and its mileage limit
/// (mileage extrapolated from the car's readings).
pub(super) fn service_due_on(
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
pub(super) fn usual_interval(dates: &[NaiveDate], min_visits: u32) -> Option<i64> {
    if dates.len() < min_visits.max(2) as usize {
        return None;
    }
    let mut gaps: Vec<i64> = dates.windows(2).map(|w| (w[1] - w[0]).num_days()).collect();
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2];
    (median > 0).then_some(median)
}

pub(super) fn lapse_on(dates: &[NaiveDate], rules: &LapsedRules) -> Option<(NaiveDate, i64)> {
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
    let daily_km = vehicle::km_per_day(txn, car.id)?;
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
    let lines = matched_lines(txn, program, &mut Aliases::default(), visit)?;
    record_visit(&mut history, program, &car, visit, &lines);
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
    let mut aliases = Aliases::default();
    for visit in visits {
        debug_assert_eq!(visit.vehicle, Some(car.id));
        let lines = matched_lines(txn, program, &mut aliases, visit)?;
        record_visit(&mut history, program, car, visit, &lines);
    }
    reindex(txn, program, car, &mut history)
}

/// A visit's lines kept after refunds as service rules match them: the SKU and every
/// name of the line's service (the names confirmed as one by `catalog.alias`), lower-cased.
fn matched_lines<R: Reader>(
    reader: &R,
    program: &Program,
    aliases: &mut Aliases,
    visit: &Visit,
) -> Result<Vec<(String, Vec<String>)>> {
    if program.reminders.services.is_empty() {
        return Ok(Vec::new());
    }
    let mut lines = Vec::new();
    for line in visit
        .lines
        .iter()
        .filter(|line| line.refunded_qty < line.qty)
    {
        let names = aliases.names(reader, &line.name)?;
        lines.push((
            line.sku.to_lowercase(),
            names.iter().map(|n| n.to_lowercase()).collect(),
        ));
    }
    Ok(lines)
}

/// Add a visit's date and the services its lines (as [`matched_lines`] gives them)
/// match to a car's history.
fn record_visit(
    history: &mut CarHistory,
    program: &Program,
    car: &Vehicle,
    visit: &Visit,
    lines: &[(String, Vec<String>)],
) {
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
    for rule in &program.reminders.services {
        let matched = rule.patterns.iter().any(|pattern| {
            let pattern = pattern.to_lowercase();
            lines.iter().any(|(sku, names)| {
                glob_match_lowered(&pattern, sku)
                    || names.iter().any(|name| glob_match_lowered(&pattern, name))
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
