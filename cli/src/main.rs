//! `pitstop`: the command line over the one operation set of `pitstop-core`.
//!
//! Thin by design: every command opens the store and calls operations by name; the only
//! logic here is parsing files and arguments and printing results. This file dispatches
//! the commands (`args` defines them) and holds what every command shares: failures,
//! opening a store, printing a result.

mod args;
mod card;
mod catalog;
mod demo;
mod engage;
mod export;
mod import;
mod locale;
mod merge;
mod output;
mod plugin;
mod report;
mod simulate;

use args::{Cli, Command, RemindersCommand, StoreCommand};
use clap::Parser;
use locale::{Locale, Msg};
use output::{cell, pairs};
use pitstop_core::{Engine, EngineOptions, ErrorCode, Program};
use serde_json::{Value, json};
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

/// Exit code of a failed command.
const EXIT_FAILED: u8 = 1;
/// Exit code of an import that rejected some rows (the rest were loaded).
const EXIT_ROWS_REJECTED: u8 = 3;

/// A failure: the stable error code, a message and details.
#[derive(Debug)]
pub struct Failure {
    pub code: ErrorCode,
    pub message: String,
    pub details: Value,
    pub exit: u8,
}

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            details: Value::Null,
            exit: EXIT_FAILED,
        }
    }
}

impl From<pitstop_core::Error> for Failure {
    fn from(err: pitstop_core::Error) -> Failure {
        Failure {
            code: err.code,
            message: err.message,
            details: err.details,
            exit: EXIT_FAILED,
        }
    }
}

type Outcome = Result<u8, Failure>;

