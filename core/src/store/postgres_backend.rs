//! The PostgreSQL backend: one store shared by many processes on many machines (tills,
//! 1C worker processes, the branches of a dealer group).
//!
//! The key space is one table, `pitstop_kv (k bytea primary key, v bytea)`, in the
//! connection's current schema; `bytea` compares byte by byte, so scans see the order
//! sled gives. How the [`Backend`] promises hold across processes:
//! - **writers:** a write is a READ COMMITTED transaction holding transaction-level
//!   advisory locks. A whole-store writer ([`Backend::begin_write`]) holds the store's
//!   lock exclusively: nobody else writes until it ends. A scoped writer
//!   ([`Backend::begin_scoped_write`]) holds the store's lock shared, and before each
//!   read the lock of what it reads ([`super::lock_scope`]: the customer, or the key),
//!   before its batch the locks of what it writes. A read made after its lock sees every
//!   batch committed before, and nobody changes what it read until it ends, so what it
//!   decided still holds at commit: no lost update, no double spend, one idempotency
//!   record per key. A lock that does not come within [`SCOPE_LOCK_TIMEOUT_MS`] (two
//!   writers waiting on each other) and a range read no key lock covers fail with a
//!   conflict that changes nothing; the session runs the operation again. A process that
//!   dies holding locks loses its connection, and the server rolls back and releases
//!   them.
//! - **counters:** ids are taken by a compare-and-set on a connection of their own,
//!   committed at once ([`WriteView::take_counter`]), so writers never wait for each
//!   other's counters; it commits without waiting for the disk, which is safe because
//!   the transaction that uses an id commits after it, and PostgreSQL's log is flushed
//!   in order.
//! - **snapshots:** a REPEATABLE READ READ ONLY transaction.
//! - **durability:** a batch is durable when its COMMIT returns; the connection insists
//!   on `synchronous_commit` being at least `local`.
//! - **failures:** a lost connection is dropped from the pool and the next call
//!   connects again; starting a transaction is retried a few times for a server that
//!   is restarting. Every wait is bounded: connecting, each statement, the writer lock.
//!   What cannot complete fails with `unavailable` (retryable) and changes nothing,
//!   except a COMMIT whose answer was lost, which says so: its retry must carry the same
//!   idempotency key.

use super::lock_scope::{self, Mode, Scope};
use super::{Backend, Pair, View, WriteBatch, WriteView, keys};
use crate::error::{Error, ErrorCode, Result};
use postgres::error::SqlState;
use postgres::{Client, Config, GenericClient, NoTls, Statement};
use serde_json::json;
use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

/// The table that holds a store's key space.
const TABLE: &str = "pitstop_kv";
/// First half of the advisory lock's key (the second is the schema's hash), so two stores
/// in two schemas of one database do not wait for each other.
const LOCK_CLASS: i32 = 0x5053; // "PS"
/// Connections kept open between calls.
const POOL_IDLE_MAX: usize = 64;
/// Bounds on every wait.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const STATEMENT_TIMEOUT_MS: u32 = 60_000;
const LOCK_TIMEOUT_MS: u32 = 30_000;
const IDLE_IN_TRANSACTION_TIMEOUT_MS: u32 = 60_000;
/// Attempts to start a transaction when the connection turns out dead (a restarted server).
const BEGIN_ATTEMPTS: u32 = 4;
/// How long a scoped writer waits for the lock of a customer or a key before it gives
/// up with a conflict (and is run again): longer than any one operation holds a
/// customer, short enough that two writers waiting on each other part quickly.
pub const SCOPE_LOCK_TIMEOUT_MS: u32 = 500;
/// Compare-and-set attempts of one counter before giving up with a conflict.
const COUNTER_ATTEMPTS: u32 = 1000;

/// Whether `text` names a PostgreSQL store rather than a sled directory: a
/// `postgresql://` or `postgres://` URL, or a libpq `key=value` string that starts with
/// a connection key and names a host or a database (`host=/run/postgresql dbname=shop`).
pub fn is_connection_string(text: &str) -> bool {
    if text.starts_with("postgresql://") || text.starts_with("postgres://") {
        return true;
    }
    const FIRST_KEYS: [&str; 6] = ["host", "hostaddr", "port", "dbname", "user", "password"];
    let text = text.trim_start();
    let starts_with_a_key = FIRST_KEYS.iter().any(|key| {
        text.strip_prefix(key)
            .is_some_and(|rest| rest.starts_with('='))
    });
    let words: Vec<&str> = text.split_whitespace().collect();
    let names_a_place = words
        .iter()
        .any(|word| word.starts_with("host=") || word.starts_with("dbname="));
    starts_with_a_key && names_a_place
}

