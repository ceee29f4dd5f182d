//! Referral rewards: what a referee's counted visit pays (the signup rewards, cashback
//! to referrers up the levels), and what a refund takes back.

use super::*;
use crate::context::Ctx;
use crate::customer::{self, Customer};
use crate::error::Result;
use crate::ledger::{Book, Credit, EntryKind};
use crate::normalize;
use crate::program::{Program, ReferralRules};
use crate::store::{Reader, WriteTxn};
use crate::vehicle;
use crate::visit::Visit;
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry as MapEntry;

/// Why a visit pays no referral reward, if it pays none.
pub(super) fn refusal<R: Reader>(
    reader: &R,
    referrer: &Customer,
    referee: &Customer,
    visit: &Visit,
) -> Result<Option<&'static str>> {
    if !may_be_rewarded(referrer) {
        return Ok(Some("referrer_blocked"));
    }
    if !may_be_rewarded(referee) {
        return Ok(Some("referee_blocked"));
    }
    if let Some(vehicle_id) = visit.vehicle {
        let car = vehicle::load(reader, vehicle_id)?;
        let owners = car.owners.iter().map(|o| o.customer).chain([car.customer]);
        for owner in owners {
            if owner == referrer.id {
                return Ok(Some("referrer_vehicle"));
            }
            if owner != referee.id {
                return Ok(Some("vehicle_of_another_customer"));
            }
        }
    }
    Ok(None)
}

pub(super) fn reward_expiry(
    program: &Program,
    rules: &ReferralRules,
    today: NaiveDate,
) -> Option<NaiveDate> {
    match rules.expiry_days {
        Some(days) => Some(today + Duration::days(i64::from(days))),
        None => program.expiry_date(today),
    }
}

/// Points owed by one visit: to whom, in which role.
type Due = Vec<(u64, Role, Decimal)>;

/// Pay the referral rewards of a committed visit; the referee's own points go to
/// `book` (the visit's book, saved by the caller), everybody else's are saved here.
pub fn on_commit(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    referee: &Customer,
    visit: &Visit,
    book: &mut Book,
) -> Result<Vec<Grant>> {
    let program = ctx.program()?;
    let Some(rules) = &program.referral else {
        return Ok(Vec::new());
    };
    let mut record = load(txn, referee.id)?;
    let Some(referrer_id) = record.referrer else {
        return Ok(Vec::new());
    };
    let referrer = customer::load(txn, referrer_id)?;
    let refused = refusal(txn, &referrer, referee, visit)?;
    let mut due = signup_due(rules, &mut record, referee.id, visit, refused);
    if let Some(cashback) = &rules.cashback
        && refused.is_none()
        && in_cashback_period(cashback, &record, ctx.today)
    {
        let beneficiaries = CashbackChain {
            referee: referee.id,
            first: referrer,
            visit,
        };
        due.extend(beneficiaries.due(txn, program, cashback, &record)?);
    }
    due.retain(|(_, _, points)| *points > Decimal::ZERO);
    if due.is_empty() {
        if record.signup_visit == Some(visit.id) {
            save(txn, &record)?;
        }
        return Ok(Vec::new());
    }
    let expires_on = reward_expiry(program, rules, ctx.today);
    let grants = pay(
        txn,
        ctx,
        (referee, visit, book),
        &mut record,
        (due, expires_on),
    )?;
    save(txn, &record)?;
    txn.put(
        grants_key(visit.id),
        &VisitGrants {
            visit: visit.id,
            referee: referee.id,
            min_first_visit: rules.min_first_visit,
            money: visit.totals.money,
            grants: grants.clone(),
        },
    )?;
    Ok(grants)
}

/// The signup rewards a waiting referral earns with this visit (or its refusal, noted on
/// the record).
fn signup_due(
    rules: &ReferralRules,
    record: &mut Referral,
    referee: u64,
    visit: &Visit,
    refused: Option<&'static str>,
) -> Due {
    let mut due = Due::new();
    let Some(referrer) = record.referrer else {
        return due;
    };
    let signup_points = rules.referrer_points + rules.referee_points;
    if record.signup == SignupStatus::Waiting
        && visit.totals.net >= rules.min_first_visit
        && signup_points > Decimal::ZERO
    {
        match refused {
            Some(reason) => {
                record.signup = SignupStatus::Refused;
                record.signup_note = Some(reason.to_string());
                record.signup_visit = Some(visit.id);
            }
            None => {
                record.signup = SignupStatus::Rewarded;
                record.signup_visit = Some(visit.id);
                due.push((referrer, Role::Referrer, rules.referrer_points));
                due.push((referee, Role::Referee, rules.referee_points));
            }
        }
    }
    due
}

