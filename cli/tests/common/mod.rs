//! What the CLI's process tests share: running the `pitstop` binary and reading what it
//! printed.
#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Run `pitstop` with `args`, colours off.
pub fn pitstop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pitstop"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run pitstop")
}

/// Printed bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A path as a command-line argument.
pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `pitstop exec STORE OP ARGS`, which must succeed; the operation's result.
pub fn exec(store: &Path, op: &str, args: Value) -> Value {
    let out = pitstop(&["exec", s(store), op, &args.to_string()]);
    assert!(out.status.success(), "{op}: {}", text(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["result"].clone()
}