/// Prepared statements of one connection.
struct Statements {
    get: Statement,
    scan_forward: Statement,
    scan_reverse: Statement,
    upsert: Statement,
    delete: Statement,
    lock_all: Statement,
    insert_new: Statement,
    compare_and_set: Statement,
}

/// One pooled connection.
struct Connection {
    client: Client,
    statements: Statements,
}

/// A PostgreSQL store.
pub struct PostgresBackend {
    config: Config,
    /// The store as messages name it: host, port and database, never the password.
    label: String,
    idle: Mutex<Vec<Connection>>,
    /// Connections that take counters: their commits do not wait for the disk.
    idle_counters: Mutex<Vec<Connection>>,
    /// Each counter's stored value as this process last wrote or read it: the
    /// compare-and-set tries it first and reads the counter only when another writer
    /// moved it.
    counters_seen: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
    /// What every lock of this store is derived from: a hash of its schema, so stores in
    /// two schemas of one database never share a lock.
    lock_base: u64,
}

impl PostgresBackend {
    /// Connect to the database `connection` names and open its store, creating the store
    /// when the schema is empty. Returns the backend and whether it was created now.
    pub fn open(connection: &str) -> Result<(PostgresBackend, bool)> {
        let config = parse_config(connection)?;
        let label = label_of(&config);
        let mut client = connect(&config, &label)?;
        let schema: String = client
            .query_one("SELECT current_schema()::text", &[])
            .map_err(|err| map_error(&label, "looking for the store", err))?
            .get(0);
        let mut backend = PostgresBackend {
            label,
            config,
            idle: Mutex::new(Vec::new()),
            idle_counters: Mutex::new(Vec::new()),
            counters_seen: Mutex::new(HashMap::new()),
            lock_base: lock_scope::fnv1a(lock_scope::key_hash(b"pitstop"), schema.as_bytes()),
        };
        let created = backend.create_if_empty(&mut client)?;
        backend.lock_base = lock_scope::fnv1a(backend.lock_base, b"/");
        backend.release(backend.prepare(client)?);
        Ok((backend, created))
    }

    /// Whether the database `connection` names holds a Pitstop store (a reachable server
    /// is required: an unreachable one is an error, not a "no").
    pub fn exists(connection: &str) -> Result<bool> {
        let config = parse_config(connection)?;
        let label = label_of(&config);
        let mut client = connect(&config, &label)?;
        table_exists(&mut client, &label)
    }

    /// How messages name this store.
    pub fn label(&self) -> &str {
        &self.label
    }

    fn connect_client(&self) -> Result<Client> {
        connect(&self.config, &self.label)
    }

    fn prepare(&self, mut client: Client) -> Result<Connection> {
        let fail = |err| map_error(&self.label, "preparing statements", err);
        let statements = Statements {
            get: client
                .prepare(&format!("SELECT v FROM {TABLE} WHERE k = $1"))
                .map_err(fail)?,
            scan_forward: client
                .prepare(&format!(
                    "SELECT k, v FROM {TABLE} WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3"
                ))
                .map_err(fail)?,
            scan_reverse: client
                .prepare(&format!(
                    "SELECT k, v FROM {TABLE} WHERE k >= $1 AND k < $2 ORDER BY k DESC LIMIT $3"
                ))
                .map_err(fail)?,
            upsert: client
                .prepare(&format!(
                    "INSERT INTO {TABLE} (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                     ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
                ))
                .map_err(fail)?,
            delete: client
                .prepare(&format!("DELETE FROM {TABLE} WHERE k = ANY($1::bytea[])"))
                .map_err(fail)?,
            lock_all: client
                .prepare("SELECT count(pg_advisory_xact_lock(id)) FROM unnest($1::bigint[]) AS id")
                .map_err(fail)?,
            insert_new: client
                .prepare(&format!(
                    "INSERT INTO {TABLE} (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING"
                ))
                .map_err(fail)?,
            compare_and_set: client
                .prepare(&format!(
                    "UPDATE {TABLE} SET v = $3 WHERE k = $1 AND v = $2"
                ))
                .map_err(fail)?,
        };
        Ok(Connection { client, statements })
    }

