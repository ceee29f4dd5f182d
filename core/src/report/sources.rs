//! `report.sources`: new customers of the period and their revenue by acquisition
//! source (the customer's `source`, "откуда узнал").
//!
//! A new customer is one whose first visit (the group's) falls in the period; their
//! revenue is the net of their visits in the period (at the branch, with `branch`).
//! Sources are compared after trimming and ignoring case, and shown as first met; a
//! customer without a source is counted in the row whose `source` is `null`. Rows go by
//! revenue, then new customers, then source.

use super::{Briefs, Scope, Takes};
use crate::context::Ctx;
use crate::error::Result;
use crate::normalize;
use crate::store::Reader;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// One acquisition source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SourceRow {
    /// The source as customers gave it (`null`: not given).
    pub source: Option<String>,
    /// New customers from it.
    pub new_customers: u64,
    /// Their counted visits in the period.
    pub visits: u64,
    /// Their net revenue in the period.
    pub revenue: Decimal,
    /// revenue / new customers.
    pub revenue_per_customer: Decimal,
}

/// `report.sources` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SourcesReport {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
    /// New customers in the period.
    pub new_customers: u64,
    /// Their revenue.
    pub revenue: Decimal,
    /// By source.
    pub rows: Vec<SourceRow>,
}

#[derive(Default)]
struct Tally {
    shown: Option<String>,
    customers: HashSet<u64>,
    visits: u64,
    revenue: Decimal,
}

/// New customers and their revenue by acquisition source.
pub fn sources<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    args: &super::ReportArgs,
) -> Result<SourcesReport> {
    let scope: Scope = args.scope(
        reader,
        ctx,
        Takes {
            op: "report.sources",
            branch: None,
            top: None,
        },
    )?;
    let mut briefs = Briefs::default();
    let mut by_source: HashMap<Option<String>, Tally> = HashMap::new();
    scope.visits(reader, |_, _, dated| {
        let brief = briefs.get(reader, &scope, dated.customer)?;
        let new = brief
            .first_visit
            .is_some_and(|d| d >= scope.from && d <= scope.to);
        if !brief.admitted || !new {
            return Ok(());
        }
        let shown = brief
            .source
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let key = shown.as_ref().map(|s| s.to_lowercase());
        let tally = by_source.entry(key).or_insert_with(|| Tally {
            shown: shown.clone(),
            ..Tally::default()
        });
        tally.customers.insert(dated.customer);
        tally.visits += u64::from(dated.counted);
        tally.revenue += dated.net;
        Ok(())
    })?;
    let mut rows: Vec<SourceRow> = by_source
        .into_values()
        .map(|t| {
            let n = t.customers.len() as u64;
            SourceRow {
                source: t.shown,
                new_customers: n,
                visits: t.visits,
                revenue: normalize::money(t.revenue),
                revenue_per_customer: normalize::money(if n == 0 {
                    Decimal::ZERO
                } else {
                    t.revenue / Decimal::from(n)
                }),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.revenue
            .cmp(&a.revenue)
            .then(b.new_customers.cmp(&a.new_customers))
            .then(a.source.cmp(&b.source))
    });
    Ok(SourcesReport {
        from: scope.from,
        to: scope.to,
        new_customers: rows.iter().map(|r| r.new_customers).sum(),
        revenue: normalize::money(rows.iter().map(|r| r.revenue).sum()),
        rows,
    })
}
