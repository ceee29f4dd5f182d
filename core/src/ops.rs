//! The operation table: every operation of the contract, once. Front doors find an
//! operation here by name; nothing else dispatches.

use crate::customer::{self};
use crate::error::{Error, Result};
use crate::json::decode_args;
use crate::membership::{block_card, issue_card, register};
use crate::points::{self};
use crate::session::{Session, load_program};
use crate::vehicle::{self};
use crate::views::{
    GetCustomerArgs, GetVehicleArgs, GetVisitArgs, ListVisitsArgs, customer_view, get_visit,
    list_visits, vehicle_view,
};
use crate::{
    check, checkout, feedback, jobs, order, plugin, recommendation, refund, reminder, tyre_storage,
};
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
            // The row names its argument type once: its closure says `args: Args`.
            run: {
                #[allow(dead_code)]
                type Args = $args;
                $run
            },
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
        |e, _, a| e.read_op(a, |r, ctx, args: Args| customer_view(
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
        |e, _, a| e.read_op(a, |r, ctx, args: Args| customer::find(r, ctx, &args))
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
        |e, _, a| e.read_op(a, |r, ctx, args: Args| {
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
        |e, op, a| e.write_op(op, a, |t, ctx, args: Args| {
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
        |e, _, a| e.read_op(a, |r, _, args: Args| vehicle_view(r, &args.vehicle))
    ),
    op!(
        "visit.get",
        false,
        GetVisitArgs,
        "a visit by id or host order id",
        |e, _, a| e.read_op(a, |r, _, args: Args| get_visit(r, &args))
    ),
    op!(
        "visit.list",
        false,
        ListVisitsArgs,
        "a customer's latest visits",
        |e, _, a| e.read_op(a, |r, ctx, args: Args| list_visits(r, ctx, &args))
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
        crate::history::VisitPageArgs,
        "every visit (or one branch's) in id order, paged",
        |e, _, a| e.read_op(a, |r, _, args: Args| { crate::history::visits(r, &args) })
    ),
    op!(
        "customer.list",
        false,
        crate::history::PageArgs,
        "every customer in id order, paged",
        |e, _, a| e.read_op(a, |r, _, args: Args| {
            crate::history::customers(r, &args)
        })
    ),
    op!(
        "ledger.export",
        false,
        crate::history::LedgerPageArgs,
        "every ledger entry by customer and sequence, paged",
        |e, _, a| e.read_op(a, |r, _, args: Args| {
            crate::history::ledger_page(r, &args)
        })
    ),
    op!(
        "program.get",
        false,
        ProgramGetArgs,
        "the current programme (or a given version)",
        |e, _, a| e.read_op(a, |r, ctx, args: Args| match args.version {
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
        "program.simulate",
        false,
        crate::simulate::SimulateArgs,
        "replay a past period under a proposed programme beside the one in force; changes nothing",
        |e, _, a| {
            let cache = e.plugins().cache_dir();
            e.report_op(a, |r, ctx, args: Args| {
                crate::simulate::simulate(r, ctx, cache, args)
            })
        }
    ),
    op!(
        "checkout.quote",
        false,
        checkout::CheckoutArgs,
        "price a basket; changes nothing",
        |e, _, a| {
            let plugins = e.plugin_snapshot();
            e.read_op(a, |r, ctx, args: Args| {
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
            e.write_op(op, a, |t, ctx, args: Args| {
                checkout::commit(t, ctx, &plugins, &args)
            })
        }
    ),
    op!(
        "checkout.refund",
        true,
        refund::RefundArgs,
        "refund a visit whole or by lines",
        |e, op, a| e.write_op(op, a, |t, ctx, args: Args| refund::refund(t, ctx, &args))
    ),
    op!(
        "points.balance",
        false,
        points::CustomerArgs,
        "available, pending, held, total, next expiries",
        |e, _, a| e.read_op(a, |r, ctx, args: Args| points::balance(r, ctx, &args))
    ),
    op!(
        "points.statement",
        false,
        points::StatementArgs,
        "ledger entries, newest first, paged",
        |e, _, a| e.read_op(a, |r, ctx, args: Args| points::statement(r, ctx, &args))
    ),
    op!(
        "points.adjust",
        true,
        points::AdjustArgs,
        "manual credit or debit with reason and operator",
        |e, op, a| e.write_op(op, a, |t, ctx, args: Args| points::adjust(t, ctx, &args))
    ),
    op!(
        "points.hold",
        true,
        points::HoldArgs,
        "reserve points for a two-step payment",
        |e, op, a| e.write_op(op, a, |t, ctx, args: Args| points::hold(t, ctx, &args))
    ),
    op!(
        "points.capture",
        true,
        points::CaptureArgs,
        "capture a hold (fully or partly)",
        |e, op, a| e.write_op(op, a, |t, ctx, args: Args| points::capture(t, ctx, &args))
    ),
    op!(
        "points.release",
        true,
        points::ReleaseArgs,
        "release a hold",
        |e, op, a| e.write_op(op, a, |t, ctx, args: Args| points::release(t, ctx, &args))
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
        |e, _, a| e.read_op(a, |r, _, _: Args| plugin::list(r))
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
        |e, _, a| e.report_op(a, |r, ctx, args: Args| {
            crate::report::activity(r, ctx, &args)
        })
    ),
    op!(
        "report.points",
        false,
        crate::report::PointsArgs,
        "points issued, redeemed, expired, outstanding and the money liability",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| crate::report::points(r, ctx, &args))
    ),
    op!(
        "report.dashboard",
        false,
        crate::dashboard::DashboardArgs,
        "the owner's dashboard: one self-contained HTML page with charts of the reports",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| {
            crate::dashboard::dashboard(r, ctx, &args)
        })
    ),
    op!(
        "report.customers",
        false,
        crate::report::ReportArgs,
        "the most active customer of each month, top N by spend and by visits",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| crate::report::customers(
            r, ctx, &args
        ))
    ),
    op!(
        "report.pareto",
        false,
        crate::report::ReportArgs,
        "the share of customers who bring 80% of revenue, and who they are",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| crate::report::pareto(r, ctx, &args))
    ),
    op!(
        "report.lapsed",
        false,
        crate::report::ReportArgs,
        "valuable customers who stopped coming: RFM scores, usual interval, last visit",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| crate::report::lapsed(r, ctx, &args))
    ),
    op!(
        "report.tiers",
        false,
        crate::report::ReportArgs,
        "customers per tier now, moves between tiers by month, direction and reason",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| crate::report::tiers(r, ctx, &args))
    ),
    op!(
        "report.cohorts",
        false,
        crate::report::ReportArgs,
        "retention by month of first visit (the cohort triangle), counts and percent",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| crate::report::cohorts(
            r, ctx, &args
        ))
    ),
    op!(
        "report.birthdays",
        false,
        crate::report::ReportArgs,
        "customers with a birthday in a date range, with consent per channel",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| crate::report::birthdays(
            r, ctx, &args
        ))
    ),
    op!(
        "report.sources",
        false,
        crate::report::ReportArgs,
        "new customers and their revenue by acquisition source",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| crate::report::sources(
            r, ctx, &args
        ))
    ),
    op!(
        "report.points_monthly",
        false,
        crate::report::ReportArgs,
        "points issued, redeemed, expired, adjusted by month, liability at each month's end, what expires in 30/60/90 days",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| crate::report::points_monthly(
            r, ctx, &args
        ))
    ),
    op!(
        "report.services",
        false,
        crate::report::ReportArgs,
        "works and parts sold, repeat purchases and the real interval next to the reminder rule's",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| crate::report::services(
            r, ctx, &args
        ))
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
        |e, _, a| e.report_op(a, |r, ctx, args: Args| {
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
        |e, _, a| e.read_op(a, |r, _, _: Args| crate::segment::list(r))
    ),
    op!(
        "segment.preview",
        false,
        crate::segment::PreviewArgs,
        "customers a filter or a saved segment matches, paged",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| {
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
        |e, _, a| e.read_op(a, |r, _, args: Args| { crate::campaign::list(r, &args) })
    ),
    op!(
        "campaign.report",
        false,
        crate::campaign::ReportArgs,
        "notified, came, conversion, revenue, cost per customer brought, points spent",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| {
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
        |e, _, a| e.read_op(a, |r, ctx, args: Args| {
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
        |e, _, a| e.read_op(a, |r, ctx, args: Args| {
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
        |e, _, a| e.read_op(a, |r, ctx, args: Args| order::list(r, ctx, &args))
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
        |e, _, a| e.report_op(a, |r, _, args: Args| { feedback::complaints(r, &args) })
    ),
    op!(
        "reminders.due",
        false,
        reminder::DueArgs,
        "who should be contacted on a date and why, with the text (a pure read, paged)",
        |e, _, a| e.read_op(a, |r, ctx, args: Args| reminder::due(r, ctx, &args))
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
        |e, _, a| e.read_op(a, |r, ctx, _: Args| check::check(r, ctx))
    ),
    op!(
        "store.rebuild_aggregates",
        true,
        crate::recount::RebuildArgs,
        "write the report aggregates (day cells) again from history, in one batch",
        |e, op, a| e.write_op(op, a, crate::recount::rebuild)
    ),
    op!(
        "store.stats",
        false,
        NoArgs,
        "size on disk against the raw size of the data",
        |e, _, a| e.read_op(a, |r, _, _: Args| check::stats(r, e.store()))
    ),
    op!(
        "customer.duplicates",
        false,
        crate::merge::DuplicatesArgs,
        "pairs of customers that look like one person, with a score and the reasons",
        |e, _, a| e.read_op(a, |r, ctx, args: Args| crate::merge::duplicates(
            r, ctx, &args
        ))
    ),
    op!(
        "customer.merge",
        true,
        crate::merge::MergeArgs,
        "move everything of one customer to another; the merged id, cards and identifiers lead to the kept one (dry_run: what would move)",
        |e, op, a| e.write_op(op, a, crate::merge::merge)
    ),
    op!(
        "customer.distinct",
        true,
        crate::merge::DistinctArgs,
        "mark two customers as different people, so they are not proposed as duplicates",
        |e, op, a| e.write_op(op, a, crate::merge::distinct)
    ),
    op!(
        "report.changes",
        false,
        crate::audit_log::ChangesArgs,
        "who created or changed customer cards, cards, balances and the programme, with before and after, paged",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| {
            crate::audit_log::changes(r, ctx, &args)
        })
    ),
    op!(
        "catalog.duplicates",
        false,
        crate::catalog::DuplicatesArgs,
        "groups of work and part names on visit lines that mean the same service, with a proposed name",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| crate::catalog::duplicates(
            r, ctx, &args
        ))
    ),
    op!(
        "catalog.alias",
        true,
        crate::catalog::AliasArgs,
        "confirm names as one service: reminders and report.services treat them as the service's name",
        |e, op, a| e.write_op(op, a, crate::catalog::alias)
    ),
    op!(
        "catalog.aliases",
        false,
        crate::catalog::ListArgs,
        "the confirmed service name groups, a page at a time, or the group of one name",
        |e, _, a| e.read_op(a, |r, _, args: Args| crate::catalog::list(r, &args))
    ),
    op!(
        "catalog.unalias",
        true,
        crate::catalog::UnaliasArgs,
        "detach an alias from its service, or undo a service's whole group by its name",
        |e, op, a| e.write_op(op, a, crate::catalog::unalias)
    ),
    op!(
        "report.completeness",
        false,
        crate::report::CompletenessArgs,
        "customers missing phone, email, birthday, gender, source, consents, by registrar; names to correct, genders from patronymics",
        |e, _, a| e.report_op(a, |r, ctx, args: Args| crate::report::completeness(
            r, ctx, &args
        ))
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
