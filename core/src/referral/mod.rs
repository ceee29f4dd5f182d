//! Referrals: a short code per customer; a new customer registered with a code is
//! linked to its owner (the referrer). When the referee's first visit reaches the
//! programme's minimum, the referrer (and, two-sided, the referee) get points; every
//! visit of the referee within the cashback period gives the referrer a share of what
//! was paid and the referrer's own referrer a smaller share (1C-Rarus style
//! multi-level cashback), within per-visit and per-referee limits.
//!
//! Rewards are ledger credits made inside the `checkout.commit` transaction and kept
//! per visit, so `checkout.refund` takes them back with the rest: the signup rewards
//! when the visit's kept bill falls below the minimum, cashback in proportion to the
//! money refunded. Taking back follows the accrual rule (the reward's own lot first,
//! then other spendable lots); what a beneficiary already spent is recorded as
//! `not_taken_back` and never driven below zero.
//!
//! Fraud rules (decided here, documented in docs/operations.md):
//! - only `customer.register` links, so a customer who already existed cannot be
//!   linked afterwards; an unknown code, a blocked, blacklisted or erased referrer, or
//!   a referee with the referrer's phone or email is refused at registration;
//! - at the visit, nothing is paid when the referrer is blocked, blacklisted or erased
//!   by then, or when the car serviced was ever owned by the referrer (self-referral)
//!   or by any customer other than the referee (a returning customer in disguise);
//! - the signup rewards are paid once, on the first visit that reaches the minimum;
//!   once reversed by a refund they are not paid again.

use crate::context::{Ctx, next_id};
use crate::customer::{self, Customer, CustomerRef, CustomerStatus};
use crate::error::{Error, ErrorCode, Result};
use crate::ledger::{Book, Credit, EntryKind};
use crate::normalize;
use crate::program::{Program, ReferralRules};
use crate::store::keys::{self, KeyBuilder, tag, unique};
use crate::store::{Reader, WriteTxn};
use crate::vehicle;
use crate::visit::Visit;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry as MapEntry;

/// Letters and digits that cannot be mistaken for each other (no I, L, O, 0, 1).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Of the alphabet, the letters: a code starts with one so it never reads as a number.
const CODE_LETTERS: usize = 23;
/// Length of a generated code.
const CODE_LEN: usize = 7;
/// Longest code accepted from a request.
const CODE_CHARS_MAX: usize = 16;

/// Where the signup rewards of a referee stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SignupStatus {
    /// Not a referee, or no visit reached the minimum yet.
    #[default]
    Waiting,
    /// Paid on `signup_visit`.
    Rewarded,
    /// Not paid: `signup_note` says why.
    Refused,
    /// Paid, then taken back by a refund of that visit.
    Reversed,
}

/// Referral facts of one customer: their own code, and who referred them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Referral {
    /// Customer.
    pub customer: u64,
    /// Their code for bringing others.
    pub code: Option<String>,
    /// Who brought them.
    pub referrer: Option<u64>,
    /// When they were linked.
    pub linked_at: Option<DateTime<Utc>>,
    /// Local date of the link (starts the cashback period).
    pub linked_on: Option<NaiveDate>,
    /// Signup rewards.
    pub signup: SignupStatus,
    /// The visit that earned them.
    pub signup_visit: Option<u64>,
    /// Why they were refused.
    pub signup_note: Option<String>,
    /// Points the referrer kept from this referee's signup (net of reversals).
    pub rewarded_referrer: Decimal,
    /// Points the referee kept from the signup (net of reversals).
    pub rewarded_referee: Decimal,
    /// Cashback from this referee's visits per level (net of reversals).
    pub cashback: Vec<Decimal>,
    /// Reversed points the beneficiaries had already spent.
    pub not_taken_back: Decimal,
}

/// What a referral grant paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Signup reward to the referrer.
    Referrer,
    /// Signup reward to the referee.
    Referee,
    /// Cashback to the referrer (level 1).
    Cashback1,
    /// Cashback to the referrer's referrer (level 2).
    Cashback2,
}

/// Points one customer got from a referee's visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// Who got them.
    pub customer: u64,
    /// Why.
    pub role: Role,
    /// Points credited.
    pub points: Decimal,
    /// The lot they went to.
    pub lot: u64,
    /// Points reversed by refunds so far.
    pub reversed: Decimal,
    /// Of them, what the customer had already spent.
    pub not_taken_back: Decimal,
}

