//! The core's integration tests, in one test binary.
//!
//! Each file beside this one was a test binary of its own; together they compile and link
//! wasmtime, sled and PostgreSQL's client once instead of once per file (29 binaries took
//! about 10 s of optimised compilation and a link each). A test is named by its file:
//! `cargo test --release -p pitstop-core --test suite -- scenarios::` runs what
//! `--test scenarios` ran; `make postgres-test` selects the shared suites that way.
//! `every_file_beside_main_is_a_module` fails when a file here is not declared below, so
//! no test is left out of the build.

mod common;

mod aggregates;
mod analytics;
mod analytics_more;
mod audit;
mod audit_report;
mod backup;
mod branches;
mod catalog;
mod completeness;
mod corruption;
mod crash;
mod dashboard;
mod docs;
mod engagement;
mod growth;
mod history;
mod import_reminders;
mod layers;
mod lots;
mod merge;
mod model;
mod plugin_effects;
mod plugins;
mod postgres;
mod postgres_failures;
mod regressions;
mod request_contract;
mod scenarios;
mod shop_plugins;
mod simulate;
mod wal;

/// Also checks the CLI's test binary (cli/tests/suite), which is built the same way.
#[test]
fn every_file_beside_main_is_a_module() {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for krate in ["core", "cli"] {
        common::assert_every_file_is_a_module(&crates.join(krate).join("tests/suite"));
    }
}
