//! Loyalty cards: issuing (a given number or a generated EAN-13), blocking a lost card
//! and reissuing it, and the indexes from card to customer.

use super::*;
use crate::context::{Ctx, must, next_id};
use crate::error::{Error, ErrorCode, Result};
use crate::normalize::{self, TEXT_CHARS_MAX};
use crate::store::keys::{KeyBuilder, tag};
use crate::store::{Reader, WriteTxn};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

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

/// A loyalty card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
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

pub(super) fn card_key(number: &str) -> Vec<u8> {
    KeyBuilder::new(tag::CARD).str(number).build()
}

/// EAN-13 check digit of 12 digits.
pub(super) fn ean13_check(digits: &str) -> u32 {
    let sum: u32 = digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d } else { d * 3 })
        .sum();
    (10 - sum % 10) % 10
}

pub(super) fn validate_card_number(number: &str) -> Result<String> {
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
