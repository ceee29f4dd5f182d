//! `report.services`: which works and parts sell, how often customers come back for the
//! same one, and the real interval between repeats next to the reminder rule's.
//!
//! A line belongs to the programme's first periodic service rule
//! (`reminders.services`) whose patterns match its SKU or name, as reminders match
//! them (a name confirmed by `catalog.alias` matches as every name of its service
//! does); otherwise to its service's name when the name is in a confirmed group;
//! otherwise to its SKU. Per service: lines, quantity and net revenue kept after
//! refunds (a line refunded in full is left out), distinct customers, and repeats: a
//! later visit day on which the same car (the customer, for a visit without a car)
//! bought the service again within the period. `median_interval_days` is the median of
//! the days between those consecutive purchases (mean of the two middle ones rounded
//! down), exact: intervals are kept as a count per number of days, at most one entry
//! per day of the period. `reminder_months` is the matching rule's interval.

use super::{Briefs, Scope, Takes, top_n};
use crate::catalog::Aliases;
use crate::context::Ctx;
use crate::error::Result;
use crate::normalize;
use crate::program::LineKind;
use crate::program::reminder_rules::{ServiceRule, glob_match_lowered};
use crate::store::Reader;
use crate::visit::{self, Visit, VisitLine};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One service (a reminder rule's, or one SKU).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceRow {
    /// The rule's kind (`oil_change`), the confirmed service's name, or the SKU.
    pub service: String,
    /// The rule's name, the confirmed service's name, or the line's name as last sold.
    pub name: String,
    /// Labour, part or goods (of the first line met).
    pub kind: LineKind,
    /// Whether `service` is a reminder rule's kind.
    pub rule: bool,
    /// Lines sold.
    pub lines: u64,
    /// Quantity sold (net of refunds).
    pub qty: Decimal,
    /// Net revenue kept.
    pub revenue: Decimal,
    /// Distinct customers.
    pub customers: u64,
    /// Repeat purchases (by the same car or customer on a later day).
    pub repeats: u64,
    /// Customers with at least one repeat.
    pub repeat_customers: u64,
    /// Median days between a purchase and its repeat.
    pub median_interval_days: Option<i64>,
    /// The reminder rule's interval in months, when a rule matches.
    pub reminder_months: Option<u32>,
    /// The reminder rule's interval in km.
    pub reminder_km: Option<u32>,
}

/// `report.services` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServicesReport {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
    /// Distinct services sold.
    pub services: u64,
    /// Lines sold.
    pub lines: u64,
    /// Net revenue of the lines.
    pub revenue: Decimal,
    /// The top N services by revenue (then lines, then service).
    pub rows: Vec<ServiceRow>,
}

struct Group {
    service: String,
    name: String,
    /// Named by a confirmed alias group (the name stays the group's).
    confirmed: bool,
    kind: LineKind,
    rule: Option<usize>,
    lines: u64,
    qty: Decimal,
    revenue: Decimal,
    customers: HashSet<u64>,
    repeat_customers: HashSet<u64>,
    /// days → repeats with that interval.
    intervals: BTreeMap<i64, u64>,
}

impl Group {
    fn median(&self) -> Option<i64> {
        let n: u64 = self.intervals.values().sum();
        if n == 0 {
            return None;
        }
        let nth = |k: u64| {
            let mut seen = 0;
            for (days, count) in &self.intervals {
                seen += count;
                if seen > k {
                    return *days;
                }
            }
            0
        };
        Some(if n % 2 == 1 {
            nth(n / 2)
        } else {
            (nth(n / 2 - 1) + nth(n / 2)).div_euclid(2)
        })
    }
}

/// Who a repeat is counted for: a car, or a customer without one.
#[derive(PartialEq, Eq, Hash, Clone, Copy)]
enum Holder {
    Car(u64),
    Customer(u64),
}

/// Which group a line belongs to: the first reminder rule whose patterns match it,
/// else its SKU.
struct Rules {
    rules: Vec<ServiceRule>,
    /// Each rule's patterns, lower-cased once.
    patterns: Vec<Vec<String>>,
}

impl Rules {
    fn of(ctx: &Ctx) -> Rules {
        let rules = ctx
            .program
            .as_deref()
            .map(|p| p.reminders.services.clone())
            .unwrap_or_default();
        let patterns = rules
            .iter()
            .map(|r| r.patterns.iter().map(|p| p.to_lowercase()).collect())
            .collect();
        Rules { rules, patterns }
    }

    /// The first rule matching the line's SKU or any of its service's names.
    fn rule_of(&self, line: &VisitLine, names: &[String]) -> Option<usize> {
        let sku = line.sku.to_lowercase();
        let names: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
        self.patterns.iter().position(|ps| {
            ps.iter().any(|p| {
                glob_match_lowered(p, &sku) || names.iter().any(|n| glob_match_lowered(p, n))
            })
        })
    }
}