/// Whether cashback is still paid: within its period from the day of linking, if any.
fn in_cashback_period(
    cashback: &crate::program::CashbackRules,
    record: &Referral,
    today: NaiveDate,
) -> bool {
    cashback.period_days.is_none_or(|days| {
        record
            .linked_on
            .is_some_and(|on| today < on + Duration::days(i64::from(days)))
    })
}

/// The referrers up the levels of cashback, starting with the referee's own referrer.
struct CashbackChain<'v> {
    referee: u64,
    first: Customer,
    visit: &'v Visit,
}

impl CashbackChain<'_> {
    /// Cashback per level, capped per visit and in total, to referrers who may be rewarded.
    fn due(
        self,
        txn: &WriteTxn<'_>,
        program: &Program,
        cashback: &crate::program::CashbackRules,
        record: &Referral,
    ) -> Result<Due> {
        let mut due = Due::new();
        let mut beneficiary = Some(self.first);
        for (level, percent) in cashback.levels.iter().enumerate() {
            let Some(who) = beneficiary.take() else { break };
            let paid = record.cashback.get(level).copied().unwrap_or_default();
            let mut points = normalize::points_floor(
                self.visit.totals.money * *percent / Decimal::ONE_HUNDRED / program.points.value,
                program.points.scale,
            );
            if let Some(max) = cashback.per_visit_max {
                points = points.min(max);
            }
            if let Some(max) = cashback.total_max {
                points = points.min((max - paid).max(Decimal::ZERO));
            }
            if who.id != self.referee && may_be_rewarded(&who) && points > Decimal::ZERO {
                let role = if level == 0 {
                    Role::Cashback1
                } else {
                    Role::Cashback2
                };
                due.push((who.id, role, points));
            }
            beneficiary = match load(txn, who.id)?.referrer {
                Some(up) if up != self.referee => Some(customer::load(txn, up)?),
                _ => None,
            };
        }
        Ok(due)
    }
}

/// Credit what is due: the referee's points to the visit's book, everybody else's to
/// their own (saved here); the totals paid go on the referral record.
fn pay(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    (referee, visit, book): (&Customer, &Visit, &mut Book),
    record: &mut Referral,
    (due, expires_on): (Due, Option<NaiveDate>),
) -> Result<Vec<Grant>> {
    let mut books: BTreeMap<u64, Book> = BTreeMap::new();
    let mut grants = Vec::with_capacity(due.len());
    for (who, role, points) in due {
        let reason = Some(format!(
            "referral {}: visit {} of customer {}",
            role_name(role),
            visit.id,
            referee.id
        ));
        let target = if who == referee.id {
            &mut *book
        } else {
            other_book(&mut books, txn, ctx, who)?
        };
        let lot = target.credit(
            ctx,
            Credit::new(EntryKind::Bonus, points)
                .expiring(expires_on)
                .for_visit(visit.id)
                .because(reason),
        )?;
        record.add_paid(role, points);
        grants.push(Grant {
            customer: who,
            role,
            points,
            lot,
            reversed: Decimal::ZERO,
            not_taken_back: Decimal::ZERO,
        });
    }
    for (_, other) in books {
        other.save(txn)?;
    }
    Ok(grants)
}

/// What is left of a refunded visit, which decides what its grants still deserve.
struct Kept {
    net: Decimal,
    money: Decimal,
    fully_refunded: bool,
    /// The signup rewards' threshold when they were paid.
    min_first_visit: Decimal,
    /// The money the cashback was paid on.
    paid_money: Decimal,
}

impl Kept {
    /// Signup rewards stay whole while the kept bill still meets the threshold;
    /// cashback shrinks in proportion to the money kept.
    fn deserved(&self, grant: &Grant, scale: u32) -> Decimal {
        match grant.role {
            Role::Referrer | Role::Referee => {
                if self.net >= self.min_first_visit && !self.fully_refunded {
                    grant.points
                } else {
                    Decimal::ZERO
                }
            }
            Role::Cashback1 | Role::Cashback2 => {
                if self.paid_money.is_zero() {
                    Decimal::ZERO
                } else {
                    normalize::points_floor(grant.points * self.money / self.paid_money, scale)
                }
            }
        }
    }
}

