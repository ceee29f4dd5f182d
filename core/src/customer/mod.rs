//! Customers and their cards: registration, lookup by any identifier, search by
//! name or phone prefix, updates with unique indexes kept in step, cards issued,
//! blocked and reissued with the balance kept.

mod cards;
mod changes;
mod consent;
mod find;
mod redirect;
mod registration;
mod resolve;

use cards::*;
pub use cards::{
    BlockCardArgs, Card, IssueCardArgs, block_card, cards_of, forget_card, issue_card,
};
use changes::card_changes;
pub use changes::{record_changes, record_tags};
use consent::*;
pub use consent::{Consent, ConsentEvent, consent_history, move_consent_history, record_consents};
pub use find::{CustomerSummary, FindArgs, find};
pub use redirect::{
    REDIRECT_HOPS_MAX, Redirect, follow, forget_merges, is_distinct, merged_into, put_redirect,
    redirect_of, redirects, set_distinct,
};
pub use registration::{REGISTERED_BY_CHARS_MAX, registered_by};
pub use resolve::{resolve, resolve_active};

use crate::audit::{Change, Entity};
use crate::context::{Ctx, must, next_id, patch};
use crate::error::{Error, ErrorCode, Result};
use crate::normalize::{self, NOTES_CHARS_MAX, TAGS_MAX, TEXT_CHARS_MAX};
pub use crate::reference::CustomerRef;
use crate::store::keys::{KeyBuilder, tag, unique};
use crate::store::{Reader, WriteTxn};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Gender as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Gender {
    /// Not stated.
    #[default]
    Unknown,
    /// Male.
    Male,
    /// Female.
    Female,
}

/// Private person or company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CustomerKind {
    /// A private person.
    #[default]
    Private,
    /// A company (fleet, taxi firm) with drivers and cars.
    Corporate,
}

/// Loyalty status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CustomerStatus {
    /// Takes part in the programme.
    #[default]
    Active,
    /// Excluded from loyalty operations.
    Blocked,
    /// Personal data erased on request (`customer.erase`): only anonymous figures remain.
    Erased,
}

/// Marketing channels with separate consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Channel {
    /// Text messages.
    Sms,
    /// Email.
    Email,
    /// Phone calls.
    Call,
    /// Messengers (WhatsApp, Telegram).
    Messenger,
    /// App push notifications.
    Push,
}

/// Clear the personal fields of a customer (erasure) and free their indexes.
pub fn erase_fields(txn: &mut WriteTxn<'_>, ctx: &Ctx, old: &Customer) -> Result<Customer> {
    let mut new = old.clone();
    new.full_name = String::new();
    new.phone = None;
    new.email = None;
    new.birthday = None;
    new.gender = Gender::Unknown;
    new.source = None;
    new.tags = Vec::new();
    new.external_id = None;
    new.notes = None;
    new.blacklist_reason = None;
    new.card = None;
    new.status = CustomerStatus::Erased;
    new.consents = old
        .consents
        .iter()
        .map(|c| Consent {
            channel: c.channel,
            granted: false,
            at: if c.granted { ctx.at } else { c.at },
        })
        .collect();
    record_consents(txn, old.id, &old.consents, &new.consents, Some("erasure"))?;
    index(txn, Some(old), &new)?;
    save(txn, &new)?;
    // The erasure's own record shows which fields it cleared, not their values.
    let changes = card_changes(Some(old), &new)?;
    txn.record_all(changes.into_iter().map(Change::scrubbed));
    Ok(new)
}

