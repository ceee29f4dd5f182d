//! Segments: saved filters over customer, car and history fields (tier, tags, make,
//! car age, last visit, spend and visits over a window, consent for a channel), used
//! to preview an audience and to pick whom a campaign notifies. Blacklisted, blocked
//! and erased customers never match.

use crate::context::Ctx;
use crate::customer::{Channel, Customer, CustomerStatus, CustomerSummary};
use crate::error::{Error, Result};
use crate::normalize::{self, TAGS_MAX, TEXT_CHARS_MAX};
use crate::paging::PageSize;
use crate::store::keys::{self, KeyBuilder, tag};
use crate::store::{Reader, WriteTxn};
use crate::{vehicle, visit};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Most values in one list of a filter (tiers, makes).
pub const FILTER_VALUES_MAX: usize = 32;
/// Most saved segments.
pub const SEGMENTS_MAX: usize = 1000;
/// Pages of `segment.preview`.
pub const PREVIEW_PAGE: PageSize = PageSize::new(100, 1000);
/// Most customers examined by one call (the cursor carries on from there).
pub const EXAMINE_MAX: usize = 50_000;
/// Most visits looked at for one customer's spend window.
const WINDOW_VISITS_MAX: usize = 10_000;
const CHUNK: usize = 1024;

/// Conditions a customer must all meet; absent conditions match everybody.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Current tier is one of these codes.
    #[serde(default)]
    pub tiers: Vec<String>,
    /// Has every one of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Owns a car of one of these makes (case ignored).
    #[serde(default)]
    pub makes: Vec<String>,
    /// Owns a car at least this many years old (by model year).
    #[serde(default)]
    pub car_age_min: Option<u32>,
    /// Owns a car at most this many years old.
    #[serde(default)]
    pub car_age_max: Option<u32>,
    /// Last visit on or before this date (customers who never came do not match).
    #[serde(default)]
    pub last_visit_before: Option<NaiveDate>,
    /// Last visit on or after this date.
    #[serde(default)]
    pub last_visit_after: Option<NaiveDate>,
    /// Window for `spend_*` and `visits_*`: the last N days; absent = lifetime.
    #[serde(default)]
    pub window_days: Option<u32>,
    /// Net spend in the window at least this.
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub spend_min: Option<Decimal>,
    /// Net spend in the window at most this.
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub spend_max: Option<Decimal>,
    /// Visits in the window at least this many.
    #[serde(default)]
    pub visits_min: Option<u32>,
    /// Visits in the window at most this many.
    #[serde(default)]
    pub visits_max: Option<u32>,
    /// Agreed to be contacted through this channel.
    #[serde(default)]
    pub consent: Option<Channel>,
}

impl Filter {
    /// Validate limits and normalise values (tags lower-cased, makes folded).
    pub fn checked(mut self) -> Result<Filter> {
        for (field, list, max) in [
            ("filter.tiers", &self.tiers, FILTER_VALUES_MAX),
            ("filter.tags", &self.tags, TAGS_MAX),
            ("filter.makes", &self.makes, FILTER_VALUES_MAX),
        ] {
            if list.len() > max {
                return Err(Error::too_large(field, max));
            }
            for value in list {
                normalize::text(field, value, 64)?;
            }
        }
        self.tags = self.tags.iter().map(|t| t.trim().to_lowercase()).collect();
        self.makes = self.makes.iter().map(|m| m.trim().to_lowercase()).collect();
        if let Some(days) = self.window_days
            && !(1..=3660).contains(&days)
        {
            return Err(Error::invalid("filter.window_days", "must be 1..=3660"));
        }
        for (field, value) in [
            ("filter.spend_min", self.spend_min),
            ("filter.spend_max", self.spend_max),
        ] {
            if value.is_some_and(|v| v < Decimal::ZERO) {
                return Err(Error::invalid(field, "must not be negative"));
            }
        }
        for (field, value) in [
            ("filter.car_age_min", self.car_age_min),
            ("filter.car_age_max", self.car_age_max),
        ] {
            if value.is_some_and(|v| v > 200) {
                return Err(Error::invalid(field, "must be 0..=200 years"));
            }
        }
        Ok(self)
    }

    fn needs_cars(&self) -> bool {
        !self.makes.is_empty() || self.car_age_min.is_some() || self.car_age_max.is_some()
    }

    fn needs_window(&self) -> bool {
        self.spend_min.is_some()
            || self.spend_max.is_some()
            || self.visits_min.is_some()
            || self.visits_max.is_some()
    }

