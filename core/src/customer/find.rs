//! Finding customers by name or phone prefix, or by an identifier, a page at a time.

use super::*;
use crate::context::Ctx;
use crate::error::{Error, ErrorCode, Result};
use crate::normalize::{self, TEXT_CHARS_MAX};
use crate::store::keys::{KeyBuilder, read_u64, tag, unique};
use crate::store::{Reader, keys};
use serde::{Deserialize, Serialize};

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
