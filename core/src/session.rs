//! How an operation runs: the writer lock, one atomic batch per write, idempotency
//! keys, group commit, the current programme and the enabled plugins. The operation
//! table's rows call a [`Session`]; the [`crate::Engine`] owns one per open store.
//!
//! Writes are isolated by the store: on sled a [`WriteTxn`] makes its holder the one
//! writer of this process; on PostgreSQL it locks, in the database and across processes,
//! what it reads before reading it (a customer, a shared figure, or the whole store), and
//! a write that meets a conflict is run again from the start, a bounded number of times.
//! A write's durability wait happens after the write is released, so concurrent
//! committers share one sync (group commit, sled).
//!
//! When other processes share the store (PostgreSQL), the programme and the enabled
//! plugins this process keeps in memory are checked against the store at the start of
//! every operation and reloaded when another process changed them.

use crate::audit::{Change, Entity};
use crate::audit_log;
use crate::context::Ctx;
use crate::error::{Error, ErrorCode, Result};
use crate::jobs;
use crate::json::decode_args;
use crate::plugin::PluginHost;
use crate::plugin::hook::Plugins;
use crate::program::Program;
use crate::store::backup::{self, BackupSummary};
use crate::store::keys::{self, KeyBuilder, tag};
use crate::store::{self as store_mod, Reader, Store, WriteTxn};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// Longest idempotency key.
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 128;

/// What an idempotency key remembers: the request's hash and the first result.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IdempotencyRecord {
    op: String,
    hash: [u8; 32],
    result: String,
    at: DateTime<Utc>,
}

/// An open store with what its operations share.
pub(crate) struct Session {
    store: Store,
    program: RwLock<Option<Arc<Program>>>,
    /// Held while the programme and plugins are compared with a shared store's and
    /// reloaded.
    reloading: Mutex<()>,
    /// The branch the engine was opened for.
    branch: Option<Arc<str>>,
    plugins: PluginHost,
}

impl Session {
    /// The store's current programme and its enabled plugins, loaded.
    pub(crate) fn open(
        store: Store,
        plugin_cache_dir: Option<PathBuf>,
        branch: Option<Arc<str>>,
    ) -> Result<Session> {
        let program = load_current_program(&store)?;
        let plugins = PluginHost::open(&store, plugin_cache_dir)?;
        Ok(Session {
            store,
            program: RwLock::new(program.map(Arc::new)),
            reloading: Mutex::new(()),
            branch,
            plugins,
        })
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The plugin host: runtime, compiled modules, enabled set.
    pub(crate) fn plugins(&self) -> &PluginHost {
        &self.plugins
    }

    /// A snapshot of the enabled plugins for one operation.
    pub(crate) fn plugin_snapshot(&self) -> Plugins<'_> {
        Plugins {
            host: &self.plugins,
            active: self.plugins.active(),
        }
    }