/// A customer record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Customer {
    /// Id.
    pub id: u64,
    /// Full name (ФИО) or company name.
    pub full_name: String,
    /// Phone in E.164.
    pub phone: Option<String>,
    /// Email, lower-cased.
    pub email: Option<String>,
    /// Birthday.
    pub birthday: Option<NaiveDate>,
    /// Gender.
    pub gender: Gender,
    /// Private or corporate.
    pub kind: CustomerKind,
    /// For a driver: the corporate customer they drive for.
    pub company: Option<u64>,
    /// For a corporate customer: the agreement code of the programme.
    pub agreement: Option<String>,
    /// How they heard about the shop.
    pub source: Option<String>,
    /// Consents per channel.
    pub consents: Vec<Consent>,
    /// No marketing contact at all.
    pub blacklisted: bool,
    /// Why blacklisted.
    pub blacklist_reason: Option<String>,
    /// Loyalty status.
    pub status: CustomerStatus,
    /// Free tags.
    pub tags: Vec<String>,
    /// Host's own id.
    pub external_id: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Current active card.
    pub card: Option<String>,
    /// Current tier code.
    pub tier: Option<String>,
    /// Since when.
    pub tier_since: Option<NaiveDate>,
    /// VIP card granted.
    pub vip: bool,
    /// Lifetime spend (bill after discounts, net of refunds).
    pub total_spend: Decimal,
    /// Lifetime counted visits.
    pub visits: u32,
    /// First visit date.
    pub first_visit: Option<NaiveDate>,
    /// Last visit date.
    pub last_visit: Option<NaiveDate>,
    /// Registration instant.
    pub registered_at: DateTime<Utc>,
}

impl Customer {
    /// Whether the customer agreed to contact through a channel (and is not blacklisted).
    pub fn may_contact(&self, channel: Channel) -> bool {
        !self.blacklisted
            && self
                .consents
                .iter()
                .any(|c| c.channel == channel && c.granted)
    }
}

pub(crate) fn customer_key(id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::CUSTOMER).u64(id).build()
}

fn unique_key(kind: u8, value: &str) -> Vec<u8> {
    KeyBuilder::new(tag::UNIQUE).byte(kind).str(value).build()
}

fn name_key(word: &str, id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::NAME).str_sep(word).u64(id).build()
}

/// Key of the birthday index (month-day, then customer).
pub(crate) fn birthday_key(birthday: NaiveDate, id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::BIRTHDAY)
        .u16((birthday.month() * 100 + birthday.day()) as u16)
        .u64(id)
        .build()
}

/// Birthday index prefix for a month and day.
pub fn birthday_prefix(month: u32, day: u32) -> Vec<u8> {
    KeyBuilder::new(tag::BIRTHDAY)
        .u16((month * 100 + day) as u16)
        .build()
}

/// Load a customer by id. The id of a customer merged into another (`customer.merge`)
/// leads to the kept customer.
pub fn load<R: Reader>(reader: &R, id: u64) -> Result<Customer> {
    if let Some(customer) = reader.get(&customer_key(id))? {
        return Ok(customer);
    }
    let kept = follow(reader, id)?;
    must(
        if kept == id {
            None
        } else {
            reader.get(&customer_key(kept))?
        },
        "customer",
        id,
    )
}

/// Delete a merged customer's record and free its name and birthday indexes (its
/// unique values are the merge's to move first).
pub fn remove_merged(txn: &mut WriteTxn<'_>, merged: &Customer) {
    for word in name_words(&merged.full_name) {
        txn.delete(name_key(&word, merged.id));
    }
    if let Some(birthday) = merged.birthday {
        txn.delete(birthday_key(birthday, merged.id));
    }
    txn.delete(customer_key(merged.id));
}

/// Save a customer after a merge with its indexes in line with `old` (the kept
/// customer as it was), unique values checked as `customer.update` does.
pub fn save_indexed(txn: &mut WriteTxn<'_>, old: &Customer, new: &Customer) -> Result<()> {
    index(txn, Some(old), new)?;
    save(txn, new)
}

/// Point a unique value (phone, email, the host's id, a referral code) at another customer.
pub fn repoint_unique(txn: &mut WriteTxn<'_>, kind: u8, value: &str, to: u64) -> Result<()> {
    txn.put(unique_key(kind, value), &to)
}

/// Store a customer record (indexes are the caller's business); a referee's revenue in
/// the referral totals follows their spend in the same batch.
pub fn save(txn: &mut WriteTxn<'_>, customer: &Customer) -> Result<()> {
    txn.put(customer_key(customer.id), customer)?;
    crate::aggregate::on_spend(txn, customer.id, customer.total_spend)
}

