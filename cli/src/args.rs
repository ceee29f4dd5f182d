//! The command line's grammar: every command, its arguments and options, as clap reads
//! them. `main` dispatches on these; nothing here runs a command.

use crate::{engage, export, import};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "pitstop",
    version,
    about = "Pitstop loyalty core: administration, migration, backup, inspection"
)]
pub struct Cli {
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create a store and set its programme (the example programme when no --program).
    Init {
        /// Store: a directory, or a postgresql:// connection string (must not hold a store yet).
        path: PathBuf,
        /// Programme document (JSON); see docs/program.example.json.
        #[arg(long)]
        program: Option<PathBuf>,
    },
    /// Execute any operation: prints the JSON response; exit code 0 on success, 1 on error.
    Exec {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        /// Operation name (`noun.verb`).
        op: String,
        /// Arguments as a JSON object (read from stdin when absent).
        args: Option<String>,
        /// Who does it (recorded in the audit log): added to the arguments as `operator`
        /// unless they name one (a read refuses it).
        #[arg(long)]
        operator: Option<String>,
    },
    /// A customer's card: profile, cars, tier, balance with next expiries, last visits,
    /// open recommendations, tyres in storage, special orders, reminders due today.
    Customer {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        /// Name or phone prefix, or a card, email, plate, VIN or external id.
        query: String,
    },
    /// Run the daily job (expiry, pending releases, holds, birthdays, tiers).
    Daily {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        /// Local date YYYY-MM-DD (default: today in the programme's timezone).
        #[arg(long, value_parser = day)]
        date: Option<String>,
        /// Who runs it (recorded in the audit log with the expiries and bonuses).
        #[arg(long)]
        operator: Option<String>,
    },
    /// Who to contact today and why (`reminders.due`, every page): a table, CSV for an SMS
    /// gateway, or JSON; `mark` records what was done about them.
    Reminders {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        /// Local date YYYY-MM-DD (default: today in the programme's timezone).
        #[arg(long, value_parser = day)]
        date: Option<String>,
        /// Only this kind (repeatable): service_due, points_expiring, birthday,
        /// recommendation, tyre_season, order_arrived, quality_call, lapsed.
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// Only customers who agreed to this channel (sms, email, call, messenger, push).
        #[arg(long)]
        channel: Option<String>,
        /// Output format (`--json` means json).
        #[arg(long, value_enum, default_value = "table")]
        format: engage::Format,
        #[command(subcommand)]
        action: Option<RemindersCommand>,
    },
    /// Write a consistent, checksummed backup file.
    Backup {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        /// Backup file to write.
        dest: PathBuf,
    },
    /// Restore a backup into a new store and verify it.
    Restore {
        /// Backup file.
        backup: PathBuf,
        /// New store: a directory, or an empty PostgreSQL database.
        path: PathBuf,
    },
    /// Move a whole store between backends (`store copy SRC DST`).
    Store {
        #[command(subcommand)]
        action: StoreCommand,
    },
    /// Customers that look like one person (`customer.duplicates`), best first, with the reasons.
    Duplicates {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        /// Only pairs scoring at least this (0 to 1, e.g. 0.8).
        #[arg(long)]
        min_score: Option<String>,
    },
    /// Merge customer MERGE into KEEP (`customer.merge`): shows what will move and asks
    /// for confirmation on stdin, unless --yes.
    Merge {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        /// Id of the customer who stays.
        keep: u64,
        /// Id of the customer merged into KEEP (its id, cards and identifiers then lead to KEEP).
        merge: u64,
        /// Merge without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Verify every record's checksum and every account's invariants.
    Check {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
    },
    /// Print a report as a table.
    Report {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        #[command(subcommand)]
        report: ReportCommand,
    },
    /// What-if: replay a past period under a proposed programme (and plugins) beside the
    /// programme in force; the store is only read.
    Simulate {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        /// The proposed programme document (JSON, as for `init --program`).
        program: PathBuf,
        /// First day, YYYY-MM-DD.
        #[arg(long, value_parser = day)]
        from: String,
        /// Last day, YYYY-MM-DD (not after today).
        #[arg(long, value_parser = day)]
        to: String,
        /// A proposed plugin module (.wasm), named after its file; may be repeated.
        #[arg(long = "plugin")]
        plugins: Vec<PathBuf>,
    },
    /// Service names that mean the same: proposed groups, confirmed aliases.
    Catalog {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        #[command(subcommand)]
        action: CatalogCommand,
    },
    /// Manage promotion plugins.
    Plugin {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        #[command(subcommand)]
        action: PluginCommand,
    },
    /// Generate a realistic service station (three years of history migrated from an old
    /// system, the example plugins), run its first day of checkouts, and print what the
    /// cashier and the owner see. Deterministic for a given seed.
    Demo {
        /// Store directory to create (a previous demo store there is replaced).
        #[arg(default_value = "./pitstop-demo")]
        dir: PathBuf,
        /// Private customers to generate.
        #[arg(long, default_value_t = 3000)]
        customers: usize,
        /// Years of history.
        #[arg(long, default_value_t = 3)]
        years: u32,
        /// Seed of the generator.
        #[arg(long, default_value_t = 0x5049_5453_544f_5021)]
        seed: u64,
        /// Directory with the plugin modules (default: where `make plugins` puts them).
        #[arg(long)]
        plugins: Option<PathBuf>,
    },
    /// Write customers, visits (one row per line) or the ledger as CSV or JSON, streamed.
    /// The CSV columns are the ones `pitstop import` reads back.
    Export {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        /// What to export.
        what: export::What,
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: export::Format,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Load customers, vehicles, visit history or opening balances from another system's CSV
    /// export. Re-running a file changes nothing, a corrected file updates what changed;
    /// rejected rows go to FILE.<kind>.errors.csv.
    Import {
        /// Store: a directory, or a postgresql:// connection string.
        path: PathBuf,
        /// What the file holds.
        kind: import::Kind,
        /// CSV file (UTF-8 or Windows-1251, `;` or `,` separated).
        file: PathBuf,
        /// Column mapping: JSON object, target field -> source column name.
        #[arg(long)]
        map: Option<PathBuf>,
        /// Force the encoding instead of detecting it.
        #[arg(long, value_enum)]
        encoding: Option<import::Encoding>,
    },
}

#[derive(Subcommand)]
pub enum RemindersCommand {
    /// Record what was done about reminders (`reminders.mark`): the ids given, and/or every
    /// row of a CSV with an `id` column (the `--format csv` file; optional `status` and
    /// `channel` columns, e.g. a gateway's delivery report, override the options). Marking
    /// again with the same status changes nothing.
    Mark {
        /// Reminder ids (`order_arrived:9`, ...).
        ids: Vec<String>,
        /// CSV file of reminders to mark.
        #[arg(long)]
        file: Option<PathBuf>,
        /// What happened: sent and declined ones never come back, failed ones do.
        #[arg(long, value_enum, default_value = "sent")]
        status: engage::Status,
        /// Channel used.
        #[arg(long)]
        channel: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ReportCommand {
    /// Visits, customers, returning share, revenue, average check and points by month.
    Activity {
        /// First day, YYYY-MM-DD.
        #[arg(long, value_parser = day)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long, value_parser = day)]
        to: String,
    },
    /// Points issued, redeemed, expired, outstanding and the money liability.
    Points,
    /// Feedback and complaints by employee and by month, and the latest complaints.
    Complaints {
        /// First day, YYYY-MM-DD.
        #[arg(long, value_parser = day)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long, value_parser = day)]
        to: String,
    },
    /// Who brought whom: signup rewards, cashback, referees' visits and revenue.
    Referrals {
        /// Only the referees of this customer (phone, card, plate ... as for `customer`).
        #[arg(long)]
        referrer: Option<String>,
    },
    /// The owner's dashboard: one self-contained HTML page (charts of revenue and visits,
    /// new and returning customers, points, campaigns, complaints) written to a file.
    Dashboard {
        /// The HTML file to write.
        #[arg(long, value_name = "FILE")]
        html: PathBuf,
        /// First day, YYYY-MM-DD (default: the first day of the month eleven months before --to).
        #[arg(long, value_parser = day)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD (default: today).
        #[arg(long, value_parser = day)]
        to: Option<String>,
        /// Only this branch's visits and complaints.
        #[arg(long)]
        branch: Option<String>,
        /// The day the page is made for, YYYY-MM-DD (default: today): the default period
        /// ends on it and what expires soon counts from it.
        #[arg(long, value_parser = day)]
        date: Option<String>,
    },
    /// A campaign's outcome: notified, came, conversion, revenue, cost per customer.
    Campaign {
        /// Campaign id or name (any case; `pitstop exec PATH campaign.list '{}'` lists them).
        campaign: String,
    },
    /// The most active customer of each month, top N by spend and by visits.
    Customers(Filters),
    /// How few customers bring 80% of revenue, and who they are.
    Pareto(Filters),
    /// Valuable customers who stopped coming: RFM scores, usual interval, last visit.
    Lapsed(Filters),
    /// Customers per tier now and the moves between tiers by month and reason.
    Tiers(Filters),
    /// Retention by month of first visit (the cohort triangle), in percent.
    Cohorts(Filters),
    /// Customers with a birthday between --from and --to, with consent per channel.
    Birthdays(Filters),
    /// New customers and their revenue by acquisition source.
    Sources(Filters),
    /// Points by month, the liability at each month's end, what expires soon.
    PointsMonthly(Filters),
    /// Works and parts sold, repeats and the real interval between them.
    Services(Filters),
    /// Who created or changed customer cards, cards, balances, the programme and plugins,
    /// with the values before and after (every page of `report.changes`).
    Changes {
        /// First day, YYYY-MM-DD.
        #[arg(long, value_parser = day)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long, value_parser = day)]
        to: String,
        /// Only what this operator did.
        #[arg(long)]
        operator: Option<String>,
        /// Only the changes of this customer (id).
        #[arg(long)]
        customer: Option<u64>,
    },
    /// Customers missing phone, email, birthday, gender, source or consents, by the
    /// employee who registered them; names to correct; genders from patronymics.
    Completeness {
        /// Rows of each list (1..=1000, default 100).
        #[arg(long)]
        top: Option<usize>,
        /// Only the customers this employee registered.
        #[arg(long)]
        registered_by: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Groups of work and part names on visit lines that mean the same service.
    Duplicates {
        /// First day, YYYY-MM-DD (default: 3660 days before --to).
        #[arg(long, value_parser = day)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD (default: today).
        #[arg(long, value_parser = day)]
        to: Option<String>,
        /// Most groups listed (1..=1000, default 100).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Confirm names as one service: reminders and the services report treat them as NAME.
    Alias {
        /// The service's name.
        name: String,
        /// Names that mean the same service.
        #[arg(required = true)]
        aliases: Vec<String>,
    },
    /// The confirmed services and their aliases (every page), or the group of one name.
    Aliases {
        /// Only the group of this name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Detach an alias from its service, or undo a service's whole group by its name.
    Unalias {
        /// An alias, or a service's name.
        name: String,
    },
}

/// The period and filters of the owner's reports (a report refuses, with the reason,
/// a filter that does not apply to it).
#[derive(Args, Clone, Debug)]
pub struct Filters {
    /// First day, YYYY-MM-DD.
    #[arg(long, value_parser = day)]
    pub from: String,
    /// Last day, YYYY-MM-DD.
    #[arg(long, value_parser = day)]
    pub to: String,
    /// Only the visits of this branch.
    #[arg(long)]
    pub branch: Option<String>,
    /// Only the customers of this saved segment.
    #[arg(long)]
    pub segment: Option<String>,
    /// Rows of a ranked list (1..=1000).
    #[arg(long)]
    pub top: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OnError {
    Skip,
    Fail,
}

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Install a WASM promotion plugin.
    Install {
        /// Plugin name.
        name: String,
        /// The .wasm module.
        wasm: PathBuf,
        /// Configuration (JSON object).
        #[arg(long)]
        config: Option<String>,
        /// Priority (higher runs first).
        #[arg(long)]
        priority: Option<i32>,
        /// What a failure of the plugin does to the operation.
        #[arg(long, value_enum)]
        on_error: Option<OnError>,
        /// Install it disabled.
        #[arg(long)]
        disabled: bool,
        /// Replace an installed plugin of the same name.
        #[arg(long)]
        replace: bool,
    },
    /// List installed plugins.
    List,
    /// Call a disabled plugin again.
    Enable { name: String },
    /// Stop calling a plugin (it stays installed).
    Disable { name: String },
    /// Uninstall a plugin.
    Remove { name: String },
}

/// A date option's value: checked here, so the message names the option
/// (`invalid value '2025-13-01' for '--from <FROM>'`), not only the core's field.
pub fn day(text: &str) -> Result<String, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|_| text.to_string())
        .map_err(|_| format!("{text} is not a date: YYYY-MM-DD, such as 2025-03-01"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

/// `pitstop store …`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy a whole store, as one consistent state, into a new store: sled directory ->
    /// PostgreSQL (a shop that grows to several tills) or back (a branch laptop, a test
    /// copy). The copy is compared record by record and checked.
    Copy {
        /// Store to copy: a directory or a postgresql:// connection string.
        source: PathBuf,
        /// New store: a directory that does not exist, or an empty PostgreSQL database.
        dest: PathBuf,
    },
}
