//! Property test: random sequences of commit / refund / hold / capture / release /
//! adjust / daily over random dates, run against the engine and against a small
//! in-memory model of the rules (integers and vectors, no storage). After every
//! step the balances must agree and the SPEC invariants must hold.

use crate::common;

use chrono::{DateTime, Duration, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Moscow;
use pitstop_core::{DurabilityOption, Engine, EngineOptions, ErrorCode};
use proptest::prelude::*;
use serde_json::{Value, json};

const CUSTOMERS: usize = 3;
const RATE_PERCENT: i64 = 10;
const CAP_PERCENT: i64 = 50;
const PENDING_DAYS: i64 = 3;
const EXPIRY_MONTHS: u32 = 2;
const HOLD_MINUTES: i64 = 30;

fn program() -> Value {
    json!({
        "timezone": "Europe/Moscow",
        "accrual": { "rate_percent": RATE_PERCENT.to_string() },
        "redemption": { "cap_percent": CAP_PERCENT.to_string() },
        "expiry_months": EXPIRY_MONTHS,
        "pending_days": PENDING_DAYS,
        "hold_ttl_minutes": HOLD_MINUTES
    })
}

#[derive(Debug, Clone)]
enum Step {
    Wait {
        hours: i64,
    },
    Commit {
        customer: usize,
        price: i64,
        redeem: Redeem,
    },
    Refund {
        visit: usize,
    },
    Adjust {
        customer: usize,
        points: i64,
    },
    Hold {
        customer: usize,
        points: i64,
    },
    Capture {
        hold: usize,
        points: Option<i64>,
    },
    Release {
        hold: usize,
    },
    Daily,
}

#[derive(Debug, Clone, Copy)]
enum Redeem {
    None,
    Max,
    Points(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (1i64..120).prop_map(|hours| Step::Wait { hours }),
        1 => (24i64..24 * 40).prop_map(|hours| Step::Wait { hours }),
        // Past the lots' dates, so refunds come long after the points expired or were spent.
        1 => (24i64 * 55..24 * 150).prop_map(|hours| Step::Wait { hours }),
        5 => (0..CUSTOMERS, 1i64..5000, prop_oneof![Just(Redeem::None), Just(Redeem::Max), (1i64..600).prop_map(Redeem::Points)])
            .prop_map(|(customer, price, redeem)| Step::Commit { customer, price, redeem }),
        3 => (0usize..30).prop_map(|visit| Step::Refund { visit }),
        2 => (0..CUSTOMERS, -300i64..700).prop_filter("non-zero", |(_, p)| *p != 0)
            .prop_map(|(customer, points)| Step::Adjust { customer, points }),
        2 => (0..CUSTOMERS, 1i64..400).prop_map(|(customer, points)| Step::Hold { customer, points }),
        1 => (0usize..20, proptest::option::of(0i64..400)).prop_map(|(hold, points)| Step::Capture { hold, points }),
        1 => (0usize..20).prop_map(|hold| Step::Release { hold }),
        1 => Just(Step::Daily),
    ]
}

// ------------------------------------------------------------------ the model

#[derive(Debug, Clone)]
struct Lot {
    id: u64,
    expires_on: NaiveDate,
    pending_until: Option<NaiveDate>,
    remaining: i64,
    held: i64,
    /// Points of the lot that burned at expiry (unused, or returned after its date).
    burned: i64,
}

#[derive(Debug, Clone)]
struct Hold {
    customer: usize,
    points: i64,
    expires_at: DateTime<Utc>,
    allocation: Vec<(u64, i64)>,
    active: bool,
}

#[derive(Debug, Clone)]
struct Visit {
    customer: usize,
    order_id: String,
    spent: Vec<(u64, i64)>,
    accrual: i64,
    accrual_lot: Option<u64>,
    accrual_expires_on: NaiveDate,
    refunded: bool,
}

#[derive(Debug, Default, Clone)]
struct Account {
    lots: Vec<Lot>,
    next_lot: u64,
}

#[derive(Debug, Default)]
struct Model {
    accounts: Vec<Account>,
    holds: Vec<Hold>,
    visits: Vec<Visit>,
}

fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Moscow).date_naive()
}

