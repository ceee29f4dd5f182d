//! The operation table: every operation of the contract, once. Front doors find an
//! operation here by name; nothing else dispatches.

use crate::context::Ctx;
use crate::customer::{self, Customer, CustomerRef};
use crate::error::{Error, Result};
use crate::json::decode_args;
use crate::ledger::{Book, EntryKind};
use crate::plugin::hook::{self as plugin_hook, Plugins};
use crate::points::{self, Balance};
use crate::session::{Session, load_program};
use crate::store::{Reader, WriteTxn};
use crate::tier::{self, WindowStats};
use crate::vehicle::{self, Vehicle, VehicleRef};
use crate::visit::{self, Visit};
use crate::{
    check, checkout, feedback, jobs, order, plugin, recommendation, refund, reminder, tyre_storage,
};
use chrono::Duration;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One operation of the contract.
pub struct OpSpec {
    /// `noun.verb` name.
    pub name: &'static str,
    /// Whether it changes state (takes `idempotency_key`).
    pub mutates: bool,
    /// One line for the reference.
    pub summary: &'static str,
    pub(crate) run: fn(&Session, &str, Map<String, Value>) -> Result<Value>,
    pub(crate) validate: fn(Value) -> Result<()>,
}

macro_rules! op {
    ($name:literal, $mutates:literal, $args:ty, $summary:literal, $run:expr) => {
        OpSpec {
            name: $name,
            mutates: $mutates,
            summary: $summary,
            run: $run,
            validate: |value| decode_args::<$args>(value).map(|_| ()),
        }
    };
}

/// After a `plugin.*` write: the process's set of enabled plugins follows the store.
fn reload_plugins(session: &Session, written: Result<Value>) -> Result<Value> {
    let value = written?;
    session.plugins().reload(session.store())?;
    Ok(value)
}

