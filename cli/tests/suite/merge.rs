//! `pitstop duplicates` and `pitstop merge` as processes: the candidates as a Russian
//! table and as JSON, the merge's preview refused at the prompt (nothing changes),
//! then confirmed on stdin, and `--yes`.

use crate::common;

use common::{exec, pitstop, s, text};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn register(store: &Path, args: Value) -> u64 {
    exec(store, "customer.register", args)["customer"]["id"]
        .as_u64()
        .unwrap()
}

/// `pitstop merge` with `answer` typed at its prompt.
fn merge_answering(store: &Path, keep: u64, gone: u64, answer: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pitstop"))
        .args(["merge", s(store), &keep.to_string(), &gone.to_string()])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn duplicates_are_listed_and_a_merge_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = pitstop(&["init", s(&store)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let keep = register(
        &store,
        json!({ "full_name": "Семёнов Игорь", "phone": "+7 916 123-45-67" }),
    );
    let gone = register(
        &store,
        json!({ "full_name": "Семенов Игорь", "notes": "тел. 8(916)1234567", "issue_card": true }),
    );
    let other = register(
        &store,
        json!({ "full_name": "Ivanov Petr", "phone": "+79035550000" }),
    );

    let out = pitstop(&["duplicates", s(&store)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("Оценка"), "{table}");
    assert!(table.contains("похожее ФИО и общий телефон"), "{table}");
    assert!(
        table.contains("Семёнов Игорь") && table.contains("Семенов Игорь"),
        "{table}"
    );
    assert!(!table.contains("Ivanov"), "{table}");
    let out = pitstop(&["duplicates", s(&store), "--json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let candidates = listed["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{listed}");
    assert_eq!(
        (candidates[0]["a"].as_u64(), candidates[0]["b"].as_u64()),
        (Some(keep.min(gone)), Some(keep.max(gone)))
    );

    // Refused at the prompt: the preview is shown, nothing changes.
    let (ok, stdout, stderr) = merge_answering(&store, keep, gone, "нет\n");
    assert!(!ok);
    assert!(
        stdout.contains("Карты") && stdout.contains("Отменено"),
        "{stdout}"
    );
    assert!(stderr.contains("Объединить?"), "{stderr}");
    let still = exec(
        &store,
        "customer.get",
        json!({ "customer": { "id": gone } }),
    );
    assert_eq!(still["customer"]["id"], gone);

    // Confirmed.
    let (ok, stdout, stderr) = merge_answering(&store, keep, gone, "да\n");
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains(&format!("Клиент {gone} объединён с клиентом {keep}")),
        "{stdout}"
    );
    let now = exec(
        &store,
        "customer.get",
        json!({ "customer": { "id": gone } }),
    );
    assert_eq!(now["customer"]["id"], keep);
    let out = pitstop(&["check", s(&store)]);
    assert!(out.status.success(), "{}", text(&out.stdout));

    // --yes merges without asking; --json prints the result.
    let out = pitstop(&[
        "merge",
        s(&store),
        &keep.to_string(),
        &other.to_string(),
        "--yes",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["merged"], other);
    // A missing customer is an error with its code.
    let out = pitstop(&["merge", s(&store), &keep.to_string(), "999", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error[not_found]"),
        "{}",
        text(&out.stderr)
    );
}