impl Account {
    fn fefo(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.lots.len()).collect();
        order.sort_by_key(|i| (self.lots[*i].expires_on, self.lots[*i].id));
        order
    }
    fn available(&self) -> i64 {
        self.lots
            .iter()
            .filter(|l| l.pending_until.is_none())
            .map(|l| l.remaining - l.held)
            .sum()
    }
    fn total(&self) -> i64 {
        self.lots.iter().map(|l| l.remaining).sum()
    }
    fn held(&self) -> i64 {
        self.lots.iter().map(|l| l.held).sum()
    }
    fn pending(&self) -> i64 {
        self.lots
            .iter()
            .filter(|l| l.pending_until.is_some())
            .map(|l| l.remaining)
            .sum()
    }
    fn burn(&mut self, today: NaiveDate) {
        for lot in &mut self.lots {
            if lot.expires_on < today {
                lot.burned += lot.remaining - lot.held;
                lot.remaining = lot.held;
            }
        }
    }
    fn credit(&mut self, today: NaiveDate, points: i64, pending: bool) -> u64 {
        self.next_lot += 1;
        let expires_on = today
            .checked_add_months(Months::new(EXPIRY_MONTHS))
            .unwrap();
        let pending_until = pending.then(|| today + Duration::days(PENDING_DAYS));
        self.lots.push(Lot {
            id: self.next_lot,
            expires_on,
            pending_until,
            remaining: points,
            held: 0,
            burned: 0,
        });
        self.next_lot
    }
    /// Take from spendable lots, soonest expiry first; reserve instead when `hold`.
    fn take(&mut self, points: i64, hold: bool) -> Vec<(u64, i64)> {
        let mut left = points;
        let mut taken = Vec::new();
        for i in self.fefo() {
            let lot = &mut self.lots[i];
            if lot.pending_until.is_some() || left == 0 {
                continue;
            }
            let take = (lot.remaining - lot.held).min(left);
            if take > 0 {
                if hold {
                    lot.held += take;
                } else {
                    lot.remaining -= take;
                }
                left -= take;
                taken.push((lot.id, take));
            }
        }
        assert_eq!(left, 0, "model: take beyond available");
        taken
    }
    fn lot(&mut self, id: u64) -> &mut Lot {
        self.lots
            .iter_mut()
            .find(|l| l.id == id)
            .expect("model lot")
    }
}

impl Model {
    fn settle(&mut self, customer: usize, at: DateTime<Utc>) {
        let today = local_date(at);
        for index in 0..self.holds.len() {
            if self.holds[index].customer == customer
                && self.holds[index].active
                && self.holds[index].expires_at <= at
            {
                self.resolve_hold(index, 0, today);
            }
        }
        let account = &mut self.accounts[customer];
        for lot in &mut account.lots {
            if lot.pending_until.is_some_and(|d| d <= today) {
                lot.pending_until = None;
            }
        }
        account.burn(today);
    }

    fn resolve_hold(&mut self, index: usize, capture: i64, today: NaiveDate) {
        let hold = &mut self.holds[index];
        hold.active = false;
        let account = &mut self.accounts[hold.customer];
        let mut left = capture;
        for (lot_id, points) in &hold.allocation {
            let lot = account.lot(*lot_id);
            let take = (*points).min(left);
            lot.held -= points;
            lot.remaining -= take;
            left -= take;
        }
        account.burn(today);
    }
}

// ------------------------------------------------------------------ the run

