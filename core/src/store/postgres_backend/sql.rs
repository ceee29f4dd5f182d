//! Statement text and PostgreSQL errors: a batch as one round trip of SQL, bytea
//! literals, and what a server error means to the caller.

use super::TABLE;
use crate::error::{Error, ErrorCode, Result};
use crate::store::WriteBatch;
use crate::store::lock_scope::Mode;
use postgres::GenericClient;
use postgres::error::SqlState;
use serde_json::json;

/// Largest batch written in one round trip as statement text (hex doubles it); a larger
/// one (an import) goes as bound parameters.
pub(super) const ONE_TRIP_BATCH_BYTES_MAX: usize = 256 * 1024;

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

/// The statements that lock what a batch writes, write it and commit, as one text.
pub(super) fn apply_text(lock_ids: &[i64], batch: &WriteBatch) -> String {
    let SplitBatch {
        put_keys,
        put_values,
        deleted,
    } = split_batch(batch);
    let mut text = String::with_capacity(
        64 + batch
            .iter()
            .map(|(k, v)| 2 * (k.len() + v.as_ref().map_or(0, Vec::len)) + 32)
            .sum::<usize>(),
    );
    if !lock_ids.is_empty() {
        let ids: Vec<String> = lock_ids.iter().map(i64::to_string).collect();
        text.push_str(&format!(
            "SELECT count(pg_advisory_xact_lock(id)) FROM unnest(ARRAY[{}]::bigint[]) AS id; ",
            ids.join(",")
        ));
    }
    if !put_keys.is_empty() {
        text.push_str(&format!("INSERT INTO {TABLE} (k, v) VALUES "));
        for (index, (key, value)) in put_keys.iter().zip(&put_values).enumerate() {
            if index > 0 {
                text.push(',');
            }
            text.push('(');
            text.push_str(&bytea_literal(key));
            text.push(',');
            text.push_str(&bytea_literal(value));
            text.push(')');
        }
        text.push_str(" ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v; ");
    }
    if !deleted.is_empty() {
        let keys: Vec<String> = deleted.iter().map(|key| bytea_literal(key)).collect();
        text.push_str(&format!(
            "DELETE FROM {TABLE} WHERE k IN ({}); ",
            keys.join(",")
        ));
    }
    text.push_str("COMMIT");
    text
}

/// A bytea literal for a statement's text: hex digits only, so nothing can escape it.
pub(super) fn bytea_literal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2 + 12);
    out.push_str("'\\x");
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out.push_str("'::bytea");
    out
}

/// A bytea value as PostgreSQL prints it in hex (`\x0a1b...`).
pub(super) fn unhex(label: &str, text: &str) -> Result<Vec<u8>> {
    let bad = || {
        Error::internal(format!(
            "PostgreSQL at {label} sent a bytea value that is not hex"
        ))
    };
    let digits = text.strip_prefix("\\x").ok_or_else(bad)?.as_bytes();
    if digits.len() % 2 != 0 {
        return Err(bad());
    }
    let value = |digit: u8| match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        b'A'..=b'F' => Ok(digit - b'A' + 10),
        _ => Err(bad()),
    };
    digits
        .chunks_exact(2)
        .map(|pair| Ok((value(pair[0])? << 4) | value(pair[1])?))
        .collect()
}

/// Whether the store's table exists, asked on a connection or inside a transaction.
pub(super) fn table_exists(client: &mut impl GenericClient, label: &str) -> Result<bool> {
    let row = client
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
pub(super) fn is_connection_lost(err: &postgres::Error) -> bool {
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
pub(super) fn map_error(label: &str, doing: &str, err: postgres::Error) -> Error {
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

/// One statement taking `locks` (advisory lock id, mode) in order, as text.
pub(super) fn lock_statement(locks: &[(i64, Mode)]) -> String {
    let calls: Vec<String> = locks
        .iter()
        .map(|(id, mode)| match mode {
            Mode::Shared => format!("pg_advisory_xact_lock_shared({id})"),
            Mode::Exclusive => format!("pg_advisory_xact_lock({id})"),
        })
        .collect();
    format!("SELECT {}", calls.join(", "))
}

/// Take `locks`, then read `keys` (a statement after the locks, so its snapshot is taken
/// once they are granted), as one text; no lock statement when there are none.
pub(super) fn lock_and_select_keys<K: AsRef<[u8]>>(locks: &[(i64, Mode)], keys: &[K]) -> String {
    match locks.is_empty() {
        true => select_keys(keys),
        false => format!("{}; {}", lock_statement(locks), select_keys(keys)),
    }
}

/// `SELECT k, v` of at most `limit` rows of `[start, end)` in key order (or reverse), as
/// statement text.
pub(super) fn select_range(start: &[u8], end: &[u8], limit: usize, reverse: bool) -> String {
    // PostgreSQL's LIMIT is a bigint.
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    format!(
        "SELECT k, v FROM {TABLE} WHERE k >= {} AND k < {} ORDER BY k {} LIMIT {limit}",
        bytea_literal(start),
        bytea_literal(end),
        if reverse { "DESC" } else { "ASC" }
    )
}

/// `SELECT k, v` of the rows of `keys`, as statement text.
pub(super) fn select_keys<K: AsRef<[u8]>>(keys: &[K]) -> String {
    let literals: Vec<String> = keys.iter().map(|key| bytea_literal(key.as_ref())).collect();
    format!(
        "SELECT k, v FROM {TABLE} WHERE k IN ({})",
        literals.join(",")
    )
}

/// The rows of each statement of a simple query, as text, by statement.
pub(super) fn rows_by_statement(
    messages: Vec<postgres::SimpleQueryMessage>,
) -> Vec<Vec<Vec<Option<String>>>> {
    let mut statements = vec![Vec::new()];
    for message in messages {
        match message {
            postgres::SimpleQueryMessage::CommandComplete(_) => statements.push(Vec::new()),
            postgres::SimpleQueryMessage::Row(row) => {
                let fields = (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect();
                if let Some(rows) = statements.last_mut() {
                    rows.push(fields);
                }
            }
            _ => {}
        }
    }
    // The entry opened after the last statement's completion holds nothing.
    statements.pop();
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytea_literals_and_hex_round_trip_every_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        let literal = bytea_literal(&bytes);
        assert!(literal.starts_with("'\\x000102") && literal.ends_with("feff'::bytea"));
        let hex = &literal[1..literal.len() - "'::bytea".len()];
        assert_eq!(unhex("test", hex).unwrap(), bytes);
        assert_eq!(unhex("test", "\\xABcd").unwrap(), vec![0xab, 0xcd]);
        for bad in ["x00", "\\x0", "\\x0g", "\\x é"] {
            assert!(unhex("test", bad).is_err(), "{bad}");
        }
    }
}