fn taken(what: &str, value: &str, owner: u64) -> Error {
    Error::new(
        ErrorCode::AlreadyExists,
        format!("{what} {value} already belongs to customer {owner}"),
    )
    .with_details(json!({ "field": what, "value": value, "customer": owner }))
}

/// Claim a unique index value for `id`, refusing one held by another customer.
fn claim(txn: &mut WriteTxn<'_>, kind: u8, what: &str, value: &str, id: u64) -> Result<()> {
    let key = unique_key(kind, value);
    if let Some(owner) = txn.get::<u64>(&key)?
        && owner != id
    {
        return Err(taken(what, value, owner));
    }
    txn.put(key, &id)
}

/// Consents as given in requests: `{"sms": true, "email": false}`.
pub type ConsentInput = std::collections::BTreeMap<Channel, bool>;

/// Arguments of `customer.register`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterArgs {
    /// Full name.
    pub full_name: String,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Birthday.
    #[serde(default)]
    pub birthday: Option<NaiveDate>,
    /// Gender.
    #[serde(default)]
    pub gender: Gender,
    /// Private or corporate.
    #[serde(default)]
    pub kind: CustomerKind,
    /// Company the driver drives for.
    #[serde(default)]
    pub company: Option<CustomerRef>,
    /// Corporate agreement code.
    #[serde(default)]
    pub agreement: Option<String>,
    /// Acquisition source.
    #[serde(default)]
    pub source: Option<String>,
    /// Consents.
    #[serde(default)]
    pub consents: ConsentInput,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Host id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// Card number to attach (optional).
    #[serde(default)]
    pub card: Option<String>,
    /// Issue a generated card when no number is given.
    #[serde(default)]
    pub issue_card: bool,
    /// Migrated from another system: no welcome bonus and no registration plugins
    /// (the customer is not new; their balance comes as an opening balance).
    #[serde(default)]
    pub import: bool,
    /// Referral code of the customer who brought this one (see `referral.code`).
    #[serde(default)]
    pub referral_code: Option<String>,
    /// Where the consents came from (kept in the consent history).
    #[serde(default)]
    pub consent_source: Option<String>,
    /// When the consents were given (default: now): a migrated customer's consents keep
    /// the date the old system recorded, so reminders due since then may be sent.
    #[serde(default)]
    pub consents_at: Option<DateTime<Utc>>,
    /// Lifetime spend before the first imported visit (with `import` only): counts for
    /// tiers as the visits' spend does.
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub opening_spend: Option<Decimal>,
    /// The employee who registered the customer (1..=100 characters; kept for
    /// `report.completeness`). Without it, the request's `operator` is taken.
    #[serde(default)]
    pub registered_by: Option<String>,
}

/// The lifetime spend a migrated customer starts with.
fn opening_spend(args: &RegisterArgs) -> Result<Decimal> {
    match args.opening_spend {
        None => Ok(Decimal::ZERO),
        Some(_) if !args.import => Err(Error::invalid(
            "opening_spend",
            "only a migrated customer (import: true) brings spend from another system",
        )),
        Some(spend) if spend < Decimal::ZERO => Err(Error::invalid(
            "opening_spend",
            format!("{spend} is negative: lifetime spend cannot be below zero"),
        )),
        Some(spend) => Ok(crate::normalize::money(spend)),
    }
}

fn clean_tags(tags: &[String]) -> Result<Vec<String>> {
    if tags.len() > TAGS_MAX {
        return Err(Error::too_large("tags", TAGS_MAX));
    }
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = normalize::text("tags", tag, 64)?.to_lowercase();
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    out.sort();
    Ok(out)
}

fn check_agreement(ctx: &Ctx, code: &Option<String>) -> Result<Option<String>> {
    match code {
        None => Ok(None),
        Some(code) => {
            let program = ctx.program()?;
            if program.agreement(code).is_none() {
                return Err(Error::not_found("agreement", code));
            }
            Ok(Some(code.clone()))
        }
    }
}