    /// Whether a customer matches, as of `today`.
    pub fn matches<R: Reader>(
        &self,
        reader: &R,
        customer: &Customer,
        today: NaiveDate,
    ) -> Result<bool> {
        if customer.blacklisted || customer.status != CustomerStatus::Active {
            return Ok(false);
        }
        if !self.tiers.is_empty()
            && !customer
                .tier
                .as_ref()
                .is_some_and(|t| self.tiers.contains(t))
        {
            return Ok(false);
        }
        if !self.tags.iter().all(|t| customer.tags.contains(t)) {
            return Ok(false);
        }
        if let Some(channel) = self.consent
            && !customer.may_contact(channel)
        {
            return Ok(false);
        }
        if let Some(before) = self.last_visit_before
            && customer.last_visit.is_none_or(|d| d > before)
        {
            return Ok(false);
        }
        if let Some(after) = self.last_visit_after
            && customer.last_visit.is_none_or(|d| d < after)
        {
            return Ok(false);
        }
        if self.needs_window() && !self.spend_and_visits_fit(reader, customer, today)? {
            return Ok(false);
        }
        if self.needs_cars() && !self.cars_fit(reader, customer, today)? {
            return Ok(false);
        }
        Ok(true)
    }

    /// Spend and counted visits within the filter's window (or over the whole history).
    fn spend_and_visits_fit<R: Reader>(
        &self,
        reader: &R,
        customer: &Customer,
        today: NaiveDate,
    ) -> Result<bool> {
        let (spend, visits) = match self.window_days {
            None => (customer.total_spend, customer.visits),
            Some(days) => {
                let from = today - Duration::days(i64::from(days) - 1);
                let mut spend = Decimal::ZERO;
                let mut visits = 0u32;
                for (_, summary) in
                    visit::summaries(reader, customer.id, from, today, WINDOW_VISITS_MAX)?
                {
                    if summary.counted {
                        spend += summary.net;
                        visits += 1;
                    }
                }
                (spend, visits)
            }
        };
        Ok(!(self.spend_min.is_some_and(|m| spend < m)
            || self.spend_max.is_some_and(|m| spend > m)
            || self.visits_min.is_some_and(|m| visits < m)
            || self.visits_max.is_some_and(|m| visits > m)))
    }

    /// One of the customer's cars is of a listed make and within the age bounds.
    fn cars_fit<R: Reader>(
        &self,
        reader: &R,
        customer: &Customer,
        today: NaiveDate,
    ) -> Result<bool> {
        let cars = vehicle::of_customer(reader, customer.id)?;
        let year = today.year();
        Ok(cars.iter().any(|car| {
            let make_ok =
                self.makes.is_empty() || self.makes.contains(&car.make.trim().to_lowercase());
            let age = car.year.map(|y| (year - i32::from(y)).max(0) as u32);
            let age_ok = match (self.car_age_min, self.car_age_max) {
                (None, None) => true,
                (min, max) => {
                    age.is_some_and(|a| min.is_none_or(|m| a >= m) && max.is_none_or(|m| a <= m))
                }
            };
            make_ok && age_ok
        }))
    }
}

/// A saved segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Name (unique).
    pub name: String,
    /// The filter.
    pub filter: Filter,
    /// When it was saved last.
    pub saved_at: DateTime<Utc>,
}

fn segment_key(name: &str) -> Vec<u8> {
    KeyBuilder::new(tag::SEGMENT).str(name).build()
}

/// Load a saved segment by name.
pub fn load<R: Reader>(reader: &R, name: &str) -> Result<Segment> {
    let name = normalize::text("segment", name, TEXT_CHARS_MAX)?;
    reader
        .get_json(&segment_key(&name))?
        .ok_or_else(|| Error::not_found("segment", &name))
}

/// Arguments of `segment.save`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveArgs {
    /// Name; saving under an existing name replaces its filter.
    pub name: String,
    /// The filter.
    pub filter: Filter,
}

/// `segment.save` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    /// The segment as stored.
    pub segment: Segment,
    /// Whether the name was new.
    pub created: bool,
}

/// `segment.save`: store (or replace) a named filter.
pub fn save(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: SaveArgs) -> Result<Saved> {
    let name = normalize::text("name", &args.name, TEXT_CHARS_MAX)?;
    let filter = args.filter.checked()?;
    let key = segment_key(&name);
    let created = !txn.contains(&key)?;
    if created {
        let prefix = KeyBuilder::new(tag::SEGMENT).build();
        if txn.scan_keys(&prefix, SEGMENTS_MAX)?.len() >= SEGMENTS_MAX {
            return Err(Error::too_large("segments", SEGMENTS_MAX));
        }
    }
    let segment = Segment {
        name,
        filter,
        saved_at: ctx.at,
    };
    txn.put_json(key, &segment)?;
    Ok(Saved { segment, created })
}