/// The referral grants of one visit, kept so a refund can reverse them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitGrants {
    /// Visit.
    pub visit: u64,
    /// Referee who paid.
    pub referee: u64,
    /// The minimum the signup rewards needed at the time.
    pub min_first_visit: Decimal,
    /// Money the visit paid (cashback base).
    pub money: Decimal,
    /// Grants.
    pub grants: Vec<Grant>,
}

fn record_key(customer: u64) -> Vec<u8> {
    KeyBuilder::new(tag::REFERRAL).u64(customer).build()
}
fn link_key(referrer: u64, referee: u64) -> Vec<u8> {
    KeyBuilder::new(tag::REFERRAL_LINK)
        .u64(referrer)
        .u64(referee)
        .build()
}
fn grants_key(visit: u64) -> Vec<u8> {
    KeyBuilder::new(tag::REFERRAL_VISIT).u64(visit).build()
}
fn code_key(code: &str) -> Vec<u8> {
    KeyBuilder::new(tag::UNIQUE)
        .byte(unique::REFERRAL_CODE)
        .str(code)
        .build()
}

/// A customer's referral record (empty when they have none).
pub fn load<R: Reader>(reader: &R, customer: u64) -> Result<Referral> {
    Ok(reader
        .get::<Referral>(&record_key(customer))?
        .unwrap_or(Referral {
            customer,
            ..Referral::default()
        }))
}

fn save(txn: &mut WriteTxn<'_>, record: &Referral) -> Result<()> {
    txn.put(record_key(record.customer), record)
}

/// The grants of a visit, if it paid any.
pub fn visit_grants<R: Reader>(reader: &R, visit: u64) -> Result<Option<VisitGrants>> {
    reader.get(&grants_key(visit))
}

/// Customers a referrer brought, oldest link first (at most `limit`).
pub fn referees<R: Reader>(reader: &R, referrer: u64, limit: usize) -> Result<Vec<u64>> {
    let prefix = KeyBuilder::new(tag::REFERRAL_LINK).u64(referrer).build();
    reader
        .scan_keys(&prefix, limit)?
        .iter()
        .map(|key| {
            keys::read_u64(key, 9).ok_or_else(|| Error::corrupted("referral link key too short"))
        })
        .collect()
}

/// Whether the customer may receive referral rewards now.
fn may_be_rewarded(customer: &Customer) -> bool {
    customer.status == CustomerStatus::Active && !customer.blacklisted
}

/// Code from a counter value: a fixed odd multiplier scatters neighbours, so codes
/// do not reveal how many were issued; uniqueness is checked against the index anyway.
fn code_from(seed: u64) -> String {
    let mut value = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (seed << 17);
    let mut code = String::with_capacity(CODE_LEN);
    code.push(CODE_ALPHABET[(value % CODE_LETTERS as u64) as usize] as char);
    value /= CODE_LETTERS as u64;
    for _ in 1..CODE_LEN {
        let base = CODE_ALPHABET.len() as u64;
        code.push(CODE_ALPHABET[(value % base) as usize] as char);
        value /= base;
    }
    code
}

/// Normalise a code typed by a person: case and spaces and dashes do not matter.
fn clean_code(field: &str, code: &str) -> Result<String> {
    let cleaned: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect();
    if cleaned.is_empty() || cleaned.chars().count() > CODE_CHARS_MAX {
        return Err(Error::invalid(
            field,
            format!("a referral code has 1..={CODE_CHARS_MAX} letters and digits"),
        ));
    }
    if !cleaned.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::invalid(
            field,
            format!("'{cleaned}' is not a referral code (Latin letters and digits)"),
        ));
    }
    Ok(cleaned)
}

/// Arguments of `referral.code`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeArgs {
    /// Whose code.
    pub customer: CustomerRef,
}

/// `referral.code` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeResult {
    /// Customer.
    pub customer: u64,
    /// Their code.
    pub code: String,
    /// Whether it was created by this call.
    pub created: bool,
}

