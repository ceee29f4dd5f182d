//! The engine: an open store plus the one operation set. Every front door (Rust,
//! C ABI, Python, CLI) calls [`Engine::execute`] or [`Engine::execute_json`] with the
//! same operation names and JSON shapes.
//!
//! Writes are serialised by one writer lock (sled 0.34 takes a process-wide lock for
//! transactions anyway); a write's durability wait happens after the lock is released
//! so concurrent committers share one sync (group commit).

use crate::context::Ctx;
use crate::error::{Error, ErrorCode, Result};
use crate::json::JsonError;
use crate::plugin::PluginHost;
use crate::plugin::hook::Plugins;
use crate::program::Program;
use crate::store::backup::{self, BackupSummary};
use crate::store::keys::{self, KeyBuilder, tag};
use crate::store::sled_backend::{SledBackend, SledOptions};
use crate::store::{self as store_mod, Backend, Durability, Reader, Store, WriteTxn};
use crate::{jobs, ops};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Largest request accepted by [`Engine::execute_json`], in bytes.
pub const REQUEST_BYTES_MAX: usize = 1024 * 1024;
/// Longest idempotency key.
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 128;

/// How to open a store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineOptions {
    /// `durable` (default) or `import` (sync only at the end and on close).
    pub durability: DurabilityOption,
    /// sled page cache bound in bytes.
    pub cache_capacity_bytes: u64,
    /// Largest request in bytes.
    pub request_bytes_max: usize,
    /// Directory for compiled plugin code (files this engine produced, keyed by module
    /// sha256 and engine compatibility hash). `None` (default): compile once per process.
    pub plugin_cache_dir: Option<PathBuf>,
}

/// Durability as written in options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DurabilityOption {
    /// Every acknowledged write survives kill -9 and power loss.
    #[default]
    Durable,
    /// Bulk loading; synced at the end.
    Import,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            durability: DurabilityOption::Durable,
            cache_capacity_bytes: SledOptions::default().cache_capacity_bytes,
            request_bytes_max: REQUEST_BYTES_MAX,
            plugin_cache_dir: None,
        }
    }
}

impl EngineOptions {
    /// Parse options from JSON (`{}` or empty gives the defaults).
    pub fn from_json(text: &str) -> Result<EngineOptions> {
        if text.trim().is_empty() {
            return Ok(EngineOptions::default());
        }
        let options: EngineOptions = serde_json::from_str(text)
            .map_err(|err| Error::new(ErrorCode::InvalidArgument, format!("options: {err}")))?;
        if options.cache_capacity_bytes < 1024 * 1024
            || options.cache_capacity_bytes > 64 * 1024 * 1024 * 1024
        {
            return Err(Error::invalid(
                "cache_capacity_bytes",
                "must be 1 MiB..=64 GiB",
            ));
        }
        if options.request_bytes_max < 1024 || options.request_bytes_max > 64 * 1024 * 1024 {
            return Err(Error::invalid(
                "request_bytes_max",
                "must be 1 KiB..=64 MiB",
            ));
        }
        Ok(options)
    }
}

/// What an idempotency key remembers: the request's hash and the first result.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IdempotencyRecord {
    op: String,
    hash: [u8; 32],
    result: String,
    at: DateTime<Utc>,
}

/// An open Pitstop store. `Send + Sync`: share it between threads.
pub struct Engine {
    store: Store,
    writer: Mutex<()>,
    program: RwLock<Option<Arc<Program>>>,
    plugins: PluginHost,
    options: EngineOptions,
    path: PathBuf,
    closed: AtomicBool,
}

