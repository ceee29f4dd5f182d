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

mod merge;
mod report;
mod rewards;

pub use merge::{ReferralsMoved, merge_referrals};
pub(crate) use report::link_ids;
pub use report::{ReportArgs, report};
pub use rewards::{Reversal, on_commit, on_refund};

use crate::context::{Ctx, next_id};
use crate::customer::{self, Customer, CustomerRef, CustomerStatus};
use crate::error::{Error, ErrorCode, Result};
use crate::store::keys::{KeyBuilder, tag, unique};
use crate::store::{Reader, WriteTxn};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

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
    save_with_spend(txn, record, None)
}

/// Save a record whose customer's spend is `spend` (`None`: read the customer): the
/// referral totals count the referee again in the same batch.
fn save_with_spend(
    txn: &mut WriteTxn<'_>,
    record: &Referral,
    spend: Option<Decimal>,
) -> Result<()> {
    txn.put(record_key(record.customer), record)?;
    let figures = match record.referrer {
        Some(referrer) => {
            let revenue = match spend {
                Some(spend) => spend,
                None => customer::load(txn, record.customer)?.total_spend,
            };
            Some(figures(record, referrer, revenue))
        }
        None => None,
    };
    crate::aggregate::on_referee(txn, record.customer, figures.as_ref())
}

/// How `report.referrals` counts a referee linked to `referrer` with this net spend.
pub(crate) fn figures(
    record: &Referral,
    referrer: u64,
    revenue: Decimal,
) -> crate::aggregate::RefereeFigures {
    crate::aggregate::RefereeFigures {
        referrer,
        rewarded: record.signup == SignupStatus::Rewarded,
        points: record.rewarded_referrer
            + record.rewarded_referee
            + record.cashback.iter().copied().sum::<Decimal>(),
        revenue,
    }
}

/// Forget a customer's referral record (merged away): the totals count them out.
fn remove(txn: &mut WriteTxn<'_>, customer: u64) -> Result<()> {
    txn.delete(record_key(customer));
    crate::aggregate::on_referee(txn, customer, None)
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
        .map(|key| report::link_ids(key).map(|(_, referee)| referee))
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
    save_with_spend(txn, &record, Some(referee.total_spend))?;
    txn.put(link_key(referrer_id, referee.id), &())?;
    Ok(Linked {
        referrer: referrer_id,
        code,
    })
}
