//! What-if: `program.simulate` replays the visits of a past period under a proposed
//! programme (rates, caps, tiers, expiry, plugins) and sets the outcome beside the
//! programme in force, without touching the shop's store.
//!
//! Nothing here re-implements a rule. The shop's store is only read (stepwise, like a
//! report); each side of the comparison runs in its own scratch store in memory
//! ([`Store::scratch`]) where the real `checkout.commit` records every visit of the
//! period in order and the real `jobs.daily` runs every day before them (expiry,
//! releases, birthday bonuses, tier reviews). Both sides start from the same state at
//! `from`, rebuilt from the shop's ledger and visits ([`scope`], [`replay`]).
//!
//! Three columns come back: `actual` (the period as the ledger records it), `in_force`
//! (the replay under the programme in force now) and `proposed`. The replay of the
//! programme in force equals the ledger when the period holds only what the replay
//! replays (visits and the daily job, with the same programme all along; see
//! docs/operations.md); the difference between `actual` and `in_force` shows what the
//! replay leaves out.

mod replay;
mod scope;

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::ledger::{Entry, Flow};
use crate::program::Program;
use crate::store::Reader;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// Longest period one simulation replays, in days.
pub const PERIOD_DAYS_MAX: i64 = 1830;
/// Most visits one simulation replays.
pub const VISITS_MAX: usize = 200_000;
/// Most customers one simulation carries (each side holds them in memory).
pub const CUSTOMERS_MAX: usize = 200_000;
/// Most proposed plugins.
pub const PROPOSED_PLUGINS_MAX: usize = 8;
/// How many customers whose outcome changes most are listed.
pub const CHANGES_LISTED: usize = 10;
/// How many skipped visits are described (all are counted).
pub const SKIPPED_LISTED: usize = 20;

/// The assumption every figure of the replay rests on (returned in the result).
pub const ASSUMPTION: &str = "The same visits happen on the same days with the same baskets (lines, quantities, prices, host discounts); each customer redeems the points they redeemed, capped by what the rules allow them at that visit; the daily job runs every day before the day's visits; both sides run the plugins installed and enabled now, the proposal's own plugins added to (or replacing) them on its side. a refund of a visit of the period made within it is replayed at its instant with the same lines and quantities. Welcome, referral and feedback bonuses, manual adjustments, holds and refunds of visits before `from` are not replayed.";

/// How the state at `from` is obtained (returned in the result).
pub const STARTING_STATE: &str = "Each customer starts `from` with the points the ledger shows at the end of the day before, in the lots they were in (with their expiry dates); lifetime spend and visit counts as of that day; tier and VIP evaluated under each side's rules from the visits in the tier window before `from`. Customers the period does not touch (no visit, no ledger entry in it, no points at `from`) are left out of both replays.";

/// Arguments of `program.simulate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulateArgs {
    /// The proposed programme document, as `program.set` takes it.
    pub program: Value,
    /// First local date replayed.
    pub from: NaiveDate,
    /// Last local date replayed (not after today).
    pub to: NaiveDate,
    /// Proposed plugins, each as `plugin.install` takes it (`wasm` base64 or `path`);
    /// one named like an installed plugin replaces it in the proposed side.
    #[serde(default)]
    pub plugins: Vec<Map<String, Value>>,
}

/// Limits of one call (the defaults are the constants above; tests lower them).
#[derive(Debug, Clone)]
pub(crate) struct SimulateLimits {
    pub visits: usize,
    pub customers: usize,
}

impl Default for SimulateLimits {
    fn default() -> Self {
        SimulateLimits {
            visits: VISITS_MAX,
            customers: CUSTOMERS_MAX,
        }
    }
}

/// Points moved in the period, by why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Movement {
    /// Earned on visits, welcome, birthday and promotion bonuses, net of what refunds
    /// took back.
    pub issued: Decimal,
    /// Paid with at checkout (and captured holds), net of what refunds gave back.
    pub redeemed: Decimal,
    /// Burned at expiry.
    pub expired: Decimal,
    /// Manual corrections (signed).
    pub adjusted: Decimal,
}

