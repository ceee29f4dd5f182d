//! Campaigns: a named offer over a period, sent through one channel with a budget to a
//! segment or a list of customers. `campaign.notify` records who was told (once per
//! customer per campaign, respecting consent and the blacklist) and grants the offer's
//! points; `campaign.report` attributes visits to the campaign and measures it.
//!
//! Attribution is computed by the report, not recorded at checkout: a notified
//! customer's visits from the notification instant to the end of the campaign's last
//! day count for it, unless a later campaign notified the customer before the visit
//! and the visit falls in that campaign's window (last touch wins, so overlapping
//! campaigns never count one visit twice). Revenue is each visit's net kept after
//! refunds, so a refund lowers the report as soon as it is made; a fully refunded
//! visit does not count as coming (see `report`).

mod report;

pub use report::{Report, ReportArgs, report};

use crate::context::{Ctx, next_id};
use crate::customer::{self, Channel, CustomerRef};
use crate::error::{Error, ErrorCode, Result};
use crate::ledger::{Book, Credit, EntryKind, check_points};
use crate::normalize::{self, TEXT_CHARS_MAX};
use crate::paging::{Page, PageSize};
use crate::program::Program;
use crate::segment::{self, Filter};
use crate::store::keys::{self, KeyBuilder, tag};
use crate::store::{Reader, WriteTxn};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Most customers listed in one request.
pub const CUSTOMERS_MAX: usize = 1000;
/// Customers notified by one `campaign.notify` call from a segment.
pub const NOTIFY_PAGE: PageSize = PageSize::new(1000, 5000);
/// Longest campaign, in days.
pub const PERIOD_DAYS_MAX: i64 = 3660;
/// Largest budget.
pub const BUDGET_MAX: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
/// Most campaigns one customer's attribution looks at.
const TOUCHES_MAX: usize = 1000;
/// Most visits of one customer counted in one campaign window.
const VISITS_MAX: usize = 10_000;
const CHUNK: usize = 1024;

/// A period; both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// First local day.
    pub from: NaiveDate,
    /// Last local day.
    pub to: NaiveDate,
}

/// What the campaign offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    /// Text of the message.
    pub text: String,
    /// Bonus points granted to each customer notified (they burn after the period).
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub points: Option<Decimal>,
    /// A discount code the host honours.
    #[serde(default)]
    pub discount_code: Option<String>,
}

/// A campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    /// Id.
    pub id: u64,
    /// Name (unique).
    pub name: String,
    /// Period.
    pub period: Period,
    /// Channel the messages go through.
    pub channel: Channel,
    /// Money budgeted.
    pub budget: Decimal,
    /// Saved segment it targets.
    pub segment: Option<String>,
    /// Or the customers it targets.
    pub customers: Vec<u64>,
    /// The offer.
    pub offer: Offer,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Customers notified so far.
    pub notified: u64,
    /// Bonus points granted so far.
    pub points_granted: Decimal,
}

/// A customer told about a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Campaign.
    pub campaign: u64,
    /// Customer.
    pub customer: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// Channel.
    pub channel: Channel,
    /// Bonus points granted with it.
    pub points: Decimal,
}

fn campaign_key(id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::CAMPAIGN).u64(id).build()
}
/// Key of the name index: the folded name (case, `ё`/`е` and spacing do not matter), so
/// one name cannot be taken twice by typing it differently, and finds its campaign
/// however it is typed.
fn name_key(name: &str) -> Vec<u8> {
    KeyBuilder::new(tag::CAMPAIGN_NAME)
        .str(&normalize::fold_name(name))
        .build()
}
fn notified_key(campaign: u64, customer: u64) -> Vec<u8> {
    KeyBuilder::new(tag::CAMPAIGN_NOTIFIED)
        .u64(campaign)
        .u64(customer)
        .build()
}
fn touch_key(customer: u64, campaign: u64) -> Vec<u8> {
    KeyBuilder::new(tag::CUSTOMER_CAMPAIGN)
        .u64(customer)
        .u64(campaign)
        .build()
}

/// Load a campaign.
pub fn load<R: Reader>(reader: &R, id: u64) -> Result<Campaign> {
    reader
        .get(&campaign_key(id))?
        .ok_or_else(|| Error::not_found("campaign", id))
}

