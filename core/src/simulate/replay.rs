//! One side of a simulation: a scratch store set to the state at `from`, then every day
//! of the period through the real daily job and every visit through the real checkout.

use super::scope::{Scope, Touched};
use super::{Figures, Movement, Outcome, SKIPPED_LISTED, SkippedVisit, TierHeadcount};
use crate::checkout::{self, CheckoutArgs, LineInput, Receipt};
use crate::context::Ctx;
use crate::customer::{self, Customer, CustomerRef};
use crate::error::{Error, ErrorCode, Result};
use crate::jobs::{self, DailyArgs};
use crate::ledger::{self, Book, Credit};
use crate::plugin::{self, PluginHost, hook::Plugins};
use crate::program::Program;
use crate::reference::VehicleRef;
use crate::refund::{RefundArgs, RefundLine};
use crate::store::keys::{self};
use crate::store::{Reader, Store, WriteTxn};
use crate::tier;
use crate::vehicle;
use crate::visit::{self, Refund, Visit, VisitDays};
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// Customers seeded per scratch transaction.
const SEED_BATCH: usize = 256;
/// Most visits of one customer read to rewind their lifetime figures.
const CUSTOMER_VISITS_MAX: usize = 100_000;
const ENTRY_CHUNK: usize = 512;

/// What both sides share: the shop's store and the period read from it.
pub(super) struct Setting<'a, R: Reader> {
    pub reader: &'a R,
    pub scope: &'a Scope,
    pub period: (NaiveDate, NaiveDate),
    /// The longer tier window of the two programmes: how far back visits are loaded.
    pub window_days: u32,
    pub plugin_cache: Option<PathBuf>,
}

/// One side: a programme and the plugins it adds.
pub(super) struct Side<'a> {
    pub name: &'static str,
    pub program: Arc<Program>,
    pub plugins: &'a [Map<String, Value>],
}

/// What a side's replay produced.
#[derive(Default)]
pub(super) struct Replayed {
    pub outcomes: BTreeMap<u64, Outcome>,
    pub names: HashMap<u64, String>,
    pub liability_start: Decimal,
    pub visits: u64,
    pub refunds: u64,
    pub skipped: u64,
    pub skipped_examples: Vec<SkippedVisit>,
}

impl Replayed {
    /// The column of this side, tiers in the programme's order (no tier last).
    pub(super) fn figures(&self, program: &Program) -> Figures {
        let mut figures = Figures {
            liability_start: self.liability_start,
            visits: self.visits,
            refunds: self.refunds,
            ..Figures::default()
        };
        let mut by_tier: HashMap<Option<String>, u64> = HashMap::new();
        for outcome in self.outcomes.values() {
            figures.points.issued += outcome.points.issued;
            figures.points.redeemed += outcome.points.redeemed;
            figures.points.expired += outcome.points.expired;
            figures.points.adjusted += outcome.points.adjusted;
            figures.liability_end += outcome.balance;
            figures.discounts += outcome.discounts;
            *by_tier.entry(outcome.tier.clone()).or_default() += 1;
        }
        let mut tiers: Vec<TierHeadcount> = program
            .tiers
            .levels
            .iter()
            .map(|level| TierHeadcount {
                customers: by_tier.remove(&Some(level.code.clone())).unwrap_or(0),
                tier: Some(level.code.clone()),
                name: Some(level.name.clone()),
            })
            .collect();
        // Codes the programme no longer has (none after a replay), then no tier.
        let mut rest: Vec<(Option<String>, u64)> = by_tier.into_iter().collect();
        rest.sort_by(|a, b| b.0.is_some().cmp(&a.0.is_some()).then(a.0.cmp(&b.0)));
        for (tier, customers) in rest {
            tiers.push(TierHeadcount {
                name: None,
                tier,
                customers,
            });
        }
        figures.tiers = Some(tiers);
        figures
    }
}

