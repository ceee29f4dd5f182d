//! `report.points`: the programme's liability now.

use super::group_wide;
use crate::aggregate;
use crate::context::Ctx;
use crate::error::Result;
use crate::ledger;
use crate::normalize;
use crate::store::Reader;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `report.points` result: the programme's liability.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PointsReport {
    /// Accounts with any history.
    pub accounts: u64,
    /// Accounts with points on them.
    pub accounts_with_balance: u64,
    /// Points ever credited (net of earned points taken back by refunds).
    pub issued: Decimal,
    /// Points ever spent (net of points refunds gave back).
    pub redeemed: Decimal,
    /// Points burned at expiry.
    pub expired: Decimal,
    /// Points on accounts now (as stored; the daily job settles expiries).
    pub outstanding: Decimal,
    /// Of them, pending (return window).
    pub pending: Decimal,
    /// Of them, held by holds.
    pub held: Decimal,
    /// Money value of the outstanding points.
    pub liability: Decimal,
    /// Currency of the money value.
    pub currency: String,
}

/// Arguments of `report.points`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsArgs {
    /// Refused with a reason: see [`group_wide`].
    #[serde(default)]
    pub branch: Option<String>,
}

/// Points issued, redeemed, expired and outstanding, with the money liability.
pub fn points<R: Reader>(reader: &R, ctx: &Ctx, args: &PointsArgs) -> Result<PointsReport> {
    group_wide("report.points", args.branch.as_deref())?;
    let program = ctx.program()?;
    let mut report = PointsReport {
        currency: program.currency.clone(),
        ..PointsReport::default()
    };
    if aggregate::ready(reader)? {
        let totals = aggregate::points_totals(reader)?;
        report.accounts = totals.accounts;
        report.accounts_with_balance = totals.with_balance;
        report.issued = totals.credited;
        report.redeemed = totals.redeemed;
        report.expired = totals.expired;
        report.outstanding = totals.balance;
        report.pending = totals.pending;
        report.held = totals.held;
    } else {
        scan_accounts(reader, &mut report)?;
    }
    let scale = program.points.scale;
    for value in [
        &mut report.issued,
        &mut report.redeemed,
        &mut report.expired,
        &mut report.outstanding,
        &mut report.pending,
        &mut report.held,
    ] {
        *value = normalize::exact_scale(*value, scale);
    }
    report.liability = normalize::money(report.outstanding * program.points.value);
    Ok(report)
}

/// The totals from every account (a store without aggregates).
fn scan_accounts<R: Reader>(reader: &R, report: &mut PointsReport) -> Result<()> {
    ledger::for_each_account(reader, |customer| {
        let account = ledger::load_account(reader, customer)?;
        report.accounts += 1;
        if account.balance > Decimal::ZERO {
            report.accounts_with_balance += 1;
        }
        report.issued += account.credited;
        report.redeemed += account.redeemed;
        report.expired += account.expired;
        report.outstanding += account.balance;
        report.pending += account.pending;
        report.held += account.held;
        Ok(())
    })
}
