//! The referral report: referrers with their referees and what was paid, totals over
//! every referral or one referrer's, paged.

use super::*;
use crate::context::Ctx;
use crate::customer::{self, CustomerRef};
use crate::error::{Error, Result};
use crate::normalize;
use crate::paging::PageSize;
use crate::store::Reader;
use crate::store::keys::{self, KeyBuilder, KeyReader, tag};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Arguments of `report.referrals`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportArgs {
    /// Only this referrer's referees.
    #[serde(default)]
    pub referrer: Option<CustomerRef>,
    /// Page size (1..=1000, default 100).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Cursor from the previous page.
    #[serde(default)]
    pub after: Option<String>,
    /// Refused with a reason: referrals belong to the whole group.
    #[serde(default)]
    pub branch: Option<String>,
}

/// One referee in `report.referrals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// Referrer id.
    pub referrer: u64,
    /// Referrer's name.
    pub referrer_name: String,
    /// Referee id.
    pub referee: u64,
    /// Referee's name.
    pub referee_name: String,
    /// Local date of the link.
    pub linked_on: Option<NaiveDate>,
    /// Signup rewards state.
    pub signup: SignupStatus,
    /// Why refused.
    pub signup_note: Option<String>,
    /// Visit that earned the signup rewards.
    pub signup_visit: Option<u64>,
    /// Signup points the referrer kept.
    pub rewarded_referrer: Decimal,
    /// Signup points the referee kept.
    pub rewarded_referee: Decimal,
    /// Cashback kept per level.
    pub cashback: Vec<Decimal>,
    /// Reversed points that had been spent.
    pub not_taken_back: Decimal,
    /// Referee's visits.
    pub referee_visits: u32,
    /// Referee's net spend (revenue brought).
    pub referee_revenue: Decimal,
}

/// `report.referrals` result: the rows are paged, the totals cover the whole report
/// (every referee of the referrer, or every referee), whichever page is asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Referees on this page.
    pub rows: Vec<ReportRow>,
    /// Cursor of the next page.
    pub next: Option<String>,
    /// Referees in the whole report.
    pub referees: u64,
    /// Of them, with signup rewards paid and kept.
    pub rewarded: u64,
    /// Points paid and kept (signup and cashback) for every referee of the report.
    pub points: Decimal,
    /// Revenue of every referee of the report.
    pub revenue: Decimal,
}

/// Pages of `report.referrals`.
pub const REPORT_PAGE: PageSize = PageSize::new(100, 1000);

/// `report.referrals`: who brought whom, rewards kept, revenue of the referees.
pub fn report<R: Reader>(reader: &R, ctx: &Ctx, args: &ReportArgs) -> Result<Report> {
    crate::report::group_wide("report.referrals", args.branch.as_deref())?;
    let limit = REPORT_PAGE.of(args.limit)?;
    let referrer = match &args.referrer {
        Some(reference) => Some(customer::resolve(reader, ctx, reference)?.id),
        None => None,
    };
    let prefix = match referrer {
        Some(id) => KeyBuilder::new(tag::REFERRAL_LINK).u64(id).build(),
        None => KeyBuilder::new(tag::REFERRAL_LINK).build(),
    };
    let start = match &args.after {
        Some(cursor) => {
            let mut key = crate::store::keys::cursor_key(cursor, "report.referrals")?;
            if !key.starts_with(&prefix) {
                return Err(Error::invalid(
                    "after",
                    "the cursor belongs to another report",
                ));
            }
            key.push(0);
            key
        }
        None => prefix.clone(),
    };
    let end = keys::prefix_end(&prefix);
    let pairs = reader.scan_raw(&start, &end, limit + 1, false)?;
    let more = pairs.len() > limit;
    let mut report = Report {
        rows: Vec::new(),
        next: None,
        referees: 0,
        rewarded: 0,
        points: Decimal::ZERO,
        revenue: Decimal::ZERO,
    };
    for (key, _) in pairs.iter().take(limit) {
        let (referrer_id, referee_id) = link_ids(key)?;
        let referrer = customer::load(reader, referrer_id)?;
        let referee = customer::load(reader, referee_id)?;
        let record = load(reader, referee_id)?;
        report.rows.push(ReportRow {
            referrer: referrer_id,
            referrer_name: referrer.full_name,
            referee: referee_id,
            referee_name: referee.full_name,
            linked_on: record.linked_on,
            signup: record.signup,
            signup_note: record.signup_note,
            signup_visit: record.signup_visit,
            rewarded_referrer: record.rewarded_referrer,
            rewarded_referee: record.rewarded_referee,
            cashback: record.cashback,
            not_taken_back: record.not_taken_back,
            referee_visits: referee.visits,
            referee_revenue: normalize::money(referee.total_spend),
        });
        if more {
            report.next = Some(crate::store::keys::cursor_text(key));
        }
    }
    if crate::aggregate::ready(reader)? {
        let totals = crate::aggregate::referral_totals(reader, referrer)?;
        report.referees = totals.referees;
        report.rewarded = totals.rewarded;
        if totals.referees > 0 {
            report.points = totals.points;
            report.revenue = normalize::money(totals.revenue);
        } else {
            report.revenue = normalize::money(Decimal::ZERO);
        }
    } else {
        add_totals(reader, &prefix, &mut report)?;
    }
    Ok(report)
}

/// Referrer and referee of a link key.
pub(crate) fn link_ids(key: &[u8]) -> Result<(u64, u64)> {
    let mut fields = KeyReader::of(key, tag::REFERRAL_LINK, "referral link")?;
    Ok((fields.u64()?, fields.u64()?))
}

/// Links read per scan while totalling: the report's totals cover every link under
/// the prefix, summed chunk by chunk so memory stays bounded however many there are.
pub(super) const TOTALS_CHUNK: usize = 1024;

/// Sum the totals of every link under `prefix` (not only the page) into `report`: a
/// store without complete aggregates (the referral totals answer otherwise).
pub(super) fn add_totals<R: Reader>(reader: &R, prefix: &[u8], report: &mut Report) -> Result<()> {
    let end = keys::prefix_end(prefix);
    let mut start = prefix.to_vec();
    loop {
        let pairs = reader.scan_raw(&start, &end, TOTALS_CHUNK, false)?;
        let Some((last, _)) = pairs.last() else { break };
        start = last.clone();
        start.push(0);
        for (key, _) in &pairs {
            let (_, referee_id) = link_ids(key)?;
            let referee = customer::load(reader, referee_id)?;
            let record = load(reader, referee_id)?;
            report.referees += 1;
            if record.signup == SignupStatus::Rewarded {
                report.rewarded += 1;
            }
            report.points += record.rewarded_referrer
                + record.rewarded_referee
                + record.cashback.iter().copied().sum::<Decimal>();
            report.revenue += referee.total_spend;
        }
        if pairs.len() < TOTALS_CHUNK {
            break;
        }
    }
    report.revenue = normalize::money(report.revenue);
    Ok(())
}