    /// A live connection: an idle one, or a new one.
    fn checkout(&self) -> Result<Connection> {
        loop {
            let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match idle {
                Some(connection) if connection.client.is_closed() => continue,
                Some(connection) => return Ok(connection),
                None => return self.prepare(self.connect_client()?),
            }
        }
    }

    fn release(&self, connection: Connection) {
        release_to(&self.idle, connection);
    }

    /// A connection for counters: an idle one, or a new one whose commits do not wait
    /// for the disk (see the module's documentation).
    fn checkout_counters(&self) -> Result<Connection> {
        loop {
            let idle = self
                .idle_counters
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop();
            match idle {
                Some(connection) if connection.client.is_closed() => continue,
                Some(connection) => return Ok(connection),
                None => {
                    let mut client = self.connect_client()?;
                    client
                        .batch_execute("SET synchronous_commit = off")
                        .map_err(|err| map_error(&self.label, "configuring the connection", err))?;
                    return self.prepare(client);
                }
            }
        }
    }

    /// Take `count` values of the counter at `key`: compare-and-set, committed at once.
    fn take_counter(&self, key: &[u8], count: u64) -> Result<u64> {
        let mut connection = self.checkout_counters()?;
        let outcome = self.compare_and_set_counter(&mut connection, key, count);
        release_to(&self.idle_counters, connection);
        outcome
    }

    fn compare_and_set_counter(
        &self,
        connection: &mut Connection,
        key: &[u8],
        count: u64,
    ) -> Result<u64> {
        let fail = |err| map_error(&self.label, "taking an id", err);
        let (client, statements) = (&mut connection.client, &connection.statements);
        let seen = |key: &[u8]| {
            self.counters_seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(key)
                .cloned()
        };
        let mut last_seen = seen(key);
        for _ in 0..COUNTER_ATTEMPTS {
            let stored = match last_seen.take() {
                Some(bytes) => Some(bytes),
                None => client
                    .query_opt(&statements.get, &[&key])
                    .map_err(fail)?
                    .map(|row| row.get::<_, Vec<u8>>(0)),
            };
            let current: u64 = match &stored {
                Some(bytes) => super::decode(key, bytes)?,
                None => 0,
            };
            let next = current.checked_add(count).ok_or_else(|| {
                Error::internal(format!("counter {} overflowed", keys::display(key)))
            })?;
            let encoded = super::encode(&next)?;
            let changed = match &stored {
                Some(bytes) => {
                    client.execute(&statements.compare_and_set, &[&key, bytes, &encoded])
                }
                None => client.execute(&statements.insert_new, &[&key, &encoded]),
            }
            .map_err(fail)?;
            if changed == 1 {
                self.counters_seen
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(key.to_vec(), encoded);
                return Ok(current + 1);
            }
        }
        Err(conflict(
            &self.label,
            format!("the counter {} kept changing under it", keys::display(key)),
            "locks",
        ))
    }

    /// The advisory lock (bigint form) of a scope of this store.
    fn lock_id(&self, scope: Scope) -> i64 {
        let hash = match scope {
            Scope::Customer(id) => {
                lock_scope::fnv1a(lock_scope::fnv1a(self.lock_base, b"c"), &id.to_be_bytes())
            }
            Scope::Key(hash) => {
                lock_scope::fnv1a(lock_scope::fnv1a(self.lock_base, b"k"), &hash.to_be_bytes())
            }
            Scope::Store => lock_scope::fnv1a(self.lock_base, b"s"),
        };
        hash as i64
    }