impl Movement {
    pub(crate) fn add(&mut self, entry: &Entry) {
        match entry.kind.flow() {
            Flow::Issued => self.issued += entry.amount,
            Flow::Redeemed => self.redeemed -= entry.amount,
            Flow::Expired => self.expired -= entry.amount,
            Flow::Adjusted => self.adjusted += entry.amount,
            Flow::Internal => {}
        }
    }

    fn merge(&mut self, other: &Movement) {
        self.issued += other.issued;
        self.redeemed += other.redeemed;
        self.expired += other.expired;
        self.adjusted += other.adjusted;
    }
}

/// Customers in one tier at the end of the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TierHeadcount {
    /// Tier code; `null` for customers in no tier.
    pub tier: Option<String>,
    /// Tier name as the programme calls it.
    pub name: Option<String>,
    /// Customers.
    pub customers: u64,
}

/// One column of the comparison.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Figures {
    /// Points moved in the period.
    #[serde(flatten)]
    pub points: Movement,
    /// Points outstanding at the start of `from`.
    pub liability_start: Decimal,
    /// Points outstanding at the end of `to`.
    pub liability_end: Decimal,
    /// Loyalty discounts given on the period's visits (money).
    pub discounts: Decimal,
    /// Visits recorded (actual) or replayed.
    pub visits: u64,
    /// Refunds of the period's visits made in the period, recorded (actual) or replayed.
    pub refunds: u64,
    /// The customers the period touches, by tier at the end; `null` for `actual` (the
    /// ledger keeps no tier history: see `in_force`).
    pub tiers: Option<Vec<TierHeadcount>>,
}

/// One customer's outcome on one side.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Outcome {
    /// Points moved in the period.
    #[serde(flatten)]
    pub points: Movement,
    /// Points at the end of `to`.
    pub balance: Decimal,
    /// Loyalty discounts received (money).
    pub discounts: Decimal,
    /// Tier at the end.
    pub tier: Option<String>,
}

/// A customer whose outcome the proposal changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerChange {
    /// Customer id.
    pub customer: u64,
    /// Full name.
    pub name: String,
    /// Under the programme in force (replayed).
    pub in_force: Outcome,
    /// Under the proposal.
    pub proposed: Outcome,
    /// |Δ issued| + |Δ redeemed| + |Δ expired| + |Δ discounts| (points at face value),
    /// what the list is ordered by.
    pub change: Decimal,
}

/// A visit (or a refund of it) the real checkout refused in the replay (counted, the
/// first few described).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SkippedVisit {
    /// Which side refused it: `in_force` or `proposed`.
    pub side: String,
    /// Visit id in the shop's store.
    pub visit: u64,
    /// Host's order id.
    pub order_id: String,
    /// Error code checkout gave.
    pub code: String,
    /// Its message.
    pub message: String,
}

/// The result of `program.simulate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Simulation {
    /// First local date replayed.
    pub from: NaiveDate,
    /// Last local date replayed.
    pub to: NaiveDate,
    /// What the replay assumes.
    pub assumption: String,
    /// How the state at `from` was obtained.
    pub starting_state: String,
    /// Version of the programme in force (replayed as `in_force`).
    pub program_in_force: u32,
    /// Customers the period touches (a visit, a ledger movement, or points at `from`).
    pub customers: u64,
    /// The period as the ledger and the visits record it.
    pub actual: Figures,
    /// The replay under the programme in force.
    pub in_force: Figures,
    /// The replay under the proposal.
    pub proposed: Figures,
    /// The customers whose outcome changes most, most first (ties by id).
    pub changes: Vec<CustomerChange>,
    /// Visits checkout refused in the replay, per side.
    pub skipped_in_force: u64,
    /// See `skipped_in_force`.
    pub skipped_proposed: u64,
    /// The first refused visits, with why.
    pub skipped: Vec<SkippedVisit>,
}

/// `program.simulate`.
pub(crate) fn simulate<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    plugin_cache: Option<PathBuf>,
    args: SimulateArgs,
) -> Result<Simulation> {
    simulate_within(reader, ctx, plugin_cache, args, &SimulateLimits::default())
}

