//! The documentation tables stay in step with the code.

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

#[test]
fn the_reference_session_runs() {
    let reference = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/operations.md"
    ))
    .unwrap();
    let path = std::env::temp_dir().join(format!("pitstop-docs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    let engine = pitstop_core::Engine::open(&path, pitstop_core::EngineOptions::default()).unwrap();
    let mut blocks = 0;
    let mut lines = reference.lines();
    while let Some(line) = lines.next() {
        let Some(tag) = line.strip_prefix("```request") else {
            continue;
        };
        let expected_error = tag.trim().strip_prefix("error=").map(str::to_string);
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        let request = body.join("\n");
        let response: serde_json::Value =
            serde_json::from_str(&engine.execute_json(&request)).unwrap();
        match &expected_error {
            None => assert_eq!(response["ok"], true, "{request}\n→ {response}"),
            Some(code) => assert_eq!(
                response["error"]["code"],
                code.as_str(),
                "{request}\n→ {response}"
            ),
        }
        blocks += 1;
    }
    assert!(blocks >= 15, "only {blocks} request blocks found");
    drop(engine);
    let _ = std::fs::remove_dir_all(&path);
}
