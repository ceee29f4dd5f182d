//! Finding customers by name or phone prefix, or by an identifier, a page at a time.

use super::*;
use crate::context::Ctx;
use crate::error::{Error, ErrorCode, Result};
use crate::normalize::{self, TEXT_CHARS_MAX};
use crate::paging::{Page, PageSize};
use crate::store::keys::{KeyBuilder, KeyReader, tag, unique};
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

/// A page of customers: matches in order (name, then id; or phone), and the cursor for
/// the next page if there may be more.
pub type FindPage = Page<CustomerSummary, String>;

/// Pages of `customer.find`.
pub const FIND_PAGE: PageSize = PageSize::new(20, 100);

/// Search customers by exact identifier, phone prefix or name-word prefix.
pub fn find<R: Reader>(reader: &R, ctx: &Ctx, args: &FindArgs) -> Result<FindPage> {
    let limit = FIND_PAGE.of(args.limit)?;
    if let Some(by) = &args.by {
        let items = match resolve(reader, ctx, by) {
            Ok(customer) => vec![CustomerSummary::from(&customer)],
            Err(err) if err.code == ErrorCode::NotFound => Vec::new(),
            Err(err) => return Err(err),
        };
        return Ok(FindPage { items, next: None });
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
    let search = Search::of(ctx, query)?;
    let start = match &args.after {
        Some(cursor) => {
            let mut key = crate::store::keys::cursor_key(cursor, "customer.find")?;
            if !key.starts_with(&search.prefix) {
                return Err(Error::invalid(
                    "after",
                    "the cursor belongs to another query",
                ));
            }
            key.push(0);
            key
        }
        None => search.prefix.clone(),
    };
    search.page(reader, start, limit)
}

/// A query turned into the index it reads: the phone index under a phone prefix, or the
/// name index under the query's longest word, every word then matched on the name.
struct Search {
    prefix: Vec<u8>,
    /// Folded query words (none for a phone).
    words: Vec<String>,
}

impl Search {
    fn of(ctx: &Ctx, query: &str) -> Result<Search> {
        if normalize::looks_like_phone(query) {
            let phone = normalize::phone_prefix(query, ctx.default_country())
                .ok_or_else(|| Error::invalid("query", "type at least 3 digits of the phone"))?;
            return Ok(Search {
                prefix: KeyBuilder::new(tag::UNIQUE)
                    .byte(unique::PHONE)
                    .str(&phone)
                    .build(),
                words: Vec::new(),
            });
        }
        let folded = normalize::fold_name(query);
        let words: Vec<String> = folded.split(' ').map(str::to_string).collect();
        let first = words
            .iter()
            .max_by_key(|w| w.len())
            .cloned()
            .unwrap_or_default();
        Ok(Search {
            prefix: KeyBuilder::new(tag::NAME).str(&first).build(),
            words,
        })
    }

    /// One page from `start`. Bounded: at most `20 × FIND_LIMIT_MAX` index entries are
    /// examined per page.
    fn page<R: Reader>(&self, reader: &R, mut start: Vec<u8>, limit: usize) -> Result<FindPage> {
        let end = keys::prefix_end(&self.prefix);
        let mut items: Vec<CustomerSummary> = Vec::new();
        let mut last_key: Option<Vec<u8>> = None;
        let mut budget = 20 * FIND_PAGE.max;
        while items.len() < limit && budget > 0 {
            let chunk = reader.scan_raw(&start, &end, (limit * 2).min(budget), false)?;
            if chunk.is_empty() {
                last_key = None;
                break;
            }
            budget = budget.saturating_sub(chunk.len());
            for (key, value) in &chunk {
                let customer = load(reader, self.customer_of(key, value)?)?;
                if self.matches(&customer) && !items.iter().any(|i| i.id == customer.id) {
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

    /// The customer an index entry points to: the phone index holds it as the value,
    /// the name index at the end of the key.
    fn customer_of(&self, key: &[u8], value: &[u8]) -> Result<u64> {
        if self.words.is_empty() {
            crate::store::decode::<u64>(key, value)
        } else {
            KeyReader::of(key, tag::NAME, "name index")?.last_u64()
        }
    }

    /// Every query word starts a word of the name.
    fn matches(&self, customer: &Customer) -> bool {
        let name_words = name_words(&customer.full_name);
        self.words
            .iter()
            .all(|w| name_words.iter().any(|n| n.starts_with(w.as_str())))
    }
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
