//! `report.pareto`: how few customers bring 80% of the period's revenue, and who they are.
//!
//! Customers are ranked by net revenue in the period (ties: smaller id first); the core
//! is the shortest head of that ranking whose revenue reaches 80% of the total. Customers
//! whose net revenue is zero or less (everything refunded) bring nothing and are left out
//! of the ranking and of `customers`.

use super::{Briefs, Scope, Takes, percent, percent_of};
use crate::context::Ctx;
use crate::error::Result;
use crate::normalize;
use crate::store::Reader;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The share of revenue the core brings, in percent.
pub const PARETO_SHARE: Decimal = Decimal::from_parts(80, 0, 0, false, 0);

/// One customer of the core.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ParetoRow {
    /// Place in the ranking, from 1.
    pub rank: u64,
    /// Customer id.
    pub customer: u64,
    /// Full name.
    pub name: String,
    /// Net revenue in the period.
    pub revenue: Decimal,
    /// Share of the period's revenue brought by ranks 1..=this one, percent.
    pub cumulative_share: Decimal,
}

/// `report.pareto` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ParetoReport {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
    /// Share of revenue the core brings, percent (80).
    pub target_share: Decimal,
    /// Customers with revenue in the period.
    pub customers: u64,
    /// Their revenue.
    pub revenue: Decimal,
    /// Customers in the core.
    pub core_customers: u64,
    /// core_customers / customers, percent.
    pub core_customer_share: Decimal,
    /// Revenue the core brings.
    pub core_revenue: Decimal,
    /// The core, best first; at most `top` rows.
    pub rows: Vec<ParetoRow>,
    /// Whether the core has more customers than `rows` lists.
    pub truncated: bool,
}

/// The customers who bring 80% of revenue.
pub fn pareto<R: Reader>(reader: &R, ctx: &Ctx, args: &super::ReportArgs) -> Result<ParetoReport> {
    let scope: Scope = args.scope(
        reader,
        ctx,
        Takes {
            op: "report.pareto",
            branch: None,
            top: Some(100),
        },
    )?;
    let mut briefs = Briefs::default();
    let mut revenue: HashMap<u64, Decimal> = HashMap::new();
    scope.visits(reader, |_, _, dated| {
        if briefs.get(reader, &scope, dated.customer)?.admitted {
            *revenue.entry(dated.customer).or_default() += dated.net;
        }
        Ok(())
    })?;
    let mut ranking: Vec<(u64, Decimal)> = revenue
        .into_iter()
        .filter(|(_, r)| *r > Decimal::ZERO)
        .collect();
    ranking.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let total: Decimal = ranking.iter().map(|(_, r)| *r).sum();
    let goal = total * PARETO_SHARE / Decimal::ONE_HUNDRED;
    let mut core = 0usize;
    let mut core_revenue = Decimal::ZERO;
    for (_, r) in &ranking {
        if core_revenue >= goal && core > 0 {
            break;
        }
        core_revenue += *r;
        core += 1;
    }
    let mut rows = Vec::new();
    let mut running = Decimal::ZERO;
    for (place, (id, r)) in ranking.iter().take(core.min(scope.top)).enumerate() {
        running += *r;
        rows.push(ParetoRow {
            rank: place as u64 + 1,
            customer: *id,
            name: briefs.get(reader, &scope, *id)?.name.clone(),
            revenue: normalize::money(*r),
            cumulative_share: percent_of(running, total),
        });
    }
    Ok(ParetoReport {
        from: scope.from,
        to: scope.to,
        target_share: PARETO_SHARE,
        customers: ranking.len() as u64,
        revenue: normalize::money(total),
        core_customers: core as u64,
        core_customer_share: percent(core as u64, ranking.len() as u64),
        core_revenue: normalize::money(core_revenue),
        truncated: core > rows.len(),
        rows,
    })
}
