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

mod draft;
mod history;
mod marks;

pub use history::{on_imported_visits, on_mileage, on_visit};
pub use marks::{MarkArgs, MarkStatus, ReminderMark, mark};

use draft::Draft;
use history::{lapse_key, load_history, service_key};
use marks::mark_key;

use crate::context::Ctx;
use crate::customer::{self, Channel, Customer, CustomerRef, CustomerStatus};
use crate::error::{Error, Result};
use crate::jobs;
use crate::ledger::Book;
use crate::order::{self, OrderStatus};
use crate::paging::PageSize;
use crate::program::Program;
pub use crate::program::reminder_rules::{ReminderKind, ReminderRules};
use crate::program::reminder_rules::{parse_month_day, render_with};
use crate::recommendation::{self, RecommendationStatus};
use crate::store::keys::{self, KeyBuilder, tag};
use crate::store::{Pair, Reader};
use crate::tyre_storage::{self, Season};
use crate::vehicle::{self, Vehicle};
use crate::visit;
use crate::wording::format_date;
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

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
    /// Only customers of this branch: those whose latest visit was recorded there (a
    /// customer serves as the group's, and is contacted by the site they came to last).
    #[serde(default)]
    pub branch: Option<String>,
}

/// One customer to contact and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct DuePage {
    /// Date computed for.
    pub date: NaiveDate,
    /// Reminders.
    pub items: Vec<Reminder>,
    /// Cursor for the next page, if there may be more.
    pub next: Option<String>,
}

/// Pages of `reminders.due`.
pub const DUE_PAGE: PageSize = PageSize::new(100, 500);
/// Index entries examined per page, per requested reminder.
const BUDGET_PER_ITEM: usize = 20;
const SCAN_CHUNK: usize = 256;

/// Birthday index ranges (month-day keys) for the days `first..=last`, split at the
/// year's end.
fn birthday_ranges(first: NaiveDate, last: NaiveDate) -> Vec<(Vec<u8>, Vec<u8>)> {
    let md = |d: NaiveDate| (d.month() * 100 + d.day()) as u16;
    // In a common year 29 February birthdays are kept on the 28th: a window ending on the
    // 28th takes them in.
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
            Some(before) => birthday_ranges(date, date + Duration::days(i64::from(before))),
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
pub(super) fn season_now(
    rules: &ReminderRules,
    date: NaiveDate,
) -> Option<(Season, &'static str, NaiveDate)> {
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
            keys = car_history_keys(reader, kind, cars)?;
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
        ReminderKind::Recommendation => keys = recommendation_keys(reader, owner, cars)?,
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
    indexed_entries(reader, keys).map(Some)
}

/// Index keys of the cars' service and lapse entries.
fn car_history_keys<R: Reader>(
    reader: &R,
    kind: ReminderKind,
    cars: &[Vehicle],
) -> Result<Vec<Vec<u8>>> {
    let mut keys = Vec::new();
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
    Ok(keys)
}

/// Index keys of the open recommendations on the customer's own sheet and on the sheets
/// of the cars they own now (a recommendation follows its car to a new owner).
fn recommendation_keys<R: Reader>(
    reader: &R,
    owner: &Customer,
    cars: &[Vehicle],
) -> Result<Vec<Vec<u8>>> {
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
    let mut keys = Vec::new();
    for prefix in prefixes {
        for id in crate::context::ids_under(reader, &prefix, CUSTOMER_RECORDS_MAX, true)? {
            let record = recommendation::load(reader, id)?;
            if record.status == RecommendationStatus::Open {
                keys.push(recommendation::date_key(record.date, id));
            }
        }
    }
    Ok(keys)
}

/// Only what the index holds: a key derived from a record but not (or no longer)
/// indexed is not due, exactly as in the day's scan.
fn indexed_entries<R: Reader>(reader: &R, mut keys: Vec<Vec<u8>>) -> Result<Vec<Pair>> {
    keys.sort();
    keys.dedup();
    let mut entries = Vec::with_capacity(keys.len());
    for key in keys {
        if let Some(value) = reader.get_raw(&key)? {
            entries.push((key, value));
        }
    }
    Ok(entries)
}

/// Whether a customer belongs to `branch` (no filter: everyone): their latest visit was
/// recorded there.
fn of_branch<R: Reader>(reader: &R, branch: Option<&str>, customer: u64) -> Result<bool> {
    let Some(branch) = branch else {
        return Ok(true);
    };
    Ok(crate::visit::latest(reader, customer, 1)?
        .first()
        .is_some_and(|visit| visit.branch.as_deref() == Some(branch)))
}

/// `reminders.due`: a pure read, paged; kinds in a fixed order.
pub fn due<R: Reader>(reader: &R, ctx: &Ctx, args: &DueArgs) -> Result<DuePage> {
    let program = ctx.program()?;
    let date = args.date.unwrap_or(ctx.today);
    let limit = DUE_PAGE.of(args.limit)?;
    let kinds = selected_kinds(args.kinds.as_deref())?;
    let day = Ctx {
        at: jobs::start_of_day(ctx, date)?,
        today: date,
        program: ctx.program.clone(),
        branch: ctx.branch.clone(),
    };
    let cursor = args.after.as_deref().map(decode_cursor).transpose()?;
    if let Some((kind, _, _)) = &cursor
        && !kinds.contains(kind)
    {
        return Err(Error::invalid("after", "the cursor belongs to other kinds"));
    }
    let (owner, cars) = owner_and_cars(reader, ctx, args.customer.as_ref())?;
    let mut page = DueScan {
        reader,
        day: &day,
        program,
        owner: owner.as_ref(),
        branch: crate::visit::branch_filter(args.branch.as_deref())?,
        channel: args.channel,
        limit,
        budget: limit.saturating_mul(BUDGET_PER_ITEM),
        items: Vec::new(),
    };
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
            if let Some(next) = page.walk(kind, index, (from, end), own.as_deref())? {
                return Ok(page.finish(date, Some(next)));
            }
        }
    }
    Ok(page.finish(date, None))
}