    /// A connection with `begin` run on it. A dead connection (the server restarted, an
    /// administrator killed it) is dropped and another is tried, a few times.
    fn begin(&self, begin: &str) -> Result<Connection> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut connection = self.checkout()?;
            match connection.client.batch_execute(begin) {
                Ok(()) => return Ok(connection),
                Err(err) if attempt < BEGIN_ATTEMPTS && is_connection_lost(&err) => {
                    std::thread::sleep(Duration::from_millis(100 * u64::from(attempt)));
                }
                Err(err) => return Err(map_error(&self.label, "starting a transaction", err)),
            }
        }
    }

    fn create_if_empty(&self, client: &mut Client) -> Result<bool> {
        let fail = |err| map_error(&self.label, "creating the store", err);
        let mut txn = client.transaction().map_err(fail)?;
        txn.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))",
            &[&LOCK_CLASS],
        )
        .map_err(fail)?;
        if table_exists(&mut txn, &self.label)? {
            return Ok(false);
        }
        let others: i64 = txn
            .query_one(
                "SELECT count(*) FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')",
                &[],
            )
            .map_err(fail)?
            .get(0);
        if others > 0 {
            return Err(not_a_store(&self.label, others));
        }
        txn.batch_execute(&format!(
            "CREATE TABLE {TABLE} (k bytea PRIMARY KEY, v bytea NOT NULL); \
             COMMENT ON TABLE {TABLE} IS 'Pitstop loyalty store: one ordered key-value space'"
        ))
        .map_err(fail)?;
        let meta = [
            (
                keys::meta(keys::META_FORMAT),
                super::encode(&super::FORMAT_VERSION)?,
            ),
            (keys::meta(keys::META_SEQ), super::encode(&0u64)?),
        ];
        for (key, value) in &meta {
            txn.execute(
                &format!("INSERT INTO {TABLE} (k, v) VALUES ($1, $2)"),
                &[key, value],
            )
            .map_err(fail)?;
        }
        txn.commit().map_err(fail)?;
        Ok(true)
    }
}

fn release_to(pool: &Mutex<Vec<Connection>>, connection: Connection) {
    if connection.client.is_closed() {
        return;
    }
    let mut idle = pool.lock().unwrap_or_else(|p| p.into_inner());
    if idle.len() < POOL_IDLE_MAX {
        idle.push(connection);
    }
}

/// A conflict between writers: nothing was changed, run the operation again
/// (`details.conflict`: `locks`, or `whole_store` when it needs the whole store).
fn conflict(label: &str, why: String, kind: &str) -> Error {
    Error::new(
        ErrorCode::Unavailable,
        format!("the store at {label} is busy: {why}; nothing was changed, try again"),
    )
    .with_details(json!({ "store": label, "retryable": true, "conflict": kind }))
}

/// How messages name the store `connection` opens (never its password).
pub fn describe(connection: &str) -> String {
    match Config::from_str(connection) {
        Ok(config) => label_of(&config),
        Err(_) => "a PostgreSQL connection string that does not parse".to_string(),
    }
}

fn parse_config(connection: &str) -> Result<Config> {
    let mut config = Config::from_str(connection).map_err(|err| {
        Error::invalid(
            "store",
            format!("is not a valid PostgreSQL connection string: {err}"),
        )
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("pitstop");
    }
    // A dead peer is noticed in about a minute, not after the kernel's two hours.
    config.keepalives(true);
    config.keepalives_idle(Duration::from_secs(30));
    config.keepalives_interval(Duration::from_secs(10));
    config.keepalives_retries(3);
    Ok(config)
}

/// `user@host:port/dbname`, for messages.
fn label_of(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("(default user)");
    let dbname = config.get_dbname().unwrap_or(user);
    format!("postgresql://{user}@{host}:{port}/{dbname}")
}

fn connect(config: &Config, label: &str) -> Result<Client> {
    let mut client = config
        .connect(NoTls)
        .map_err(|err| map_error(label, "connecting", err))?;
    let settings = format!(
        "SET statement_timeout = {STATEMENT_TIMEOUT_MS}; \
         SET lock_timeout = {LOCK_TIMEOUT_MS}; \
         SET idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_TIMEOUT_MS}; \
         SET standard_conforming_strings = on; SET bytea_output = 'hex'"
    );
    client
        .batch_execute(&settings)
        .map_err(|err| map_error(label, "configuring the connection", err))?;
    // Acknowledged must mean on disk: a server (or role) configured with
    // synchronous_commit = off would acknowledge commits it can still lose.
    let synchronous: String = client
        .query_one("SHOW synchronous_commit", &[])
        .map_err(|err| map_error(label, "configuring the connection", err))?
        .get(0);
    if synchronous == "off" {
        client
            .batch_execute("SET synchronous_commit = on")
            .map_err(|err| map_error(label, "configuring the connection", err))?;
    }
    Ok(client)
}

/// Largest batch written in one round trip as statement text (hex doubles it); a larger
/// one (an import) goes as bound parameters.
const ONE_TRIP_BATCH_BYTES_MAX: usize = 256 * 1024;

/// A batch as the statements take it: the keys put, their values, the keys deleted.
struct SplitBatch<'b> {
    put_keys: Vec<&'b [u8]>,
    put_values: Vec<&'b [u8]>,
    deleted: Vec<&'b [u8]>,
}

