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
//!   other's counters; a busy process reserves a run of values at a time
//!   ([`counters`]).
//! - **snapshots:** a REPEATABLE READ READ ONLY transaction.
//! - **durability:** a batch is durable when its COMMIT returns; the connection insists
//!   on `synchronous_commit` being at least `local`.
//! - **failures:** a lost connection is dropped from the pool and the next call
//!   connects again; starting a transaction is retried a few times for a server that
//!   is restarting. Every wait is bounded: connecting, each statement, the writer lock.
//!   What cannot complete fails with `unavailable` (retryable) and changes nothing,
//!   except a COMMIT whose answer was lost, which says so: its retry must carry the same
//!   idempotency key.

mod connection;
mod counters;
mod known;
mod sql;
mod view;

use super::lock_scope::{self, Mode, Scope};
use super::{Backend, View, WriteView, keys};
use crate::error::{Error, ErrorCode, Result};
use connection::{Connection, Link};
use counters::Counters;
use serde_json::json;
use sql::{map_error, not_a_store, table_exists};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;
use tokio_postgres::Config;
use view::{PgView, Prelude};

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

/// A PostgreSQL store.
pub struct PostgresBackend {
    config: Config,
    /// The store as messages name it: host, port and database, never the password.
    label: String,
    idle: Mutex<Vec<Connection>>,
    /// Ids, card numbers and the audit sequence ([`counters`]).
    counters: Counters,
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
        let link = connect(&config, &label)?;
        let schema: String = link
            .query_one("SELECT current_schema()::text", &[])
            .map_err(|err| map_error(&label, "looking for the store", err))?
            .get(0);
        let mut backend = PostgresBackend {
            label,
            config,
            idle: Mutex::new(Vec::new()),
            counters: Counters::default(),
            lock_base: lock_scope::fnv1a(lock_scope::key_hash(b"pitstop"), schema.as_bytes()),
        };
        let created = backend.create_if_empty(&link)?;
        backend.lock_base = lock_scope::fnv1a(backend.lock_base, b"/");
        backend.release(Connection::prepare(link, &backend.label)?);
        Ok((backend, created))
    }

    /// Whether the database `connection` names holds a Pitstop store (a reachable server
    /// is required: an unreachable one is an error, not a "no").
    pub fn exists(connection: &str) -> Result<bool> {
        let config = parse_config(connection)?;
        let label = label_of(&config);
        let link = connect(&config, &label)?;
        table_exists(&link, &label)
    }

    /// How messages name this store.
    pub fn label(&self) -> &str {
        &self.label
    }

    fn connect(&self) -> Result<Connection> {
        Connection::prepare(connect(&self.config, &self.label)?, &self.label)
    }

    /// A live connection: an idle one, or a new one.
    fn checkout(&self) -> Result<Connection> {
        loop {
            let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match idle {
                Some(connection) if connection.link.is_closed() => continue,
                Some(connection) => return Ok(connection),
                None => return self.connect(),
            }
        }
    }

    fn release(&self, connection: Connection) {
        release_to(&self.idle, connection);
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

    fn create_if_empty(&self, link: &Link) -> Result<bool> {
        let fail = |err| map_error(&self.label, "creating the store", err);
        link.batch_execute("BEGIN").map_err(fail)?;
        link.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))",
            &[&LOCK_CLASS],
        )
        .map_err(fail)?;
        if table_exists(link, &self.label)? {
            link.batch_execute("ROLLBACK").map_err(fail)?;
            return Ok(false);
        }
        let others: i64 = link
            .query_one(
                "SELECT count(*) FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')",
                &[],
            )
            .map_err(fail)?
            .get(0);
        if others > 0 {
            link.batch_execute("ROLLBACK").map_err(fail)?;
            return Err(not_a_store(&self.label, others));
        }
        link.batch_execute(&format!(
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
            link.execute(
                &format!("INSERT INTO {TABLE} (k, v) VALUES ($1, $2)"),
                &[key, value],
            )
            .map_err(fail)?;
        }
        link.batch_execute("COMMIT").map_err(fail)?;
        Ok(true)
    }
}

fn release_to(pool: &Mutex<Vec<Connection>>, connection: Connection) {
    if connection.link.is_closed() {
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

fn connect(config: &Config, label: &str) -> Result<Link> {
    let link = Link::connect(config, label)?;
    // Every statement is prepared once per connection and its one plan reused: every
    // statement reads by the primary key, a lookup or a key range, whatever the values
    // bound. A plan made while the table was small would scan it whole and stay cached
    // as the table grows, so the planner is told never to choose a sequential scan.
    let settings = format!(
        "SET statement_timeout = {STATEMENT_TIMEOUT_MS}; \
         SET lock_timeout = {LOCK_TIMEOUT_MS}; \
         SET idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_TIMEOUT_MS}; \
         SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off"
    );
    link.batch_execute(&settings)
        .map_err(|err| map_error(label, "configuring the connection", err))?;
    // Acknowledged must mean on disk: a server (or role) configured with
    // synchronous_commit = off would acknowledge commits it can still lose.
    let synchronous: String = link
        .query_one("SHOW synchronous_commit", &[])
        .map_err(|err| map_error(label, "configuring the connection", err))?
        .get(0);
    if synchronous == "off" {
        link.batch_execute("SET synchronous_commit = on")
            .map_err(|err| map_error(label, "configuring the connection", err))?;
    }
    Ok(link)
}

impl Backend for PostgresBackend {
    fn snapshot(&self) -> Result<Box<dyn View + '_>> {
        Ok(Box::new(PgView::snapshot(self, self.checkout()?)))
    }

    fn stepwise(&self) -> Result<Box<dyn View + '_>> {
        Ok(Box::new(PgView::new(self, self.checkout()?, None)))
    }

    fn begin_write(&self) -> Result<Box<dyn WriteView + '_>> {
        Ok(Box::new(PgView::writer(
            self,
            self.checkout()?,
            Prelude::Whole,
        )))
    }

    fn begin_scoped_write(&self) -> Result<Box<dyn WriteView + '_>> {
        // The records nearly every writer reads come with the BEGIN, under their shared
        // locks, and the BEGIN with the writer's first read: two round trips fewer.
        let keys = lock_scope::read_by_every_writer();
        let mut locks: Vec<(i64, Mode)> = keys
            .iter()
            .map(|key| {
                let (scope, mode) = lock_scope::of_key(key, false);
                (self.lock_id(scope), mode)
            })
            .collect();
        locks.sort_unstable();
        locks.dedup();
        let view = PgView::scoped_writer(self, self.checkout()?, Prelude::Scoped { locks, keys });
        Ok(Box::new(view))
    }

    fn sync(&self) -> Result<()> {
        // Every COMMIT was durable when it returned.
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        let view = PgView::new(self, self.checkout()?, None);
        let bytes = view.with("measuring the store", |c| {
            let row = c.link.query_one(
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