/// Replay the period for one side in a scratch store of its own.
pub(super) fn run<R: Reader>(setting: &Setting<'_, R>, side: &Side<'_>) -> Result<Replayed> {
    let scratch = Store::scratch()?;
    let program = &side.program;
    let (from, _) = setting.period;
    let eve = from - Duration::days(1);
    let eve_ctx = day_ctx(program, eve)?;
    {
        let mut txn = scratch.write()?;
        txn.put_json(super::scope::program_key(program.version), program.as_ref())?;
        txn.put(keys::meta(keys::META_PROGRAM), &program.version)?;
        plugin::copy_installed(setting.reader, &mut txn)?;
        txn.commit()?;
    }
    let host = PluginHost::open(&scratch, setting.plugin_cache.clone())?;
    for args in side.plugins {
        plugin::install_proposed(&host, &scratch, &eve_ctx, args)?;
    }
    let mut replayed = Replayed::default();
    let ids: Vec<u64> = setting.scope.customers.keys().copied().collect();
    for chunk in ids.chunks(SEED_BATCH) {
        let mut txn = scratch.write()?;
        for id in chunk {
            seed_customer(setting, program, &mut txn, *id, &mut replayed)?;
        }
        txn.commit()?;
    }
    let plugins = Plugins {
        host: &host,
        active: host.active(),
    };
    replay_days(setting, side, &scratch, &plugins, &mut replayed)?;
    collect_outcomes(&scratch, setting, &mut replayed)?;
    Ok(replayed)
}

/// Every day of the period in order: the daily job, then the day's visits and the
/// refunds of replayed visits, in the order they happened.
fn replay_days<R: Reader>(
    setting: &Setting<'_, R>,
    side: &Side<'_>,
    scratch: &Store,
    plugins: &Plugins<'_>,
    replayed: &mut Replayed,
) -> Result<()> {
    let (from, to) = setting.period;
    let eve_ctx = day_ctx(&side.program, from - Duration::days(1))?;
    let mut copied_vehicles = HashSet::new();
    let mut visits = setting.scope.visits.iter().peekable();
    // Refunds of replayed visits still to come, by local date.
    let mut refunds: BTreeMap<NaiveDate, Vec<Event>> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        jobs::daily(scratch, &eve_ctx, &DailyArgs { date: Some(day) })?;
        let mut events = refunds.remove(&day).unwrap_or_default();
        while let Some((_, id)) = visits.next_if(|(date, _)| *date == day) {
            let visit = visit::load(setting.reader, *id)?;
            events.push(Event::Visit(Box::new(visit)));
        }
        events.sort_by_key(Event::order);
        for event in events {
            match event {
                Event::Visit(visit) => {
                    copy_vehicle(setting.reader, scratch, &visit, &mut copied_vehicles)?;
                    if replay_visit(scratch, side, plugins, &visit, replayed)? {
                        for refund in &visit.refunds {
                            let date = side.program.local_date(refund.at);
                            if date <= to {
                                refunds.entry(date).or_default().push(Event::Refund {
                                    order_id: visit.order_id.clone(),
                                    visit: visit.id,
                                    refund: Box::new(refund.clone()),
                                });
                            }
                        }
                    }
                }
                Event::Refund {
                    order_id,
                    visit,
                    refund,
                } => replay_refund(scratch, side, (visit, &order_id), &refund, replayed)?,
            }
        }
        day = day
            .succ_opt()
            .ok_or_else(|| Error::invalid("to", "is the last date there is"))?;
    }
    Ok(())
}

/// A context for `date` in the programme's zone (noon, clear of any DST gap).
fn day_ctx(program: &Arc<Program>, date: NaiveDate) -> Result<Ctx> {
    let probe = Ctx::new(chrono::Utc::now(), Some(program.clone()));
    let at = jobs::start_of_day(&probe, date)? + Duration::hours(12);
    let mut ctx = Ctx::new(at, Some(program.clone()));
    ctx.today = date;
    Ok(ctx)
}

/// Put one customer into the scratch store as they stood at the start of `from`.
fn seed_customer<R: Reader>(
    setting: &Setting<'_, R>,
    program: &Arc<Program>,
    txn: &mut WriteTxn<'_>,
    id: u64,
    replayed: &mut Replayed,
) -> Result<()> {
    let (from, _) = setting.period;
    let eve = from - Duration::days(1);
    let touched: &Touched = setting
        .scope
        .customers
        .get(&id)
        .ok_or_else(|| Error::internal(format!("customer {id} left the scope")))?;
    let real = customer::load(setting.reader, id)?;
    replayed.names.insert(id, real.full_name.clone());
    if let Some(company) = real.company
        && !setting.scope.customers.contains_key(&company)
    {
        customer::save(txn, &customer::load(setting.reader, company)?)?;
    }
    let (mut rewound, days) = rewind(setting, &real)?;
    customer::save(txn, &rewound)?;
    if let Some(birthday) = rewound.birthday {
        txn.put(customer::birthday_key(birthday, id), &())?;
    }
    for (day, _, _) in &days.days {
        if let Some(date) = NaiveDate::from_num_days_from_ce_opt(*day) {
            tier::schedule_review(txn, program, id, date)?;
        }
    }
    visit::save_visit_days(txn, id, &days)?;
    let mut book = Book::load(txn, id)?;
    for lot in &touched.opening {
        // Credited on the eve, or on its last day when that came earlier, so a lot the
        // ledger burned in the period burns in the replay too, on the same day.
        let date = lot.expires_on.map_or(eve, |last| last.min(eve));
        let ctx = day_ctx(program, date)?;
        book.credit(
            &ctx,
            Credit::new(lot.source, lot.remaining)
                .expiring(lot.expires_on)
                .pending_until(lot.pending_until)
                .because("balance at the start of the simulated period".to_string()),
        )?;
    }
    replayed.liability_start += book.account.balance;
    book.save(txn)?;
    // The opening tier under this side's rules, as a review would set it (the move it
    // records stays in the scratch store).
    tier::reevaluate(txn, program, &mut rewound, eve, tier::MoveReason::Review)?;
    Ok(())
}

