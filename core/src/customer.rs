//! Customers and their cards: registration, lookup by any identifier, search by
//! name or phone prefix, updates with unique indexes kept in step, cards issued,
//! blocked and reissued with the balance kept.

use crate::context::{Ctx, must, next_id, patch};
use crate::error::{Error, ErrorCode, Result};
use crate::normalize::{self, NOTES_CHARS_MAX, TAGS_MAX, TEXT_CHARS_MAX};
pub use crate::reference::CustomerRef;
use crate::store::keys::{KeyBuilder, read_u64, tag, unique};
use crate::store::{Reader, WriteTxn, keys};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Gender as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
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

/// Consent for one channel with the date it was given or withdrawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    /// The channel.
    pub channel: Channel,
    /// Granted or withdrawn.
    pub granted: bool,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// One change of a consent, kept for ever (the record of what the customer agreed to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentEvent {
    /// The channel.
    pub channel: Channel,
    /// Granted or withdrawn.
    pub granted: bool,
    /// When.
    pub at: DateTime<Utc>,
    /// Where it came from (`pos`, `web form`, `paper form no. 12`, `erasure`).
    pub source: Option<String>,
}

fn consent_event_key(customer: u64, seq: u64) -> Vec<u8> {
    KeyBuilder::new(tag::CONSENT_HISTORY)
        .u64(customer)
        .u64(seq)
        .build()
}

/// A customer's consent changes, oldest first (at most 10 000).
pub fn consent_history<R: Reader>(reader: &R, customer: u64) -> Result<Vec<ConsentEvent>> {
    let prefix = KeyBuilder::new(tag::CONSENT_HISTORY).u64(customer).build();
    Ok(reader
        .scan_prefix::<ConsentEvent>(&prefix, 10_000)?
        .into_iter()
        .map(|(_, e)| e)
        .collect())
}

/// Record the consents that differ between `old` and `new` as dated events.
pub fn record_consents(
    txn: &mut WriteTxn<'_>,
    customer: u64,
    old: &[Consent],
    new: &[Consent],
    source: Option<&str>,
) -> Result<()> {
    let prefix = KeyBuilder::new(tag::CONSENT_HISTORY).u64(customer).build();
    let end = keys::prefix_end(&prefix);
    let last = txn.scan_raw(&prefix, &end, 1, true)?;
    let mut seq = match last.first() {
        Some((key, _)) => {
            read_u64(key, 9).ok_or_else(|| Error::corrupted("consent key too short"))?
        }
        None => 0,
    };
    for consent in new {
        let before = old.iter().find(|c| c.channel == consent.channel);
        if before.is_some_and(|b| b.granted == consent.granted) {
            continue;
        }
        seq += 1;
        let event = ConsentEvent {
            channel: consent.channel,
            granted: consent.granted,
            at: consent.at,
            source: source.map(str::to_string),
        };
        txn.put(consent_event_key(customer, seq), &event)?;
    }
    Ok(())
}

/// Index key of a card a customer was ever issued.
pub fn customer_card_key(customer: u64, number: &str) -> Vec<u8> {
    KeyBuilder::new(tag::CUSTOMER_CARD)
        .u64(customer)
        .str(number)
        .build()
}

/// Every card a customer was issued (current and blocked), by number.
pub fn cards_of<R: Reader>(reader: &R, customer: u64) -> Result<Vec<Card>> {
    let prefix = KeyBuilder::new(tag::CUSTOMER_CARD).u64(customer).build();
    let mut out = Vec::new();
    for key in reader.scan_keys(&prefix, 1000)? {
        let number = std::str::from_utf8(key.get(9..).unwrap_or_default())
            .map_err(|_| Error::corrupted("card index key is not UTF-8"))?;
        if let Some(card) = reader.get::<Card>(&card_key(number))? {
            out.push(card);
        }
    }
    Ok(out)
}

/// Remove a card and its index entry (erasure frees the number).
pub fn forget_card(txn: &mut WriteTxn<'_>, customer: u64, number: &str) {
    txn.delete(card_key(number));
    txn.delete(customer_card_key(customer, number));
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
    Ok(new)
}