/// Every operation.
pub static OPS: &[OpSpec] = &[
    op!(
        "customer.register",
        true,
        customer::RegisterArgs,
        "register a customer (welcome bonus, registration plugins, optional card)",
        |e, op, a| {
            let plugins = e.plugin_snapshot();
            e.write_op(op, a, |t, ctx, args| register(t, ctx, &plugins, args))
        }
    ),
    op!(
        "customer.get",
        false,
        GetCustomerArgs,
        "a customer's card: profile, cards, vehicles, balance, tier, last visits",
        |e, _, a| e.read_op(a, |r, ctx, args: GetCustomerArgs| customer_view(
            r,
            ctx,
            &args.customer
        ))
    ),
    op!(
        "customer.find",
        false,
        customer::FindArgs,
        "find customers by name or phone prefix, or by an identifier",
        |e, _, a| e.read_op(a, |r, ctx, args: customer::FindArgs| customer::find(
            r, ctx, &args
        ))
    ),
    op!(
        "customer.update",
        true,
        customer::UpdateArgs,
        "change a customer's fields (absent stays, null clears)",
        |e, op, a| e.write_op(op, a, customer::update)
    ),
    op!(
        "customer.export",
        false,
        crate::personal_data::ExportArgs,
        "everything known about one customer (profile, consent history, cards, vehicles, visits, ledger, referral, campaigns)",
        |e, _, a| e.read_op(a, |r, ctx, args: crate::personal_data::ExportArgs| {
            crate::personal_data::export(r, ctx, &args)
        })
    ),
    op!(
        "customer.erase",
        true,
        crate::personal_data::EraseArgs,
        "erase a customer's personal data; anonymous figures stay and balance",
        |e, op, a| e.write_op(op, a, crate::personal_data::erase)
    ),
    op!(
        "card.issue",
        true,
        customer::IssueCardArgs,
        "issue a card (generated EAN-13 when no number is given)",
        |e, op, a| e.write_op(op, a, issue_card)
    ),
    op!(
        "card.block",
        true,
        customer::BlockCardArgs,
        "block a lost card, optionally reissue; the balance stays",
        |e, op, a| e.write_op(op, a, block_card)
    ),
    op!(
        "vehicle.add",
        true,
        vehicle::AddArgs,
        "add a vehicle to a customer (or transfer it)",
        |e, op, a| e.write_op(op, a, |t, ctx, args: vehicle::AddArgs| {
            let owner = customer::resolve(t, ctx, &args.customer)?;
            vehicle::add(t, ctx, owner.id, args)
        })
    ),
    op!(
        "vehicle.mileage",
        true,
        vehicle::MileageArgs,
        "record an odometer reading",
        |e, op, a| e.write_op(op, a, |t, ctx, args| {
            let reading = vehicle::mileage(t, ctx, args)?;
            reminder::on_mileage(t, ctx, &reading.vehicle)?;
            Ok(reading)
        })
    ),
    op!(
        "vehicle.get",
        false,
        GetVehicleArgs,
        "a vehicle with its readings and daily mileage",
        |e, _, a| e.read_op(a, |r, _, args: GetVehicleArgs| vehicle_view(
            r,
            &args.vehicle
        ))
    ),
    op!(
        "visit.get",
        false,
        GetVisitArgs,
        "a visit by id or host order id",
        |e, _, a| e.read_op(a, |r, _, args: GetVisitArgs| get_visit(r, &args))
    ),
    op!(
        "visit.list",
        false,
        ListVisitsArgs,
        "a customer's latest visits",
        |e, _, a| e.read_op(a, |r, ctx, args: ListVisitsArgs| list_visits(r, ctx, &args))
    ),
    op!(
        "visit.import",
        true,
        crate::history::ImportArgs,
        "record historical visits from another system (no points, no plugins; re-run safe)",
        |e, op, a| e.write_op(op, a, crate::history::import)
    ),
    op!(
        "visit.export",
        false,
        crate::history::PageArgs,
        "every visit in id order, paged",
        |e, _, a| e.read_op(a, |r, _, args: crate::history::PageArgs| {
            crate::history::visits(r, &args)
        })
    ),
    op!(
        "customer.list",
        false,
        crate::history::PageArgs,
        "every customer in id order, paged",
        |e, _, a| e.read_op(a, |r, _, args: crate::history::PageArgs| {
            crate::history::customers(r, &args)
        })
    ),
    op!(
        "ledger.export",
        false,
        crate::history::LedgerPageArgs,
        "every ledger entry by customer and sequence, paged",
        |e, _, a| e.read_op(a, |r, _, args: crate::history::LedgerPageArgs| {
            crate::history::ledger_page(r, &args)
        })
    ),
    op!(
        "program.get",
        false,
        ProgramGetArgs,
        "the current programme (or a given version)",
        |e, _, a| e.read_op(a, |r, ctx, args: ProgramGetArgs| match args.version {
            Some(version) => load_program(r, version),
            None => ctx.program().cloned(),
        })
    ),
    op!(
        "program.set",
        true,
        crate::program::ProgramSetArgs,
        "validate and store a new programme version",
        |e, op, a| e.set_program(op, a)
    ),
    op!(
        "checkout.quote",
        false,
        checkout::CheckoutArgs,
        "price a basket; changes nothing",
        |e, _, a| {
            let plugins = e.plugin_snapshot();
            e.read_op(a, |r, ctx, args: checkout::CheckoutArgs| {
                checkout::quote(r, ctx, &plugins, &args)
            })
        }
    ),
    op!(
        "checkout.commit",
        true,
        checkout::CheckoutArgs,
        "price and record a visit atomically",
        |e, op, a| {
            let plugins = e.plugin_snapshot();
            e.write_op(op, a, |t, ctx, args: checkout::CheckoutArgs| {
                checkout::commit(t, ctx, &plugins, &args)
            })
        }
    ),
    op!(
        "checkout.refund",
        true,
        refund::RefundArgs,
        "refund a visit whole or by lines",
        |e, op, a| e.write_op(op, a, |t, ctx, args: refund::RefundArgs| refund::refund(
            t, ctx, &args
        ))
    ),
    op!(
        "points.balance",
        false,
        points::CustomerArgs,
        "available, pending, held, total, next expiries",
        |e, _, a| e.read_op(a, |r, ctx, args: points::CustomerArgs| points::balance(
            r, ctx, &args
        ))
    ),
    op!(
        "points.statement",
        false,
        points::StatementArgs,
        "ledger entries, newest first, paged",
        |e, _, a| e.read_op(a, |r, ctx, args: points::StatementArgs| points::statement(
            r, ctx, &args
        ))
    ),
    op!(
        "points.adjust",
        true,
        points::AdjustArgs,
        "manual credit or debit with reason and operator",
        |e, op, a| e.write_op(op, a, |t, ctx, args: points::AdjustArgs| points::adjust(
            t, ctx, &args
        ))
    ),
    op!(
        "points.hold",
        true,
        points::HoldArgs,
        "reserve points for a two-step payment",
        |e, op, a| e.write_op(op, a, |t, ctx, args: points::HoldArgs| points::hold(
            t, ctx, &args
        ))
    ),
    op!(
        "points.capture",
        true,
        points::CaptureArgs,
        "capture a hold (fully or partly)",
        |e, op, a| e.write_op(op, a, |t, ctx, args: points::CaptureArgs| points::capture(
            t, ctx, &args
        ))
    ),
    op!(
        "points.release",
        true,
        points::ReleaseArgs,
        "release a hold",
        |e, op, a| e.write_op(op, a, |t, ctx, args: points::ReleaseArgs| points::release(
            t, ctx, &args
        ))
    ),
    op!(
        "plugin.install",
        true,
        plugin::InstallArgs,
        "install (or with replace: true, replace) a WASM promotion plugin",
        |e, op, a| {
            // Compiling takes milliseconds: it happens before the writer lock is taken.
            let (wasm, module) = plugin::prepare_install(e.plugins(), &a)?;
            let installed = e.write_op(op, a, |t, ctx, args| {
                plugin::store_plugin(t, ctx, args, &wasm, &module)
            });
            reload_plugins(e, installed)
        }
    ),
    op!(
        "plugin.list",
        false,
        plugin::ListArgs,
        "installed plugins with sha256, hooks, config, priority, limits",
        |e, _, a| e.read_op(a, |r, _, _: plugin::ListArgs| plugin::list(r))
    ),
    op!(
        "plugin.enable",
        true,
        plugin::NameArgs,
        "call a plugin again",
        |e, op, a| {
            let changed = e.write_op(op, a, |t, ctx, args| {
                plugin::set_enabled(t, ctx, args, true)
            });
            reload_plugins(e, changed)
        }
    ),
    op!(
        "plugin.disable",
        true,
        plugin::NameArgs,
        "stop calling a plugin (it stays installed)",
        |e, op, a| {
            let changed = e.write_op(op, a, |t, ctx, args| {
                plugin::set_enabled(t, ctx, args, false)
            });
            reload_plugins(e, changed)
        }
    ),
    op!(
        "plugin.remove",
        true,
        plugin::NameArgs,
        "uninstall a plugin and, unless shared, its module bytes",
        |e, op, a| {
            let removed = e.write_op(op, a, |t, _, args| plugin::remove(t, args));
            reload_plugins(e, removed)
        }
    ),
    op!(
        "jobs.daily",
        true,
        jobs::DailyArgs,
        "expire, release, lapse holds, birthdays, tier reviews",
        |e, op, a| e.run_daily(op, a)
    ),
    op!(
        "report.activity",
        false,
        crate::report::PeriodArgs,
        "customers served, returning share, average check, revenue and points by month",
        |e, _, a| e.report_op(a, |r, ctx, args: crate::report::PeriodArgs| {
            crate::report::activity(r, ctx, &args)
        })
    ),
    op!(
        "report.points",
        false,
        NoArgs,
        "points issued, redeemed, expired, outstanding and the money liability",
        |e, _, a| e.report_op(a, |r, ctx, _: NoArgs| crate::report::points(r, ctx))
    ),
    op!(
        "referral.code",
        true,
        crate::referral::CodeArgs,
        "a customer's referral code (created on first request)",
        |e, op, a| e.write_op(op, a, crate::referral::code)
    ),
    op!(
        "report.referrals",
        false,
        crate::referral::ReportArgs,
        "who brought whom: signup rewards, cashback, revenue of the referees",
        |e, _, a| e.report_op(a, |r, ctx, args: crate::referral::ReportArgs| {
            crate::referral::report(r, ctx, &args)
        })
    ),
    op!(
        "segment.save",
        true,
        crate::segment::SaveArgs,
        "save (or replace) a named filter over customer, car and history fields",
        |e, op, a| e.write_op(op, a, crate::segment::save)
    ),
    op!(
        "segment.list",
        false,
        NoArgs,
        "saved segments with their filters",
        |e, _, a| e.read_op(a, |r, _, _: NoArgs| crate::segment::list(r))
    ),
    op!(
        "segment.preview",
        false,
        crate::segment::PreviewArgs,
        "customers a filter or a saved segment matches, paged",
        |e, _, a| e.report_op(a, |r, ctx, args: crate::segment::PreviewArgs| {
            crate::segment::preview(r, ctx, &args)
        })
    ),
    op!(
        "campaign.create",
        true,
        crate::campaign::CreateArgs,
        "create a campaign: period, channel, budget, audience, offer",
        |e, op, a| e.write_op(op, a, crate::campaign::create)
    ),
    op!(
        "campaign.notify",
        true,
        crate::campaign::NotifyArgs,
        "record who was told (once each, consent and blacklist respected); grant the offer's points",
        |e, op, a| e.write_op(op, a, crate::campaign::notify)
    ),
    op!(
        "campaign.list",
        false,
        crate::campaign::ListArgs,
        "campaigns newest first with name, period, channel and budget, paged",
        |e, _, a| e.read_op(a, |r, _, args: crate::campaign::ListArgs| {
            crate::campaign::list(r, &args)
        })
    ),
    op!(
        "campaign.report",
        false,
        crate::campaign::ReportArgs,
        "notified, came, conversion, revenue, cost per customer brought, points spent",
        |e, _, a| e.report_op(a, |r, ctx, args: crate::campaign::ReportArgs| {
            crate::campaign::report(r, ctx, &args)
        })
    ),
    op!(
        "recommendation.add",
        true,
        recommendation::AddArgs,
        "record a work recommended at a visit and declined (defect sheet)",
        |e, op, a| e.write_op(op, a, recommendation::add)
    ),
    op!(
        "recommendation.close",
        true,
        recommendation::CloseArgs,
        "close a recommendation: done_here, done_elsewhere or cancelled (the record stays)",
        |e, op, a| e.write_op(op, a, recommendation::close)
    ),
    op!(
        "recommendation.list",
        false,
        recommendation::ListArgs,
        "a customer's or a car's recommendations, newest first",
        |e, _, a| e.read_op(a, |r, ctx, args: recommendation::ListArgs| {
            recommendation::list(r, ctx, &args)
        })
    ),
    op!(
        "storage.checkin",
        true,
        tyre_storage::CheckinArgs,
        "take a tyre set into seasonal storage",
        |e, op, a| e.write_op(op, a, tyre_storage::checkin)
    ),
    op!(
        "storage.checkout",
        true,
        tyre_storage::CheckoutArgs,
        "hand a stored tyre set back",
        |e, op, a| e.write_op(op, a, tyre_storage::checkout)
    ),
    op!(
        "storage.list",
        false,
        tyre_storage::ListArgs,
        "a customer's stored sets, or every set in storage now (paged)",
        |e, _, a| e.read_op(a, |r, ctx, args: tyre_storage::ListArgs| {
            tyre_storage::list(r, ctx, &args)
        })
    ),
    op!(
        "order.create",
        true,
        order::CreateArgs,
        "order a part for a customer",
        |e, op, a| e.write_op(op, a, order::create)
    ),
    op!(
        "order.arrived",
        true,
        order::IdArgs,
        "a special order arrived: the customer is due for a call",
        |e, op, a| e.write_op(op, a, order::arrived)
    ),
    op!(
        "order.handed_over",
        true,
        order::IdArgs,
        "a special order was handed to the customer",
        |e, op, a| e.write_op(op, a, order::handed_over)
    ),
    op!(
        "order.list",
        false,
        order::ListArgs,
        "a customer's special orders, or every order (paged), optionally by status",
        |e, _, a| e.read_op(a, |r, ctx, args: order::ListArgs| order::list(
            r, ctx, &args
        ))
    ),
    op!(
        "feedback.add",
        true,
        feedback::AddArgs,
        "record a rating, review, complaint or praise (bonus once per visit if the programme gives one)",
        |e, op, a| e.write_op(op, a, feedback::add)
    ),
    op!(
        "report.complaints",
        false,
        feedback::ComplaintsArgs,
        "complaints and ratings by employee and by month",
        |e, _, a| e.report_op(a, |r, _, args: feedback::ComplaintsArgs| {
            feedback::complaints(r, &args)
        })
    ),
    op!(
        "reminders.due",
        false,
        reminder::DueArgs,
        "who should be contacted on a date and why, with the text (a pure read, paged)",
        |e, _, a| e.read_op(a, |r, ctx, args: reminder::DueArgs| reminder::due(
            r, ctx, &args
        ))
    ),
    op!(
        "reminders.mark",
        true,
        reminder::MarkArgs,
        "record what was done about a reminder: sent, failed or declined",
        |e, op, a| e.write_op(op, a, reminder::mark)
    ),
    op!(
        "store.backup",
        false,
        BackupArgs,
        "write a consistent, checksummed backup file",
        |e, _, a| {
            let args: BackupArgs = decode_args(Value::Object(a))?;
            let summary = e.backup(std::path::Path::new(&args.path))?;
            serde_json::to_value(summary).map_err(|err| Error::internal(err.to_string()))
        }
    ),
    op!(
        "store.check",
        false,
        NoArgs,
        "verify every record's checksum and every account's invariants",
        |e, _, a| e.read_op(a, |r, ctx, _: NoArgs| check::check(r, ctx))
    ),
    op!(
        "store.stats",
        false,
        NoArgs,
        "size on disk against the raw size of the data",
        |e, _, a| e.read_op(a, |r, _, _: NoArgs| check::stats(r, e.store()))
    ),
];