impl Referral {
    /// Take points reversed in a role off the record's totals; a reversed signup reward
    /// marks the signup reversed.
    fn take_back(&mut self, role: Role, points: Decimal) {
        match role {
            Role::Referrer => self.rewarded_referrer -= points,
            Role::Referee => self.rewarded_referee -= points,
            Role::Cashback1 | Role::Cashback2 => {
                let level = usize::from(role == Role::Cashback2);
                if let Some(paid) = self.cashback.get_mut(level) {
                    *paid -= points;
                }
            }
        }
        if matches!(role, Role::Referrer | Role::Referee) {
            self.signup = SignupStatus::Reversed;
        }
    }

    /// Count points paid in a role toward the record's totals.
    fn add_paid(&mut self, role: Role, points: Decimal) {
        match role {
            Role::Referrer => self.rewarded_referrer += points,
            Role::Referee => self.rewarded_referee += points,
            Role::Cashback1 | Role::Cashback2 => {
                let level = usize::from(role == Role::Cashback2);
                if self.cashback.len() <= level {
                    self.cashback.resize(level + 1, Decimal::ZERO);
                }
                self.cashback[level] += points;
            }
        }
    }
}

/// The book of another customer than the visit's, loaded and settled once per call.
pub(super) fn other_book<'b>(
    books: &'b mut BTreeMap<u64, Book>,
    txn: &WriteTxn<'_>,
    ctx: &Ctx,
    who: u64,
) -> Result<&'b mut Book> {
    match books.entry(who) {
        MapEntry::Occupied(entry) => Ok(entry.into_mut()),
        MapEntry::Vacant(entry) => {
            let mut book = Book::load(txn, who)?;
            book.settle(ctx)?;
            Ok(entry.insert(book))
        }
    }
}

pub(super) fn role_name(role: Role) -> &'static str {
    match role {
        Role::Referrer => "signup to the referrer",
        Role::Referee => "signup to the referee",
        Role::Cashback1 => "cashback",
        Role::Cashback2 => "cashback level 2",
    }
}

/// A reversal made by a refund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reversal {
    /// Whose points.
    pub customer: u64,
    /// Which grant.
    pub role: Role,
    /// Points reversed.
    pub points: Decimal,
    /// Of them, taken from the balance.
    pub taken: Decimal,
    /// Of them, already spent and not taken back.
    pub not_taken_back: Decimal,
}

/// Reverse what a visit's referral grants no longer deserve after a refund: the
/// signup rewards once the kept bill is below the minimum they needed, cashback in
/// proportion to the money refunded. `book` is the visit customer's (saved by the caller).
pub fn on_refund(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    visit: &Visit,
    book: &mut Book,
) -> Result<Vec<Reversal>> {
    let Some(mut grants) = visit_grants(txn, visit.id)? else {
        return Ok(Vec::new());
    };
    let scale = ctx.program()?.points.scale;
    let kept = Kept {
        net: visit.net_kept(),
        money: visit.lines.iter().map(|l| l.money - l.refunded_money).sum(),
        fully_refunded: visit.fully_refunded(),
        min_first_visit: grants.min_first_visit,
        paid_money: grants.money,
    };
    let mut record = load(txn, grants.referee)?;
    let mut books: BTreeMap<u64, Book> = BTreeMap::new();
    let mut out = Vec::new();
    for grant in &mut grants.grants {
        let reverse = grant.points - grant.reversed - kept.deserved(grant, scale);
        if reverse <= Decimal::ZERO {
            continue;
        }
        let target = if grant.customer == visit.customer {
            &mut *book
        } else {
            other_book(&mut books, txn, ctx, grant.customer)?
        };
        let taken = target.claw_back(
            ctx,
            EntryKind::BonusReversal,
            reverse,
            Some(grant.lot),
            Some(visit.id),
        )?;
        let missed = reverse - taken;
        grant.reversed += reverse;
        grant.not_taken_back += missed;
        record.not_taken_back += missed;
        record.take_back(grant.role, reverse);
        out.push(Reversal {
            customer: grant.customer,
            role: grant.role,
            points: reverse,
            taken,
            not_taken_back: missed,
        });
    }
    if out.is_empty() {
        return Ok(out);
    }
    for (_, other) in books {
        other.save(txn)?;
    }
    save(txn, &record)?;
    txn.put(grants_key(visit.id), &grants)?;
    Ok(out)
}
