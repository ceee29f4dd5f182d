//! `pitstop`: the command line over the one operation set of `pitstop-core`.
//!
//! Thin by design: every command opens the store and calls operations by name; the only
//! logic here is parsing files and arguments and printing results.

mod card;
mod demo;
mod engage;
mod export;
mod import;
mod locale;
mod output;

use clap::{Parser, Subcommand, ValueEnum};
use locale::{Locale, Msg};
use output::{cell, pairs, table};
use pitstop_core::{Engine, EngineOptions, Program};
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code of a failed command.
const EXIT_FAILED: u8 = 1;
/// Exit code of an import that rejected some rows (the rest were loaded).
const EXIT_ROWS_REJECTED: u8 = 3;

#[derive(Parser)]
#[command(
    name = "pitstop",
    version,
    about = "Pitstop loyalty core: administration, migration, backup, inspection"
)]
struct Cli {
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a store and set its programme (the example programme when no --program).
    Init {
        /// Store directory (must not hold a store yet).
        path: PathBuf,
        /// Programme document (JSON); see docs/program.example.json.
        #[arg(long)]
        program: Option<PathBuf>,
    },
    /// Execute any operation: prints the JSON response; exit code 0 on success, 1 on error.
    Exec {
        /// Store directory.
        path: PathBuf,
        /// Operation name (`noun.verb`).
        op: String,
        /// Arguments as a JSON object (read from stdin when absent).
        args: Option<String>,
    },
    /// A customer's card: profile, cars, tier, balance with next expiries, last visits,
    /// open recommendations, tyres in storage, special orders, reminders due today.
    Customer {
        /// Store directory.
        path: PathBuf,
        /// Name or phone prefix, or a card, email, plate, VIN or external id.
        query: String,
    },
    /// Run the daily job (expiry, pending releases, holds, birthdays, tiers).
    Daily {
        /// Store directory.
        path: PathBuf,
        /// Local date YYYY-MM-DD (default: today in the programme's timezone).
        #[arg(long, value_parser = day)]
        date: Option<String>,
    },
    /// Who to contact today and why (`reminders.due`, every page): a table, CSV for an SMS
    /// gateway, or JSON; `mark` records what was done about them.
    Reminders {
        /// Store directory.
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
        /// Store directory.
        path: PathBuf,
        /// Backup file to write.
        dest: PathBuf,
    },
    /// Restore a backup into a new store and verify it.
    Restore {
        /// Backup file.
        backup: PathBuf,
        /// New store directory.
        path: PathBuf,
    },
    /// Verify every record's checksum and every account's invariants.
    Check {
        /// Store directory.
        path: PathBuf,
    },
    /// Print a report as a table.
    Report {
        /// Store directory.
        path: PathBuf,
        #[command(subcommand)]
        report: ReportCommand,
    },
    /// Manage promotion plugins.
    Plugin {
        /// Store directory.
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
        /// Store directory.
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
        /// Store directory.
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
enum RemindersCommand {
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
enum ReportCommand {
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
    /// A campaign's outcome: notified, came, conversion, revenue, cost per customer.
    Campaign {
        /// Campaign id or name (any case; `pitstop exec PATH campaign.list '{}'` lists them).
        campaign: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum OnError {
    Skip,
    Fail,
}

#[derive(Subcommand)]
enum PluginCommand {
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

/// A failure: the stable error code, a message and details.
#[derive(Debug)]
pub struct Failure {
    pub code: String,
    pub message: String,
    pub details: Value,
    pub exit: u8,
}

impl Failure {
    pub fn new(code: &str, message: impl Into<String>) -> Failure {
        Failure {
            code: code.to_string(),
            message: message.into(),
            details: Value::Null,
            exit: EXIT_FAILED,
        }
    }
}

impl From<pitstop_core::Error> for Failure {
    fn from(err: pitstop_core::Error) -> Failure {
        Failure {
            code: err.code.as_str().to_string(),
            message: err.message,
            details: err.details,
            exit: EXIT_FAILED,
        }
    }
}

type Outcome = Result<u8, Failure>;

/// A date option's value: checked here, so the message names the option
/// (`invalid value '2025-13-01' for '--from <FROM>'`), not only the core's field.
fn day(text: &str) -> Result<String, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|_| text.to_string())
        .map_err(|_| format!("{text} is not a date: YYYY-MM-DD, such as 2025-03-01"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            if json {
                let error = json!({"ok": false, "error": {
                    "code": failure.code, "message": failure.message, "details": failure.details}});
                eprintln!("{error}");
            } else {
                let colour = output::colour_stderr();
                eprintln!(
                    "{} {}",
                    output::red(&format!("error[{}]:", failure.code), colour),
                    failure.message
                );
                if !failure.details.is_null() {
                    eprintln!("{}", failure.details);
                }
            }
            ExitCode::from(failure.exit)
        }
    }
}

fn run(cli: Cli) -> Outcome {
    let json = cli.json;
    match cli.command {
        Command::Init { path, program } => init(&path, program.as_deref(), json),
        Command::Exec { path, op, args } => exec(&path, &op, args, json),
        Command::Customer { path, query } => customer(&path, &query, json),
        Command::Daily { path, date } => {
            let engine = open_existing(&path)?;
            let mut args = json!({});
            if let Some(date) = date {
                args["date"] = json!(date);
            }
            let result = engine.execute("jobs.daily", args)?;
            print_value(&result, json, &Locale::of(&engine));
            Ok(0)
        }
        Command::Reminders {
            path,
            date,
            kinds,
            channel,
            format,
            action,
        } => match action {
            None => engage::list(
                &path,
                &engage::Filter {
                    date,
                    kinds,
                    channel,
                    customer: None,
                },
                format,
                json,
            ),
            Some(RemindersCommand::Mark {
                ids,
                file,
                status,
                channel: mark_channel,
            }) => engage::mark(
                &path,
                &ids,
                file.as_deref(),
                status,
                mark_channel.or(channel).as_deref(),
                json,
            ),
        },
        Command::Backup { path, dest } => {
            let engine = open_existing(&path)?;
            let locale = Locale::of(&engine);
            let summary = engine.backup(&dest)?;
            engine.close()?;
            let value = to_json(&summary)?;
            if json {
                println!("{value}");
            } else {
                let dest = dest.display().to_string();
                println!("{}", locale.fill(Msg::BackupWritten, &[("path", &dest)]));
                print_value(&value, false, &locale);
            }
            Ok(0)
        }
        Command::Restore { backup, path } => restore(&backup, &path, json),
        Command::Check { path } => check(&path, json),
        Command::Report { path, report } => report_command(&path, report, json),
        Command::Plugin { path, action } => plugin(&path, action, json),
        Command::Demo {
            dir,
            customers,
            years,
            seed,
            plugins,
        } => demo::run(
            &dir,
            &demo::Options {
                customers,
                years,
                seed,
                plugins,
            },
            json,
        ),
        Command::Export {
            path,
            what,
            format,
            output,
        } => export::run(&path, what, format, output.as_deref(), json),
        Command::Import {
            path,
            kind,
            file,
            map,
            encoding,
        } => import::run(&path, kind, &file, map.as_deref(), encoding, json),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, Failure> {
    serde_json::to_value(value).map_err(|err| Failure::new("internal", err.to_string()))
}

/// Open a store that must already exist (a typo must not create an empty store).
pub fn open_existing_with(path: &Path, options: EngineOptions) -> Result<Engine, Failure> {
    if !path.join("db").exists() && !path.join("conf").exists() {
        return Err(Failure::new(
            "not_found",
            format!(
                "no store at {} (create one with `pitstop init`)",
                path.display()
            ),
        ));
    }
    Ok(Engine::open(path, options)?)
}

fn open_existing(path: &Path) -> Result<Engine, Failure> {
    open_existing_with(path, EngineOptions::default())
}

/// Print a result: JSON, or a key/value block of its scalar fields in the shop's
/// language (labels from the catalogue, numbers and dates as the staff write them).
fn print_value(value: &Value, json: bool, locale: &Locale) {
    if json {
        println!("{value}");
        return;
    }
    print!("{}", value_text(value, locale));
}

/// A result as a key/value block in the shop's language.
fn value_text(value: &Value, locale: &Locale) -> String {
    match value {
        Value::Object(map) => {
            let items: Vec<(&str, String)> = map
                .iter()
                .map(|(k, v)| (locale.field(k), human_cell(k, v, locale)))
                .collect();
            pairs(&items)
        }
        other => format!("{}\n", cell(other)),
    }
}

/// One field of a result for a person: dates as dates, numbers in the shop's format,
/// text as it is.
fn human_cell(key: &str, value: &Value, locale: &Locale) -> String {
    match value {
        Value::Array(_) | Value::Bool(_) | Value::Object(_) => cell(value),
        _ if matches!(key, "date" | "from" | "to" | "month") => locale.date_of(value),
        // Hashes and codes stay as written: they are compared, not read as amounts.
        _ if matches!(key, "sha256" | "currency" | "code" | "id") => cell(value),
        _ => locale.num(value),
    }
}

fn init(path: &Path, program: Option<&Path>, json: bool) -> Outcome {
    if path.join("db").exists() || path.join("conf").exists() {
        return Err(Failure::new(
            "already_exists",
            format!("a store already exists at {}", path.display()),
        ));
    }
    let document: Value = match program {
        Some(file) => {
            let text = std::fs::read_to_string(file).map_err(|err| {
                Failure::new("io", format!("cannot read {}: {err}", file.display()))
            })?;
            // Read like every request: a key given twice is refused, not taken last-wins.
            pitstop_core::json::from_str(&text).map_err(|err| {
                Failure::new(
                    "invalid_argument",
                    format!("{} is not JSON: {err}", file.display()),
                )
            })?
        }
        None => Program::example(),
    };
    let engine = Engine::open(path, EngineOptions::default())?;
    let result = engine.execute("program.set", json!({ "program": document }));
    let locale = Locale::of(&engine);
    engine.close()?;
    let result = match result {
        Ok(result) => result,
        Err(err) => {
            drop(engine);
            // Leave no half-made store behind.
            let _ = std::fs::remove_dir_all(path);
            return Err(err.into());
        }
    };
    if json {
        println!("{result}");
    } else {
        let (path, name) = (path.display().to_string(), cell(&document["name"]));
        println!(
            "{}",
            locale.fill(Msg::StoreCreated, &[("path", &path), ("name", &name)])
        );
    }
    Ok(0)
}

fn exec(path: &Path, op: &str, args: Option<String>, json: bool) -> Outcome {
    let text = match args {
        Some(text) => text,
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|err| Failure::new("io", format!("cannot read stdin: {err}")))?;
            text
        }
    };
    let args: Value = if text.trim().is_empty() {
        json!({})
    } else {
        pitstop_core::json::from_str(&text)
            .map_err(|err| Failure::new("invalid_request", format!("arguments: {err}")))?
    };
    let engine = open_existing(path)?;
    let outcome = engine.execute(op, args);
    let response = pitstop_core::response(outcome.clone());
    let _ = json;
    println!("{response}");
    match outcome {
        Ok(_) => Ok(0),
        Err(err) => {
            let colour = output::colour_stderr();
            eprintln!(
                "{} {}",
                output::red(&format!("error[{}]:", err.code.as_str()), colour),
                err.message
            );
            Ok(EXIT_FAILED)
        }
    }
}

/// Find one customer: name/phone prefix first, then every exact identifier.
fn find_customer(engine: &Engine, query: &str) -> Result<Vec<Value>, Failure> {
    let page = engine.execute("customer.find", json!({ "query": query, "limit": 20 }));
    if let Ok(page) = page {
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if !items.is_empty() {
            return Ok(items);
        }
    }
    for key in [
        "card",
        "phone",
        "email",
        "plate",
        "vin",
        "external_id",
        "id",
    ] {
        let by = if key == "id" {
            match query.parse::<u64>() {
                Ok(id) => json!({ "id": id }),
                Err(_) => continue,
            }
        } else {
            json!({ key: query })
        };
        if let Ok(page) = engine.execute("customer.find", json!({ "by": by })) {
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if !items.is_empty() {
                return Ok(items);
            }
        }
    }
    Ok(Vec::new())
}

fn customer(path: &Path, query: &str, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let locale = Locale::of(&engine);
    let found = find_customer(&engine, query)?;
    if found.is_empty() {
        return Err(Failure::new(
            "not_found",
            format!("no customer matches {query:?}"),
        ));
    }
    if found.len() > 1 {
        if json {
            println!("{}", json!({ "matches": found }));
        } else {
            print!("{}", card::matches_text(&found, query, &locale));
        }
        return Ok(0);
    }
    let id = found[0]["id"].clone();
    let mut view = engine.execute("customer.get", json!({ "customer": { "id": id } }))?;
    // The card stands without its reminders (say, a programme whose template no longer
    // renders): the reason goes to stderr.
    let due = match engage::due_of_customer(&engine, id.as_u64().unwrap_or_default(), None) {
        Ok(due) => Some(due),
        Err(failure) => {
            eprintln!(
                "{}",
                locale.fill(
                    Msg::RemindersNotShown,
                    &[("message", &failure.message), ("code", &failure.code)]
                )
            );
            None
        }
    };
    if json {
        view["due_reminders"] = json!(due);
        println!("{view}");
    } else {
        print!("{}", card::customer_card(&view, &locale));
        print!("{}", engage::card_sections(&view, due.as_deref(), &locale));
    }
    Ok(0)
}

fn check_store(engine: &Engine, json: bool) -> Outcome {
    let report = engine.execute("store.check", json!({}))?;
    let problems = report["problems"].as_array().cloned().unwrap_or_default();
    if json {
        println!("{report}");
    } else {
        print_value(
            &json!({"records": report["records"], "accounts": report["accounts"],
                "entries": report["entries"], "problems": problems.len()}),
            false,
            &Locale::of(engine),
        );
        for problem in &problems {
            println!("  {}", cell(problem));
        }
    }
    if problems.is_empty() {
        Ok(0)
    } else {
        let mut failure = Failure::new(
            "corrupted",
            format!("the store has {} problem(s)", problems.len()),
        );
        failure.details = json!({ "problems": problems });
        Err(failure)
    }
}

fn check(path: &Path, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    check_store(&engine, json)
}

fn restore(backup: &Path, path: &Path, json: bool) -> Outcome {
    let options = EngineOptions::default();
    let summary = Engine::restore(backup, path, &options)?;
    let engine = Engine::open(path, options)?;
    if json {
        let report = engine.execute("store.check", json!({}))?;
        let ok = report["problems"]
            .as_array()
            .is_none_or(|problems| problems.is_empty());
        println!(
            "{}",
            json!({ "restore": to_json(&summary)?, "check": report })
        );
        if !ok {
            return Err(Failure::new("corrupted", "the restored store has problems"));
        }
        return Ok(0);
    }
    let locale = Locale::of(&engine);
    let (backup, path) = (backup.display().to_string(), path.display().to_string());
    println!(
        "{}",
        locale.fill(Msg::Restored, &[("backup", &backup), ("path", &path)])
    );
    print_value(&to_json(&summary)?, false, &locale);
    check_store(&engine, false)
}

/// The monthly activity report as an aligned table, months first, in the shop's
/// language.
fn activity_table(result: &Value, locale: &Locale) -> String {
    let rows = result["months"]
        .as_array()
        .or_else(|| result["rows"].as_array())
        .cloned()
        .unwrap_or_default();
    let headers: Vec<String> = rows
        .first()
        .and_then(|r| r.as_object())
        .map(|o| {
            let mut keys: Vec<String> = o.keys().cloned().collect();
            keys.sort_by_key(|k| k != "month");
            keys
        })
        .unwrap_or_default();
    let header_refs: Vec<&str> = headers.iter().map(|h| locale.field(h)).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            headers
                .iter()
                .map(|h| human_cell(h, &r[h], locale))
                .collect()
        })
        .collect();
    table(&header_refs, &cells)
}

fn report_command(path: &Path, report: ReportCommand, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let locale = Locale::of(&engine);
    match report {
        ReportCommand::Activity { from, to } => {
            let result = engine.execute("report.activity", json!({ "from": from, "to": to }))?;
            if json {
                println!("{result}");
                return Ok(0);
            }
            print!("{}", activity_table(&result, &locale));
            if let Some(total) = result.get("total").filter(|t| t.is_object()) {
                println!();
                print_value(total, false, &locale);
            }
        }
        ReportCommand::Points => {
            let result = engine.execute("report.points", json!({}))?;
            print_value(&result, json, &locale);
        }
        ReportCommand::Complaints { from, to } => {
            let result = engine.execute("report.complaints", json!({ "from": from, "to": to }))?;
            if json {
                println!("{result}");
            } else {
                print!("{}", engage::complaints_text(&result, &locale));
            }
        }
        ReportCommand::Referrals { referrer } => {
            let referrer = match referrer {
                None => None,
                Some(query) => {
                    let found = find_customer(&engine, &query)?;
                    match found.as_slice() {
                        [one] => Some(json!({ "id": one["id"] })),
                        [] => {
                            return Err(Failure::new(
                                "not_found",
                                format!("no customer matches {query:?}"),
                            ));
                        }
                        many => {
                            return Err(Failure::new(
                                "invalid_argument",
                                format!(
                                    "{} customers match {query:?}; narrow the query",
                                    many.len()
                                ),
                            ));
                        }
                    }
                }
            };
            let result = engage::referrals_all(&engine, referrer)?;
            if json {
                println!("{result}");
            } else {
                print!("{}", engage::referrals_text(&result, &locale));
            }
        }
        ReportCommand::Campaign { campaign } => {
            let result = campaign_report(&engine, &campaign)?;
            if json {
                println!("{result}");
            } else {
                print!("{}", engage::campaign_text(&result, &locale));
            }
        }
    }
    Ok(0)
}

/// `campaign.report` of the campaign the user typed: digits are its id (or, when no
/// campaign has that id, a campaign named so), anything else its name.
fn campaign_report(engine: &Engine, campaign: &str) -> Result<Value, Failure> {
    let by_name = || engine.execute("campaign.report", json!({ "name": campaign }));
    match campaign.trim().parse::<u64>() {
        Ok(id) => match engine.execute("campaign.report", json!({ "campaign": id })) {
            Err(err) if err.code == pitstop_core::ErrorCode::NotFound => {
                by_name().map_err(|_| Failure::from(err))
            }
            other => other.map_err(Failure::from),
        },
        Err(_) => by_name().map_err(Failure::from),
    }
}

fn plugin(path: &Path, action: PluginCommand, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let locale = Locale::of(&engine);
    let result = match action {
        PluginCommand::Install {
            name,
            wasm,
            config,
            priority,
            on_error,
            disabled,
            replace,
        } => {
            let module = std::fs::canonicalize(&wasm)
                .map_err(|err| Failure::new("io", format!("{}: {err}", wasm.display())))?;
            let mut args = json!({ "name": name, "path": module.to_string_lossy(),
                "enabled": !disabled, "replace": replace });
            if let Some(config) = config {
                args["config"] = serde_json::from_str(&config).map_err(|err| {
                    Failure::new("invalid_argument", format!("--config is not JSON: {err}"))
                })?;
            }
            if let Some(priority) = priority {
                args["priority"] = json!(priority);
            }
            if let Some(on_error) = on_error {
                args["on_error"] = json!(match on_error {
                    OnError::Skip => "skip",
                    OnError::Fail => "fail",
                });
            }
            engine.execute("plugin.install", args)?
        }
        PluginCommand::List => {
            let result = engine.execute("plugin.list", json!({}))?;
            if json {
                println!("{result}");
                return Ok(0);
            }
            let list = result
                .as_array()
                .or_else(|| result["plugins"].as_array())
                .cloned()
                .unwrap_or_default();
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|p| {
                    let sha = cell(&p["sha256"]);
                    vec![
                        cell(&p["name"]),
                        locale.yes_no(p["enabled"] == json!(true)).to_string(),
                        cell(&p["priority"]),
                        cell(&p["on_error"]),
                        cell(&p["hooks"]),
                        cell(&p["size"]),
                        sha.chars().take(12).collect(),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(
                    &[
                        locale.t(Msg::Plugin),
                        locale.t(Msg::Enabled),
                        locale.t(Msg::Priority),
                        locale.t(Msg::OnError),
                        locale.t(Msg::Hooks),
                        locale.t(Msg::Bytes),
                        "sha256"
                    ],
                    &rows
                )
            );
            return Ok(0);
        }
        PluginCommand::Enable { name } => {
            engine.execute("plugin.enable", json!({ "name": name }))?
        }
        PluginCommand::Disable { name } => {
            engine.execute("plugin.disable", json!({ "name": name }))?
        }
        PluginCommand::Remove { name } => {
            engine.execute("plugin.remove", json!({ "name": name }))?
        }
    };
    print_value(&result, json, &locale);
    Ok(0)
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