/// `segment.list`: every saved segment, by name.
pub fn list<R: Reader>(reader: &R) -> Result<Vec<Segment>> {
    let prefix = KeyBuilder::new(tag::SEGMENT).build();
    let end = keys::prefix_end(&prefix);
    let mut out = Vec::new();
    for (key, bytes) in reader.scan_raw(&prefix, &end, SEGMENTS_MAX, false)? {
        out.push(crate::store::decode_json(&key, &bytes)?);
    }
    Ok(out)
}

/// Arguments of `segment.preview`: a filter or a saved segment's name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewArgs {
    /// A filter to try.
    #[serde(default)]
    pub filter: Option<Filter>,
    /// Or a saved segment.
    #[serde(default)]
    pub name: Option<String>,
    /// Page size (1..=1000, default 100).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Customer id the previous page ended at.
    #[serde(default)]
    pub after: Option<u64>,
}

/// A page of matching customers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Preview {
    /// Matches in id order.
    pub items: Vec<CustomerSummary>,
    /// Customers examined for this page.
    pub examined: u64,
    /// Pass as `after` for the next page; absent when every customer was examined.
    pub next: Option<u64>,
}

/// The filter a request names: inline or saved; exactly one.
pub fn resolve_filter<R: Reader>(
    reader: &R,
    filter: &Option<Filter>,
    name: &Option<String>,
) -> Result<Filter> {
    match (filter, name) {
        (Some(filter), None) => filter.clone().checked(),
        (None, Some(name)) => Ok(load(reader, name)?.filter),
        _ => Err(Error::invalid("filter", "give exactly one of filter, name")),
    }
}

/// Customers matching `filter` with ids above `after`, at most `limit`; the cursor is
/// the last id examined when more may follow.
pub fn matching<R: Reader>(
    reader: &R,
    today: NaiveDate,
    filter: &Filter,
    after: Option<u64>,
    limit: usize,
) -> Result<(Vec<Customer>, u64, Option<u64>)> {
    let prefix = KeyBuilder::new(tag::CUSTOMER).build();
    let end = keys::prefix_end(&prefix);
    let mut start = match after {
        Some(id) => KeyBuilder::new(tag::CUSTOMER)
            .u64(id.saturating_add(1))
            .build(),
        None => prefix,
    };
    let mut found = Vec::new();
    let mut examined = 0usize;
    let mut last = None;
    loop {
        let chunk = reader.scan_range::<Customer>(&start, &end, CHUNK, false)?;
        let exhausted = chunk.len() < CHUNK;
        for (_, customer) in chunk {
            examined += 1;
            last = Some(customer.id);
            if filter.matches(reader, &customer, today)? {
                found.push(customer);
            }
            if found.len() == limit || examined == EXAMINE_MAX {
                return Ok((found, examined as u64, last));
            }
        }
        match last {
            Some(id) if !exhausted => {
                start = KeyBuilder::new(tag::CUSTOMER)
                    .u64(id.saturating_add(1))
                    .build()
            }
            _ => return Ok((found, examined as u64, None)),
        }
    }
}

/// `segment.preview`: who a filter or a saved segment matches, a page at a time.
pub fn preview<R: Reader>(reader: &R, ctx: &Ctx, args: &PreviewArgs) -> Result<Preview> {
    let limit = PREVIEW_PAGE.of(args.limit)?;
    let filter = resolve_filter(reader, &args.filter, &args.name)?;
    let (found, examined, next) = matching(reader, ctx.today, &filter, args.after, limit)?;
    Ok(Preview {
        items: found.iter().map(CustomerSummary::from).collect(),
        examined,
        next,
    })
}

/// Whether a customer may be contacted through a channel, or why not.
pub fn contact_refusal(customer: &Customer, channel: Channel) -> Option<&'static str> {
    if customer.status == CustomerStatus::Erased {
        Some("erased")
    } else if customer.status == CustomerStatus::Blocked {
        Some("blocked")
    } else if customer.blacklisted {
        Some("blacklisted")
    } else if !customer.may_contact(channel) {
        Some("no_consent")
    } else {
        None
    }
}