pub(crate) fn simulate_within<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    plugin_cache: Option<PathBuf>,
    args: SimulateArgs,
    limits: &SimulateLimits,
) -> Result<Simulation> {
    let in_force = Arc::new(ctx.program()?.clone());
    let mut proposed = Program::from_json(args.program)?;
    proposed.version = in_force.version + 1;
    let proposed = Arc::new(proposed);
    check_period(args.from, args.to, ctx.today)?;
    if args.plugins.len() > PROPOSED_PLUGINS_MAX {
        return Err(Error::too_large("plugins", PROPOSED_PLUGINS_MAX));
    }
    let period = (args.from, args.to);
    let scope = scope::read(reader, period, limits, &in_force)?;
    let replay_in_force = replay::Side {
        name: "in_force",
        program: in_force.clone(),
        plugins: &[],
    };
    let replay_proposed = replay::Side {
        name: "proposed",
        program: proposed.clone(),
        plugins: &args.plugins,
    };
    let window = in_force.tiers.window_days.max(proposed.tiers.window_days);
    let setting = replay::Setting {
        reader,
        scope: &scope,
        period,
        window_days: window,
        plugin_cache,
    };
    let current = replay::run(&setting, &replay_in_force)?;
    let next = replay::run(&setting, &replay_proposed)?;
    let mut skipped = current.skipped_examples.clone();
    skipped.extend(next.skipped_examples.iter().cloned());
    skipped.truncate(SKIPPED_LISTED);
    Ok(Simulation {
        from: args.from,
        to: args.to,
        assumption: ASSUMPTION.to_string(),
        starting_state: STARTING_STATE.to_string(),
        program_in_force: in_force.version,
        customers: scope.customers.len() as u64,
        actual: actual_figures(&scope),
        in_force: current.figures(&in_force),
        proposed: next.figures(&proposed),
        changes: changes(&current, &next),
        skipped_in_force: current.skipped,
        skipped_proposed: next.skipped,
        skipped,
    })
}

/// The earliest date a period may start on (the date arithmetic of a replay stays far
/// from the calendar's ends).
const FROM_MIN: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(date) => date,
    None => panic!("1900-01-01 is a date"),
};

