//! The documentation tables stay in step with the code.

use crate::common;

use pitstop_core::{ErrorCode, OPS};

#[test]
fn every_error_code_is_documented_with_its_description() {
    let table =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/errors.md")).unwrap();
    for code in ErrorCode::ALL {
        let row = format!("| `{}` | {} |", code.as_str(), code.description());
        assert!(table.contains(&row), "docs/errors.md lacks the row: {row}");
        assert_eq!(ErrorCode::from_name(code.as_str()), Some(code));
    }
    let rows = table.lines().filter(|line| line.starts_with("| `")).count();
    assert_eq!(
        rows,
        ErrorCode::ALL.len(),
        "docs/errors.md lists a code the enum does not have"
    );
}

#[test]
fn every_operation_is_in_the_reference() {
    let reference = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/operations.md"
    ))
    .unwrap();
    for op in OPS {
        assert!(
            reference.contains(&format!("`{}`", op.name)),
            "docs/operations.md lacks {}",
            op.name
        );
    }
}

/// Run every ```request block of a document, in order, on a fresh store. A block may
/// say `error=CODE`; a ```response block right after a request lists fields the result
/// must have (a subset: objects may hold more keys). Returns how many requests ran.
fn run_document(name: &str) -> usize {
    let text =
        std::fs::read_to_string(format!("{}/../docs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let path = common::store_location(&format!("docs-{name}"));
    let engine = pitstop_core::Engine::open(&path, pitstop_core::EngineOptions::default()).unwrap();
    let mut blocks = 0;
    let mut last: Option<(String, serde_json::Value)> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let is_response = line.starts_with("```response");
        let tag = match line.strip_prefix("```request") {
            Some(tag) => tag,
            None if is_response => "",
            None => continue,
        };
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        let body = body.join("\n");
        if is_response {
            let (request, response) = last
                .take()
                .unwrap_or_else(|| panic!("{name}: a response block without a request: {body}"));
            let expected: serde_json::Value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{name}: response block is not JSON ({e}): {body}"));
            if let Err(at) = contains(&response["result"], &expected, "result") {
                panic!("{name}: {request}\n→ {response}\ndiffers at {at}");
            }
            continue;
        }
        let expected_error = tag.trim().strip_prefix("error=").map(str::to_string);
        let response: serde_json::Value =
            serde_json::from_str(&engine.execute_json(&body)).unwrap();
        match &expected_error {
            None => assert_eq!(response["ok"], true, "{name}: {body}\n→ {response}"),
            Some(code) => assert_eq!(
                response["error"]["code"],
                code.as_str(),
                "{name}: {body}\n→ {response}"
            ),
        }
        last = Some((body, response));
        blocks += 1;
    }
    drop(engine);
    let _ = std::fs::remove_dir_all(&path);
    blocks
}

/// Whether `actual` has everything `expected` lists; `Err` names the first difference.
fn contains(
    actual: &serde_json::Value,
    expected: &serde_json::Value,
    at: &str,
) -> Result<(), String> {
    use serde_json::Value;
    match (actual, expected) {
        (Value::Object(have), Value::Object(want)) => {
            for (key, value) in want {
                let inner = format!("{at}.{key}");
                contains(have.get(key).unwrap_or(&Value::Null), value, &inner)?;
            }
            Ok(())
        }
        (Value::Array(have), Value::Array(want)) if have.len() == want.len() => {
            for (i, (a, e)) in have.iter().zip(want).enumerate() {
                contains(a, e, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        _ if actual == expected => Ok(()),
        _ => Err(format!("{at}: expected {expected}, got {actual}")),
    }
}

#[test]
fn the_reference_session_runs() {
    let blocks = run_document("operations.md");
    assert!(blocks >= 15, "only {blocks} request blocks found");
}

#[test]
fn the_accounting_rules_run_as_written() {
    let blocks = run_document("program.md");
    assert!(
        blocks >= 12,
        "only {blocks} request blocks found in program.md"
    );
}