fn split_batch(batch: &WriteBatch) -> SplitBatch<'_> {
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
fn apply_text(lock_ids: &[i64], batch: &WriteBatch) -> String {
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
fn bytea_literal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2 + 12);
    out.push_str("'\\x");
    for byte in bytes {
        out.push_str(&format!("{byte:02x}"));
    }
    out.push_str("'::bytea");
    out
}

/// A bytea value as PostgreSQL prints it in hex (`\x0a1b...`).
fn unhex(label: &str, text: &str) -> Result<Vec<u8>> {
    let bad = || {
        Error::internal(format!(
            "PostgreSQL at {label} sent a bytea value that is not hex"
        ))
    };
    let digits = text.strip_prefix("\\x").ok_or_else(bad)?.as_bytes();
    if digits.len() % 2 != 0 {
        return Err(bad());
    }
    let value = |digit: u8| char::from(digit).to_digit(16).ok_or_else(bad);
    digits
        .chunks_exact(2)
        .map(|pair| Ok((value(pair[0])? * 16 + value(pair[1])?) as u8))
        .collect()
}

/// Whether the store's table exists, asked on a connection or inside a transaction.
fn table_exists(client: &mut impl GenericClient, label: &str) -> Result<bool> {
    let row = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&TABLE])
        .map_err(|err| map_error(label, "looking for the store", err))?;
    Ok(row.get(0))
}