/// `referral.code`: the customer's code, created on first request.
pub fn code(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: CodeArgs) -> Result<CodeResult> {
    let customer = customer::resolve_active(txn, ctx, &args.customer)?;
    let mut record = load(txn, customer.id)?;
    if let Some(code) = &record.code {
        return Ok(CodeResult {
            customer: customer.id,
            code: code.clone(),
            created: false,
        });
    }
    let mut generated = None;
    for _ in 0..64 {
        let candidate = code_from(next_id(txn, "next_referral_code")?);
        if !txn.contains(&code_key(&candidate))? {
            generated = Some(candidate);
            break;
        }
    }
    let code =
        generated.ok_or_else(|| Error::internal("could not generate a free referral code"))?;
    txn.put(code_key(&code), &customer.id)?;
    record.code = Some(code.clone());
    save(txn, &record)?;
    Ok(CodeResult {
        customer: customer.id,
        code,
        created: true,
    })
}

/// Free a customer's code (erasure): the index entry goes, the record forgets it.
pub fn forget_code(txn: &mut WriteTxn<'_>, customer: u64) -> Result<()> {
    let mut record = load(txn, customer)?;
    if let Some(code) = record.code.take() {
        txn.delete(code_key(&code));
        save(txn, &record)?;
    }
    Ok(())
}

/// How a registration was linked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Linked {
    /// The referrer.
    pub referrer: u64,
    /// The code used.
    pub code: String,
}

/// Link a customer being registered to the owner of `code`. Refused (and with it the
/// registration) for an unknown code, a referrer who may not be rewarded, or a
/// referee who shares the referrer's phone or email.
pub fn link(txn: &mut WriteTxn<'_>, ctx: &Ctx, referee: &Customer, code: &str) -> Result<Linked> {
    let code = clean_code("referral_code", code)?;
    let referrer_id: u64 = txn
        .get(&code_key(&code))?
        .ok_or_else(|| Error::not_found("referral code", &code))?;
    let referrer = customer::load(txn, referrer_id)?;
    if !may_be_rewarded(&referrer) {
        return Err(Error::new(
            ErrorCode::Blocked,
            format!(
                "referral code {code} belongs to customer {referrer_id}, who cannot refer (blocked, blacklisted or erased)"
            ),
        )
        .with_details(json!({ "field": "referral_code", "referrer": referrer_id })));
    }
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    if referrer_id == referee.id
        || same(&referrer.phone, &referee.phone)
        || same(&referrer.email, &referee.email)
    {
        return Err(Error::invalid(
            "referral_code",
            format!("customer {referrer_id} cannot refer themselves"),
        )
        .with_details(
            json!({ "field": "referral_code", "referrer": referrer_id, "reason": "self_referral" }),
        ));
    }
    let mut record = load(txn, referee.id)?;
    if record.referrer.is_some() {
        return Err(Error::new(
            ErrorCode::AlreadyExists,
            format!("customer {} is already linked to a referrer", referee.id),
        ));
    }
    record.referrer = Some(referrer_id);
    record.linked_at = Some(ctx.at);
    record.linked_on = Some(ctx.today);
    save(txn, &record)?;
    txn.put(link_key(referrer_id, referee.id), &())?;
    Ok(Linked {
        referrer: referrer_id,
        code,
    })
}

/// Why a visit pays no referral reward, if it pays none.
fn refusal<R: Reader>(
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

fn reward_expiry(program: &Program, rules: &ReferralRules, today: NaiveDate) -> Option<NaiveDate> {
    match rules.expiry_days {
        Some(days) => Some(today + Duration::days(i64::from(days))),
        None => program.expiry_date(today),
    }
}

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
    let scale = program.points.scale;
    let mut due: Vec<(u64, Role, Decimal)> = Vec::new();
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
                due.push((referrer_id, Role::Referrer, rules.referrer_points));
                due.push((referee.id, Role::Referee, rules.referee_points));
            }
        }
    }
    let in_period = |cashback: &crate::program::CashbackRules| {
        cashback.period_days.is_none_or(|days| {
            record
                .linked_on
                .is_some_and(|on| ctx.today < on + Duration::days(i64::from(days)))
        })
    };
    if let Some(cashback) = &rules.cashback
        && refused.is_none()
        && in_period(cashback)
    {
        let mut beneficiary = Some(referrer.clone());
        for (level, percent) in cashback.levels.iter().enumerate() {
            let Some(who) = beneficiary.take() else { break };
            let paid = record.cashback.get(level).copied().unwrap_or_default();
            let mut points = normalize::points_floor(
                visit.totals.money * *percent / Decimal::ONE_HUNDRED / program.points.value,
                scale,
            );
            if let Some(max) = cashback.per_visit_max {
                points = points.min(max);
            }
            if let Some(max) = cashback.total_max {
                points = points.min((max - paid).max(Decimal::ZERO));
            }
            if who.id != referee.id && may_be_rewarded(&who) && points > Decimal::ZERO {
                let role = if level == 0 {
                    Role::Cashback1
                } else {
                    Role::Cashback2
                };
                due.push((who.id, role, points));
            }
            beneficiary = match load(txn, who.id)?.referrer {
                Some(up) if up != referee.id => Some(customer::load(txn, up)?),
                _ => None,
            };
        }
    }
    due.retain(|(_, _, points)| *points > Decimal::ZERO);
    if due.is_empty() {
        if record.signup_visit == Some(visit.id) {
            save(txn, &record)?;
        }
        return Ok(Vec::new());
    }
    let expires_on = reward_expiry(program, rules, ctx.today);
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
        match role {
            Role::Referrer => record.rewarded_referrer += points,
            Role::Referee => record.rewarded_referee += points,
            Role::Cashback1 | Role::Cashback2 => {
                let level = usize::from(role == Role::Cashback2);
                if record.cashback.len() <= level {
                    record.cashback.resize(level + 1, Decimal::ZERO);
                }
                record.cashback[level] += points;
            }
        }
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