fn check_format(backend: &dyn Backend, path: &Path) -> Result<u64> {
    let format_key = keys::meta(keys::META_FORMAT);
    let format: u32 = match backend.get(&format_key)? {
        Some(bytes) => store_mod::decode(&format_key, &bytes)?,
        None => {
            return Err(Error::corrupted(format!(
                "{} has no format version: not a Pitstop store, or damaged",
                path.display()
            )));
        }
    };
    if format > store_mod::FORMAT_VERSION || format == 0 {
        return Err(Error::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "the store at {} has format {format}; this build reads format {}",
                path.display(),
                store_mod::FORMAT_VERSION
            ),
        )
        .with_details(json!({ "found": format, "supported": store_mod::FORMAT_VERSION })));
    }
    let seq_key = keys::meta(keys::META_SEQ);
    let seq: u64 = match backend.get(&seq_key)? {
        Some(bytes) => store_mod::decode(&seq_key, &bytes)?,
        None => {
            return Err(Error::corrupted(format!(
                "{} has no sequence number",
                path.display()
            )));
        }
    };
    if let Some(durable) = backend.recorded_durable_seq()?
        && durable > seq
    {
        return Err(Error::corrupted(format!(
            "the store at {} lost acknowledged writes: it holds batch {seq}, batch {durable} was made durable",
            path.display()
        ))
        .with_details(json!({ "seq": seq, "durable_seq": durable })));
    }
    Ok(seq)
}

impl Engine {
    /// Open (or create) the store at `path`.
    pub fn open(path: impl AsRef<Path>, options: EngineOptions) -> Result<Engine> {
        let path = path.as_ref().to_path_buf();
        let sled_options = SledOptions {
            cache_capacity_bytes: options.cache_capacity_bytes,
        };
        let (backend, _created) = SledBackend::open(&path, &sled_options)?;
        let seq = check_format(&backend, &path)?;
        let durability = match options.durability {
            DurabilityOption::Durable => Durability::Durable,
            DurabilityOption::Import => Durability::Import,
        };
        let store = Store::new(Box::new(backend), seq, durability);
        let program = load_current_program(&store)?;
        let plugins = PluginHost::open(&store, options.plugin_cache_dir.clone())?;
        Ok(Engine {
            store,
            writer: Mutex::new(()),
            program: RwLock::new(program.map(Arc::new)),
            plugins,
            options,
            path,
            closed: AtomicBool::new(false),
        })
    }