fn not_a_store(label: &str, tables: i64) -> Error {
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
fn is_connection_lost(err: &postgres::Error) -> bool {
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
fn map_error(label: &str, doing: &str, err: postgres::Error) -> Error {
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

/// A view on one pooled connection: a snapshot (a REPEATABLE READ READ ONLY
/// transaction), stepwise reads (each statement its own transaction), or the writer (a
/// transaction holding the store's advisory lock). Dropped, it ends its transaction with
/// `end` (a writer that applied has already committed) and gives the connection back.
/// Values read by a writer, by key (`None`: the key is absent).
type ReadCache = HashMap<Vec<u8>, Option<Vec<u8>>>;

struct PgView<'a> {
    backend: &'a PostgresBackend,
    connection: RefCell<Option<Connection>>,
    end: Option<&'static str>,
    /// A scoped writer's locks, by advisory lock id; `None` for every other view.
    scoped: Option<RefCell<HashMap<i64, Mode>>>,
    /// A writer's reads (`None`: absent), each made under a lock it holds to its end (or
    /// while no one else writes), so they stay true: a key read twice costs one round
    /// trip, and a customer's records come in the round trip that locks the customer.
    read_cache: Option<RefCell<ReadCache>>,
}

impl<'a> PgView<'a> {
    fn new(
        backend: &'a PostgresBackend,
        connection: Connection,
        end: Option<&'static str>,
    ) -> Self {
        PgView {
            backend,
            connection: RefCell::new(Some(connection)),
            end,
            scoped: None,
            read_cache: None,
        }
    }

    fn writer(backend: &'a PostgresBackend, connection: Connection) -> Self {
        let mut view = PgView::new(backend, connection, Some("ROLLBACK"));
        view.read_cache = Some(RefCell::new(HashMap::new()));
        view
    }

    fn cached(&self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        self.read_cache.as_ref()?.borrow().get(key).cloned()
    }

    fn remember(&self, key: &[u8], value: &Option<Vec<u8>>) {
        if let Some(cache) = &self.read_cache {
            cache.borrow_mut().insert(key.to_vec(), value.clone());
        }
    }

    fn scoped_writer(backend: &'a PostgresBackend, connection: Connection) -> Self {
        let mut view = PgView::writer(backend, connection);
        view.scoped = Some(RefCell::new(HashMap::new()));
        view
    }

    /// The lock a scoped writer must take before touching `scope` in `mode`, unless it
    /// holds it already (or is no scoped writer).
    fn lock_needed(&self, (scope, mode): (Scope, Mode)) -> Result<Option<(i64, Mode)>> {
        let Some(held) = &self.scoped else {
            return Ok(None);
        };
        if scope == Scope::Store {
            return Err(conflict(
                &self.backend.label,
                "the operation reads across customers, which needs the whole store".to_string(),
                "whole_store",
            ));
        }
        let id = self.backend.lock_id(scope);
        match held.borrow().get(&id) {
            Some(have) if *have >= mode => Ok(None),
            _ => Ok(Some((id, mode))),
        }
    }

    /// Take a lock and then run `query` (whose statement snapshot is therefore taken
    /// after the lock is granted) in one round trip; the query's rows as text. Locking a
    /// customer also reads the customer's own records into the read cache.
    fn locked_query(
        &self,
        (id, mode): (i64, Mode),
        scope: Scope,
        query: &str,
    ) -> Result<Vec<Vec<Option<String>>>> {
        let function = match mode {
            Mode::Shared => "pg_advisory_xact_lock_shared",
            Mode::Exclusive => "pg_advisory_xact_lock",
        };
        let mut text = format!("SELECT {function}({id}); {query}");
        let prefetched = match scope {
            Scope::Customer(customer) if self.read_cache.is_some() => {
                lock_scope::customer_records(customer)
            }
            _ => Vec::new(),
        };
        if !prefetched.is_empty() {
            let keys: Vec<String> = prefetched.iter().map(|key| bytea_literal(key)).collect();
            text.push_str(&format!(
                "; SELECT k, v FROM {TABLE} WHERE k IN ({})",
                keys.join(",")
            ));
        }
        let messages = self.with("reading", |c| c.client.simple_query(&text))?;
        if let Some(held) = &self.scoped {
            let mut held = held.borrow_mut();
            let entry = held.entry(id).or_insert(mode);
            *entry = (*entry).max(mode);
        }
        let mut statements_done = 0;
        let mut rows = Vec::new();
        let mut found = Vec::new();
        for message in messages {
            let row = match message {
                postgres::SimpleQueryMessage::CommandComplete(_) => {
                    statements_done += 1;
                    continue;
                }
                postgres::SimpleQueryMessage::Row(row) => row,
                _ => continue,
            };
            let fields: Vec<Option<String>> = (0..row.len())
                .map(|i| row.get(i).map(str::to_string))
                .collect();
            match statements_done {
                1 => rows.push(fields),
                2 => found.push(self.pair_of(&fields)?),
                _ => {}
            }
        }
        for key in prefetched {
            let value = found
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone());
            self.remember(&key, &value);
        }
        Ok(rows)
    }

    fn pair_of(&self, row: &[Option<String>]) -> Result<Pair> {
        let label = &self.backend.label;
        match (row.first(), row.get(1)) {
            (Some(Some(k)), Some(Some(v))) => Ok((unhex(label, k)?, unhex(label, v)?)),
            _ => Err(Error::internal(
                "a locked read returned a row without key or value",
            )),
        }
    }

    fn locked_read(&self, lock: (i64, Mode), scope: Scope, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let query = format!("SELECT v FROM {TABLE} WHERE k = {}", bytea_literal(key));
        let rows = self.locked_query(lock, scope, &query)?;
        match rows.first().and_then(|row| row.first()) {
            Some(Some(text)) => Ok(Some(unhex(&self.backend.label, text)?)),
            _ => Ok(None),
        }
    }

    fn locked_scan(
        &self,
        lock: (i64, Mode),
        (start, end): (&[u8], &[u8]),
        limit: i64,
        reverse: bool,
    ) -> Result<Vec<Pair>> {
        let query = format!(
            "SELECT k, v FROM {TABLE} WHERE k >= {} AND k < {} ORDER BY k {} LIMIT {limit}",
            bytea_literal(start),
            bytea_literal(end),
            if reverse { "DESC" } else { "ASC" }
        );
        let scope = lock_scope::of_range(start, end);
        self.locked_query(lock, scope, &query)?
            .iter()
            .map(|row| self.pair_of(row))
            .collect()
    }

    /// Before a scoped writer's batch: the exclusive locks of everything it writes that
    /// it does not hold yet, in lock order.
    fn write_lock_ids(&self, batch: &WriteBatch) -> Result<Vec<i64>> {
        let mut ids = Vec::new();
        for key in batch.keys() {
            if let Some((id, _)) = self.lock_needed(lock_scope::of_key(key, true))? {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    fn with<T>(
        &self,
        doing: &str,
        work: impl FnOnce(&mut Connection) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        self.with_raw(work)?
            .map_err(|err| map_error(&self.backend.label, doing, err))
    }

    /// Run `work` on the view's connection, its PostgreSQL error left as it is.
    fn with_raw<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> std::result::Result<T, postgres::Error>,
    ) -> Result<std::result::Result<T, postgres::Error>> {
        let mut slot = self.connection.borrow_mut();
        let connection = slot
            .as_mut()
            .ok_or_else(|| Error::internal("a PostgreSQL view was used after it ended"))?;
        Ok(work(connection))
    }

    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(value) = self.cached(key) {
            return Ok(value);
        }
        let (scope, mode) = lock_scope::of_key(key, false);
        if let Some(lock) = self.lock_needed((scope, mode))? {
            let value = self.locked_read(lock, scope, key)?;
            self.remember(key, &value);
            return Ok(value);
        }
        let value = self.plain_read(key)?;
        self.remember(key, &value);
        Ok(value)
    }

    fn plain_read(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.with("reading", |c| {
            let row = c.client.query_opt(&c.statements.get, &[&key])?;
            Ok(row.map(|row| row.get::<_, Vec<u8>>(0)))
        })
    }

    fn read_range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Pair>> {
        if start >= end || limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        if self.scoped.is_some() {
            let scope = lock_scope::of_range(start, end);
            if let Some(lock) = self.lock_needed((scope, Mode::Exclusive))? {
                return self.locked_scan(lock, (start, end), limit, reverse);
            }
        }
        self.with("scanning", |c| {
            let statement = if reverse {
                &c.statements.scan_reverse
            } else {
                &c.statements.scan_forward
            };
            let rows = c.client.query(statement, &[&start, &end, &limit])?;
            Ok(rows
                .into_iter()
                .map(|row| (row.get::<_, Vec<u8>>(0), row.get::<_, Vec<u8>>(1)))
                .collect())
        })
    }

    /// End the transaction the connection is in (if `end` is given) and give the
    /// connection back, or drop it when it is broken.
    fn finish(&self, end: Option<&str>) {
        let Some(mut connection) = self.connection.borrow_mut().take() else {
            return;
        };
        if let Some(end) = end
            && connection.client.batch_execute(end).is_err()
        {
            return;
        }
        self.backend.release(connection);
    }
}

impl View for PgView<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.read(key)
    }
    fn scan(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        self.read_range(start, end, limit, reverse)
    }
}