/// The book of another customer than the visit's, loaded and settled once per call.
fn other_book<'b>(
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

fn role_name(role: Role) -> &'static str {
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
    let program = ctx.program()?;
    let scale = program.points.scale;
    let kept_net = visit.net_kept();
    let kept_money: Decimal = visit.lines.iter().map(|l| l.money - l.refunded_money).sum();
    let mut record = load(txn, grants.referee)?;
    let mut books: BTreeMap<u64, Book> = BTreeMap::new();
    let mut out = Vec::new();
    for grant in &mut grants.grants {
        let deserved = match grant.role {
            Role::Referrer | Role::Referee => {
                if kept_net >= grants.min_first_visit && !visit.fully_refunded() {
                    grant.points
                } else {
                    Decimal::ZERO
                }
            }
            Role::Cashback1 | Role::Cashback2 => {
                if grants.money.is_zero() {
                    Decimal::ZERO
                } else {
                    normalize::points_floor(grant.points * kept_money / grants.money, scale)
                }
            }
        };
        let reverse = grant.points - grant.reversed - deserved;
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
        match grant.role {
            Role::Referrer => record.rewarded_referrer -= reverse,
            Role::Referee => record.rewarded_referee -= reverse,
            Role::Cashback1 | Role::Cashback2 => {
                let level = usize::from(grant.role == Role::Cashback2);
                if let Some(paid) = record.cashback.get_mut(level) {
                    *paid -= reverse;
                }
            }
        }
        if matches!(grant.role, Role::Referrer | Role::Referee) {
            record.signup = SignupStatus::Reversed;
        }
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

/// Arguments of `report.referrals`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportArgs {
    /// Only this referrer's referees.
    #[serde(default)]
    pub referrer: Option<CustomerRef>,
    /// Page size (1..=1000, default 100).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Cursor from the previous page.
    #[serde(default)]
    pub after: Option<String>,
}

/// One referee in `report.referrals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// Referrer id.
    pub referrer: u64,
    /// Referrer's name.
    pub referrer_name: String,
    /// Referee id.
    pub referee: u64,
    /// Referee's name.
    pub referee_name: String,
    /// Local date of the link.
    pub linked_on: Option<NaiveDate>,
    /// Signup rewards state.
    pub signup: SignupStatus,
    /// Why refused.
    pub signup_note: Option<String>,
    /// Visit that earned the signup rewards.
    pub signup_visit: Option<u64>,
    /// Signup points the referrer kept.
    pub rewarded_referrer: Decimal,
    /// Signup points the referee kept.
    pub rewarded_referee: Decimal,
    /// Cashback kept per level.
    pub cashback: Vec<Decimal>,
    /// Reversed points that had been spent.
    pub not_taken_back: Decimal,
    /// Referee's visits.
    pub referee_visits: u32,
    /// Referee's net spend (revenue brought).
    pub referee_revenue: Decimal,
}

/// `report.referrals` result: the rows are paged, the totals cover the whole report
/// (every referee of the referrer, or every referee), whichever page is asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Referees on this page.
    pub rows: Vec<ReportRow>,
    /// Cursor of the next page.
    pub next: Option<String>,
    /// Referees in the whole report.
    pub referees: u64,
    /// Of them, with signup rewards paid and kept.
    pub rewarded: u64,
    /// Points paid and kept (signup and cashback) for every referee of the report.
    pub points: Decimal,
    /// Revenue of every referee of the report.
    pub revenue: Decimal,
}

