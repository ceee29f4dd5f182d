//! `pitstop plugin`: install, list, enable, disable and remove promotion plugins.

use crate::args::{OnError, PluginCommand};
use crate::locale::{Locale, Msg};
use crate::output::{cell, table};
use crate::{Failure, Outcome, open_existing, print_value};
use pitstop_core::ErrorCode;
use serde_json::{Value, json};
use std::path::Path;

pub fn run(path: &Path, action: PluginCommand, json: bool) -> Outcome {
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
            let options = InstallOptions {
                config,
                priority,
                on_error,
                disabled,
                replace,
            };
            engine.execute("plugin.install", install_args(&name, &wasm, options)?)?
        }
        PluginCommand::List => {
            let result = engine.execute("plugin.list", json!({}))?;
            if json {
                println!("{result}");
                return Ok(0);
            }
            print!("{}", plugins_table(&result, &locale));
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

/// How `pitstop plugin install` was asked to install the module.
struct InstallOptions {
    config: Option<String>,
    priority: Option<i32>,
    on_error: Option<OnError>,
    disabled: bool,
    replace: bool,
}

/// `plugin.install` arguments: the module by its full path, and the options given.
fn install_args(name: &str, wasm: &Path, options: InstallOptions) -> Result<Value, Failure> {
    let InstallOptions {
        config,
        priority,
        on_error,
        disabled,
        replace,
    } = options;
    let module = std::fs::canonicalize(wasm)
        .map_err(|err| Failure::new(ErrorCode::Io, format!("{}: {err}", wasm.display())))?;
    let mut args = json!({ "name": name, "path": module.to_string_lossy(),
    "enabled": !disabled, "replace": replace });
    if let Some(config) = config {
        // Read like every request: a key given twice is refused, not taken last-wins.
        args["config"] = pitstop_core::json::from_str(&config).map_err(|err| {
            Failure::new(
                ErrorCode::InvalidArgument,
                format!("--config is not JSON: {err}"),
            )
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
    Ok(args)
}

/// The installed plugins as a table, the module's hash shortened.
fn plugins_table(result: &Value, locale: &Locale) -> String {
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
    table(
        &[
            locale.t(Msg::Plugin),
            locale.t(Msg::Enabled),
            locale.t(Msg::Priority),
            locale.t(Msg::OnError),
            locale.t(Msg::Hooks),
            locale.t(Msg::Bytes),
            "sha256",
        ],
        &rows,
    )
}