fn check_period(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Result<()> {
    if from < FROM_MIN {
        return Err(Error::invalid(
            "from",
            format!("must be {FROM_MIN} or later"),
        ));
    }
    if to < from {
        return Err(Error::invalid("to", format!("{to} is before {from}")));
    }
    if to > today {
        return Err(Error::invalid(
            "to",
            format!("{to} is after today ({today}): only a past period can be replayed"),
        ));
    }
    if (to - from).num_days() >= PERIOD_DAYS_MAX {
        return Err(Error::invalid(
            "to",
            format!("a simulation covers at most {PERIOD_DAYS_MAX} days"),
        ));
    }
    Ok(())
}

fn actual_figures(scope: &scope::Scope) -> Figures {
    let mut figures = Figures::default();
    for touched in scope.customers.values() {
        figures.points.merge(&touched.actual);
        figures.liability_start += touched.balance_from;
        figures.liability_end += touched.balance_to;
        figures.discounts += touched.discounts;
    }
    figures.visits = scope.visits.len() as u64;
    figures.refunds = scope.refunds;
    figures
}

/// The customers whose outcome differs most between the two replays.
fn changes(current: &replay::Replayed, next: &replay::Replayed) -> Vec<CustomerChange> {
    let mut rows: Vec<CustomerChange> = Vec::new();
    for (id, before) in &current.outcomes {
        let after = next.outcomes.get(id).cloned().unwrap_or_default();
        let change = (after.points.issued - before.points.issued).abs()
            + (after.points.redeemed - before.points.redeemed).abs()
            + (after.points.expired - before.points.expired).abs()
            + (after.discounts - before.discounts).abs();
        if change.is_zero() && after.tier == before.tier {
            continue;
        }
        rows.push(CustomerChange {
            customer: *id,
            name: current.names.get(id).cloned().unwrap_or_default(),
            in_force: before.clone(),
            proposed: after,
            change,
        });
    }
    rows.sort_by(|a, b| {
        b.change
            .cmp(&a.change)
            .then_with(|| a.customer.cmp(&b.customer))
    });
    rows.truncate(CHANGES_LISTED);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkout::{self, CheckoutArgs, LineInput};
    use crate::customer::{self, CustomerRef, RegisterArgs};
    use crate::plugin::{PluginHost, hook::Plugins};
    use crate::program::LineKind;
    use crate::store::Store;
    use chrono::{DateTime, Utc};
    use serde_json::json;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// A scratch shop with two customers and three visits in March 2025.
    fn shop() -> (Store, Arc<Program>) {
        let store = Store::scratch().unwrap();
        let mut program = Program::from_json(json!({
            "name": "Лимиты", "timezone": "Europe/Moscow",
            "accrual": { "rate_percent": "10" }, "expiry_months": 12, "pending_days": 0
        }))
        .unwrap();
        program.version = 1;
        let program = Arc::new(program);
        let host = PluginHost::open(&store, None).unwrap();
        let plugins = Plugins {
            host: &host,
            active: host.active(),
        };
        let ctx = Ctx::new(at("2025-03-01T09:00:00Z"), Some(program.clone()));
        let mut txn = store.write().unwrap();
        for (name, phone) in [
            ("Иванов Иван", "+79161234567"),
            ("Петрова Анна", "+79031112233"),
        ] {
            let args = RegisterArgs {
                full_name: name.to_string(),
                phone: Some(phone.to_string()),
                ..RegisterArgs::default()
            };
            customer::register(&mut txn, &ctx, args).unwrap();
        }
        for (n, (customer, day)) in [(1, "03"), (2, "10"), (1, "20")].into_iter().enumerate() {
            let ctx = Ctx::new(
                at(&format!("2025-03-{day}T09:00:00Z")),
                Some(program.clone()),
            );
            let args = CheckoutArgs {
                customer: CustomerRef {
                    id: Some(customer),
                    ..CustomerRef::default()
                },
                vehicle: None,
                mileage: None,
                lines: vec![LineInput {
                    sku: "TO-1".into(),
                    name: "ТО-1".into(),
                    kind: LineKind::Labor,
                    category: None,
                    qty: Decimal::ONE,
                    unit_price: Decimal::from(1000),
                    discount: None,
                    promo: false,
                }],
                redeem: None,
                order_id: Some(format!("ЗН-{n}")),
                branch: None,
                advisor: None,
            };
            checkout::commit(&mut txn, &ctx, &plugins, &args).unwrap();
        }
        txn.commit().unwrap();
        (store, program)
    }

    fn run(store: &Store, program: &Arc<Program>, limits: &SimulateLimits) -> Result<Simulation> {
        let ctx = Ctx::new(at("2026-01-10T09:00:00Z"), Some(program.clone()));
        let args = SimulateArgs {
            program: serde_json::to_value(program.as_ref()).unwrap(),
            from: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2025, 3, 31).unwrap(),
            plugins: Vec::new(),
        };
        simulate_within(&store.read().unwrap(), &ctx, None, args, limits)
    }

    #[test]
    fn the_visit_and_customer_limits_are_named_when_reached() {
        let (store, program) = shop();
        let fits = SimulateLimits {
            visits: 3,
            customers: 2,
        };
        let done = run(&store, &program, &fits).unwrap();
        assert_eq!(done.proposed.visits, 3);
        assert_eq!(done.proposed.points.issued, Decimal::from(300));

        let visits = SimulateLimits {
            visits: 2,
            customers: 2,
        };
        let err = run(&store, &program, &visits).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::TooLarge);
        assert_eq!(err.message, "visits in the period exceeds the limit of 2");
        assert_eq!(err.details["field"], json!("to"));

        let customers = SimulateLimits {
            visits: 3,
            customers: 1,
        };
        let err = run(&store, &program, &customers).unwrap_err();
        assert_eq!(
            err.message,
            "customers touched by the period exceeds the limit of 1"
        );
        // The shop's store was only read.
        assert_eq!(store.current_seq().unwrap(), 1);
    }
}