/// A customer record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// A loyalty card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// Card number.
    pub number: String,
    /// Owner.
    pub customer: u64,
    /// Active or blocked.
    pub active: bool,
    /// Issued at.
    pub issued_at: DateTime<Utc>,
    /// Blocked at.
    pub blocked_at: Option<DateTime<Utc>>,
    /// Why blocked (lost, stolen, replaced).
    pub block_reason: Option<String>,
    /// The card that replaced it.
    pub replaced_by: Option<String>,
}

fn customer_key(id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::CUSTOMER).u64(id).build()
}

fn unique_key(kind: u8, value: &str) -> Vec<u8> {
    KeyBuilder::new(tag::UNIQUE).byte(kind).str(value).build()
}

fn card_key(number: &str) -> Vec<u8> {
    KeyBuilder::new(tag::CARD).str(number).build()
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

/// Load a customer by id.
pub fn load<R: Reader>(reader: &R, id: u64) -> Result<Customer> {
    must(reader.get(&customer_key(id))?, "customer", id)
}

/// Store a customer record (indexes are the caller's business).
pub fn save(txn: &mut WriteTxn<'_>, customer: &Customer) -> Result<()> {
    txn.put(customer_key(customer.id), customer)
}

/// Find the customer a reference names. Erased customers are not found by anything.
pub fn resolve<R: Reader>(reader: &R, ctx: &Ctx, reference: &CustomerRef) -> Result<Customer> {
    let customer = resolve_any(reader, ctx, reference)?;
    if customer.status == CustomerStatus::Erased {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("customer {} was erased", customer.id),
        )
        .with_details(
            json!({ "what": "customer", "key": customer.id.to_string(), "erased": true }),
        ));
    }
    Ok(customer)
}

fn resolve_any<R: Reader>(reader: &R, ctx: &Ctx, reference: &CustomerRef) -> Result<Customer> {
    let given = [
        reference.id.is_some(),
        reference.card.is_some(),
        reference.phone.is_some(),
        reference.email.is_some(),
        reference.external_id.is_some(),
        reference.plate.is_some(),
        reference.vin.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given != 1 {
        return Err(Error::invalid(
            "customer",
            "name the customer with exactly one of id, card, phone, email, external_id, plate, vin",
        ));
    }
    if let Some(id) = reference.id {
        return load(reader, id);
    }
    if let Some(number) = &reference.card {
        let number = normalize::identifier("customer.card", number)?;
        let card: Card = must(reader.get(&card_key(&number))?, "card", &number)?;
        if !card.active {
            let mut err = Error::new(ErrorCode::Blocked, format!("card {number} is blocked"));
            err.details = json!({ "card": number, "customer": card.customer,
                "reason": card.block_reason, "replaced_by": card.replaced_by });
            return Err(err);
        }
        return load(reader, card.customer);
    }
    let (kind, value, what) = if let Some(phone) = &reference.phone {
        (
            unique::PHONE,
            normalize::phone("customer.phone", phone, ctx.default_country())?,
            "customer with phone",
        )
    } else if let Some(email) = &reference.email {
        (
            unique::EMAIL,
            normalize::email("customer.email", email)?,
            "customer with email",
        )
    } else if let Some(external) = &reference.external_id {
        (
            unique::EXTERNAL_ID,
            normalize::identifier("customer.external_id", external)?,
            "customer with external id",
        )
    } else if let Some(plate) = &reference.plate {
        let vehicle =
            crate::vehicle::find_by_plate(reader, &normalize::plate("customer.plate", plate)?)?;
        return load(reader, vehicle.customer);
    } else if let Some(vin) = &reference.vin {
        let vehicle = crate::vehicle::find_by_vin(reader, &normalize::vin("customer.vin", vin)?)?;
        return load(reader, vehicle.customer);
    } else {
        return Err(Error::internal("customer reference without a key"));
    };
    let id: u64 = must(reader.get(&unique_key(kind, &value))?, what, &value)?;
    load(reader, id)
}

/// Resolve and refuse blocked customers (for loyalty operations).
pub fn resolve_active<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    reference: &CustomerRef,
) -> Result<Customer> {
    let customer = resolve(reader, ctx, reference)?;
    if customer.status == CustomerStatus::Blocked {
        return Err(Error::new(
            ErrorCode::Blocked,
            format!("customer {} is blocked", customer.id),
        )
        .with_details(json!({ "customer": customer.id })));
    }
    Ok(customer)
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
}