    /// The store's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The storage layer (diagnostics, benchmarks).
    pub fn store(&self) -> &Store {
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

    /// Sync everything and refuse further operations. Dropping the engine also syncs.
    pub fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let _guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.store.sync_now()
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::Closed,
                format!("the store at {} is closed", self.path.display()),
            ));
        }
        Ok(())
    }

    /// The current programme.
    pub fn program(&self) -> Option<Arc<Program>> {
        self.program
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn context(&self, at: Option<DateTime<Utc>>) -> Ctx {
        Ctx::new(at.unwrap_or_else(Utc::now), self.program())
    }

    /// Execute one JSON request (`{"op": ..., "args": {...}}`) and return the JSON
    /// response (`{"ok": true, "result": ...}` or `{"ok": false, "error": ...}`).
    /// Never panics.
    pub fn execute_json(&self, request: &str) -> String {
        let outcome = self
            .parse_request(request)
            .and_then(|(op, args)| self.execute(&op, args));
        response(outcome)
    }

    /// Parse and check a request without executing it: the operation must exist and
    /// its arguments must decode. Returns `{"op": ..., "mutates": bool}`.
    pub fn validate_json(&self, request: &str) -> Result<Value> {
        let (op, args) = self.parse_request(request)?;
        let spec = ops::find(&op).ok_or_else(|| unknown_op(&op))?;
        let mut args = into_object(args)?;
        take_common(&mut args, spec.mutates)?;
        (spec.validate)(Value::Object(args))?;
        Ok(json!({ "op": op, "mutates": spec.mutates }))
    }

    fn parse_request(&self, request: &str) -> Result<(String, Value)> {
        if request.len() > self.options.request_bytes_max {
            return Err(Error::too_large("request", self.options.request_bytes_max));
        }
        let value = crate::json::from_str(request).map_err(|err| match err {
            JsonError::Syntax(err) => Error::new(
                ErrorCode::InvalidRequest,
                format!("the request is not valid JSON: {err}"),
            ),
            JsonError::DuplicateKey { key, path } => Error::new(
                ErrorCode::InvalidRequest,
                format!("the key \"{key}\" appears twice at {path}; a request names each key once"),
            )
            .with_details(json!({ "key": key, "path": path })),
        })?;
        let Value::Object(mut object) = value else {
            return Err(Error::new(
                ErrorCode::InvalidRequest,
                "the request must be a JSON object with op and args",
            ));
        };
        let op = match object.remove("op") {
            Some(Value::String(op)) => op,
            _ => {
                return Err(Error::new(
                    ErrorCode::InvalidRequest,
                    "the request needs \"op\" as a string",
                ));
            }
        };
        let args = object
            .remove("args")
            .unwrap_or_else(|| Value::Object(Map::new()));
        if let Some(extra) = object.keys().next() {
            return Err(Error::new(
                ErrorCode::InvalidRequest,
                format!("unknown request field \"{extra}\""),
            ));
        }
        Ok((op, args))
    }

    /// Execute an operation by name with JSON arguments. Never panics: a bug is
    /// reported as `internal` and changes nothing.
    pub fn execute(&self, op: &str, args: Value) -> Result<Value> {
        match catch_unwind(AssertUnwindSafe(|| self.execute_inner(op, args))) {
            Ok(result) => result,
            Err(panic) => {
                let reason = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("unknown panic");
                Err(Error::internal(format!("operation {op} failed: {reason}")))
            }
        }
    }

    fn execute_inner(&self, op: &str, args: Value) -> Result<Value> {
        self.check_open()?;
        let spec = ops::find(op).ok_or_else(|| unknown_op(op))?;
        (spec.run)(self, op, into_object(args)?)
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

    /// Run a report: like [`Engine::read_op`], but through [`store_mod::Store::read_stepwise`],
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
        open: impl FnOnce(&'s store_mod::Store) -> V,
        f: impl FnOnce(&V, &Ctx, A) -> Result<T>,
    ) -> Result<Value>
    where
        A: DeserializeOwned,
        T: Serialize,
    {
        let mut args = args;
        let common = take_common(&mut args, false)?;
        let typed: A = decode_args(Value::Object(args))?;
        let ctx = self.context(common.at);
        let view = open(&self.store);
        let result = f(&view, &ctx, typed)?;
        to_value(&result)
    }

    /// Run a state-changing operation: idempotency, one atomic batch, group commit.
    pub(crate) fn write_op<A, T>(
        &self,
        op: &str,
        args: Map<String, Value>,
        f: impl FnOnce(&mut WriteTxn<'_>, &Ctx, A) -> Result<T>,
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
            .map(|_| request_hash(op, &args))
            .unwrap_or_default();
        let typed: A = decode_args(Value::Object(args))?;
        let guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.store.check_healthy()?;
        let mut txn = self.store.write();
        let idempotency_key = common
            .idempotency_key
            .as_deref()
            .map(idempotency_record_key);
        if let Some(key) = &idempotency_key
            && let Some(first) = replay(&txn, key, op, &hash)?
        {
            drop(txn);
            drop(guard);
            // The first request may still be waiting for its sync: acknowledge the
            // replay only once what it returns is durable too.
            self.store.wait_durable(self.store.applied_seq())?;
            return Ok(first);
        }
        let ctx = self.context(common.at);
        let result = f(&mut txn, &ctx, typed)?;
        let value = to_value(&result)?;
        if let Some(key) = idempotency_key {
            remember(&mut txn, key, op, hash, &value, &ctx)?;
        }
        let seq = txn.commit()?;
        drop(guard);
        self.store.wait_durable(seq)?;
        Ok(value)
    }

    /// `program.set`: validate and store a new version, then switch to it.
    pub(crate) fn set_program(&self, op: &str, args: Map<String, Value>) -> Result<Value> {
        let value = self.write_op(op, args, |txn, _ctx, args: ops::ProgramSetArgs| {
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
            Ok(program)
        })?;
        let program = load_current_program(&self.store)?;
        *self.program.write().unwrap_or_else(|p| p.into_inner()) = program.map(Arc::new);
        Ok(value)
    }

    /// `jobs.daily`: runs in bounded batches, each atomic. The job is idempotent by date
    /// on its own; an `idempotency_key` additionally makes a retry return the first
    /// report (recorded after the last batch, so a run cut short is simply run again).
    pub(crate) fn run_daily(&self, op: &str, args: Map<String, Value>) -> Result<Value> {
        let mut args = args;
        let common = take_common(&mut args, true)?;
        let hash = request_hash(op, &args);
        let typed: jobs::DailyArgs = decode_args(Value::Object(args))?;
        let idempotency_key = common
            .idempotency_key
            .as_deref()
            .map(idempotency_record_key);
        if let Some(key) = &idempotency_key {
            let guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            self.store.check_healthy()?;
            let txn = self.store.write();
            if let Some(first) = replay(&txn, key, op, &hash)? {
                drop(txn);
                drop(guard);
                self.store.wait_durable(self.store.applied_seq())?;
                return Ok(first);
            }
        }
        let ctx = self.context(common.at);
        let (report, mut seq) = jobs::daily(&self.store, &self.writer, &ctx, &typed)?;
        let mut value = to_value(&report)?;
        if let Some(key) = idempotency_key {
            let guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            self.store.check_healthy()?;
            let mut txn = self.store.write();
            // A concurrent retry with the same key may have finished first: its report
            // is the one every retry gets.
            if let Some(first) = replay(&txn, &key, op, &hash)? {
                value = first;
            } else {
                remember(&mut txn, key, op, hash, &value, &ctx)?;
                seq = txn.commit()?;
            }
            drop(guard);
        }
        self.store.wait_durable(seq.max(self.store.applied_seq()))?;
        Ok(value)
    }

    /// Write a consistent backup of the open store to `dest`.
    pub fn backup(&self, dest: &Path) -> Result<BackupSummary> {
        self.check_open()?;
        backup::backup(&self.store, dest)
    }

    /// Restore a backup into a new store at `path` (then open it with [`Engine::open`]).
    pub fn restore(
        backup_path: &Path,
        path: &Path,
        options: &EngineOptions,
    ) -> Result<BackupSummary> {
        backup::restore(
            backup_path,
            path,
            &SledOptions {
                cache_capacity_bytes: options.cache_capacity_bytes,
            },
        )
    }

    /// Typed convenience for Rust callers: serialize `args`, execute, decode the result.
    pub fn call<A: Serialize, R: DeserializeOwned>(&self, op: &str, args: &A) -> Result<R> {
        let args =
            serde_json::to_value(args).map_err(|err| Error::invalid("args", err.to_string()))?;
        let value = self.execute(op, args)?;
        serde_json::from_value(value)
            .map_err(|err| Error::internal(format!("{op} returned an unexpected shape: {err}")))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.close();
    }
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
    let view = store.read();
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

struct Common {
    at: Option<DateTime<Utc>>,
    idempotency_key: Option<String>,
}

fn take_common(args: &mut Map<String, Value>, mutates: bool) -> Result<Common> {
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
    Ok(Common {
        at,
        idempotency_key,
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

fn request_hash(op: &str, args: &Map<String, Value>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(op.as_bytes());
    hasher.update([0]);
    // serde_json's Map is ordered, so the text is canonical.
    hasher.update(Value::Object(args.clone()).to_string().as_bytes());
    hasher.finalize().into()
}

fn into_object(args: Value) -> Result<Map<String, Value>> {
    match args {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(Error::new(
            ErrorCode::InvalidRequest,
            "\"args\" must be a JSON object",
        )),
    }
}

/// Decode typed arguments. A message names the field by its path in the caller's own
/// request (`lines[2].qty: ...`), as `invalid_argument` with `details.field`.
pub(crate) fn decode_args<A: DeserializeOwned>(args: Value) -> Result<A> {
    serde_path_to_error::deserialize(args).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("invalid arguments: {inner}"),
            )
        } else {
            Error::invalid(&path, inner.to_string())
        }
    })
}

fn to_value<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value)
        .map_err(|err| Error::internal(format!("cannot encode the result: {err}")))
}

fn unknown_op(op: &str) -> Error {
    let shown: String = op.chars().take(64).collect();
    Error::new(
        ErrorCode::UnknownOperation,
        format!("unknown operation \"{shown}\""),
    )
    .with_details(json!({ "op": shown, "known": ops::names() }))
}

/// Encode an outcome as the contract's response JSON.
pub fn response(outcome: Result<Value>) -> String {
    match outcome {
        Ok(result) => json!({ "ok": true, "result": result }).to_string(),
        Err(err) => json!({ "ok": false, "error": err.to_json() }).to_string(),
    }
}
