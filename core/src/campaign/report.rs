//! `campaign.report`: the visits a campaign's notifications brought (last touch wins
//! between overlapping campaigns), and what they cost.

use super::{CHUNK, Campaign, Notification, VISITS_MAX, load, named, notifications_of};
use crate::context::Ctx;
use crate::error::Result;
use crate::normalize;
use crate::store::Reader;
use crate::store::keys::{self, KeyBuilder, tag};
use crate::visit;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Arguments of `campaign.report`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportArgs {
    /// Campaign id (or give `name`).
    #[serde(default)]
    pub campaign: Option<u64>,
    /// Campaign name, any case (instead of `campaign`).
    #[serde(default)]
    pub name: Option<String>,
}

/// `campaign.report` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The campaign.
    pub campaign: Campaign,
    /// Customers notified.
    pub notified: u64,
    /// Of them, who came in the window (a visit not fully refunded).
    pub came: u64,
    /// came / notified, in percent.
    pub conversion: Decimal,
    /// Visits attributed.
    pub visits: u64,
    /// Net revenue of those visits, after refunds.
    pub revenue: Decimal,
    /// Budget.
    pub budget: Decimal,
    /// budget / came (absent when nobody came).
    pub cost_per_customer: Option<Decimal>,
    /// Bonus points the campaign granted.
    pub points_spent: Decimal,
    /// Points that paid in the attributed visits (after refunds).
    pub points_redeemed: Decimal,
}

fn window_end(campaign: &Campaign, ctx: &Ctx) -> DateTime<Utc> {
    // The end of the last local day, in the programme's timezone.
    let next_day = campaign.period.to + Duration::days(1);
    let tz = ctx.program.as_deref().map(|p| p.tz());
    let midnight = next_day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz {
        Some(tz) => midnight
            .and_local_timezone(tz)
            .earliest()
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|| midnight.and_utc()),
        None => midnight.and_utc(),
    }
}

/// `campaign.report`: notified, came, conversion, revenue, cost per customer brought.
pub fn report<R: Reader>(reader: &R, ctx: &Ctx, args: &ReportArgs) -> Result<Report> {
    let campaign = named(reader, args.campaign, args.name.as_deref())?;
    let mut tally = Attribution {
        reader,
        ctx,
        end: window_end(&campaign, ctx),
        campaign: &campaign,
        others: HashMap::new(),
        notified: 0,
        came: BTreeSet::new(),
        visits: 0,
        revenue: Decimal::ZERO,
        points_redeemed: Decimal::ZERO,
        points_spent: Decimal::ZERO,
    };
    let prefix = KeyBuilder::new(tag::CAMPAIGN_NOTIFIED)
        .u64(campaign.id)
        .build();
    let stop = keys::prefix_end(&prefix);
    let mut start = prefix.clone();
    loop {
        let chunk = reader.scan_range::<Notification>(&start, &stop, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else { break };
        start = last.clone();
        start.push(0);
        for (_, notification) in chunk {
            tally.add(&notification)?;
        }
    }
    let came_count = tally.came.len() as u64;
    let conversion = if tally.notified == 0 {
        Decimal::new(0, 1)
    } else {
        normalize::exact_scale(
            (Decimal::from(came_count) * Decimal::ONE_HUNDRED / Decimal::from(tally.notified))
                .round_dp(1),
            1,
        )
    };
    let scale = ctx.program()?.points.scale;
    Ok(Report {
        notified: tally.notified,
        came: came_count,
        conversion,
        visits: tally.visits,
        revenue: normalize::money(tally.revenue),
        budget: campaign.budget,
        cost_per_customer: (came_count > 0)
            .then(|| normalize::money(campaign.budget / Decimal::from(came_count))),
        points_spent: normalize::exact_scale(tally.points_spent, scale),
        points_redeemed: normalize::exact_scale(tally.points_redeemed, scale),
        campaign,
    })
}

/// The visits a campaign's notifications brought, counted one notification at a time.
struct Attribution<'a, R: Reader> {
    reader: &'a R,
    ctx: &'a Ctx,
    campaign: &'a Campaign,
    /// End of the campaign's attribution window.
    end: DateTime<Utc>,
    /// Window ends of other campaigns met on the way.
    others: HashMap<u64, DateTime<Utc>>,
    notified: u64,
    came: BTreeSet<u64>,
    visits: u64,
    revenue: Decimal,
    points_redeemed: Decimal,
    points_spent: Decimal,
}

impl<R: Reader> Attribution<'_, R> {
    /// Count one notification and the counted visits it brought: after it, inside the
    /// window, and not inside a later touch of another campaign (which takes them).
    fn add(&mut self, notification: &Notification) -> Result<()> {
        self.notified += 1;
        self.points_spent += notification.points;
        let later = self.later_touches(notification)?;
        let from = self
            .ctx
            .program
            .as_deref()
            .map(|p| p.local_date(notification.at))
            .unwrap_or(notification.at.date_naive());
        for (_, summary) in visit::summaries(
            self.reader,
            notification.customer,
            from,
            self.campaign.period.to,
            VISITS_MAX,
        )? {
            let visit = visit::load(self.reader, summary.visit)?;
            if visit.at < notification.at || visit.at >= self.end || !summary.counted {
                continue;
            }
            if later
                .iter()
                .any(|(at, other_end)| visit.at >= *at && visit.at < *other_end)
            {
                continue;
            }
            self.visits += 1;
            self.came.insert(notification.customer);
            self.revenue += visit.net_kept();
            self.points_redeemed += visit
                .lines
                .iter()
                .map(|l| l.points - l.refunded_points)
                .sum::<Decimal>();
        }
        Ok(())
    }

    /// Touches of the same customer by other campaigns after this notification, each with
    /// the end of its window.
    fn later_touches(
        &mut self,
        notification: &Notification,
    ) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
        let mut later = Vec::new();
        for touch in notifications_of(self.reader, notification.customer)? {
            if touch.campaign == self.campaign.id || touch.at <= notification.at {
                continue;
            }
            let other_end = match self.others.get(&touch.campaign) {
                Some(end) => *end,
                None => {
                    let end = window_end(&load(self.reader, touch.campaign)?, self.ctx);
                    self.others.insert(touch.campaign, end);
                    end
                }
            };
            later.push((touch.at, other_end));
        }
        Ok(later)
    }
}