/// The id of the campaign named `name` (compared folded), if there is one.
pub fn find_by_name<R: Reader>(reader: &R, name: &str) -> Result<Option<u64>> {
    let key = name_key(name);
    if let Some(id) = reader.get::<u64>(&key)? {
        return Ok(Some(id));
    }
    // A store written before names were folded indexes a name as it was typed: compare
    // every indexed name folded, chunk by chunk (one entry per campaign, a short index).
    let folded = &key[1..];
    let prefix = [tag::CAMPAIGN_NAME];
    let end = keys::prefix_end(&prefix);
    let mut start = prefix.to_vec();
    loop {
        let chunk = reader.scan_range::<u64>(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else {
            return Ok(None);
        };
        start = last.clone();
        start.push(0);
        for (indexed, id) in &chunk {
            let typed = String::from_utf8_lossy(indexed.get(1..).unwrap_or_default());
            if normalize::fold_name(&typed).as_bytes() == folded {
                return Ok(Some(*id));
            }
        }
        if chunk.len() < CHUNK {
            return Ok(None);
        }
    }
}

/// The campaign an operation names: by `id` or by `name` (any case), exactly one.
fn named<R: Reader>(reader: &R, id: Option<u64>, name: Option<&str>) -> Result<Campaign> {
    match (id, name) {
        (Some(id), None) => load(reader, id),
        (None, Some(name)) => {
            let name = normalize::text("name", name, TEXT_CHARS_MAX)?;
            let id = find_by_name(reader, &name)?
                .ok_or_else(|| Error::not_found("campaign", format!("named «{name}»")))?;
            load(reader, id)
        }
        _ => Err(Error::invalid(
            "campaign",
            "name the campaign by exactly one of campaign (its id) or name",
        )),
    }
}

/// Notifications a customer received, by campaign id (at most 1000).
pub fn notifications_of<R: Reader>(reader: &R, customer: u64) -> Result<Vec<Notification>> {
    let prefix = KeyBuilder::new(tag::CUSTOMER_CAMPAIGN)
        .u64(customer)
        .build();
    Ok(reader
        .scan_prefix::<Notification>(&prefix, TOUCHES_MAX)?
        .into_iter()
        .map(|(_, n)| n)
        .collect())
}

fn resolve_customers<R: Reader>(reader: &R, ctx: &Ctx, refs: &[CustomerRef]) -> Result<Vec<u64>> {
    if refs.len() > CUSTOMERS_MAX {
        return Err(Error::too_large("customers", CUSTOMERS_MAX));
    }
    let mut ids = Vec::with_capacity(refs.len());
    for reference in refs {
        let id = customer::resolve(reader, ctx, reference)?.id;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Arguments of `campaign.create`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateArgs {
    /// Unique name.
    pub name: String,
    /// Period.
    pub period: Period,
    /// Channel.
    pub channel: Channel,
    /// Budget in money.
    #[serde(default, deserialize_with = "crate::amount::decimal")]
    pub budget: Decimal,
    /// Saved segment to target.
    #[serde(default)]
    pub segment: Option<String>,
    /// Or customers to target.
    #[serde(default)]
    pub customers: Option<Vec<CustomerRef>>,
    /// The offer.
    pub offer: Offer,
}

/// `campaign.create`.
pub fn create(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: CreateArgs) -> Result<Campaign> {
    let program = ctx.program()?;
    let name = normalize::text("name", &args.name, TEXT_CHARS_MAX)?;
    name_free(txn, &name)?;
    let period = args.period;
    if period.to < period.from || (period.to - period.from).num_days() > PERIOD_DAYS_MAX {
        return Err(Error::invalid(
            "period",
            format!("to must be from..=from+{PERIOD_DAYS_MAX} days"),
        ));
    }
    if args.budget < Decimal::ZERO
        || args.budget > BUDGET_MAX
        || args.budget.normalize().scale() > 2
    {
        return Err(Error::invalid(
            "budget",
            format!("must be 0..={BUDGET_MAX} with at most 2 decimals"),
        ));
    }
    if args.segment.is_some() && args.customers.is_some() {
        return Err(Error::invalid(
            "segment",
            "give a segment or customers, not both",
        ));
    }
    let segment = match &args.segment {
        Some(name) => Some(segment::load(txn, name)?.name),
        None => None,
    };
    let customers = resolve_customers(txn, ctx, args.customers.as_deref().unwrap_or(&[]))?;
    let offer = checked_offer(&args.offer, program)?;
    let id = next_id(txn, "next_campaign")?;
    let campaign = Campaign {
        id,
        name: name.clone(),
        period,
        channel: args.channel,
        budget: normalize::money(args.budget),
        segment,
        customers,
        offer,
        created_at: ctx.at,
        notified: 0,
        points_granted: normalize::exact_scale(Decimal::ZERO, program.points.scale),
    };
    txn.put(campaign_key(id), &campaign)?;
    txn.put(name_key(&name), &id)?;
    Ok(campaign)
}

/// Arguments of `campaign.notify`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyArgs {
    /// Campaign id (or give `name`).
    #[serde(default)]
    pub campaign: Option<u64>,
    /// Campaign name, any case (instead of `campaign`).
    #[serde(default)]
    pub name: Option<String>,
    /// A saved segment (instead of the campaign's own audience).
    #[serde(default)]
    pub segment: Option<String>,
    /// Or these customers.
    #[serde(default)]
    pub customers: Option<Vec<CustomerRef>>,
    /// Most customers to notify from a segment in this call (1..=5000, default 1000).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Customer id the previous call ended at (segments).
    #[serde(default)]
    pub after: Option<u64>,
}

/// A customer not notified, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    /// Customer.
    pub customer: u64,
    /// `already_notified`, `no_consent`, `blacklisted`, `blocked` or `erased`.
    pub reason: String,
}

/// `campaign.notify` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notified {
    /// Campaign.
    pub campaign: u64,
    /// Customers told now (the host sends the messages).
    pub notified: Vec<u64>,
    /// Customers not told, with the reason.
    pub skipped: Vec<Skipped>,
    /// Bonus points granted to each.
    pub points: Option<Decimal>,
    /// For a segment: pass as `after` to carry on; absent when done.
    pub next: Option<u64>,
}

