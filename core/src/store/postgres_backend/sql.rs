//! Batches as the statements take them, and PostgreSQL errors in the caller's terms.

use super::TABLE;
use super::connection::Link;
use crate::error::{Error, ErrorCode, Result};
use crate::store::WriteBatch;
use serde_json::json;
use tokio_postgres::error::SqlState;

/// A batch as the statements take it: the keys put, their values, the keys deleted.
pub(super) struct SplitBatch<'b> {
    pub(super) put_keys: Vec<&'b [u8]>,
    pub(super) put_values: Vec<&'b [u8]>,
    pub(super) deleted: Vec<&'b [u8]>,
}

pub(super) fn split_batch(batch: &WriteBatch) -> SplitBatch<'_> {
    let mut split = SplitBatch {
        put_keys: Vec::new(),
        put_values: Vec::new(),
        deleted: Vec::new(),
    };
    for (key, value) in batch {
        match value {
            Some(value) => {
                split.put_keys.push(key);
                split.put_values.push(value);
            }
            None => split.deleted.push(key),
        }
    }
    split
}

/// Whether the store's table exists, asked on a connection or inside a transaction.
pub(super) fn table_exists(link: &Link, label: &str) -> Result<bool> {
    let row = link
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&TABLE])
        .map_err(|err| map_error(label, "looking for the store", err))?;
    Ok(row.get(0))
}

pub(super) fn not_a_store(label: &str, tables: i64) -> Error {
    Error::new(
        ErrorCode::NotFound,
        format!(
            "the database {label} is not a Pitstop store: its schema holds {tables} other \
             table(s) and no {TABLE}; give Pitstop an empty database or schema of its own"
        ),
    )
    .with_details(json!({ "store": label, "tables": tables }))
}

/// Whether an error means the connection is gone (so another one may succeed): closed,
/// a socket error, a failed or timed-out connect, or the server shutting down.
pub(super) fn is_connection_lost(err: &tokio_postgres::Error) -> bool {
    use std::error::Error as _;
    if err.is_closed() {
        return true;
    }
    if let Some(code) = err.code() {
        return *code == SqlState::ADMIN_SHUTDOWN
            || *code == SqlState::CRASH_SHUTDOWN
            || *code == SqlState::CANNOT_CONNECT_NOW;
    }
    let text = err.to_string();
    err.source()
        .is_some_and(|source| source.is::<std::io::Error>())
        || text.starts_with("error connecting to server")
        || text.starts_with("timeout waiting for server")
        || text.starts_with("error communicating with the server")
}

/// A PostgreSQL failure in the caller's terms.
pub(super) fn map_error(label: &str, doing: &str, err: tokio_postgres::Error) -> Error {
    let text = match err.as_db_error() {
        Some(db) => db.message().to_string(),
        None => err.to_string(),
    };
    let (code, message) = match err.code() {
        Some(code)
            if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            (
                ErrorCode::AccessDenied,
                format!("PostgreSQL at {label} refused the login: {text}"),
            )
        }
        Some(code) if *code == SqlState::INSUFFICIENT_PRIVILEGE => (
            ErrorCode::AccessDenied,
            format!("PostgreSQL at {label} refused {doing}: {text}"),
        ),
        Some(code) if *code == SqlState::INVALID_CATALOG_NAME => (
            ErrorCode::NotFound,
            format!("the database of {label} does not exist: {text}"),
        ),
        Some(code)
            if *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::LOCK_NOT_AVAILABLE
                || *code == SqlState::QUERY_CANCELED =>
        {
            (
                ErrorCode::Unavailable,
                format!(
                    "the store at {label} is busy: {doing} waited too long ({text}); nothing was changed, try again"
                ),
            )
        }
        Some(code) if code.code().starts_with("53") => (
            ErrorCode::Io,
            format!("PostgreSQL at {label} is out of resources while {doing}: {text}"),
        ),
        _ if is_connection_lost(&err) => (
            ErrorCode::Unavailable,
            format!(
                "PostgreSQL at {label} cannot be reached while {doing}: {text}; nothing was changed, try again"
            ),
        ),
        _ => (
            ErrorCode::Internal,
            format!("PostgreSQL at {label} failed while {doing}: {text}"),
        ),
    };
    let mut details = json!({
        "store": label,
        "sqlstate": err.code().map(|code| code.code()),
        "retryable": code == ErrorCode::Unavailable,
    });
    let waited_on_another = err.code().is_some_and(|code| {
        *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::LOCK_NOT_AVAILABLE
    });
    if waited_on_another {
        details["conflict"] = json!("locks");
    }
    Error::new(code, message).with_details(details)
}