struct Run {
    engine: Engine,
    path: std::path::PathBuf,
    ids: Vec<u64>,
    engine_holds: Vec<u64>,
    at: DateTime<Utc>,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

impl Run {
    fn call(&self, op: &str, mut args: Value) -> Result<Value, pitstop_core::Error> {
        args["at"] = json!(self.at.to_rfc3339());
        self.engine.execute(op, args)
    }
}

fn expect_same(
    what: &str,
    engine: &Result<Value, pitstop_core::Error>,
    model_ok: bool,
    model_code: Option<ErrorCode>,
) {
    match (engine, model_ok) {
        (Ok(_), true) => {}
        (Err(err), false) => {
            if let Some(code) = model_code {
                assert_eq!(err.code, code, "{what}: {err:?}");
            }
        }
        (outcome, _) => panic!("{what}: engine {outcome:?}, model ok = {model_ok}"),
    }
}

fn run_steps(steps: Vec<Step>) {
    let path = common::store_location("model");
    let options = EngineOptions {
        durability: DurabilityOption::Import,
        ..EngineOptions::default()
    };
    let engine = Engine::open(&path, options).expect("open");
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap();
    let mut run = Run {
        engine,
        path,
        ids: Vec::new(),
        engine_holds: Vec::new(),
        at: start,
    };
    run.call("program.set", json!({ "program": program() }))
        .unwrap();
    let mut model = Model {
        accounts: vec![Account::default(); CUSTOMERS],
        ..Model::default()
    };
    for i in 0..CUSTOMERS {
        let reply = run
            .call(
                "customer.register",
                json!({ "full_name": format!("Клиент {i}"), "phone": format!("+7916000{i:04}") }),
            )
            .unwrap();
        run.ids.push(reply["customer"]["id"].as_u64().unwrap());
    }
    for (n, step) in steps.into_iter().enumerate() {
        let what = format!("step {n} {step:?} at {}", run.at);
        let today = local_date(run.at);
        match step {
            Step::Wait { hours } => run.at += Duration::hours(hours),
            Step::Commit {
                customer,
                price,
                redeem,
            } => {
                model.settle(customer, run.at);
                let account = &mut model.accounts[customer];
                let available = account.available();
                let cap = price * CAP_PERCENT / 100;
                let (redeem_arg, model_result) = match redeem {
                    Redeem::None => (None, Ok(0)),
                    Redeem::Max => (Some("max".to_string()), Ok(available.min(cap))),
                    Redeem::Points(p) if p > available => {
                        (Some(p.to_string()), Err(ErrorCode::InsufficientPoints))
                    }
                    Redeem::Points(p) if p > cap => {
                        (Some(p.to_string()), Err(ErrorCode::InvalidArgument))
                    }
                    Redeem::Points(p) => (Some(p.to_string()), Ok(p)),
                };
                let order_id = format!("O-{n}");
                let mut args = json!({ "customer": { "id": run.ids[customer] }, "order_id": order_id,
                                       "lines": [{ "sku": "L", "name": "Работа", "kind": "labor", "qty": "1", "unit_price": price.to_string() }] });
                if let Some(redeem) = redeem_arg {
                    args["redeem"] = json!(redeem);
                }
                let outcome = run.call("checkout.commit", args);
                expect_same(&what, &outcome, model_result.is_ok(), model_result.err());
                if let Ok(redeemed) = model_result {
                    let spent = if redeemed > 0 {
                        account.take(redeemed, false)
                    } else {
                        Vec::new()
                    };
                    let accrual = (price - redeemed) * RATE_PERCENT / 100;
                    let accrual_lot = (accrual > 0).then(|| account.credit(today, accrual, true));
                    let accrual_expires_on = today
                        .checked_add_months(Months::new(EXPIRY_MONTHS))
                        .unwrap();
                    model.visits.push(Visit {
                        customer,
                        order_id,
                        spent,
                        accrual,
                        accrual_lot,
                        accrual_expires_on,
                        refunded: false,
                    });
                    let receipt = outcome.unwrap();
                    assert_eq!(receipt["totals"]["points"], redeemed.to_string(), "{what}");
                    assert_eq!(receipt["totals"]["accrual"], accrual.to_string(), "{what}");
                }
            }
            Step::Refund { visit } => {
                let Some(record) = model.visits.get(visit).cloned() else {
                    continue;
                };
                let outcome = run.call("checkout.refund", json!({ "order_id": record.order_id }));
                if record.refunded {
                    expect_same(&what, &outcome, false, Some(ErrorCode::RefundExceedsVisit));
                    continue;
                }
                expect_same(&what, &outcome, true, None);
                model.visits[visit].refunded = true;
                model.settle(record.customer, run.at);
                let account = &mut model.accounts[record.customer];
                // Points come back to their lots, latest-expiring first; expired ones burn.
                for (lot_id, points) in record.spent.iter().rev() {
                    account.lot(*lot_id).remaining += points;
                }
                account.burn(today);
                // Earned points that burned unused are neither taken back nor charged;
                // the ones spent are, however long after their date the refund comes.
                let expired = match record.accrual_lot {
                    Some(own) => account.lot(own).burned.min(record.accrual),
                    None => 0,
                };
                assert!(expired == 0 || record.accrual_expires_on < today, "{what}");
                let mut left = record.accrual - expired;
                if let Some(own) = record.accrual_lot {
                    let lot = account.lot(own);
                    let take = (lot.remaining - lot.held).min(left);
                    lot.remaining -= take;
                    left -= take;
                }
                let from_others = left.min(account.available());
                if from_others > 0 {
                    account.take(from_others, false);
                }
                left -= from_others;
                account.burn(today);
                let refund = outcome.unwrap();
                assert_eq!(
                    refund["refund"]["shortfall_points"],
                    left.to_string(),
                    "{what}"
                );
                assert_eq!(
                    refund["refund"]["accrual_expired"],
                    expired.to_string(),
                    "{what}"
                );
            }
            Step::Adjust { customer, points } => {
                model.settle(customer, run.at);
                let account = &mut model.accounts[customer];
                let ok = points > 0 || -points <= account.available();
                let outcome = run.call(
                    "points.adjust",
                    json!({ "customer": { "id": run.ids[customer] }, "points": points.to_string(), "reason": "model", "operator": "proptest" }),
                );
                expect_same(&what, &outcome, ok, Some(ErrorCode::InsufficientPoints));
                if ok && points > 0 {
                    account.credit(today, points, false);
                } else if ok {
                    account.take(-points, false);
                }
            }
            Step::Hold { customer, points } => {
                model.settle(customer, run.at);
                let account = &mut model.accounts[customer];
                let ok = points <= account.available();
                let outcome = run.call("points.hold", json!({ "customer": { "id": run.ids[customer] }, "points": points.to_string() }));
                expect_same(&what, &outcome, ok, Some(ErrorCode::InsufficientPoints));
                if ok {
                    let allocation = account.take(points, true);
                    let expires_at = run.at + Duration::minutes(HOLD_MINUTES);
                    model.holds.push(Hold {
                        customer,
                        points,
                        expires_at,
                        allocation,
                        active: true,
                    });
                    run.engine_holds
                        .push(outcome.unwrap()["hold"]["id"].as_u64().unwrap());
                }
            }
            Step::Capture { hold, .. } | Step::Release { hold } if hold >= model.holds.len() => {}
            Step::Capture { hold, points } => {
                let customer = model.holds[hold].customer;
                model.settle(customer, run.at);
                let record = model.holds[hold].clone();
                let capture = points.unwrap_or(record.points);
                let outcome = run.call(
                    "points.capture",
                    match points {
                        Some(p) => {
                            json!({ "hold": run.engine_holds[hold], "points": p.to_string() })
                        }
                        None => json!({ "hold": run.engine_holds[hold] }),
                    },
                );
                if !record.active {
                    expect_same(&what, &outcome, false, Some(ErrorCode::HoldNotActive));
                } else if capture > record.points {
                    expect_same(&what, &outcome, false, Some(ErrorCode::InvalidArgument));
                } else {
                    expect_same(&what, &outcome, true, None);
                    model.resolve_hold(hold, capture, today);
                }
            }
            Step::Release { hold } => {
                let customer = model.holds[hold].customer;
                model.settle(customer, run.at);
                let active = model.holds[hold].active;
                let outcome = run.call("points.release", json!({ "hold": run.engine_holds[hold] }));
                expect_same(&what, &outcome, active, Some(ErrorCode::HoldNotActive));
                if active {
                    model.resolve_hold(hold, 0, today);
                }
            }
            Step::Daily => {
                let outcome = run.call("jobs.daily", json!({ "date": today.to_string() }));
                expect_same(&what, &outcome, true, None);
                let midnight = Moscow
                    .from_local_datetime(&today.and_hms_opt(0, 0, 0).unwrap())
                    .unwrap()
                    .with_timezone(&Utc);
                for customer in 0..CUSTOMERS {
                    model.settle(customer, midnight);
                }
            }
        }
        for customer in 0..CUSTOMERS {
            model.settle(customer, run.at);
            let account = &model.accounts[customer];
            let balance = run
                .call(
                    "points.balance",
                    json!({ "customer": { "id": run.ids[customer] } }),
                )
                .unwrap();
            let figures = [
                ("total", account.total()),
                ("available", account.available()),
                ("held", account.held()),
                ("pending", account.pending()),
            ];
            for (field, expected) in figures {
                assert_eq!(
                    balance[field],
                    expected.to_string(),
                    "{what}: customer {customer} {field}: {balance}"
                );
            }
            assert!(account.available() >= 0);
        }
    }
    let report = run.call("store.check", json!({})).unwrap();
    assert_eq!(report["problems"], json!([]), "{report}");
    // Every point that burned (unused, or returned to a lot past its date) is counted
    // once by the points report. A credit settles each account as of now first.
    for (customer, id) in run.ids.iter().enumerate() {
        model.settle(customer, run.at);
        run.call(
            "points.adjust",
            json!({ "customer": { "id": id }, "points": "1", "reason": "settle", "operator": "proptest" }),
        )
        .unwrap();
    }
    let burned: i64 = model
        .accounts
        .iter()
        .flat_map(|a| a.lots.iter())
        .map(|l| l.burned)
        .sum();
    let report = run.call("report.points", json!({})).unwrap();
    let engine_burned: i64 = report["expired"].as_str().unwrap().parse().unwrap();
    assert_eq!(engine_burned, burned, "expired points");
}

fn commit(customer: usize, price: i64, redeem: Redeem) -> Step {
    Step::Commit {
        customer,
        price,
        redeem,
    }
}

#[test]
fn a_refund_long_after_the_earned_points_were_spent_charges_them() {
    run_steps(vec![
        commit(0, 1000, Redeem::None),
        Step::Wait { hours: 24 * 4 },
        commit(0, 200, Redeem::Max),
        Step::Wait { hours: 24 * 70 },
        Step::Refund { visit: 0 },
    ]);
}

#[test]
fn a_refund_after_part_of_the_earned_points_burned_charges_only_the_spent_part() {
    run_steps(vec![
        commit(0, 1000, Redeem::None),
        Step::Wait { hours: 24 * 4 },
        commit(0, 80, Redeem::Points(40)),
        Step::Wait { hours: 24 * 100 },
        Step::Daily,
        Step::Refund { visit: 0 },
        Step::Refund { visit: 1 },
    ]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48), max_shrink_iters: 2000, .. ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_the_model(steps in proptest::collection::vec(step(), 1..60)) {
        run_steps(steps);
    }
}