impl WriteView for PgView<'_> {
    fn apply(&mut self, batch: &WriteBatch) -> Result<()> {
        let lock_ids = self.write_lock_ids(batch)?;
        let batch_bytes: usize = batch
            .iter()
            .map(|(key, value)| key.len() + value.as_ref().map_or(0, Vec::len))
            .sum();
        let outcome = self.with_raw(|c| {
            if batch_bytes <= ONE_TRIP_BATCH_BYTES_MAX {
                // Locks, writes and COMMIT in one round trip; a statement that fails
                // skips the rest, COMMIT included.
                return c
                    .client
                    .simple_query(&apply_text(&lock_ids, batch))
                    .map(|_| ());
            }
            if !lock_ids.is_empty() {
                c.client.query_one(&c.statements.lock_all, &[&lock_ids])?;
            }
            let SplitBatch {
                put_keys,
                put_values,
                deleted,
            } = split_batch(batch);
            if !put_keys.is_empty() {
                c.client
                    .execute(&c.statements.upsert, &[&put_keys, &put_values])?;
            }
            if !deleted.is_empty() {
                c.client.execute(&c.statements.delete, &[&deleted])?;
            }
            c.client.batch_execute("COMMIT")
        })?;
        match outcome {
            Ok(()) => {
                self.finish(None);
                Ok(())
            }
            Err(err) if err.code().is_none() && is_connection_lost(&err) => {
                // The connection died with the COMMIT perhaps on its way: it may or may
                // not have landed. Only the caller's idempotency key can tell.
                let err = map_error(&self.backend.label, "committing", err);
                Err(Error::new(
                    ErrorCode::Unavailable,
                    format!(
                        "{}; the commit's outcome is unknown: retry with the same idempotency_key",
                        err.message
                    ),
                )
                .with_details(json!({ "store": self.backend.label, "retryable": true, "outcome_unknown": true })))
            }
            // The server refused a statement: the transaction never committed.
            Err(err) => Err(map_error(&self.backend.label, "writing", err)),
        }
    }

    fn read_for_write(&self, keys: &[Vec<u8>]) -> Result<()> {
        let mut lock_ids = Vec::new();
        let mut unread = Vec::new();
        for key in keys {
            if self.cached(key).is_some() {
                continue;
            }
            if let Some((id, _)) = self.lock_needed(lock_scope::of_key(key, true))? {
                lock_ids.push(id);
            }
            unread.push(key);
        }
        if unread.is_empty() {
            return Ok(());
        }
        lock_ids.sort_unstable();
        lock_ids.dedup();
        let mut text = String::new();
        if !lock_ids.is_empty() {
            let locks: Vec<String> = lock_ids
                .iter()
                .map(|id| format!("pg_advisory_xact_lock({id})"))
                .collect();
            text.push_str(&format!("SELECT {}; ", locks.join(", ")));
        }
        let literals: Vec<String> = unread.iter().map(|key| bytea_literal(key)).collect();
        text.push_str(&format!(
            "SELECT k, v FROM {TABLE} WHERE k IN ({})",
            literals.join(",")
        ));
        let messages = self.with("reading", |c| c.client.simple_query(&text))?;
        if let Some(held) = &self.scoped {
            let mut held = held.borrow_mut();
            for id in &lock_ids {
                held.insert(*id, Mode::Exclusive);
            }
        }
        let read_statement = usize::from(!lock_ids.is_empty());
        let mut statements_done = 0;
        let mut found = Vec::new();
        for message in messages {
            match message {
                postgres::SimpleQueryMessage::CommandComplete(_) => statements_done += 1,
                postgres::SimpleQueryMessage::Row(row) if statements_done == read_statement => {
                    let fields: Vec<Option<String>> = (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect();
                    found.push(self.pair_of(&fields)?);
                }
                _ => {}
            }
        }
        for key in unread {
            let value = found.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
            self.remember(key, &value);
        }
        Ok(())
    }

    fn take_counter(&self, key: &[u8], count: u64) -> Result<Option<u64>> {
        self.take_counter_now(key, count).map(Some)
    }
}