fn opt_text(field: &str, value: &Option<String>, max: usize) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) => {
            let cleaned = normalize::optional_text(field, v, max)?;
            Ok(if cleaned.is_empty() {
                None
            } else {
                Some(cleaned)
            })
        }
    }
}

/// A phone and an email as given (blank is none), normalised.
fn contacts(
    ctx: &Ctx,
    phone: Option<&str>,
    email: Option<&str>,
) -> Result<(Option<String>, Option<String>)> {
    let phone = phone
        .filter(|p| !p.trim().is_empty())
        .map(|p| normalize::phone("phone", p, ctx.default_country()))
        .transpose()?;
    let email = email
        .filter(|e| !e.trim().is_empty())
        .map(|e| normalize::email("email", e))
        .transpose()?;
    Ok((phone, email))
}

/// The company a new driver drives for: a corporate customer.
fn corporate(txn: &WriteTxn<'_>, ctx: &Ctx, reference: &CustomerRef) -> Result<u64> {
    let company = resolve(txn, ctx, reference)?;
    if company.kind != CustomerKind::Corporate {
        return Err(Error::invalid(
            "company",
            format!("customer {} is not corporate", company.id),
        ));
    }
    Ok(company.id)
}

/// Register a customer; unique values are checked and indexed in the same batch.
pub fn register(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: RegisterArgs) -> Result<Customer> {
    let full_name = normalize::text("full_name", &args.full_name, TEXT_CHARS_MAX)?;
    let (phone, email) = contacts(ctx, args.phone.as_deref(), args.email.as_deref())?;
    let birthday = args
        .birthday
        .map(|b| normalize::birthday("birthday", b, ctx.today))
        .transpose()?;
    let external_id = args
        .external_id
        .as_deref()
        .map(|e| normalize::identifier("external_id", e))
        .transpose()?;
    let company = match &args.company {
        Some(reference) => Some(corporate(txn, ctx, reference)?),
        None => None,
    };
    let agreement = check_agreement(ctx, &args.agreement)?;
    // Whoever registered the customer at the host is the request's operator unless
    // the host names someone else (a form filled in by one, keyed in by another).
    let registered_by =
        registration::checked(args.registered_by.as_deref().or(ctx.operator.as_deref()))?;
    let id = next_id(txn, "next_customer")?;
    let customer = Customer {
        id,
        full_name,
        phone,
        email,
        birthday,
        gender: args.gender,
        kind: args.kind,
        company,
        agreement,
        source: opt_text("source", &args.source, TEXT_CHARS_MAX)?,
        consents: consents_from(
            &args.consents,
            consents_instant(ctx, args.consents_at)?,
            &[],
        ),
        blacklisted: false,
        blacklist_reason: None,
        status: CustomerStatus::Active,
        tags: clean_tags(&args.tags)?,
        external_id,
        notes: opt_text("notes", &args.notes, NOTES_CHARS_MAX)?,
        card: None,
        tier: None,
        tier_since: None,
        vip: false,
        total_spend: opening_spend(&args)?,
        visits: 0,
        first_visit: None,
        last_visit: None,
        registered_at: ctx.at,
    };
    let consent_source = opt_text("consent_source", &args.consent_source, TEXT_CHARS_MAX)?;
    record_consents(
        txn,
        customer.id,
        &[],
        &customer.consents,
        consent_source.as_deref(),
    )?;
    index(txn, None, &customer)?;
    save(txn, &customer)?;
    record_changes(txn, None, &customer)?;
    if let Some(by) = &registered_by {
        registration::save(txn, customer.id, by)?;
    }
    let customer = if args.card.is_some() || args.issue_card {
        issue_card(txn, ctx, customer, args.card.as_deref(), false)?.0
    } else {
        customer
    };
    Ok(customer)
}

