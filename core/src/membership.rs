//! Joining and cards as operations: registering a customer (welcome bonus, a referral
//! code, registration plugins, an optional first card) and issuing or blocking a card
//! with what the ledger keeps.

use crate::context::Ctx;
use crate::customer::{self, Customer};
use crate::error::{Error, Result};
use crate::ledger::{Book, Credit, EntryKind};
use crate::plugin;
use crate::plugin::hook::{self as plugin_hook, Plugins};
use crate::points::{self, Balance};
use crate::store::WriteTxn;
use chrono::Duration;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `customer.register` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registered {
    /// The customer.
    pub customer: Customer,
    /// Welcome bonus granted.
    pub welcome_bonus: Decimal,
    /// Balance after.
    pub balance: Balance,
    /// Messages from registration plugins (welcome offers).
    pub messages: Vec<crate::wording::Message>,
    /// What each registration plugin did.
    pub plugins: Vec<plugin::PluginOutcome>,
    /// The referrer the customer was linked to by `referral_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<crate::referral::Linked>,
}

pub(crate) fn register(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    plugins: &Plugins<'_>,
    args: customer::RegisterArgs,
) -> Result<Registered> {
    let program = ctx.program()?;
    // A customer migrated from another system is not new to the shop: no welcome
    // bonus, no registration plugins (their balance comes as an opening balance).
    let imported = args.import;
    let referral_code = args.referral_code.clone();
    if imported && referral_code.is_some() {
        // A migrated customer already existed: referral rewards are for new customers.
        return Err(Error::invalid(
            "referral_code",
            "a customer imported from another system already existed and cannot be referred",
        ));
    }
    let mut customer = customer::register(txn, ctx, args)?;
    let referral = referral_code
        .map(|code| crate::referral::link(txn, ctx, &customer, &code))
        .transpose()?;
    let mut book = Book::load(txn, customer.id)?;
    let mut welcome = Decimal::ZERO;
    if imported {
        let balance = points::balance_of(&book, program.points.value, ctx.today);
        return Ok(Registered {
            customer,
            welcome_bonus: welcome,
            balance,
            messages: Vec::new(),
            plugins: Vec::new(),
            referral: None,
        });
    }
    if let Some(bonus) = &program.welcome_bonus {
        let expires_on = match bonus.expiry_days {
            Some(days) => Some(ctx.today + Duration::days(i64::from(days))),
            None => program.expiry_date(ctx.today),
        };
        book.credit(
            ctx,
            Credit::new(EntryKind::Welcome, bonus.points)
                .expiring(expires_on)
                .because("welcome".to_string()),
        )?;
        welcome = bonus.points;
    }
    let mut effects = plugin_hook::registration(plugins, txn, ctx, program, &customer, &book)?;
    let tags_before = customer.tags.clone();
    plugin_hook::commit_effects(ctx, &mut customer, &mut book, None, &mut effects.outcomes)?;
    if customer.tags != tags_before {
        customer::save(txn, &customer)?;
        customer::record_tags(txn, customer.id, &tags_before, &customer.tags);
    }
    let balance = points::balance_of(&book, program.points.value, ctx.today);
    book.save(txn)?;
    Ok(Registered {
        customer,
        welcome_bonus: welcome,
        balance,
        messages: effects.messages,
        plugins: effects.outcomes,
        referral,
    })
}

/// `card.issue` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CardIssued {
    /// Owner after the change.
    pub customer: Customer,
    /// The new card.
    pub card: customer::Card,
}

pub(crate) fn issue_card(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    args: customer::IssueCardArgs,
) -> Result<CardIssued> {
    let owner = customer::resolve(txn, ctx, &args.customer)?;
    let (customer, card) =
        customer::issue_card(txn, ctx, owner, args.number.as_deref(), args.replace)?;
    Ok(CardIssued { customer, card })
}

/// `card.block` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CardBlocked {
    /// The blocked card.
    pub blocked: customer::Card,
    /// Its replacement.
    pub new_card: Option<customer::Card>,
}

pub(crate) fn block_card(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    args: customer::BlockCardArgs,
) -> Result<CardBlocked> {
    let (blocked, new_card) = customer::block_card(txn, ctx, args)?;
    Ok(CardBlocked { blocked, new_card })
}