impl PgView<'_> {
    fn take_counter_now(&self, key: &[u8], count: u64) -> Result<u64> {
        self.backend.take_counter(key, count)
    }
}

impl Drop for PgView<'_> {
    fn drop(&mut self) {
        // A writer that did not apply (an error, or nothing to write) rolls back and
        // releases the lock; a snapshot rolls back; stepwise reads have nothing to end.
        self.finish(self.end);
    }
}

impl Backend for PostgresBackend {
    fn snapshot(&self) -> Result<Box<dyn View + '_>> {
        let connection = self.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        Ok(Box::new(PgView::new(self, connection, Some("ROLLBACK"))))
    }

    fn stepwise(&self) -> Result<Box<dyn View + '_>> {
        Ok(Box::new(PgView::new(self, self.checkout()?, None)))
    }

    fn begin_write(&self) -> Result<Box<dyn WriteView + '_>> {
        let begin = format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED; \
             SELECT pg_advisory_xact_lock({LOCK_CLASS}, hashtext(current_schema()))"
        );
        let connection = self.begin(&begin)?;
        Ok(Box::new(PgView::writer(self, connection)))
    }

    fn begin_scoped_write(&self) -> Result<Box<dyn WriteView + '_>> {
        let begin = format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED; \
             SELECT pg_advisory_xact_lock_shared({LOCK_CLASS}, hashtext(current_schema())); \
             SET LOCAL lock_timeout = {SCOPE_LOCK_TIMEOUT_MS}"
        );
        let connection = self.begin(&begin)?;
        Ok(Box::new(PgView::scoped_writer(self, connection)))
    }

    fn sync(&self) -> Result<()> {
        // Every COMMIT was durable when it returned.
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        let view = PgView::new(self, self.checkout()?, None);
        let bytes = view.with("measuring the store", |c| {
            let row = c.client.query_one(
                "SELECT coalesce(pg_total_relation_size(to_regclass($1)), 0)",
                &[&TABLE],
            )?;
            Ok(row.get::<_, i64>(0))
        });
        drop(view);
        Ok(u64::try_from(bytes?).unwrap_or(0))
    }

    fn record_durable_seq(&self, _seq: u64) -> Result<()> {
        Ok(())
    }

    fn recorded_durable_seq(&self) -> Result<Option<u64>> {
        Ok(None)
    }

    fn durable_on_apply(&self) -> bool {
        true
    }

    fn shared(&self) -> bool {
        true
    }
}
