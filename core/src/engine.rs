//! The engine: an open store plus the one operation set. Every front door (Rust,
//! C ABI, Python, CLI) calls [`Engine::execute`] or [`Engine::execute_json`] with the
//! same operation names and JSON shapes.
//!
//! The transactions themselves run in [`crate::session`].

use crate::error::{Error, ErrorCode, Result};
use crate::json::JsonError;
use crate::ops;
use crate::program::Program;
use crate::session::{Session, take_common};
use crate::store::backup::{self, BackupSummary};
use crate::store::keys::{self, tag};
use crate::store::sled_backend::SledOptions;
use crate::store::{self as store_mod, Backend, Durability, Reader as _, Store};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

/// Largest request accepted by [`Engine::execute_json`], in bytes.
pub const REQUEST_BYTES_MAX: usize = 1024 * 1024;

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
    /// The branch this engine works for (a site of a dealer group sharing one
    /// PostgreSQL store): visits recorded without a `branch` of their own get it.
    pub branch: Option<String>,
    /// sled only: a durable commit syncs the store's write-ahead log (default, `true`);
    /// `false` syncs by flushing sled's pages instead, as before issue 15 (kept for
    /// comparison in the bench, and as a fallback).
    pub write_ahead_log: bool,
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
            branch: None,
            write_ahead_log: true,
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
        if let Some(branch) = &options.branch {
            crate::visit::check_branch("branch", branch)?;
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

/// An open Pitstop store. `Send + Sync`: share it between threads.
///
/// [`Engine::close`] waits for the operations in flight, syncs, and releases the store
/// (its file lock included, so it can be opened again); every later call answers
/// `closed`. The doors (C ABI, Python) keep no state of their own about it.
pub struct Engine {
    /// `None` once closed. Each operation holds the read side for its whole run, so a
    /// close (the write side) waits for the operations in flight and no operation
    /// starts on a store being closed.
    session: RwLock<Option<Session>>,
    options: EngineOptions,
    path: PathBuf,
    /// The store as messages name it: the sled directory, or the PostgreSQL server and
    /// database without the password.
    label: String,
}

/// The store's batch sequence number and format version, checked.
fn check_format(backend: &dyn Backend, label: &str) -> Result<(u64, u32)> {
    let view = backend.snapshot()?;
    let format_key = keys::meta(keys::META_FORMAT);
    let format: u32 = match view.get(&format_key)? {
        Some(bytes) => store_mod::decode(&format_key, &bytes)?,
        None => {
            return Err(Error::corrupted(format!(
                "{label} has no format version: not a Pitstop store, or damaged"
            )));
        }
    };
    if format > store_mod::FORMAT_VERSION || format == 0 {
        return Err(Error::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "the store at {} has format {format}; this build reads format {}",
                label,
                store_mod::FORMAT_VERSION
            ),
        )
        .with_details(json!({ "found": format, "supported": store_mod::FORMAT_VERSION })));
    }
    let seq_key = keys::meta(keys::META_SEQ);
    let seq: u64 = match view.get(&seq_key)? {
        Some(bytes) => store_mod::decode(&seq_key, &bytes)?,
        None => {
            return Err(Error::corrupted(format!("{label} has no sequence number")));
        }
    };
    drop(view);
    if let Some(durable) = backend.recorded_durable_seq()?
        && durable > seq
    {
        return Err(Error::corrupted(format!(
            "the store at {label} lost acknowledged writes: it holds batch {seq}, batch {durable} was made durable"
        ))
        .with_details(json!({ "seq": seq, "durable_seq": durable })));
    }
    Ok((seq, format))
}

/// Bring a store of an older format to this build's: every older layout is still read
/// (format 1 kept an account's open lots inline, moved into blocks at the account's
/// next save), so only the version record changes, and a build that reads only the
/// older format refuses the store from now on instead of misreading it.
fn upgrade_format(store: &Store, format: u32) -> Result<()> {
    if format >= store_mod::FORMAT_VERSION {
        return Ok(());
    }
    let mut txn = store.write()?;
    let format_key = keys::meta(keys::META_FORMAT);
    let stored: u32 = txn.get(&format_key)?.unwrap_or(format);
    if stored < store_mod::FORMAT_VERSION {
        txn.put(format_key, &store_mod::FORMAT_VERSION)?;
        txn.commit()?;
    }
    Ok(())
}

impl Engine {
    /// Open (or create) a store: a sled directory, or a PostgreSQL connection string
    /// (`postgresql://user@host:5432/shop` or `host=… dbname=…`), whose database (or
    /// schema) is either empty or a Pitstop store.
    pub fn open(store: impl AsRef<Path>, options: EngineOptions) -> Result<Engine> {
        let path = store.as_ref().to_path_buf();
        let sled_options = SledOptions {
            cache_capacity_bytes: options.cache_capacity_bytes,
            write_ahead_log: options.write_ahead_log,
            ..SledOptions::default()
        };
        let (backend, label) = store_mod::open_backend(&path, &sled_options)?;
        let (seq, format) = check_format(backend.as_ref(), &label)?;
        let durability = match options.durability {
            DurabilityOption::Durable => Durability::Durable,
            DurabilityOption::Import => Durability::Import,
        };
        let store = Store::new(backend, seq, durability);
        upgrade_format(&store, format)?;
        crate::recount::mark_if_new(&store)?;
        let session = Session::open(
            store,
            options.plugin_cache_dir.clone(),
            options.branch.as_deref().map(str::trim).map(Arc::from),
        )?;
        Ok(Engine {
            session: RwLock::new(Some(session)),
            options,
            path,
            label,
        })
    }