/// The instant consents take: `consents_at`, which may not be in the future.
fn consents_instant(ctx: &Ctx, at: Option<DateTime<Utc>>) -> Result<DateTime<Utc>> {
    match at {
        Some(at) if at > ctx.at => Err(Error::invalid(
            "consents_at",
            format!("{} is in the future", at.to_rfc3339()),
        )),
        Some(at) => Ok(at),
        None => Ok(ctx.at),
    }
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

fn consents_from(input: &ConsentInput, at: DateTime<Utc>, previous: &[Consent]) -> Vec<Consent> {
    let mut out: Vec<Consent> = previous.to_vec();
    for (channel, granted) in input {
        match out.iter_mut().find(|c| c.channel == *channel) {
            Some(existing) if existing.granted == *granted => {}
            Some(existing) => {
                existing.granted = *granted;
                existing.at = at;
            }
            None => out.push(Consent {
                channel: *channel,
                granted: *granted,
                at,
            }),
        }
    }
    out.sort_by_key(|c| c.channel);
    out
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

/// Register a customer; unique values are checked and indexed in the same batch.
pub fn register(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: RegisterArgs) -> Result<Customer> {
    let full_name = normalize::text("full_name", &args.full_name, TEXT_CHARS_MAX)?;
    let phone = args.phone.as_deref().filter(|p| !p.trim().is_empty());
    let phone = phone
        .map(|p| normalize::phone("phone", p, ctx.default_country()))
        .transpose()?;
    let email = args.email.as_deref().filter(|e| !e.trim().is_empty());
    let email = email.map(|e| normalize::email("email", e)).transpose()?;
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
        Some(reference) => {
            let company = resolve(txn, ctx, reference)?;
            if company.kind != CustomerKind::Corporate {
                return Err(Error::invalid(
                    "company",
                    format!("customer {} is not corporate", company.id),
                ));
            }
            Some(company.id)
        }
        None => None,
    };
    let agreement = check_agreement(ctx, &args.agreement)?;
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
    index(txn, Some(&old), &new)?;
    save(txn, &new)?;
    Ok(new)
}

/// EAN-13 check digit of 12 digits.
fn ean13_check(digits: &str) -> u32 {
    let sum: u32 = digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d } else { d * 3 })
        .sum();
    (10 - sum % 10) % 10
}

fn validate_card_number(number: &str) -> Result<String> {
    let number = normalize::identifier("card", number)?;
    if number.len() < 4 || number.len() > 32 || !number.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::invalid(
            "card",
            format!("'{number}' must be 4 to 32 Latin letters and digits"),
        ));
    }
    Ok(number.to_uppercase())
}