/// Find an operation by name.
pub fn find(name: &str) -> Option<&'static OpSpec> {
    OPS.iter().find(|spec| spec.name == name)
}

/// Names of every operation.
pub fn names() -> Vec<&'static str> {
    OPS.iter().map(|spec| spec.name).collect()
}

/// Arguments that are only a customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetCustomerArgs {
    /// Who.
    pub customer: CustomerRef,
}

/// Arguments of `vehicle.get`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetVehicleArgs {
    /// Which.
    pub vehicle: VehicleRef,
}

/// Arguments of `visit.get`: one of the two.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetVisitArgs {
    /// Visit id.
    #[serde(default)]
    pub visit: Option<u64>,
    /// Host order id.
    #[serde(default)]
    pub order_id: Option<String>,
}

/// Arguments of `visit.list`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListVisitsArgs {
    /// Whose.
    pub customer: CustomerRef,
    /// How many (1..=200, default 20).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Arguments of `program.get`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramGetArgs {
    /// A past version.
    #[serde(default)]
    pub version: Option<u32>,
}

/// Arguments of `store.backup`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupArgs {
    /// Destination file.
    pub path: String,
}

/// No arguments.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

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

fn register(
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
            EntryKind::Welcome,
            bonus.points,
            expires_on,
            None,
            None,
            Some("welcome".into()),
            None,
        )?;
        welcome = bonus.points;
    }
    let mut effects = plugin_hook::registration(plugins, txn, ctx, program, &customer, &book)?;
    let tags_before = customer.tags.clone();
    plugin_hook::commit_effects(ctx, &mut customer, &mut book, None, &mut effects.outcomes)?;
    if customer.tags != tags_before {
        customer::save(txn, &customer)?;
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

fn issue_card(
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

fn block_card(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    args: customer::BlockCardArgs,
) -> Result<CardBlocked> {
    let (blocked, new_card) = customer::block_card(txn, ctx, args)?;
    Ok(CardBlocked { blocked, new_card })
}

/// A tier with progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TierView {
    /// Current code.
    pub code: Option<String>,
    /// Current display name.
    pub name: Option<String>,
    /// Benefits.
    pub benefits: Vec<String>,
    /// Spend and visits in the window.
    pub window: WindowStats,
    /// Next tier code.
    pub next: Option<String>,
    /// Spend missing for it.
    pub spend_missing: Option<Decimal>,
    /// Visits missing for it.
    pub visits_missing: Option<u32>,
}

/// `customer.get` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomerView {
    /// Profile.
    pub customer: Customer,
    /// Vehicles.
    pub vehicles: Vec<Vehicle>,
    /// Points.
    pub balance: Option<Balance>,
    /// Tier.
    pub tier: Option<TierView>,
    /// Latest visits.
    pub last_visits: Vec<VisitBrief>,
    /// Works recommended and not yet done (defect sheet), newest first.
    #[serde(default)]
    pub open_recommendations: Vec<recommendation::Recommendation>,
    /// Tyre sets in storage now.
    #[serde(default)]
    pub tyre_storage: Vec<tyre_storage::TyreStorage>,
    /// Special orders not yet handed over.
    #[serde(default)]
    pub special_orders: Vec<order::SpecialOrder>,
}