/// `campaign.notify`: record who was told, once per customer, respecting consent for
/// the campaign's channel and the blacklist; grant the offer's points.
pub fn notify(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: NotifyArgs) -> Result<Notified> {
    let program = ctx.program()?;
    let mut campaign = named(txn, args.campaign, args.name.as_deref())?;
    if ctx.today > campaign.period.to {
        return Err(Error::invalid(
            "campaign",
            format!("campaign {} ended on {}", campaign.name, campaign.period.to),
        ));
    }
    let limit = NOTIFY_PAGE.of(args.limit)?;
    let (candidates, next) = candidates(txn, ctx, &campaign, &args, limit)?;
    let mut notified = Vec::new();
    let mut skipped = Vec::new();
    for id in candidates {
        let customer = customer::load(txn, id)?;
        let refusal = if txn.contains(&notified_key(campaign.id, id))? {
            Some("already_notified")
        } else {
            segment::contact_refusal(&customer, campaign.channel)
        };
        if let Some(reason) = refusal {
            skipped.push(Skipped {
                customer: id,
                reason: reason.to_string(),
            });
            continue;
        }
        let notification = notify_one(txn, ctx, program, &campaign, id)?;
        campaign.notified += 1;
        campaign.points_granted += notification.points;
        notified.push(id);
    }
    txn.put(campaign_key(campaign.id), &campaign)?;
    Ok(Notified {
        campaign: campaign.id,
        notified,
        skipped,
        points: campaign.offer.points,
        next,
    })
}

/// A campaign name is free when no campaign has it, ignoring case.
fn name_free(txn: &WriteTxn<'_>, name: &str) -> Result<()> {
    let Some(existing) = find_by_name(txn, name)? else {
        return Ok(());
    };
    let other = load(txn, existing)?;
    Err(Error::new(
        ErrorCode::AlreadyExists,
        format!(
            "campaign name «{name}» is taken by campaign {existing} «{}» (names are compared ignoring case)",
            other.name
        ),
    )
    .with_details(
        json!({ "field": "name", "value": name, "campaign": existing, "name": other.name }),
    ))
}

/// The offer as stored: its text, points at the programme's scale, a discount code.
fn checked_offer(offer: &Offer, program: &Program) -> Result<Offer> {
    Ok(Offer {
        text: normalize::text("offer.text", &offer.text, 1000)?,
        points: offer
            .points
            .map(|p| check_points("offer.points", p, program.points.scale))
            .transpose()?,
        discount_code: offer
            .discount_code
            .as_deref()
            .map(|c| normalize::identifier("offer.discount_code", c))
            .transpose()?,
    })
}

/// Who a call notifies: a segment's page (the call's or the campaign's), the customers
/// listed in the call, or the campaign's own list; with the cursor of the next page.
fn candidates(
    txn: &WriteTxn<'_>,
    ctx: &Ctx,
    campaign: &Campaign,
    args: &NotifyArgs,
    limit: usize,
) -> Result<(Vec<u64>, Option<u64>)> {
    let segment_name = match (&args.segment, &args.customers) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "segment",
                "give a segment or customers, not both",
            ));
        }
        (Some(name), None) => Some(name.clone()),
        (None, Some(_)) => None,
        (None, None) => campaign.segment.clone(),
    };
    Ok(match (&segment_name, &args.customers) {
        (Some(name), _) => {
            let filter: Filter = segment::load(txn, name)?.filter;
            let (found, _, next) = segment::matching(txn, ctx.today, &filter, args.after, limit)?;
            (found.iter().map(|c| c.id).collect::<Vec<u64>>(), next)
        }
        (None, Some(refs)) => (resolve_customers(txn, ctx, refs)?, None),
        (None, None) => (campaign.customers.clone(), None),
    })
}