/// Bring every index in line with `new`, removing what `old` had.
fn index(txn: &mut WriteTxn<'_>, old: Option<&Customer>, new: &Customer) -> Result<()> {
    let pairs: [(u8, &str, Option<&String>, Option<&String>); 3] = [
        (
            unique::PHONE,
            "phone",
            old.and_then(|o| o.phone.as_ref()),
            new.phone.as_ref(),
        ),
        (
            unique::EMAIL,
            "email",
            old.and_then(|o| o.email.as_ref()),
            new.email.as_ref(),
        ),
        (
            unique::EXTERNAL_ID,
            "external_id",
            old.and_then(|o| o.external_id.as_ref()),
            new.external_id.as_ref(),
        ),
    ];
    for (kind, what, before, after) in pairs {
        if before == after {
            continue;
        }
        if let Some(before) = before {
            txn.delete(unique_key(kind, before));
        }
        if let Some(after) = after {
            claim(txn, kind, what, after, new.id)?;
        }
    }
    let old_words = old.map(|o| name_words(&o.full_name)).unwrap_or_default();
    let new_words = name_words(&new.full_name);
    if old_words != new_words {
        for word in &old_words {
            txn.delete(name_key(word, new.id));
        }
        for word in &new_words {
            txn.put(name_key(word, new.id), &())?;
        }
    }
    let old_birthday = old.and_then(|o| o.birthday);
    if old_birthday != new.birthday {
        if let Some(birthday) = old_birthday {
            txn.delete(birthday_key(birthday, new.id));
        }
        if let Some(birthday) = new.birthday {
            txn.put(birthday_key(birthday, new.id), &())?;
        }
    }
    Ok(())
}

fn name_words(full_name: &str) -> Vec<String> {
    let mut words: Vec<String> = normalize::fold_name(full_name)
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| w.chars().take(40).collect())
        .collect();
    words.sort();
    words.dedup();
    words
}

/// Arguments of `customer.update`: absent fields stay, `null` clears.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateArgs {
    /// Who.
    pub customer: CustomerRef,
    /// New name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// New phone (`null` clears).
    #[serde(default, deserialize_with = "patch")]
    pub phone: Option<Option<String>>,
    /// New email (`null` clears).
    #[serde(default, deserialize_with = "patch")]
    pub email: Option<Option<String>>,
    /// New birthday (`null` clears).
    #[serde(default, deserialize_with = "patch")]
    pub birthday: Option<Option<NaiveDate>>,
    /// Gender.
    #[serde(default)]
    pub gender: Option<Gender>,
    /// Kind.
    #[serde(default)]
    pub kind: Option<CustomerKind>,
    /// Company (`null` clears).
    #[serde(default, deserialize_with = "patch")]
    pub company: Option<Option<CustomerRef>>,
    /// Agreement (`null` clears).
    #[serde(default, deserialize_with = "patch")]
    pub agreement: Option<Option<String>>,
    /// Source (`null` clears).
    #[serde(default, deserialize_with = "patch")]
    pub source: Option<Option<String>>,
    /// Consents to change.
    #[serde(default)]
    pub consents: ConsentInput,
    /// Where the consent changes came from (kept in the consent history).
    #[serde(default)]
    pub consent_source: Option<String>,
    /// When the consent changes were given (default: now; not in the future).
    #[serde(default)]
    pub consents_at: Option<DateTime<Utc>>,
    /// Blacklist on or off.
    #[serde(default)]
    pub blacklisted: Option<bool>,
    /// Blacklist reason.
    #[serde(default, deserialize_with = "patch")]
    pub blacklist_reason: Option<Option<String>>,
    /// Loyalty status.
    #[serde(default)]
    pub status: Option<CustomerStatus>,
    /// Replace tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Tags to add.
    #[serde(default)]
    pub add_tags: Vec<String>,
    /// Tags to remove.
    #[serde(default)]
    pub remove_tags: Vec<String>,
    /// External id (`null` clears).
    #[serde(default, deserialize_with = "patch")]
    pub external_id: Option<Option<String>>,
    /// Notes (`null` clears).
    #[serde(default, deserialize_with = "patch")]
    pub notes: Option<Option<String>>,
}