/// A visit in a list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisitBrief {
    /// Id.
    pub visit: u64,
    /// Host order id.
    pub order_id: String,
    /// Date.
    pub date: chrono::NaiveDate,
    /// Net amount.
    pub net: Decimal,
    /// Points paid.
    pub points: Decimal,
    /// Points earned.
    pub accrual: Decimal,
    /// Vehicle.
    pub vehicle: Option<u64>,
    /// Mileage.
    pub mileage: Option<u32>,
    /// Refunds made.
    pub refunds: usize,
}

impl From<&Visit> for VisitBrief {
    fn from(v: &Visit) -> Self {
        VisitBrief {
            visit: v.id,
            order_id: v.order_id.clone(),
            date: v.date,
            net: v.totals.net,
            points: v.totals.points,
            accrual: v.totals.accrual,
            vehicle: v.vehicle,
            mileage: v.mileage,
            refunds: v.refunds.len(),
        }
    }
}

fn customer_view<R: Reader>(
    reader: &R,
    ctx: &Ctx,
    reference: &CustomerRef,
) -> Result<CustomerView> {
    let customer = customer::resolve(reader, ctx, reference)?;
    let vehicles = vehicle::of_customer(reader, customer.id)?;
    let last_visits = visit::latest(reader, customer.id, 5)?
        .iter()
        .map(VisitBrief::from)
        .collect();
    let (balance, tier) = match ctx.program.as_deref() {
        Some(program) => {
            let mut book = Book::load(reader, customer.id)?;
            book.settle(ctx)?;
            let stats = tier::window_stats(reader, program, customer.id, ctx.today)?;
            let current = customer.tier.as_deref().and_then(|code| program.tier(code));
            let next = tier::next_tier(program, customer.tier.as_deref(), &stats);
            let view = TierView {
                code: customer.tier.clone(),
                name: current.map(|t| t.name.clone()),
                benefits: current.map(|t| t.benefits.clone()).unwrap_or_default(),
                window: stats.clone(),
                next: next.map(|(t, _, _)| t.code.clone()),
                spend_missing: next.map(|(_, s, _)| s),
                visits_missing: next.map(|(_, _, v)| v),
            };
            (
                Some(points::balance_of(&book, program.points.value, ctx.today)),
                Some(view),
            )
        }
        None => (None, None),
    };
    let open_recommendations = recommendation::open_of_customer(reader, customer.id)?;
    let tyre_storage =
        tyre_storage::of_customer(reader, customer.id, true, tyre_storage::LIST_MAX)?;
    let special_orders = order::open_of_customer(reader, customer.id)?;
    Ok(CustomerView {
        customer,
        vehicles,
        balance,
        tier,
        last_visits,
        open_recommendations,
        tyre_storage,
        special_orders,
    })
}