    /// The current programme.
    pub(crate) fn program(&self) -> Option<Arc<Program>> {
        self.program
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn context(&self, at: Option<DateTime<Utc>>) -> Ctx {
        Ctx::new(at.unwrap_or_else(Utc::now), self.program()).with_branch(self.branch.clone())
    }

    /// Wait for the write in progress, then sync everything. A store whose commits are
    /// durable when they return (PostgreSQL) has nothing to sync, and waiting for its
    /// writer would wait for other processes' writes (or for a server that is down).
    pub(crate) fn sync_after_last_write(&self) -> Result<()> {
        if self.store.backend().durable_on_apply() {
            return Ok(());
        }
        drop(self.store.write()?);
        self.store.sync_now()
    }

    /// Run an operation of the table. On a store other processes share, a write checks
    /// under its locks that it ran with the current programme and plugins
    /// ([`Session::check_current`]); when another process changed them, they are
    /// reloaded and the operation runs again from its arguments (nothing of the stale
    /// run was written), up to [`STALE_RERUNS`] times.
    pub(crate) fn run(
        &self,
        run: fn(&Session, &str, Map<String, Value>) -> Result<Value>,
        op: &str,
        args: Map<String, Value>,
    ) -> Result<Value> {
        if !self.store.backend().shared() {
            return run(self, op, args);
        }
        let mut reruns = 0;
        loop {
            match run(self, op, args.clone()) {
                Err(err) if is_stale(&err) && reruns < STALE_RERUNS => {
                    self.follow_other_processes()?;
                    reruns += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// Whether a write on a shared store ran with the programme and plugins the store
    /// holds: their versions come with the writer's first round trip, under shared
    /// locks that a change of them waits for (see `lock_scope::read_by_every_writer`),
    /// so a write that passes cannot commit against another programme. `plugins_epoch`
    /// is the plugins' version when the attempt began: an operation uses the plugins
    /// loaded then.
    fn check_current(&self, txn: &WriteTxn<'_>, ctx: &Ctx, plugins_epoch: u64) -> Result<()> {
        let program: Option<u32> = txn.get_stored(&keys::meta(keys::META_PROGRAM))?;
        let plugins: u64 = txn
            .get_stored(&keys::meta(keys::META_PLUGINS))?
            .unwrap_or(0);
        let ran_with = ctx.program.as_deref().map(|program| program.version);
        if program == ran_with && plugins == plugins_epoch {
            return Ok(());
        }
        Err(Error::new(
            ErrorCode::Unavailable,
            "the loyalty programme or the plugins were changed by another process while \
             the operation ran; nothing was changed, try again",
        )
        .with_details(json!({ "changed": "programme_or_plugins" })))
    }

    /// On a store other processes share: reload the programme and the enabled plugins
    /// when another process changed them since this one last looked. One read of the
    /// store's meta records when nothing changed. Reads call it before they begin; writes
    /// check instead, inside their transaction ([`Session::run`]).
    pub(crate) fn follow_other_processes(&self) -> Result<()> {
        if !self.store.backend().shared() {
            return Ok(());
        }
        let view = self.store.read_stepwise()?;
        let meta = view.scan_raw(
            &keys::meta(""),
            &keys::prefix_end(&keys::meta("")),
            64,
            false,
        )?;
        drop(view);
        let mut program_version = None;
        let mut plugins_epoch = 0;
        for (key, value) in &meta {
            if *key == keys::meta(keys::META_PROGRAM) {
                program_version = Some(store_mod::decode::<u32>(key, value)?);
            } else if *key == keys::meta(keys::META_PLUGINS) {
                plugins_epoch = store_mod::decode::<u64>(key, value)?;
            }
        }
        // One thread reloads at a time; the others find it done.
        let _reloading = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        let cached_version = self.program().map(|program| program.version);
        if cached_version != program_version {
            let program = load_current_program(&self.store)?;
            *self.program.write().unwrap_or_else(|p| p.into_inner()) = program.map(Arc::new);
        }
        if self.plugins.epoch() != plugins_epoch {
            self.plugins.reload(&self.store)?;
        }
        Ok(())
    }

    /// Write a consistent backup of the store to `dest`.
    pub(crate) fn backup(&self, dest: &Path) -> Result<BackupSummary> {
        backup::backup(&self.store, dest)
    }

    /// Run a read-only operation over a consistent view.
    pub(crate) fn read_op<A, T>(
        &self,
        args: Map<String, Value>,
        f: impl FnOnce(&store_mod::ReadTxn<'_>, &Ctx, A) -> Result<T>,
    ) -> Result<Value>
    where
        A: DeserializeOwned,
        T: Serialize,
    {
        self.run_read(args, store_mod::Store::read, f)
    }

    /// Run a report: like [`Session::read_op`], but through [`store_mod::Store::read_stepwise`],
    /// so commits go on while it reads. A report's figures may then mix states a few
    /// commits apart, which a report over months can afford and a till cannot wait for.
    /// Only reads that follow index entries to records that are never deleted (customers,
    /// visits, accounts) may run this way.
    pub(crate) fn report_op<A, T>(
        &self,
        args: Map<String, Value>,
        f: impl FnOnce(&store_mod::SteppedRead<'_>, &Ctx, A) -> Result<T>,
    ) -> Result<Value>
    where
        A: DeserializeOwned,
        T: Serialize,
    {
        self.run_read(args, store_mod::Store::read_stepwise, f)
    }

    fn run_read<'s, V, A, T>(
        &'s self,
        args: Map<String, Value>,
        open: impl FnOnce(&'s store_mod::Store) -> Result<V>,
        f: impl FnOnce(&V, &Ctx, A) -> Result<T>,
    ) -> Result<Value>
    where
        A: DeserializeOwned,
        T: Serialize,
    {
        self.follow_other_processes()?;
        let mut args = args;
        let common = take_common(&mut args, false)?;
        let typed: A = decode_args(Value::Object(args))?;
        let ctx = self.context(common.at);
        let view = open(&self.store)?;
        let result = f(&view, &ctx, typed)?;
        to_value(&result)
    }

    /// Run a state-changing operation: idempotency, one atomic batch, group commit.
    ///
    /// On a shared store the operation runs in a scoped writer ([`Store::write_scoped`])
    /// and is run again, from its arguments, when it conflicts with another writer
    /// (nothing of the failed attempt was written): up to [`WRITE_ATTEMPTS`] times, the
    /// attempts after one that needed the whole store holding the whole store. The
    /// last conflict is returned as it is: `unavailable`, retryable.
    pub(crate) fn write_op<A, T>(
        &self,
        op: &str,
        args: Map<String, Value>,
        mut f: impl FnMut(&mut WriteTxn<'_>, &Ctx, A) -> Result<T>,
    ) -> Result<Value>
    where
        A: DeserializeOwned,
        T: Serialize,
    {
        let mut args = args;
        let common = take_common(&mut args, true)?;
        // Only a keyed request is remembered; hashing a large batch costs real time.
        let hash = common
            .idempotency_key
            .as_ref()
            .map(|_| request_hash(op, &args, &common))
            .unwrap_or_default();
        let request = WriteRequest {
            op,
            common: &common,
            hash: &hash,
            idempotency_key: common
                .idempotency_key
                .as_deref()
                .map(idempotency_record_key),
        };
        if !self.store.backend().shared() {
            let typed: A = decode_args(Value::Object(args))?;
            return self.write_attempt(&request, self.store.write()?, typed, &mut f);
        }
        let args = Value::Object(args);
        let mut whole_store = false;
        let mut attempt = 1;
        loop {
            let typed: A = decode_args(args.clone())?;
            let txn = match whole_store {
                true => self.store.write()?,
                false => self.store.write_scoped()?,
            };
            match self.write_attempt(&request, txn, typed, &mut f) {
                Err(err) if store_mod::is_conflict(&err) && attempt < WRITE_ATTEMPTS => {
                    whole_store |= store_mod::needs_whole_store(&err);
                    conflict_pause(attempt);
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    fn write_attempt<A, T>(
        &self,
        request: &WriteRequest<'_>,
        mut txn: WriteTxn<'_>,
        typed: A,
        f: &mut impl FnMut(&mut WriteTxn<'_>, &Ctx, A) -> Result<T>,
    ) -> Result<Value>
    where
        T: Serialize,
    {
        let (op, hash) = (request.op, request.hash);
        if let Some(key) = &request.idempotency_key
            && let Some(first) = replay(&txn, key, op, hash)?
        {
            drop(txn);
            // The first request may still be waiting for its sync: acknowledge the
            // replay only once what it returns is durable too.
            self.store.wait_durable(self.store.applied_seq())?;
            return Ok(first);
        }
        let plugins_epoch = self.plugins.epoch();
        let ctx = self
            .context(request.common.at)
            .with_operator(request.common.operator.clone());
        let outcome = f(&mut txn, &ctx, typed);
        if self.store.backend().shared() {
            match self.check_current(&txn, &ctx, plugins_epoch) {
                Err(stale) if is_stale(&stale) => return Err(stale),
                // A failed operation's own error says more than a failed check of it.
                Err(check) if outcome.is_ok() => return Err(check),
                _ => {}
            }
        }
        let result = outcome?;
        let value = to_value(&result)?;
        audit_log::flush(&mut txn, &ctx, op)?;
        if let Some(key) = &request.idempotency_key {
            remember(&mut txn, key.clone(), op, *hash, &value, &ctx)?;
        }
        let seq = txn.commit()?;
        self.store.wait_durable(seq)?;
        Ok(value)
    }

    /// `program.set`: validate and store a new version, then switch to it.
    pub(crate) fn set_program(&self, op: &str, args: Map<String, Value>) -> Result<Value> {
        let value = self.write_op(
            op,
            args,
            |txn, _ctx, args: crate::program::ProgramSetArgs| {
                let mut program = Program::from_json(args.program)?;
                let current: u32 = txn.get(&keys::meta(keys::META_PROGRAM))?.unwrap_or(0);
                program.version = current + 1;
                txn.put_json(
                    KeyBuilder::new(tag::PROGRAM)
                        .u64(u64::from(program.version))
                        .build(),
                    &program,
                )?;
                txn.put(keys::meta(keys::META_PROGRAM), &program.version)?;
                record_program_change(txn, current, &program)?;
                Ok(program)
            },
        )?;
        let program = load_current_program(&self.store)?;
        *self.program.write().unwrap_or_else(|p| p.into_inner()) = program.map(Arc::new);
        Ok(value)
    }

    /// `jobs.daily`: runs in bounded batches, each atomic. The job is idempotent by date
    /// on its own; an `idempotency_key` additionally makes a retry return the first
    /// report (recorded after the last batch, so a run cut short is simply run again).
    pub(crate) fn run_daily(&self, op: &str, args: Map<String, Value>) -> Result<Value> {
        // The job runs in batches of its own, not through `write_op`'s check.
        self.follow_other_processes()?;
        let mut args = args;
        let common = take_common(&mut args, true)?;
        let hash = request_hash(op, &args, &common);
        let typed: jobs::DailyArgs = decode_args(Value::Object(args))?;
        let idempotency_key = common
            .idempotency_key
            .as_deref()
            .map(idempotency_record_key);
        if let Some(key) = &idempotency_key {
            let txn = self.store.write()?;
            if let Some(first) = replay(&txn, key, op, &hash)? {
                drop(txn);
                self.store.wait_durable(self.store.applied_seq())?;
                return Ok(first);
            }
        }
        let ctx = self.context(common.at).with_operator(common.operator);
        let (report, mut seq) = jobs::daily(&self.store, &ctx, &typed)?;
        let mut value = to_value(&report)?;
        if let Some(key) = idempotency_key {
            let mut txn = self.store.write()?;
            // A concurrent retry with the same key may have finished first: its report
            // is the one every retry gets.
            if let Some(first) = replay(&txn, &key, op, &hash)? {
                value = first;
            } else {
                remember(&mut txn, key, op, hash, &value, &ctx)?;
                seq = txn.commit()?;
            }
        }
        self.store.wait_durable(seq.max(self.store.applied_seq()))?;
        Ok(value)
    }
}

/// Attempts of a write on a shared store before a conflict with other writers is
/// returned to the caller.
pub const WRITE_ATTEMPTS: u32 = 12;

/// Runs of an operation again after another process changed the programme or plugins
/// under it, before `unavailable` is returned (each change is a `program.set` or a
/// plugin change: three in the time of one operation do not happen).
const STALE_RERUNS: u32 = 3;

/// Whether an error says the operation ran with a programme or plugins another process
/// had replaced ([`Session::check_current`]).
fn is_stale(err: &Error) -> bool {
    err.code == ErrorCode::Unavailable && err.details.get("changed").is_some()
}

/// What every attempt of one write request shares.
struct WriteRequest<'r> {
    op: &'r str,
    common: &'r Common,
    hash: &'r [u8; 32],
    idempotency_key: Option<Vec<u8>>,
}

/// Wait a little before running a conflicting write again: a random pause that grows
/// with the attempts, so two writers that met do not meet again in step.
fn conflict_pause(attempt: u32) {
    use std::hash::{BuildHasher, RandomState};
    let ceiling_us = 500u64 << attempt.min(6);
    let jitter = RandomState::new().hash_one(std::time::Instant::now()) % ceiling_us;
    std::thread::sleep(std::time::Duration::from_micros(
        ceiling_us / 2 + jitter / 2,
    ));
}

/// The audit log's view of `program.set`: the version and every top-level field that
/// differs from the version in force before, with both values.
fn record_program_change(txn: &mut WriteTxn<'_>, current: u32, program: &Program) -> Result<()> {
    let before = match current {
        0 => None,
        version => txn.get_json::<Value>(
            &KeyBuilder::new(tag::PROGRAM)
                .u64(u64::from(version))
                .build(),
        )?,
    };
    let after = to_value(program)?;
    txn.record_all(Change::diff(
        Entity::Program,
        "programme",
        before.as_ref(),
        &after,
        &[],
    ));
    Ok(())
}

fn idempotency_record_key(key: &str) -> Vec<u8> {
    KeyBuilder::new(tag::IDEMPOTENCY).str(key).build()
}

/// The first result recorded for an idempotency key, or `idempotency_conflict` when the
/// key was used for another request.
fn replay(txn: &WriteTxn<'_>, key: &[u8], op: &str, hash: &[u8; 32]) -> Result<Option<Value>> {
    let Some(record) = txn.get::<IdempotencyRecord>(key)? else {
        return Ok(None);
    };
    if record.op != op || record.hash != *hash {
        return Err(Error::new(
            ErrorCode::IdempotencyConflict,
            format!(
                "idempotency key {} was used for another request ({})",
                String::from_utf8_lossy(&key[1..]),
                record.op
            ),
        )
        .with_details(json!({ "first_op": record.op, "first_at": record.at })));
    }
    serde_json::from_str(&record.result)
        .map(Some)
        .map_err(|err| Error::corrupted(format!("idempotency record: {err}")))
}

/// Record the result of the first request made with an idempotency key.
fn remember(
    txn: &mut WriteTxn<'_>,
    key: Vec<u8>,
    op: &str,
    hash: [u8; 32],
    value: &Value,
    ctx: &Ctx,
) -> Result<()> {
    let record = IdempotencyRecord {
        op: op.to_string(),
        hash,
        result: value.to_string(),
        at: ctx.at,
    };
    txn.put(key, &record)
}

fn load_current_program(store: &Store) -> Result<Option<Program>> {
    let view = store.read()?;
    let Some(version) = view.get::<u32>(&keys::meta(keys::META_PROGRAM))? else {
        return Ok(None);
    };
    view.get_json::<Program>(
        &KeyBuilder::new(tag::PROGRAM)
            .u64(u64::from(version))
            .build(),
    )?
    .map(Some)
    .ok_or_else(|| Error::corrupted(format!("programme version {version} is missing")))
}

/// Load a stored programme version.
pub(crate) fn load_program<R: Reader>(reader: &R, version: u32) -> Result<Program> {
    reader
        .get_json::<Program>(
            &KeyBuilder::new(tag::PROGRAM)
                .u64(u64::from(version))
                .build(),
        )?
        .ok_or_else(|| Error::not_found("programme version", version))
}

pub(crate) struct Common {
    at: Option<DateTime<Utc>>,
    idempotency_key: Option<String>,
    /// Who did it at the host, checked (state-changing operations only).
    operator: Option<Arc<str>>,
    /// The request's `operator` as sent, for the idempotency hash.
    operator_sent: Option<Value>,
}

pub(crate) fn take_common(args: &mut Map<String, Value>, mutates: bool) -> Result<Common> {
    let at = match args.remove("at") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(
            DateTime::parse_from_rfc3339(&text)
                .map_err(|_| Error::invalid("at", format!("'{text}' is not an RFC 3339 instant")))?
                .with_timezone(&Utc),
        ),
        Some(_) => return Err(Error::invalid("at", "must be an RFC 3339 string")),
    };
    let idempotency_key = match args.remove("idempotency_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) => {
            if !mutates {
                return Err(Error::invalid(
                    "idempotency_key",
                    "only operations that change state take one",
                ));
            }
            check_idempotency_key(&key)?;
            Some(key)
        }
        Some(_) => return Err(Error::invalid("idempotency_key", "must be a string")),
    };
    // A read leaves `operator` in its arguments: `report.changes` filters by it, and
    // any other read refuses it as an unknown field (a read records nothing).
    let (operator, operator_sent) = if mutates {
        match args.remove("operator") {
            None | Some(Value::Null) => (None, None),
            Some(Value::String(text)) => {
                let checked = audit_log::check_operator(&text)?;
                (Some(Arc::from(checked)), Some(Value::String(text)))
            }
            Some(_) => return Err(Error::invalid("operator", "must be a string")),
        }
    } else {
        (None, None)
    };
    Ok(Common {
        at,
        idempotency_key,
        operator,
        operator_sent,
    })
}

/// An idempotency key: 1..=128 characters, not blank, no space at either end (a key is
/// compared exactly, so `" k"` and `"k"` would be two keys that look alike), and no
/// control or invisible character (docs/operations.md, "What text may hold").
fn check_idempotency_key(key: &str) -> Result<()> {
    let field = "idempotency_key";
    if key.chars().count() > IDEMPOTENCY_KEY_CHARS_MAX || key.trim().is_empty() {
        return Err(Error::invalid(
            field,
            format!("must be 1..={IDEMPOTENCY_KEY_CHARS_MAX} characters, not only spaces"),
        ));
    }
    if key.trim() != key {
        return Err(Error::invalid(field, "must not start or end with a space"));
    }
    if key.chars().any(char::is_control) {
        return Err(Error::invalid(field, "contains control characters"));
    }
    crate::normalize::refuse_unseen(field, key)
}

/// The hash of a request as the idempotency record remembers it: the operation and its
/// arguments with `operator` back in them, so a retry by the same operator is the same
/// request, another operator's is not, and a key recorded before `operator` became a
/// common field (when `points.adjust` had it as an argument) still matches.
fn request_hash(op: &str, args: &Map<String, Value>, common: &Common) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(op.as_bytes());
    hasher.update([0]);
    let mut args = args.clone();
    if let Some(operator) = &common.operator_sent {
        args.insert("operator".to_string(), operator.clone());
    }
    // serde_json's Map is ordered, so the text is canonical.
    hasher.update(Value::Object(args).to_string().as_bytes());
    hasher.finalize().into()
}

fn to_value<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value)
        .map_err(|err| Error::internal(format!("cannot encode the result: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("an object literal"),
        }
    }

    #[test]
    fn the_operator_is_part_of_the_idempotency_hash_as_it_was_an_argument() {
        let sent = json!({ "customer": { "id": 7 }, "points": "10", "reason": "акция",
                           "operator": "Кассир Петрова" });
        // The hash points.adjust computed when `operator` was one of its arguments.
        let mut old = Sha256::new();
        old.update(b"points.adjust\0");
        old.update(sent.to_string().as_bytes());
        let old: [u8; 32] = old.finalize().into();

        let mut args = object(sent.clone());
        let common = take_common(&mut args, true).unwrap();
        assert!(!args.contains_key("operator"));
        assert_eq!(common.operator.as_deref(), Some("Кассир Петрова"));
        assert_eq!(request_hash("points.adjust", &args, &common), old);

        let mut other = object(sent);
        other.insert("operator".into(), json!("Администратор Ким"));
        let common = take_common(&mut other, true).unwrap();
        assert_ne!(request_hash("points.adjust", &other, &common), old);
    }

    #[test]
    fn a_read_leaves_the_operator_to_its_own_arguments() {
        let mut args = object(json!({ "from": "2025-01-01", "operator": "Кассир Петрова" }));
        let common = take_common(&mut args, false).unwrap();
        assert!(common.operator.is_none());
        assert_eq!(args["operator"], "Кассир Петрова");
    }
}