/// Apply a partial update.
pub fn update(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: UpdateArgs) -> Result<Customer> {
    let old = resolve(txn, ctx, &args.customer)?;
    let mut new = old.clone();
    update_identity(ctx, &args, &mut new)?;
    update_membership(txn, ctx, &args, &mut new)?;
    new.consents = consents_from(
        &args.consents,
        consents_instant(ctx, args.consents_at)?,
        &old.consents,
    );
    let consent_source = opt_text("consent_source", &args.consent_source, TEXT_CHARS_MAX)?;
    record_consents(
        txn,
        new.id,
        &old.consents,
        &new.consents,
        consent_source.as_deref(),
    )?;
    update_marketing(&args, &old, &mut new)?;
    index(txn, Some(&old), &new)?;
    save(txn, &new)?;
    record_changes(txn, Some(&old), &new)?;
    Ok(new)
}

/// Who the customer is and how to reach them: name, phone, email, birthday, gender.
fn update_identity(ctx: &Ctx, args: &UpdateArgs, new: &mut Customer) -> Result<()> {
    if let Some(name) = &args.full_name {
        new.full_name = normalize::text("full_name", name, TEXT_CHARS_MAX)?;
    }
    if let Some(phone) = &args.phone {
        new.phone = phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| normalize::phone("phone", p, ctx.default_country()))
            .transpose()?;
    }
    if let Some(email) = &args.email {
        new.email = email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .map(|e| normalize::email("email", e))
            .transpose()?;
    }
    if let Some(birthday) = args.birthday {
        new.birthday = birthday
            .map(|b| normalize::birthday("birthday", b, ctx.today))
            .transpose()?;
    }
    if let Some(gender) = args.gender {
        new.gender = gender;
    }
    Ok(())
}

/// Private or corporate, the company a driver drives for, the agreement, the source.
fn update_membership(
    txn: &WriteTxn<'_>,
    ctx: &Ctx,
    args: &UpdateArgs,
    new: &mut Customer,
) -> Result<()> {
    if let Some(kind) = args.kind {
        new.kind = kind;
    }
    if let Some(company) = &args.company {
        new.company = match company {
            Some(reference) => {
                let company = resolve(txn, ctx, reference)?;
                if company.kind != CustomerKind::Corporate || company.id == new.id {
                    return Err(Error::invalid(
                        "company",
                        format!("customer {} is not another corporate customer", company.id),
                    ));
                }
                Some(company.id)
            }
            None => None,
        };
    }
    if let Some(agreement) = &args.agreement {
        new.agreement = check_agreement(ctx, agreement)?;
    }
    if let Some(source) = &args.source {
        new.source = opt_text("source", source, TEXT_CHARS_MAX)?;
    }
    Ok(())
}

/// The blacklist, status, tags, the host's id and notes.
fn update_marketing(args: &UpdateArgs, old: &Customer, new: &mut Customer) -> Result<()> {
    if let Some(blacklisted) = args.blacklisted {
        new.blacklisted = blacklisted;
        if !blacklisted {
            new.blacklist_reason = None;
        }
    }
    if let Some(reason) = &args.blacklist_reason {
        new.blacklist_reason = opt_text("blacklist_reason", reason, TEXT_CHARS_MAX)?;
    }
    if let Some(status) = args.status {
        new.status = status;
    }
    let mut tags = match &args.tags {
        Some(tags) => tags.clone(),
        None => old.tags.clone(),
    };
    tags.extend(args.add_tags.iter().cloned());
    let removed = clean_tags(&args.remove_tags)?;
    tags = clean_tags(&tags)?;
    tags.retain(|t| !removed.contains(t));
    new.tags = tags;
    if let Some(external_id) = &args.external_id {
        new.external_id = external_id
            .as_deref()
            .map(|e| normalize::identifier("external_id", e))
            .transpose()?;
    }
    if let Some(notes) = &args.notes {
        new.notes = opt_text("notes", notes, NOTES_CHARS_MAX)?;
    }
    Ok(())
}