/// The customer record as of the start of `from`, and their per-day visits in the tier
/// window before it.
fn rewind<R: Reader>(setting: &Setting<'_, R>, real: &Customer) -> Result<(Customer, VisitDays)> {
    let (from, _) = setting.period;
    let eve = from - Duration::days(1);
    let far = from + Duration::days(100 * 366);
    let mut customer = real.clone();
    for (_, summary) in visit::summaries(setting.reader, real.id, from, far, CUSTOMER_VISITS_MAX)? {
        customer.total_spend -= summary.net;
        if summary.counted {
            customer.visits = customer.visits.saturating_sub(1);
        }
    }
    let window_from = from - Duration::days(i64::from(setting.window_days));
    let earlier = visit::summaries(
        setting.reader,
        real.id,
        window_from,
        eve,
        CUSTOMER_VISITS_MAX,
    )?;
    let mut per_day: BTreeMap<i32, (Decimal, u32)> = BTreeMap::new();
    for (date, summary) in &earlier {
        let day = per_day.entry(date.num_days_from_ce()).or_default();
        day.0 += summary.net;
        day.1 += u32::from(summary.counted);
    }
    let days = VisitDays {
        complete_from: Some(window_from),
        days: per_day
            .into_iter()
            .filter(|(_, (net, visits))| !(net.is_zero() && *visits == 0))
            .map(|(day, (net, visits))| (day, net, visits))
            .collect(),
    };
    let last_before = match earlier.last() {
        Some((date, _)) => Some(*date),
        None => match real.first_visit.filter(|first| *first < from) {
            Some(first) => {
                visit::summaries(setting.reader, real.id, first, eve, CUSTOMER_VISITS_MAX)?
                    .last()
                    .map(|(date, _)| *date)
            }
            None => None,
        },
    };
    customer.last_visit = last_before;
    customer.first_visit = real.first_visit.filter(|first| *first < from);
    if last_before.is_none() {
        customer.first_visit = None;
    }
    customer.tier = None;
    customer.tier_since = None;
    customer.vip = false;
    Ok((customer, days))
}

fn copy_vehicle<R: Reader>(
    reader: &R,
    scratch: &Store,
    visit: &Visit,
    copied: &mut HashSet<u64>,
) -> Result<()> {
    let Some(id) = visit.vehicle else {
        return Ok(());
    };
    if copied.insert(id) {
        let mut txn = scratch.write()?;
        vehicle::save(&mut txn, &vehicle::load(reader, id)?)?;
        txn.commit()?;
    }
    Ok(())
}

/// What happens on a day of the replay, in the order it happened.
enum Event {
    Visit(Box<Visit>),
    Refund {
        order_id: String,
        visit: u64,
        refund: Box<Refund>,
    },
}

impl Event {
    fn order(&self) -> (chrono::DateTime<chrono::Utc>, u64, u32) {
        match self {
            Event::Visit(visit) => (visit.at, visit.id, 0),
            Event::Refund { visit, refund, .. } => (refund.at, *visit, refund.seq),
        }
    }
}

/// Record one visit through the real checkout; a refusal is counted, not fatal.
/// Returns whether it was recorded.
fn replay_visit(
    scratch: &Store,
    side: &Side<'_>,
    plugins: &Plugins<'_>,
    visit: &Visit,
    replayed: &mut Replayed,
) -> Result<bool> {
    let ctx = Ctx::new(visit.at, Some(side.program.clone()));
    let mut txn = scratch.write()?;
    match checkout_visit(&mut txn, &ctx, plugins, visit) {
        Ok(receipt) => {
            txn.commit()?;
            replayed.visits += 1;
            replayed
                .outcomes
                .entry(visit.customer)
                .or_default()
                .discounts += receipt.priced.totals.discount;
            Ok(true)
        }
        Err(err) if fatal(err.code) => Err(err),
        Err(err) => {
            skip(side, (visit.id, &visit.order_id), err, replayed);
            Ok(false)
        }
    }
}

