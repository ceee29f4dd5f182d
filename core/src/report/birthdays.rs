//! `report.birthdays`: customers whose birthday falls in `from..=to` (the range may
//! wrap the year end), with whether each channel may be used to greet them.
//!
//! A 29 February birthday falls on 28 February in a year without one (as the daily
//! job's birthday bonus does). The range is at most 366 days, so a birthday falls in it
//! at most once. Rows come in date order, then by customer id (in a year without 29
//! February, those born on it after the others of the 28th); `top` (default and at
//! most 1000) bounds them, `customers` counts them all. The report is the group's:
//! `branch` is refused.

use super::{CHUNK, Scope, Takes};
use crate::context::Ctx;
use crate::customer::{self, Channel, Customer, CustomerStatus};
use crate::error::{Error, Result};
use crate::store::Reader;
use crate::store::keys::{self, KeyBuilder, KeyReader, tag};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Longest birthday range, in days.
pub const BIRTHDAY_RANGE_DAYS_MAX: i64 = 366;

/// Whether a customer may be contacted through each channel (consent given and not
/// blacklisted).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Consents {
    /// Text messages.
    pub sms: bool,
    /// Email.
    pub email: bool,
    /// Phone calls.
    pub call: bool,
    /// Messengers.
    pub messenger: bool,
    /// App push.
    pub push: bool,
}

/// One customer with a birthday in the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BirthdayRow {
    /// The day it falls on in the range.
    pub date: NaiveDate,
    /// Customer id.
    pub customer: u64,
    /// Full name.
    pub name: String,
    /// Date of birth.
    pub birthday: NaiveDate,
    /// Age they turn that day.
    pub age: i32,
    /// Phone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Current tier.
    pub tier: Option<String>,
    /// Channels that may be used.
    pub consents: Consents,
    /// No marketing contact at all.
    pub blacklisted: bool,
}

/// `report.birthdays` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BirthdaysReport {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
    /// Active customers with a birthday in the range (within the segment).
    pub customers: u64,
    /// Of them, reachable by at least one channel.
    pub reachable: u64,
    /// The first `top` of them in date order.
    pub rows: Vec<BirthdayRow>,
}

impl Consents {
    fn of(customer: &Customer) -> Consents {
        Consents {
            sms: customer.may_contact(Channel::Sms),
            email: customer.may_contact(Channel::Email),
            call: customer.may_contact(Channel::Call),
            messenger: customer.may_contact(Channel::Messenger),
            push: customer.may_contact(Channel::Push),
        }
    }

    fn any(&self) -> bool {
        self.sms || self.email || self.call || self.messenger || self.push
    }
}

/// A customer's row for the birthday that falls in `year` (29 February on the 28th in
/// a year without it).
fn birthday_row(customer: Customer, birthday: NaiveDate, year: i32) -> BirthdayRow {
    let date = NaiveDate::from_ymd_opt(year, birthday.month(), birthday.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
        .unwrap_or(birthday);
    BirthdayRow {
        date,
        customer: customer.id,
        age: year - birthday.year(),
        consents: Consents::of(&customer),
        name: customer.full_name,
        birthday,
        phone: customer.phone,
        email: customer.email,
        tier: customer.tier,
        blacklisted: customer.blacklisted,
    }
}

fn mmdd(date: NaiveDate) -> u16 {
    (date.month() * 100 + date.day()) as u16
}

/// Birthdays in a date range with consent per channel.
pub fn birthdays<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    args: &super::ReportArgs,
) -> Result<BirthdaysReport> {
    let scope: Scope = args.scope(
        reader,
        ctx,
        Takes {
            op: "report.birthdays",
            branch: Some("a customer's birthday is the group's, not one branch's"),
            top: Some(super::TOP_MAX),
        },
    )?;
    if (scope.to - scope.from).num_days() >= BIRTHDAY_RANGE_DAYS_MAX {
        return Err(Error::invalid(
            "to",
            format!("a birthday range covers at most {BIRTHDAY_RANGE_DAYS_MAX} days"),
        ));
    }
    let mut report = BirthdaysReport {
        from: scope.from,
        to: scope.to,
        customers: 0,
        reachable: 0,
        rows: Vec::new(),
    };
    for year in scope.from.year()..=scope.to.year() {
        let first = scope
            .from
            .max(NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(scope.from));
        let last = scope
            .to
            .min(NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(scope.to));
        let leap = NaiveDate::from_ymd_opt(year, 2, 29).is_some();
        let (low, mut high) = (mmdd(first), mmdd(last));
        if !leap && high == 228 {
            high = 229;
        }
        let start = KeyBuilder::new(tag::BIRTHDAY).u16(low).build();
        let end = keys::prefix_end(&KeyBuilder::new(tag::BIRTHDAY).u16(high).build());
        let mut from_key = start;
        loop {
            let chunk = reader.scan_raw(&from_key, &end, CHUNK, false)?;
            let Some((last_key, _)) = chunk.last() else {
                break;
            };
            let mut next = last_key.clone();
            next.push(0);
            for (key, _) in &chunk {
                let mut fields = KeyReader::of(key, tag::BIRTHDAY, "birthday index")?;
                fields.u16()?;
                let id = fields.u64()?;
                let customer: Customer = customer::load(reader, id)?;
                let Some(birthday) = customer.birthday else {
                    continue;
                };
                if customer.status != CustomerStatus::Active || !scope.admits(reader, &customer)? {
                    continue;
                }
                let row = birthday_row(customer, birthday, year);
                report.customers += 1;
                report.reachable += u64::from(row.consents.any());
                if report.rows.len() < scope.top {
                    report.rows.push(row);
                }
            }
            from_key = next;
        }
    }
    Ok(report)
}