/// Issue a card to a customer. With `replace`, an active card is blocked as replaced;
/// without it a second active card is refused.
pub fn issue_card(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    mut customer: Customer,
    number: Option<&str>,
    replace: bool,
) -> Result<(Customer, Card)> {
    let number = match number {
        Some(number) => validate_card_number(number)?,
        None => {
            let mut generated = None;
            for _ in 0..64 {
                let seq = next_id(txn, "next_card")?;
                let body = format!("2{seq:011}");
                let candidate = format!("{body}{}", ean13_check(&body));
                if !txn.contains(&card_key(&candidate))? {
                    generated = Some(candidate);
                    break;
                }
            }
            generated.ok_or_else(|| Error::internal("could not generate a free card number"))?
        }
    };
    if let Some(existing) = txn.get::<Card>(&card_key(&number))? {
        return Err(taken("card", &number, existing.customer));
    }
    if let Some(current) = customer.card.clone() {
        if !replace {
            return Err(Error::new(
                ErrorCode::AlreadyExists,
                format!(
                    "customer {} already has active card {current}; block it or pass replace: true",
                    customer.id
                ),
            )
            .with_details(json!({ "field": "card", "value": current, "customer": customer.id })));
        }
        let mut old: Card = must(txn.get(&card_key(&current))?, "card", &current)?;
        old.active = false;
        old.blocked_at = Some(ctx.at);
        old.block_reason = Some("replaced".into());
        old.replaced_by = Some(number.clone());
        txn.put(card_key(&current), &old)?;
    }
    let card = Card {
        number: number.clone(),
        customer: customer.id,
        active: true,
        issued_at: ctx.at,
        blocked_at: None,
        block_reason: None,
        replaced_by: None,
    };
    txn.put(card_key(&number), &card)?;
    txn.put(customer_card_key(customer.id, &number), &())?;
    customer.card = Some(number);
    save(txn, &customer)?;
    Ok((customer, card))
}

/// Arguments of `card.issue`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueCardArgs {
    /// Owner.
    pub customer: CustomerRef,
    /// Number (generated EAN-13 when absent).
    #[serde(default)]
    pub number: Option<String>,
    /// Replace the active card.
    #[serde(default)]
    pub replace: bool,
}

/// Arguments of `card.block`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockCardArgs {
    /// Card number.
    pub card: String,
    /// Why (lost, stolen, damaged).
    pub reason: String,
    /// Issue a replacement at once.
    #[serde(default)]
    pub reissue: bool,
    /// Number of the replacement (generated when absent).
    #[serde(default)]
    pub new_number: Option<String>,
}

/// Block a card; the balance stays with the customer. Optionally reissue.
pub fn block_card(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    args: BlockCardArgs,
) -> Result<(Card, Option<Card>)> {
    let number = validate_card_number(&args.card)?;
    let reason = normalize::text("reason", &args.reason, TEXT_CHARS_MAX)?;
    let mut card: Card = must(txn.get(&card_key(&number))?, "card", &number)?;
    if !card.active {
        return Err(Error::new(
            ErrorCode::Blocked,
            format!("card {number} is already blocked"),
        )
        .with_details(json!({ "card": number, "customer": card.customer })));
    }
    card.active = false;
    card.blocked_at = Some(ctx.at);
    card.block_reason = Some(reason);
    txn.put(card_key(&number), &card)?;
    let mut customer = load(txn, card.customer)?;
    customer.card = None;
    save(txn, &customer)?;
    if !args.reissue {
        return Ok((card, None));
    }
    let (_, new_card) = issue_card(txn, ctx, customer, args.new_number.as_deref(), false)?;
    card.replaced_by = Some(new_card.number.clone());
    txn.put(card_key(&number), &card)?;
    Ok((card, Some(new_card)))
}

/// Arguments of `customer.find`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindArgs {
    /// Name prefix (any word) or phone prefix.
    #[serde(default)]
    pub query: Option<String>,
    /// Exact lookup by one identifier instead of a query.
    #[serde(default)]
    pub by: Option<CustomerRef>,
    /// Page size (1..=100, default 20).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Cursor from the previous page.
    #[serde(default)]
    pub after: Option<String>,
}

/// A short line about a customer for lists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CustomerSummary {
    /// Id.
    pub id: u64,
    /// Name.
    pub full_name: String,
    /// Phone.
    pub phone: Option<String>,
    /// Card.
    pub card: Option<String>,
    /// Tier.
    pub tier: Option<String>,
    /// Status.
    pub status: CustomerStatus,
}

impl From<&Customer> for CustomerSummary {
    fn from(c: &Customer) -> Self {
        CustomerSummary {
            id: c.id,
            full_name: c.full_name.clone(),
            phone: c.phone.clone(),
            card: c.card.clone(),
            tier: c.tier.clone(),
            status: c.status,
        }
    }
}