/// `vehicle.get` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VehicleView {
    /// The vehicle.
    pub vehicle: Vehicle,
    /// Readings, oldest first (last 100).
    pub readings: Vec<vehicle::MileageReading>,
    /// Estimated km per day.
    pub daily_km: Option<Decimal>,
}

fn vehicle_view<R: Reader>(reader: &R, reference: &VehicleRef) -> Result<VehicleView> {
    let vehicle = vehicle::resolve(reader, reference)?;
    let readings = vehicle::readings(reader, vehicle.id, 10_000)?;
    let daily_km = vehicle::daily_km(&readings);
    let keep_from = readings.len().saturating_sub(100);
    Ok(VehicleView {
        vehicle,
        readings: readings[keep_from..].to_vec(),
        daily_km,
    })
}

fn get_visit<R: Reader>(reader: &R, args: &GetVisitArgs) -> Result<Visit> {
    match (&args.visit, &args.order_id) {
        (Some(id), None) => visit::load(reader, *id),
        (None, Some(order_id)) => {
            let id = visit::by_order(reader, order_id)?
                .ok_or_else(|| Error::not_found("order", order_id))?;
            visit::load(reader, id)
        }
        _ => Err(Error::invalid(
            "visit",
            "give exactly one of visit, order_id",
        )),
    }
}

fn list_visits<R: Reader>(reader: &R, ctx: &Ctx, args: &ListVisitsArgs) -> Result<Vec<VisitBrief>> {
    let limit = args.limit.unwrap_or(20);
    if limit == 0 || limit > 200 {
        return Err(Error::invalid("limit", "must be 1..=200"));
    }
    let customer = customer::resolve(reader, ctx, &args.customer)?;
    Ok(visit::latest(reader, customer.id, limit)?
        .iter()
        .map(VisitBrief::from)
        .collect())
}
