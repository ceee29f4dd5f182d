//! The command line's integration tests, in one test binary: each file beside this one was
//! a test binary of its own, and each linked the whole core (wasmtime, sled, PostgreSQL's
//! client). A test is named by its file (`cargo test --release -p pitstop-cli --test
//! suite -- import::`). The core's suite checks that every file here is declared below.

mod common;

mod catalog;
mod changes;
mod cli;
mod demo;
mod engage;
mod import;
mod merge;
mod migration;
mod owner_reports;
mod plugins_daily;
mod program_example;
mod simulate;
mod store_files;