/// A page of customers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FindPage {
    /// Matches in order (name, then id; or phone).
    pub items: Vec<CustomerSummary>,
    /// Cursor for the next page, if there may be more.
    pub next: Option<String>,
}

/// Largest page of `customer.find`.
pub const FIND_LIMIT_MAX: usize = 100;

/// Search customers by exact identifier, phone prefix or name-word prefix.
pub fn find<R: Reader>(reader: &R, ctx: &Ctx, args: &FindArgs) -> Result<FindPage> {
    let limit = args.limit.unwrap_or(20);
    if limit == 0 || limit > FIND_LIMIT_MAX {
        return Err(Error::invalid(
            "limit",
            format!("must be 1..={FIND_LIMIT_MAX}"),
        ));
    }
    if let Some(by) = &args.by {
        return match resolve(reader, ctx, by) {
            Ok(customer) => Ok(FindPage {
                items: vec![CustomerSummary::from(&customer)],
                next: None,
            }),
            Err(err) if err.code == ErrorCode::NotFound => Ok(FindPage {
                items: Vec::new(),
                next: None,
            }),
            Err(err) => Err(err),
        };
    }
    let query = args.query.as_deref().unwrap_or("").trim();
    if query.is_empty() {
        return Err(Error::invalid(
            "query",
            "give a query (name or phone prefix) or by",
        ));
    }
    if query.chars().count() > TEXT_CHARS_MAX {
        return Err(Error::too_large("query", TEXT_CHARS_MAX));
    }
    let (prefix, words) = if normalize::looks_like_phone(query) {
        let phone = normalize::phone_prefix(query, ctx.default_country())
            .ok_or_else(|| Error::invalid("query", "type at least 3 digits of the phone"))?;
        (
            KeyBuilder::new(tag::UNIQUE)
                .byte(unique::PHONE)
                .str(&phone)
                .build(),
            Vec::new(),
        )
    } else {
        let folded = normalize::fold_name(query);
        let words: Vec<String> = folded.split(' ').map(str::to_string).collect();
        let first = words
            .iter()
            .max_by_key(|w| w.len())
            .cloned()
            .unwrap_or_default();
        (KeyBuilder::new(tag::NAME).str(&first).build(), words)
    };
    let end = keys::prefix_end(&prefix);
    let mut start = match &args.after {
        Some(cursor) => {
            let mut key = crate::store::keys::cursor_key(cursor, "customer.find")?;
            if !key.starts_with(&prefix) {
                return Err(Error::invalid(
                    "after",
                    "the cursor belongs to another query",
                ));
            }
            key.push(0);
            key
        }
        None => prefix.clone(),
    };
    let mut items: Vec<CustomerSummary> = Vec::new();
    let mut last_key: Option<Vec<u8>> = None;
    // Bounded: at most this many index entries are examined per page.
    let mut budget = 20 * FIND_LIMIT_MAX;
    while items.len() < limit && budget > 0 {
        let chunk = reader.scan_raw(&start, &end, (limit * 2).min(budget), false)?;
        if chunk.is_empty() {
            last_key = None;
            break;
        }
        budget = budget.saturating_sub(chunk.len());
        for (key, value) in &chunk {
            let id = if words.is_empty() {
                crate::store::decode::<u64>(key, value)?
            } else {
                read_u64(key, key.len().saturating_sub(8))
                    .ok_or_else(|| Error::corrupted("name index key too short"))?
            };
            let customer = load(reader, id)?;
            let name_words = name_words(&customer.full_name);
            let all_match = words
                .iter()
                .all(|w| name_words.iter().any(|n| n.starts_with(w.as_str())));
            if all_match && !items.iter().any(|i| i.id == id) {
                items.push(CustomerSummary::from(&customer));
            }
            last_key = Some(key.clone());
            if items.len() == limit {
                break;
            }
        }
        if let Some(key) = &last_key {
            start = key.clone();
            start.push(0);
        }
    }
    Ok(FindPage {
        items,
        next: last_key.map(|k| crate::store::keys::cursor_text(&k)),
    })
}