/// The one customer asked about, if any, and the cars they own now.
fn owner_and_cars<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    reference: Option<&CustomerRef>,
) -> Result<(Option<Customer>, Vec<Vehicle>)> {
    let Some(reference) = reference else {
        return Ok((None, Vec::new()));
    };
    let owner = customer::resolve(reader, ctx, reference)?;
    let cars = vehicle::of_customer(reader, owner.id)?;
    Ok((Some(owner), cars))
}

/// The kinds asked for, in the fixed order of [`ReminderKind::ALL`].
fn selected_kinds(kinds: Option<&[ReminderKind]>) -> Result<Vec<ReminderKind>> {
    Ok(match kinds {
        Some([]) => return Err(Error::invalid("kinds", "list at least one kind")),
        Some(kinds) => ReminderKind::ALL
            .into_iter()
            .filter(|k| kinds.contains(k))
            .collect(),
        None => ReminderKind::ALL.to_vec(),
    })
}

/// One page of `reminders.due` being filled, range by range.
struct DueScan<'a, R: Reader> {
    reader: &'a R,
    day: &'a Ctx,
    program: &'a Program,
    owner: Option<&'a Customer>,
    branch: Option<&'a str>,
    channel: Option<Channel>,
    limit: usize,
    /// Index entries still allowed to be examined for this page.
    budget: usize,
    items: Vec<Reminder>,
}

impl<R: Reader> DueScan<'_, R> {
    /// Draft the reminders of one key range of `kind` (range number `index`): the
    /// customer's own entries of it, or the range itself in chunks. Returns the cursor
    /// to continue from when the page is full or the budget is spent.
    fn walk(
        &mut self,
        kind: ReminderKind,
        index: usize,
        (mut from, end): (Vec<u8>, Vec<u8>),
        own: Option<&[Pair]>,
    ) -> Result<Option<String>> {
        let date = self.day.today;
        let mut listed = own.map(|entries| {
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
                None => {
                    self.reader
                        .scan_raw(&from, &end, SCAN_CHUNK.min(self.budget.max(1)), false)?
                }
            };
            let Some((last, _)) = rows.last() else {
                return Ok(None);
            };
            let mut next_from = last.clone();
            next_from.push(0);
            for (key, value) in &rows {
                self.budget = self.budget.saturating_sub(1);
                if let Some(draft) =
                    draft::draft(self.reader, self.day, self.program, kind, key, value)?
                    && self.owner.is_none_or(|o| o.id == draft.customer)
                    && of_branch(self.reader, self.branch, draft.customer)?
                    && let Some(reminder) =
                        finish(self.reader, self.program, kind, date, self.channel, draft)?
                {
                    self.items.push(reminder);
                }
                if self.items.len() == self.limit || self.budget == 0 {
                    return Ok(Some(encode_cursor(kind, index, key)));
                }
            }
            from = next_from;
        }
    }

    fn finish(self, date: NaiveDate, next: Option<String>) -> DuePage {
        DuePage {
            date,
            items: self.items,
            next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::history::usual_interval;
    use super::*;
    use crate::program::reminder_rules::{glob_match_lowered, placeholders};

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