/// Largest page of `report.referrals`.
pub const REPORT_LIMIT_MAX: usize = 1000;

/// `report.referrals`: who brought whom, rewards kept, revenue of the referees.
pub fn report<R: Reader>(reader: &R, ctx: &Ctx, args: &ReportArgs) -> Result<Report> {
    let limit = args.limit.unwrap_or(100);
    if limit == 0 || limit > REPORT_LIMIT_MAX {
        return Err(Error::invalid(
            "limit",
            format!("must be 1..={REPORT_LIMIT_MAX}"),
        ));
    }
    let prefix = match &args.referrer {
        Some(reference) => {
            let referrer = customer::resolve(reader, ctx, reference)?;
            KeyBuilder::new(tag::REFERRAL_LINK).u64(referrer.id).build()
        }
        None => KeyBuilder::new(tag::REFERRAL_LINK).build(),
    };
    let start = match &args.after {
        Some(cursor) => {
            let mut key = crate::store::keys::cursor_key(cursor, "report.referrals")?;
            if !key.starts_with(&prefix) {
                return Err(Error::invalid(
                    "after",
                    "the cursor belongs to another report",
                ));
            }
            key.push(0);
            key
        }
        None => prefix.clone(),
    };
    let end = keys::prefix_end(&prefix);
    let pairs = reader.scan_raw(&start, &end, limit + 1, false)?;
    let more = pairs.len() > limit;
    let mut report = Report {
        rows: Vec::new(),
        next: None,
        referees: 0,
        rewarded: 0,
        points: Decimal::ZERO,
        revenue: Decimal::ZERO,
    };
    for (key, _) in pairs.iter().take(limit) {
        let (referrer_id, referee_id) = link_ids(key)?;
        let referrer = customer::load(reader, referrer_id)?;
        let referee = customer::load(reader, referee_id)?;
        let record = load(reader, referee_id)?;
        report.rows.push(ReportRow {
            referrer: referrer_id,
            referrer_name: referrer.full_name,
            referee: referee_id,
            referee_name: referee.full_name,
            linked_on: record.linked_on,
            signup: record.signup,
            signup_note: record.signup_note,
            signup_visit: record.signup_visit,
            rewarded_referrer: record.rewarded_referrer,
            rewarded_referee: record.rewarded_referee,
            cashback: record.cashback,
            not_taken_back: record.not_taken_back,
            referee_visits: referee.visits,
            referee_revenue: normalize::money(referee.total_spend),
        });
        if more {
            report.next = Some(crate::store::keys::cursor_text(key));
        }
    }
    add_totals(reader, &prefix, &mut report)?;
    Ok(report)
}

/// Referrer and referee of a link key.
fn link_ids(key: &[u8]) -> Result<(u64, u64)> {
    match (keys::read_u64(key, 1), keys::read_u64(key, 9)) {
        (Some(referrer), Some(referee)) => Ok((referrer, referee)),
        _ => Err(Error::corrupted("referral link key too short")),
    }
}

/// Links read per scan while totalling: the report's totals cover every link under
/// the prefix, summed chunk by chunk so memory stays bounded however many there are.
const TOTALS_CHUNK: usize = 1024;

/// Sum the totals of every link under `prefix` (not only the page) into `report`.
fn add_totals<R: Reader>(reader: &R, prefix: &[u8], report: &mut Report) -> Result<()> {
    let end = keys::prefix_end(prefix);
    let mut start = prefix.to_vec();
    loop {
        let pairs = reader.scan_raw(&start, &end, TOTALS_CHUNK, false)?;
        let Some((last, _)) = pairs.last() else { break };
        start = last.clone();
        start.push(0);
        for (key, _) in &pairs {
            let (_, referee_id) = link_ids(key)?;
            let referee = customer::load(reader, referee_id)?;
            let record = load(reader, referee_id)?;
            report.referees += 1;
            if record.signup == SignupStatus::Rewarded {
                report.rewarded += 1;
            }
            report.points += record.rewarded_referrer
                + record.rewarded_referee
                + record.cashback.iter().copied().sum::<Decimal>();
            report.revenue += referee.total_spend;
        }
        if pairs.len() < TOTALS_CHUNK {
            break;
        }
    }
    report.revenue = normalize::money(report.revenue);
    Ok(())
}
