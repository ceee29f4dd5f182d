//! What the CLI's process tests share: running the `pitstop` binary and reading what it
//! printed.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
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
    assert!(out.status.success(), "{op}: {}", stderr(&out));
    json_out(&out)["result"].clone()
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    text(&out.stdout)
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

/// Standard output parsed as JSON (`--json` or `exec`).
pub fn json_out(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}

/// Run a command that must succeed; its standard output.
pub fn ok(args: &[&str]) -> String {
    let out = pitstop(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// `pitstop init DIR/store`, which must succeed; the store's path.
pub fn new_store(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    let out = pitstop(&["init", s(&store)]);
    assert!(out.status.success(), "{}", stderr(&out));
    store
}

/// A copy of `cli/tests/fixtures` under `dir` (imports write their error files beside
/// the file they read).
pub fn fixtures(dir: &Path) -> PathBuf {
    let to = dir.join("fixtures");
    std::fs::create_dir_all(&to).unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to
}

/// A whole file as text.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// Whether a text holds an ISO date (`2025-12-01`): human output writes dates the
/// shop's way.
pub fn has_iso_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(10).any(|w| {
        w.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
    })
}