/// Printing into a pipe whose reader has gone (`pitstop export … | head`) ends the
/// program quietly, as it ends `cat` or `grep`: Rust ignores SIGPIPE, so the next print
/// would fail and `println!` would panic with a backtrace instead. A write in progress
/// ends as a kill would end it: the store keeps every batch committed before, whole.
#[cfg(unix)]
fn end_quietly_on_a_closed_pipe() {
    // SAFETY: sets the default disposition of one signal, before any other thread runs
    // and before anything is printed; no handler code is involved.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn end_quietly_on_a_closed_pipe() {}

fn main() -> ExitCode {
    end_quietly_on_a_closed_pipe();
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

// One arm per command, each a call into the command's module: the function is as long
// as the command list (rustfmt spreads each command's fields over lines), and splitting
// it would only hide which command goes where.
fn run(cli: Cli) -> Outcome {
    let json = cli.json;
    match cli.command {
        Command::Init { path, program } => init(&path, program.as_deref(), json),
        Command::Exec {
            path,
            op,
            args,
            operator,
        } => exec(&path, &op, args, operator, json),
        Command::Customer { path, query } => card::customer(&path, &query, json),
        Command::Daily {
            path,
            date,
            operator,
        } => daily(&path, date, operator, json),
        Command::Reminders {
            path,
            date,
            kinds,
            channel,
            format,
            action,
        } => {
            let filter = engage::Filter {
                date,
                kinds,
                channel,
                customer: None,
            };
            reminders(&path, filter, format, action, json)
        }
        Command::Backup { path, dest } => backup(&path, &dest, json),
        Command::Restore { backup, path } => restore(&backup, &path, json),
        Command::Check { path } => check(&path, json),
        Command::Duplicates { path, min_score } => {
            merge::duplicates(&path, min_score.as_deref(), json)
        }
        Command::Merge {
            path,
            keep,
            merge,
            yes,
        } => merge::merge(&path, keep, merge, yes, json),
        Command::Store {
            action: StoreCommand::Copy { source, dest },
        } => copy(&source, &dest, json),
        Command::Report { path, report } => report::run(&path, report, json),
        Command::Plugin { path, action } => plugin::run(&path, action, json),
        Command::Catalog { path, action } => catalog::run(&path, action, json),
        Command::Simulate {
            path,
            program,
            from,
            to,
            plugins,
        } => simulate::run(
            simulate::Request {
                path: &path,
                program: &program,
                from: &from,
                to: &to,
                plugins: &plugins,
            },
            json,
        ),
        Command::Demo {
            dir,
            customers,
            years,
            seed,
            plugins,
        } => {
            let options = demo::Options {
                customers,
                years,
                seed,
                plugins,
            };
            demo::run(&dir, &options, json)
        }
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
    serde_json::to_value(value).map_err(|err| Failure::new(ErrorCode::Internal, err.to_string()))
}

/// Open a store that must already exist (a typo must not create an empty store).
pub fn open_existing_with(path: &Path, options: EngineOptions) -> Result<Engine, Failure> {
    if !Engine::store_exists(path) {
        return Err(Failure::new(
            ErrorCode::NotFound,
            format!(
                "no store at {} (create one with `pitstop init`)",
                Engine::describe_store(path)
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
    if Engine::store_exists(path) {
        return Err(Failure::new(
            ErrorCode::AlreadyExists,
            format!("a store already exists at {}", Engine::describe_store(path)),
        ));
    }
    let document: Value = match program {
        Some(file) => {
            let text = std::fs::read_to_string(file).map_err(|err| {
                Failure::new(
                    ErrorCode::Io,
                    format!("cannot read {}: {err}", file.display()),
                )
            })?;
            // Read like every request: a key given twice is refused, not taken last-wins.
            pitstop_core::json::from_str(&text).map_err(|err| {
                Failure::new(
                    ErrorCode::InvalidArgument,
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
        let (path, name) = (Engine::describe_store(path), cell(&document["name"]));
        println!(
            "{}",
            locale.fill(Msg::StoreCreated, &[("path", &path), ("name", &name)])
        );
    }
    Ok(0)
}

fn exec(
    path: &Path,
    op: &str,
    args: Option<String>,
    operator: Option<String>,
    json: bool,
) -> Outcome {
    let text = match args {
        Some(text) => text,
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|err| Failure::new(ErrorCode::Io, format!("cannot read stdin: {err}")))?;
            text
        }
    };
    let mut args: Value = if text.trim().is_empty() {
        json!({})
    } else {
        pitstop_core::json::from_str(&text)
            .map_err(|err| Failure::new(ErrorCode::InvalidRequest, format!("arguments: {err}")))?
    };
    if let (Some(operator), Some(fields)) = (operator, args.as_object_mut()) {
        fields.entry("operator").or_insert(json!(operator));
    }
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

fn daily(path: &Path, date: Option<String>, operator: Option<String>, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let mut args = json!({});
    if let Some(date) = date {
        args["date"] = json!(date);
    }
    if let Some(operator) = operator {
        args["operator"] = json!(operator);
    }
    let result = engine.execute("jobs.daily", args)?;
    print_value(&result, json, &Locale::of(&engine));
    Ok(0)
}

/// `pitstop reminders`: the list, or `mark` (whose `--channel` wins over the list's).
fn reminders(
    path: &Path,
    filter: engage::Filter,
    format: engage::Format,
    action: Option<RemindersCommand>,
    json: bool,
) -> Outcome {
    match action {
        None => engage::list(path, &filter, format, json),
        Some(RemindersCommand::Mark {
            ids,
            file,
            status,
            channel,
        }) => engage::mark(
            path,
            &ids,
            file.as_deref(),
            status,
            channel.or(filter.channel).as_deref(),
            json,
        ),
    }
}

fn backup(path: &Path, dest: &Path, json: bool) -> Outcome {
    let engine = open_existing(path)?;
    let locale = Locale::of(&engine);
    let summary = engine.backup(dest)?;
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
            ErrorCode::Corrupted,
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

/// `pitstop store copy SRC DST`: the whole store, one consistent state, into a new store
/// on either backend; the core compares the copy record by record, then it is checked.
fn copy(source: &Path, dest: &Path, json: bool) -> Outcome {
    let engine = open_existing(source)?;
    let summary = engine.copy_to(dest)?;
    engine.close()?;
    let copied = Engine::open(dest, EngineOptions::default())?;
    let value = json!({ "copy": to_json(&summary)?, "from": Engine::describe_store(source),
                        "to": Engine::describe_store(dest) });
    if json {
        println!("{value}");
        let report = copied.execute("store.check", json!({}))?;
        if report["problems"].as_array().is_some_and(|p| !p.is_empty()) {
            return Err(Failure::new(ErrorCode::Corrupted, "the copy has problems"));
        }
        return Ok(0);
    }
    let locale = Locale::of(&copied);
    let (from, to) = (Engine::describe_store(source), Engine::describe_store(dest));
    println!(
        "{}",
        locale.fill(Msg::Copied, &[("from", &from), ("to", &to)])
    );
    print_value(&to_json(&summary)?, false, &locale);
    check_store(&copied, false)
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
            return Err(Failure::new(
                ErrorCode::Corrupted,
                "the restored store has problems",
            ));
        }
        return Ok(0);
    }
    let locale = Locale::of(&engine);
    let (backup, path) = (backup.display().to_string(), Engine::describe_store(path));
    println!(
        "{}",
        locale.fill(Msg::Restored, &[("backup", &backup), ("path", &path)])
    );
    print_value(&to_json(&summary)?, false, &locale);
    check_store(&engine, false)
}