/// A refund of a replayed visit through the real `checkout.refund`: the same lines and
/// quantities at the same instant.
fn replay_refund(
    scratch: &Store,
    side: &Side<'_>,
    (visit, order_id): (u64, &str),
    refund: &Refund,
    replayed: &mut Replayed,
) -> Result<()> {
    let ctx = Ctx::new(refund.at, Some(side.program.clone()));
    let args = RefundArgs {
        order_id: order_id.to_string(),
        lines: Some(
            refund
                .lines
                .iter()
                .map(|(line, qty)| RefundLine {
                    line: *line,
                    qty: Some(*qty),
                })
                .collect(),
        ),
        reason: refund.reason.clone(),
    };
    let mut txn = scratch.write()?;
    match crate::refund::refund(&mut txn, &ctx, &args) {
        Ok(_) => {
            txn.commit()?;
            replayed.refunds += 1;
            Ok(())
        }
        Err(err) if fatal(err.code) => Err(err),
        Err(err) => {
            skip(side, (visit, order_id), err, replayed);
            Ok(())
        }
    }
}

fn skip(side: &Side<'_>, (visit, order_id): (u64, &str), err: Error, replayed: &mut Replayed) {
    replayed.skipped += 1;
    if replayed.skipped_examples.len() < SKIPPED_LISTED {
        replayed.skipped_examples.push(SkippedVisit {
            side: side.name.to_string(),
            visit,
            order_id: order_id.to_string(),
            code: err.code.as_str().to_string(),
            message: err.message,
        });
    }
}

/// Errors of the machinery rather than of the visit: the simulation stops on them.
fn fatal(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::Internal | ErrorCode::Corrupted | ErrorCode::Io | ErrorCode::Closed
    )
}

/// The visit's basket through `checkout.commit`, redeeming what the customer redeemed
/// then, at most what the rules allow now.
fn checkout_visit(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    plugins: &Plugins<'_>,
    visit: &Visit,
) -> Result<Receipt> {
    let mut args = CheckoutArgs {
        customer: CustomerRef {
            id: Some(visit.customer),
            ..CustomerRef::default()
        },
        vehicle: visit.vehicle.map(|id| VehicleRef {
            id: Some(id),
            ..VehicleRef::default()
        }),
        mileage: None,
        lines: visit
            .lines
            .iter()
            .map(|line| LineInput {
                sku: line.sku.clone(),
                name: line.name.clone(),
                kind: line.kind,
                category: line.category.clone(),
                qty: line.qty,
                unit_price: line.unit_price,
                discount: (!line.host_discount.is_zero()).then_some(line.host_discount),
                promo: line.promo,
            })
            .collect(),
        redeem: None,
        order_id: Some(visit.order_id.clone()),
        branch: visit.branch.clone(),
        advisor: visit.advisor.clone(),
    };
    if visit.totals.points > Decimal::ZERO {
        let mut probe = args.clone();
        probe.redeem = Some("max".to_string());
        let allowed = checkout::quote(&*txn, ctx, plugins, &probe)?.totals.points;
        let scale = ctx.program()?.points.scale;
        let wanted = visit
            .totals
            .points
            .round_dp_with_strategy(scale, RoundingStrategy::ToZero);
        let points = wanted.min(allowed);
        if points > Decimal::ZERO {
            args.redeem = Some(points.to_string());
        }
    }
    checkout::commit(txn, ctx, plugins, &args)
}

/// Each customer's points, balance and tier at the end of the replay.
fn collect_outcomes<R: Reader>(
    scratch: &Store,
    setting: &Setting<'_, R>,
    replayed: &mut Replayed,
) -> Result<()> {
    let (from, to) = setting.period;
    let view = scratch.read()?;
    for id in setting.scope.customers.keys() {
        let mut movement = Movement::default();
        let mut before = None;
        'entries: loop {
            let page = ledger::entries(&view, *id, before, ENTRY_CHUNK)?;
            let Some(last) = page.last() else { break };
            before = Some(last.seq);
            for entry in &page {
                if entry.date < from {
                    break 'entries;
                }
                if entry.date <= to {
                    movement.add(entry);
                }
            }
        }
        let outcome = replayed.outcomes.entry(*id).or_default();
        outcome.points = movement;
        outcome.balance = ledger::load_account(&view, *id)?.balance;
        outcome.tier = customer::load(&view, *id)?.tier;
    }
    Ok(())
}
