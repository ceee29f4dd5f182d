//! `report.dashboard`: the owner's view of the programme as one self-contained HTML page
//! (inline CSS and SVG, no script, no font or file fetched), built from the typed results
//! of the report functions: revenue and visits by month, new against returning customers,
//! the cohorts' retention, the tier mix and its moves, the points liability by month and
//! what expires soon, the campaigns of the period, complaints by employee and the top
//! customers.
//!
//! The charts are drawn by `plotters` with only its SVG backend (see [`chart`]); the page
//! around them is written by [`page`], which escapes every text that comes from the store.
//! Labels and numbers follow the programme's `locale` ([`words`]).

mod chart;
mod page;
mod words;

use crate::campaign::{self, ListArgs};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::feedback::{self, Complaints, ComplaintsArgs};
use crate::report::{
    self, Activity, CohortsReport, CustomersReport, PeriodArgs, PointsArgs, PointsMonthly,
    PointsReport, ReportArgs, TiersReport,
};
use crate::store::Reader;
use crate::wording::Language;
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// Campaigns shown: the newest whose period meets the dashboard's.
pub const CAMPAIGNS_MAX: usize = 12;
/// Campaigns read (newest first) while looking for those.
const CAMPAIGNS_SCANNED_MAX: usize = 1000;
/// A page of `campaign.list` while scanning.
const CAMPAIGN_PAGE: usize = 100;
/// Employees on the complaints chart, most complaints first.
pub const EMPLOYEES_MAX: usize = 15;
/// Customers in the top list.
pub const TOP_CUSTOMERS: usize = 10;
/// Months the default period covers, this one included.
const DEFAULT_MONTHS: u32 = 12;

/// Arguments of `report.dashboard`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardArgs {
    /// First local date (default: the first day of the month eleven months before `to`).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last local date (default: today).
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// Only this branch's visits and complaints (points and campaigns stay the group's).
    #[serde(default)]
    pub branch: Option<String>,
}

/// `report.dashboard` result: the period the page covers and the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    /// First local date.
    pub from: NaiveDate,
    /// Last local date.
    pub to: NaiveDate,
    /// The branch filter, when one was given.
    pub branch: Option<String>,
    /// The whole page: `<!DOCTYPE html>` to `</html>`, self-contained.
    pub html: String,
}

/// Everything the page shows, as the report functions returned it.
pub(crate) struct Figures {
    /// The language of the labels and numbers.
    pub language: Language,
    /// The programme's name.
    pub shop: String,
    /// The programme's currency code.
    pub currency: String,
    /// The branch filter, when one was given.
    pub branch: Option<String>,
    /// The local date the page was made.
    pub today: NaiveDate,
    /// `report.activity` over the period.
    pub activity: Activity,
    /// `report.points` (the group's, now).
    pub points: PointsReport,
    /// `report.complaints` over the period.
    pub complaints: Complaints,
    /// `campaign.report` of the newest campaigns meeting the period, newest first.
    pub campaigns: Vec<campaign::Report>,
    /// `report.cohorts` over the period.
    pub cohorts: CohortsReport,
    /// `report.tiers` over the period (the group's).
    pub tiers: TiersReport,
    /// `report.points_monthly` over the period (the group's).
    pub points_monthly: PointsMonthly,
    /// `report.customers` over the period, the top [`TOP_CUSTOMERS`].
    pub customers: CustomersReport,
}

/// The dashboard of the period `args` names.
pub fn dashboard<R: Reader>(reader: &R, ctx: &Ctx, args: &DashboardArgs) -> Result<Dashboard> {
    let figures = gather(reader, ctx, args)?;
    Ok(Dashboard {
        from: figures.activity.from,
        to: figures.activity.to,
        branch: figures.branch.clone(),
        html: page::render(&figures)?,
    })
}

/// The period the dashboard covers: the arguments, or the twelve months up to today.
fn period(ctx: &Ctx, args: &DashboardArgs) -> Result<(NaiveDate, NaiveDate)> {
    let to = args.to.unwrap_or(ctx.today);
    let from = match args.from {
        Some(from) => from,
        None => to
            .with_day(1)
            .and_then(|first| first.checked_sub_months(Months::new(DEFAULT_MONTHS - 1)))
            .ok_or_else(|| {
                Error::invalid("to", format!("{to} is too early for a default period"))
            })?,
    };
    Ok((from, to))
}

fn gather<R: Reader>(reader: &R, ctx: &Ctx, args: &DashboardArgs) -> Result<Figures> {
    let program = ctx.program()?;
    let (from, to) = period(ctx, args)?;
    let branch = args.branch.clone();
    let period = PeriodArgs {
        from,
        to,
        branch: branch.clone(),
    };
    let activity = report::activity(reader, ctx, &period)?;
    let complaints = feedback::complaints(
        reader,
        &ComplaintsArgs {
            from,
            to,
            branch: branch.clone(),
        },
    )?;
    // The branch's own figures where a report takes a branch, the group's elsewhere.
    let of_branch = |top: Option<usize>| ReportArgs {
        from,
        to,
        branch: branch.clone(),
        segment: None,
        top,
    };
    let of_group = ReportArgs {
        branch: None,
        ..of_branch(None)
    };
    Ok(Figures {
        language: Language::of_tag(&program.locale),
        shop: program.name.clone(),
        currency: program.currency.clone(),
        branch: branch.clone(),
        today: ctx.today,
        activity,
        points: report::points(reader, ctx, &PointsArgs::default())?,
        complaints,
        campaigns: campaigns_of(reader, ctx, (from, to))?,
        cohorts: report::cohorts(reader, ctx, &of_branch(None))?,
        tiers: report::tiers(reader, ctx, &of_group)?,
        points_monthly: report::points_monthly(reader, ctx, &of_group)?,
        customers: report::customers(reader, ctx, &of_branch(Some(TOP_CUSTOMERS)))?,
    })
}

/// The reports of the newest campaigns whose period meets `from..=to` (at most
/// [`CAMPAIGNS_MAX`], looking through at most [`CAMPAIGNS_SCANNED_MAX`]).
fn campaigns_of<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<campaign::Report>> {
    let mut reports = Vec::new();
    let mut after = None;
    let mut scanned = 0;
    while scanned < CAMPAIGNS_SCANNED_MAX && reports.len() < CAMPAIGNS_MAX {
        let page = campaign::list(
            reader,
            &ListArgs {
                limit: Some(CAMPAIGN_PAGE),
                after,
            },
        )?;
        scanned += page.items.len();
        for brief in page.items {
            let meets = brief.period.from <= to && brief.period.to >= from;
            if meets && reports.len() < CAMPAIGNS_MAX {
                let args = campaign::ReportArgs {
                    campaign: Some(brief.id),
                    name: None,
                };
                reports.push(campaign::report(reader, ctx, &args)?);
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(reports)
}