/// Notify one customer: the offer's points (burning when the campaign ends) and the
/// records that attribute their next visits to the campaign.
fn notify_one(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    program: &Program,
    campaign: &Campaign,
    id: u64,
) -> Result<Notification> {
    let points = campaign.offer.points.unwrap_or(Decimal::ZERO);
    if points > Decimal::ZERO {
        let mut book = Book::load(txn, id)?;
        book.settle(ctx)?;
        book.credit(
            ctx,
            Credit::new(EntryKind::Bonus, points)
                .expiring(Some(campaign.period.to))
                .because(format!("campaign {}: {}", campaign.id, campaign.name)),
        )?;
        book.save(txn)?;
    }
    let notification = Notification {
        campaign: campaign.id,
        customer: id,
        at: ctx.at,
        channel: campaign.channel,
        points: normalize::exact_scale(points, program.points.scale),
    };
    txn.put(notified_key(campaign.id, id), &notification)?;
    txn.put(touch_key(id, campaign.id), &notification)?;
    Ok(notification)
}

/// Arguments of `campaign.list`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Page size (1..=1000, default 100).
    #[serde(default)]
    pub limit: Option<usize>,
    /// The last id of the previous page: the next page lists older campaigns.
    #[serde(default)]
    pub after: Option<u64>,
}

/// A campaign in `campaign.list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Period.
    pub period: Period,
    /// Channel.
    pub channel: Channel,
    /// Budget.
    pub budget: Decimal,
    /// Saved segment it targets.
    pub segment: Option<String>,
    /// Customers it names (when it targets a list rather than a segment).
    pub named_customers: u64,
    /// Text of the offer.
    pub offer: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Customers notified so far.
    pub notified: u64,
    /// Bonus points granted so far.
    pub points_granted: Decimal,
}

/// A page of `campaign.list`: campaigns newest first; `next` is the `after` of the next.
pub type ListPage = Page<Brief, u64>;

/// Pages of `campaign.list`.
pub const LIST_PAGE: PageSize = PageSize::new(100, 1000);

/// `campaign.list`: campaigns newest first (by id, which follows creation), paged.
pub fn list<R: Reader>(reader: &R, args: &ListArgs) -> Result<ListPage> {
    let limit = LIST_PAGE.of(args.limit)?;
    let start = vec![tag::CAMPAIGN];
    let end = match args.after {
        Some(after) => campaign_key(after),
        None => keys::prefix_end(&start),
    };
    let rows = reader.scan_range::<Campaign>(&start, &end, limit + 1, true)?;
    let more = rows.len() > limit;
    let items: Vec<Brief> = rows
        .into_iter()
        .take(limit)
        .map(|(_, c)| Brief {
            id: c.id,
            name: c.name,
            period: c.period,
            channel: c.channel,
            budget: c.budget,
            segment: c.segment,
            named_customers: c.customers.len() as u64,
            offer: c.offer.text,
            created_at: c.created_at,
            notified: c.notified,
            points_granted: c.points_granted,
        })
        .collect();
    let next = if more {
        items.last().map(|c| c.id)
    } else {
        None
    };
    Ok(ListPage { items, next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::local::Local;
    use crate::store::sled_backend::{SledBackend, SledOptions};
    use crate::store::{Durability, Store};

    /// A store written before names were folded holds the name index as typed; a name
    /// is still found, and still taken, in any case.
    #[test]
    fn names_indexed_as_typed_are_found_in_any_case() {
        let path =
            std::env::temp_dir().join(format!("pitstop-campaign-names-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        let (backend, _) = SledBackend::open(&path, &SledOptions::default()).unwrap();
        let store = Store::new(Box::new(Local::new(backend)), 0, Durability::Durable);
        let mut txn = store.write().unwrap();
        for (id, typed) in [(3u64, "Весенний Шиномонтаж"), (4, "Осень")] {
            txn.put(KeyBuilder::new(tag::CAMPAIGN_NAME).str(typed).build(), &id)
                .unwrap();
        }
        txn.commit().unwrap();
        let reader = store.write().unwrap();
        assert_eq!(
            find_by_name(&reader, "весенний  шиномонтаж").unwrap(),
            Some(3)
        );
        assert_eq!(find_by_name(&reader, "ОСЕНЬ").unwrap(), Some(4));
        assert_eq!(find_by_name(&reader, "Зима").unwrap(), None);
        drop(reader);
        drop(store);
        let _ = std::fs::remove_dir_all(&path);
    }
}