/// The groups met so far, with what repeats need: each holder's last purchase of each.
#[derive(Default)]
struct Tally {
    index: HashMap<String, usize>,
    groups: Vec<Group>,
    last_bought: HashMap<(usize, Holder), NaiveDate>,
    lines: u64,
    revenue: Decimal,
}

impl Tally {
    /// The group of a line, created on first sight.
    fn group<R: Reader>(
        &mut self,
        reader: &R,
        rules: &Rules,
        aliases: &mut Aliases,
        line: &VisitLine,
    ) -> Result<usize> {
        let confirmed = aliases.group(reader, &line.name)?;
        let names = aliases.names(reader, &line.name)?;
        let rule = rules.rule_of(line, &names);
        let (key, service, name) = match (rule, &confirmed) {
            (Some(r), _) => (
                format!("rule:{}", rules.rules[r].kind),
                rules.rules[r].kind.clone(),
                rules.rules[r].name.clone(),
            ),
            (None, Some(group)) => (
                format!("alias:{}", crate::service_name::fold(&group.name)),
                group.name.clone(),
                group.name.clone(),
            ),
            (None, None) => (
                format!("sku:{}", line.sku),
                line.sku.clone(),
                line.name.clone(),
            ),
        };
        if let Some(at) = self.index.get(&key) {
            return Ok(*at);
        }
        self.index.insert(key, self.groups.len());
        self.groups.push(Group {
            service,
            name,
            confirmed: confirmed.is_some(),
            kind: line.kind,
            rule,
            lines: 0,
            qty: Decimal::ZERO,
            revenue: Decimal::ZERO,
            customers: HashSet::new(),
            repeat_customers: HashSet::new(),
            intervals: BTreeMap::new(),
        });
        Ok(self.groups.len() - 1)
    }

    /// A visit's lines kept after refunds, and the repeats they make.
    fn add<R: Reader>(
        &mut self,
        reader: &R,
        rules: &Rules,
        aliases: &mut Aliases,
        visit: &Visit,
    ) -> Result<()> {
        let holder = match visit.vehicle {
            Some(car) => Holder::Car(car),
            None => Holder::Customer(visit.customer),
        };
        let mut bought: Vec<usize> = Vec::new();
        for line in visit.lines.iter().filter(|l| l.refunded_qty < l.qty) {
            let at = self.group(reader, rules, aliases, line)?;
            let group = &mut self.groups[at];
            if group.rule.is_none() && !group.confirmed {
                group.name = line.name.clone();
            }
            let revenue = line.net - line.refunded_net;
            group.lines += 1;
            group.qty += line.qty - line.refunded_qty;
            group.revenue += revenue;
            group.customers.insert(visit.customer);
            self.lines += 1;
            self.revenue += revenue;
            if !bought.contains(&at) {
                bought.push(at);
            }
        }
        for at in bought {
            if let Some(before) = self.last_bought.insert((at, holder), visit.date)
                && before < visit.date
            {
                let group = &mut self.groups[at];
                *group
                    .intervals
                    .entry((visit.date - before).num_days())
                    .or_default() += 1;
                group.repeat_customers.insert(visit.customer);
            }
        }
        Ok(())
    }
}

fn row(group: &Group, rules: &Rules) -> ServiceRow {
    let rule = group.rule.map(|r| &rules.rules[r]);
    ServiceRow {
        service: group.service.clone(),
        name: group.name.clone(),
        kind: group.kind,
        rule: rule.is_some(),
        lines: group.lines,
        qty: group.qty.normalize(),
        revenue: normalize::money(group.revenue),
        customers: group.customers.len() as u64,
        repeats: group.intervals.values().sum(),
        repeat_customers: group.repeat_customers.len() as u64,
        median_interval_days: group.median(),
        reminder_months: rule.and_then(|r| r.months),
        reminder_km: rule.and_then(|r| r.km),
    }
}

/// Services sold, their repeats and real intervals.
pub fn services<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    args: &super::ReportArgs,
) -> Result<ServicesReport> {
    let scope: Scope = args.scope(
        reader,
        ctx,
        Takes {
            op: "report.services",
            branch: None,
            top: Some(50),
        },
    )?;
    let rules = Rules::of(ctx);
    let mut briefs = Briefs::default();
    let mut tally = Tally::default();
    let mut aliases = Aliases::default();
    scope.visits(reader, |_, id, dated| {
        if briefs.get(reader, &scope, dated.customer)?.admitted {
            tally.add(reader, &rules, &mut aliases, &visit::load(reader, id)?)?;
        }
        Ok(())
    })?;
    let best = top_n(
        tally
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| ((g.revenue, g.lines, Reverse(g.service.clone())), i)),
        scope.top,
    );
    Ok(ServicesReport {
        from: scope.from,
        to: scope.to,
        services: tally.groups.len() as u64,
        lines: tally.lines,
        revenue: normalize::money(tally.revenue),
        rows: best
            .into_iter()
            .map(|(_, i)| row(&tally.groups[i], &rules))
            .collect(),
    })
}