    /// The store as given to [`Engine::open`] (a connection string may hold a password:
    /// show [`Engine::label`] instead).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The store as messages name it: the directory, or `postgresql://user@host:port/db`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The number of the last batch applied to the store (diagnostics: a failed
    /// operation leaves it where it was).
    pub fn applied_seq(&self) -> Result<u64> {
        self.with_session(|session| session.store().current_seq())
    }

    /// Bytes of keys and values in every batch this engine applied (diagnostics: the
    /// bench sets what reaches the disk per commit against it).
    pub fn applied_batch_bytes(&self) -> Result<u64> {
        self.with_session(|session| Ok(session.store().applied_bytes()))
    }

    /// Wait for the operations in flight, sync everything and release the store, its
    /// file lock included. Every later call answers `closed`; closing again does
    /// nothing. Dropping the engine closes it too.
    pub fn close(&self) -> Result<()> {
        let taken = self
            .session
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(session) = taken else {
            return Ok(());
        };
        let synced = session.sync_after_last_write();
        // Dropping the session drops sled's handle, which releases its lock.
        drop(session);
        synced
    }

    /// Whether [`Engine::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.session
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// `Ok` while open; the `closed` error after [`Engine::close`]. A door that must
    /// answer `closed` before it reads a request asks here first.
    pub fn check_open(&self) -> Result<()> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        Ok(())
    }

    fn closed_error(&self) -> Error {
        Error::new(
            ErrorCode::Closed,
            format!("the store at {} is closed", self.label),
        )
    }

    /// Run `work` on the open store, or answer `closed`.
    fn with_session<T>(&self, work: impl FnOnce(&Session) -> Result<T>) -> Result<T> {
        let session = self.session.read().unwrap_or_else(PoisonError::into_inner);
        match session.as_ref() {
            Some(session) => work(session),
            None => Err(self.closed_error()),
        }
    }

    /// The current programme (`None` when none is set or the engine is closed).
    pub fn program(&self) -> Option<Arc<Program>> {
        self.with_session(|session| Ok(session.program()))
            .ok()
            .flatten()
    }

    /// Execute one JSON request (`{"op": ..., "args": {...}}`) and return the JSON
    /// response (`{"ok": true, "result": ...}` or `{"ok": false, "error": ...}`).
    /// Never panics.
    pub fn execute_json(&self, request: &str) -> String {
        response(self.execute_request(request))
    }

    /// Execute one JSON request and return its outcome typed: the doors encode it with
    /// [`response`] and take their status from the error's code, without reading their
    /// own reply back.
    pub fn execute_request(&self, request: &str) -> Result<Value> {
        self.parse_request(request)
            .and_then(|(op, args)| self.execute(&op, args))
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
                let reason = crate::error::panic_text(panic.as_ref());
                Err(Error::internal(format!("operation {op} failed: {reason}")))
            }
        }
    }

    fn execute_inner(&self, op: &str, args: Value) -> Result<Value> {
        self.with_session(|session| {
            let spec = ops::find(op).ok_or_else(|| unknown_op(op))?;
            session.run(spec.run, op, into_object(args)?)
        })
    }

    /// Write a consistent backup of the open store to `dest`.
    pub fn backup(&self, dest: &Path) -> Result<BackupSummary> {
        self.with_session(|session| session.backup(dest))
    }

    /// Restore a backup into a new store at `path`, a sled directory or an empty
    /// PostgreSQL database (then open it with [`Engine::open`]).
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
                write_ahead_log: options.write_ahead_log,
                ..SledOptions::default()
            },
            check_backup_document,
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

    /// Whether a store was created at `path` (hosts ask before creating or opening one,
    /// without knowing the storage's file names). For a PostgreSQL connection string:
    /// whether the database holds a store (an unreachable server counts as no).
    pub fn store_exists(path: &Path) -> bool {
        store_mod::exists(path)
    }

    /// Remove a sled store (or an empty directory) at `store`; refuse anything else, a
    /// store open in this process, and every PostgreSQL store.
    pub fn remove_store(store: &Path) -> Result<()> {
        store_mod::remove(store)
    }

    /// Whether `store` names a store several processes share (a PostgreSQL connection
    /// string) rather than a sled directory.
    pub fn is_shared_store(store: &Path) -> bool {
        store_mod::is_shared(store)
    }

    /// How messages name a store given as a path or connection string: the directory,
    /// or `postgresql://user@host:port/db` without the password.
    pub fn describe_store(store: &Path) -> String {
        store_mod::describe(store)
    }

    /// Copy the open store, as one consistent state, into a new store at `dest` (a sled
    /// directory that must not exist, or an empty PostgreSQL database): a shop moving
    /// from one till to a shared server, or a branch taking a copy back.
    pub fn copy_to(&self, dest: &Path) -> Result<BackupSummary> {
        let sled_options = SledOptions {
            cache_capacity_bytes: self.options.cache_capacity_bytes,
            write_ahead_log: self.options.write_ahead_log,
            ..SledOptions::default()
        };
        self.with_session(|session| backup::copy(session.store(), dest, &sled_options))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// Check a JSON document of a backup (programme versions, segments, plugin records)
/// the way a request is checked: no repeated key, every amount in the one decimal
/// grammar. A backup is a file that may have been edited or made elsewhere, and a
/// document that passed here is what the store would later read as its own.
fn check_backup_document(key: &[u8], value: &[u8]) -> Result<()> {
    match key.first().copied() {
        Some(tag::PROGRAM) => {
            store_mod::decode_json::<Program>(key, value).and_then(|program| program.validate())
        }
        Some(tag::SEGMENT) => {
            store_mod::decode_json::<crate::segment::Segment>(key, value).map(drop)
        }
        Some(tag::PLUGIN) => {
            store_mod::decode_json::<crate::plugin::PluginRecord>(key, value).map(drop)
        }
        _ => Ok(()),
    }
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
