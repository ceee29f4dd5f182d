//! Promotions as sandboxed WebAssembly plugins.
//!
//! - [`runtime`]: wasmtime behind [`PluginRuntime`] and [`PluginModule`] — compile once,
//!   a fresh instance per call, hard limits (fuel, memory, wall time, input, output).
//! - [`hook`]: the checkout and registration hooks — build the input, run the enabled
//!   plugins by priority, validate every effect, apply them.
//! - this file: plugin records in the store, the per-process cache of compiled modules
//!   ([`PluginHost`], owned by the engine) and the `plugin.*` operations.
//!
//! The contract a plugin implements is `plugins/ABI.md`.

mod changes;
pub(crate) mod hook;
pub mod outcome;
pub mod runtime;

use crate::context::Ctx;
use crate::error::{Error, ErrorCode, Result};
use crate::json::decode_args;
use crate::store::keys::{self, KeyBuilder, tag};
use crate::store::{Reader, Store, WriteTxn};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

pub use outcome::{AppliedEffect, Audience, OutcomeError, OutcomeStatus, PluginOutcome};
pub use runtime::{ABI_VERSION, CallOutput, CallStep, CallSteps, PluginModule, PluginRuntime};

/// Bytes of module per stored chunk (the store caps a value at 256 KiB).
const CHUNK_BYTES: usize = 192 * 1024;
/// Most plugins installed in one store.
pub const PLUGINS_MAX: usize = 64;
/// Largest plugin config, as JSON text.
pub const CONFIG_BYTES_MAX: usize = 64 * 1024;

/// A hook: the moment a plugin is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// `checkout.quote` and `checkout.commit` (the same input for both).
    Checkout,
    /// `customer.register` (welcome offers).
    Registration,
}

impl Hook {
    /// Every hook.
    pub const ALL: [Hook; 2] = [Hook::Checkout, Hook::Registration];

    /// The export a plugin provides for this hook.
    pub fn export(self) -> &'static str {
        match self {
            Hook::Checkout => "pitstop_checkout",
            Hook::Registration => "pitstop_registration",
        }
    }

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Checkout => "checkout",
            Hook::Registration => "registration",
        }
    }
}

/// What a failing plugin does to the operation that called it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OnError {
    /// The operation goes on without the plugin; the result says it was skipped.
    #[default]
    Skip,
    /// The operation is refused with the plugin's error code; nothing is written.
    Fail,
}

/// Limits of one plugin call. Every field has a safe default and a hard ceiling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Instructions (wasmtime fuel) per call.
    pub fuel: u64,
    /// Linear memory in bytes.
    pub memory_bytes: u64,
    /// Wall time per call in milliseconds (a backstop: fuel normally stops a loop first).
    pub time_ms: u32,
    /// Largest input in bytes.
    pub input_bytes: u32,
    /// Largest output in bytes.
    pub output_bytes: u32,
    /// Most bonus points one effect may grant.
    #[serde(deserialize_with = "crate::amount::decimal")]
    pub bonus_points_max: Decimal,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 11_000_000,
            memory_bytes: 10 * 1024 * 1024,
            time_ms: 100,
            input_bytes: 128 * 1024,
            output_bytes: 20 * 1024,
            bonus_points_max: Decimal::from(10_000),
        }
    }
}

impl Limits {
    /// The hard ceilings.
    pub fn ceiling() -> Limits {
        Limits {
            fuel: 2_000_000_000,
            memory_bytes: runtime::MEMORY_BYTES_HARD_MAX,
            time_ms: 5_000,
            input_bytes: 1024 * 1024,
            output_bytes: 1024 * 1024,
            bonus_points_max: Decimal::from(1_000_000),
        }
    }

    fn check(&self) -> Result<()> {
        let max = Limits::ceiling();
        let fields: [(&str, u64, u64, u64); 5] = [
            ("limits.fuel", self.fuel, 1_000, max.fuel),
            (
                "limits.memory_bytes",
                self.memory_bytes,
                65_536,
                max.memory_bytes,
            ),
            (
                "limits.time_ms",
                u64::from(self.time_ms),
                1,
                u64::from(max.time_ms),
            ),
            (
                "limits.input_bytes",
                u64::from(self.input_bytes),
                1_024,
                u64::from(max.input_bytes),
            ),
            (
                "limits.output_bytes",
                u64::from(self.output_bytes),
                64,
                u64::from(max.output_bytes),
            ),
        ];
        for (field, value, low, high) in fields {
            if value < low || value > high {
                return Err(Error::invalid(field, format!("must be {low}..={high}")));
            }
        }
        if self.bonus_points_max < Decimal::ZERO || self.bonus_points_max > max.bonus_points_max {
            return Err(Error::invalid(
                "limits.bonus_points_max",
                format!("must be 0..={}", max.bonus_points_max),
            ));
        }
        Ok(())
    }
}

/// Why a plugin failed. Each kind has its own stable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PluginErrorKind {
    /// Not valid WebAssembly, or a required export is missing or mistyped.
    Invalid,
    /// Built for another ABI version.
    AbiMismatch,
    /// Imports something the sandbox does not offer (WASI, ...).
    ForbiddenImport,
    /// Trapped (unreachable, out-of-bounds access, stack overflow, ...).
    Trap,
    /// Used up its fuel.
    FuelExhausted,
    /// Ran past its wall-time limit.
    Timeout,
    /// Grew its memory beyond the limit.
    MemoryLimit,
    /// The input built for it exceeds its limit.
    InputTooLarge,
    /// Returned more than its output limit.
    OutputTooLarge,
    /// Returned something that is not the output schema (or outside its memory).
    BadOutput,
    /// Returned an effect that fails validation.
    InvalidEffect,
    /// Returned an error object of its own.
    Failed,
    /// The host could not run it (a bug or missing resources).
    Internal,
}

impl PluginErrorKind {
    /// The error code of the contract.
    pub fn code(self) -> ErrorCode {
        match self {
            PluginErrorKind::Invalid => ErrorCode::PluginInvalid,
            PluginErrorKind::AbiMismatch => ErrorCode::PluginAbiMismatch,
            PluginErrorKind::ForbiddenImport => ErrorCode::PluginForbiddenImport,
            PluginErrorKind::Trap => ErrorCode::PluginTrap,
            PluginErrorKind::FuelExhausted => ErrorCode::PluginFuelExhausted,
            PluginErrorKind::Timeout => ErrorCode::PluginTimeout,
            PluginErrorKind::MemoryLimit => ErrorCode::PluginMemoryLimit,
            PluginErrorKind::InputTooLarge => ErrorCode::TooLarge,
            PluginErrorKind::OutputTooLarge => ErrorCode::PluginOutputTooLarge,
            PluginErrorKind::BadOutput => ErrorCode::PluginBadOutput,
            PluginErrorKind::InvalidEffect => ErrorCode::PluginInvalidEffect,
            PluginErrorKind::Failed => ErrorCode::PluginFailed,
            PluginErrorKind::Internal => ErrorCode::Internal,
        }
    }
}

/// A plugin failure: kind, message and details.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PluginError {
    /// Why.
    pub kind: PluginErrorKind,
    /// A sentence for a human.
    pub message: String,
    /// Machine-readable facts.
    pub details: Map<String, Value>,
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

impl std::error::Error for PluginError {}

impl PluginError {
    /// A new error.
    pub fn new(kind: PluginErrorKind, message: impl Into<String>) -> PluginError {
        PluginError {
            kind,
            message: message.into(),
            details: Map::new(),
        }
    }

    /// Add a detail.
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> PluginError {
        self.details.insert(key.to_string(), value.into());
        self
    }

    /// The contract error, naming the plugin.
    pub fn into_error(self, plugin: Option<(&str, &str)>) -> Error {
        let mut details = self.details;
        let message = match plugin {
            Some((name, sha256)) => {
                details.insert("plugin".into(), json!(name));
                details.insert("sha256".into(), json!(sha256));
                format!("plugin {name}: {}", self.message)
            }
            None => self.message,
        };
        Error::new(self.kind.code(), message).with_details(Value::Object(details))
    }
}

/// An installed plugin as stored (a JSON document under tag `Q`; the module bytes are
/// chunks under tag `q`, keyed by sha256, so a copy of the store carries its plugins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PluginRecord {
    /// Unique name (`combined-sale`).
    pub name: String,
    /// sha256 of the module, hex.
    pub sha256: String,
    /// Module size in bytes.
    pub size_bytes: u64,
    /// ABI version it was built for.
    pub abi_version: u32,
    /// Hooks it exports.
    pub hooks: Vec<Hook>,
    /// Its own configuration, passed in every input.
    pub config: Value,
    /// Higher runs first; ties by name.
    pub priority: i32,
    /// What a failure does.
    pub on_error: OnError,
    /// Whether it is called.
    pub enabled: bool,
    /// Limits of a call.
    pub limits: Limits,
    /// Installed.
    pub installed_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

fn record_key(name: &str) -> Vec<u8> {
    KeyBuilder::new(tag::PLUGIN).str(name).build()
}

fn chunk_prefix(sha256: &[u8; 32]) -> Vec<u8> {
    let mut key = vec![tag::PLUGIN_MODULE];
    key.extend_from_slice(sha256);
    key
}

fn chunk_key(sha256: &[u8; 32], index: u32) -> Vec<u8> {
    let mut key = chunk_prefix(sha256);
    key.extend_from_slice(&index.to_be_bytes());
    key
}

fn parse_sha(hex_text: &str) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    if hex_text.len() != 64 {
        return Err(Error::corrupted(format!(
            "plugin sha256 {hex_text} is malformed"
        )));
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex_text[i * 2..i * 2 + 2], 16)
            .map_err(|_| Error::corrupted(format!("plugin sha256 {hex_text} is malformed")))?;
    }
    Ok(out)
}

/// Every installed plugin, by name.
pub(crate) fn records<R: Reader>(reader: &R) -> Result<Vec<PluginRecord>> {
    let prefix = [tag::PLUGIN];
    let end = keys::prefix_end(&prefix);
    let pairs = reader.scan_raw(&prefix, &end, PLUGINS_MAX + 1, false)?;
    pairs
        .iter()
        .map(|(key, bytes)| crate::store::decode_json::<PluginRecord>(key, bytes))
        .collect()
}

fn load_record<R: Reader>(reader: &R, name: &str) -> Result<PluginRecord> {
    reader
        .get_json::<PluginRecord>(&record_key(name))?
        .ok_or_else(|| Error::not_found("plugin", name))
}

/// The module bytes of a stored plugin, checked against its sha256.
fn load_module_bytes<R: Reader>(reader: &R, record: &PluginRecord) -> Result<Vec<u8>> {
    use sha2::{Digest, Sha256};
    let sha = parse_sha(&record.sha256)?;
    let mut bytes = Vec::with_capacity(record.size_bytes as usize);
    let chunks = (record.size_bytes as usize).div_ceil(CHUNK_BYTES);
    for index in 0..chunks {
        let chunk: Vec<u8> = reader.get(&chunk_key(&sha, index as u32))?.ok_or_else(|| {
            Error::corrupted(format!(
                "chunk {index} of plugin {}'s module is missing",
                record.name
            ))
        })?;
        bytes.extend_from_slice(&chunk);
    }
    if bytes.len() as u64 != record.size_bytes || Sha256::digest(&bytes).as_slice() != sha {
        return Err(Error::corrupted(format!(
            "plugin {}'s module does not match its sha256",
            record.name
        )));
    }
    Ok(bytes)
}

fn put_module(txn: &mut WriteTxn<'_>, sha: &[u8; 32], wasm: &[u8]) -> Result<()> {
    for (index, chunk) in wasm.chunks(CHUNK_BYTES).enumerate() {
        txn.put(chunk_key(sha, index as u32), &chunk.to_vec())?;
    }
    Ok(())
}

/// Delete a module's chunks unless another plugin still uses them.
fn drop_module_if_unused(txn: &mut WriteTxn<'_>, sha_hex: &str, except: &str) -> Result<()> {
    let in_use = records(txn)?
        .iter()
        .any(|r| r.name != except && r.sha256 == sha_hex);
    if in_use {
        return Ok(());
    }
    let sha = parse_sha(sha_hex)?;
    let prefix = chunk_prefix(&sha);
    for key in txn.scan_keys(&prefix, 1024)? {
        txn.delete(key);
    }
    Ok(())
}

/// An enabled plugin ready to be called.
pub(crate) struct ActivePlugin {
    pub(crate) record: PluginRecord,
    /// `config` as JSON text, spliced into every input.
    pub(crate) config_json: String,
}

/// The enabled plugins, in calling order (priority descending, then name).
#[derive(Default)]
pub(crate) struct ActiveSet {
    pub(crate) plugins: Vec<ActivePlugin>,
}

impl ActiveSet {
    /// Plugins that export `hook`, in calling order.
    pub(crate) fn for_hook(&self, hook: Hook) -> impl Iterator<Item = &ActivePlugin> {
        self.plugins
            .iter()
            .filter(move |p| p.record.hooks.contains(&hook))
    }
}

/// The engine's plugin state: the runtime (started on first use), compiled modules by
/// sha256 (compile once per process), and the enabled set (reloaded after every
/// `plugin.*` write).
pub(crate) struct PluginHost {
    runtime: OnceLock<std::result::Result<Arc<PluginRuntime>, Error>>,
    cache_dir: Option<PathBuf>,
    modules: Mutex<HashMap<[u8; 32], Arc<PluginModule>>>,
    active: RwLock<Arc<ActiveSet>>,
    /// The store's [`keys::META_PLUGINS`] when `active` was loaded.
    epoch: AtomicU64,
}

impl PluginHost {
    pub(crate) fn open(store: &Store, cache_dir: Option<PathBuf>) -> Result<PluginHost> {
        let host = PluginHost {
            runtime: OnceLock::new(),
            cache_dir,
            modules: Mutex::new(HashMap::new()),
            active: RwLock::new(Arc::new(ActiveSet::default())),
            epoch: AtomicU64::new(0),
        };
        host.reload(store)?;
        Ok(host)
    }

    /// Re-read the enabled set from the store.
    pub(crate) fn reload(&self, store: &Store) -> Result<()> {
        let view = store.read()?;
        let epoch: u64 = view.get(&keys::meta(keys::META_PLUGINS))?.unwrap_or(0);
        let mut plugins: Vec<ActivePlugin> = records(&view)?
            .into_iter()
            .filter(|r| r.enabled)
            .map(|record| ActivePlugin {
                config_json: record.config.to_string(),
                record,
            })
            .collect();
        plugins.sort_by(|a, b| {
            b.record
                .priority
                .cmp(&a.record.priority)
                .then_with(|| a.record.name.cmp(&b.record.name))
        });
        *self.active.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ActiveSet { plugins });
        self.epoch.store(epoch, Ordering::Release);
        Ok(())
    }

    /// Where compiled modules are cached on disk, if anywhere.
    pub(crate) fn cache_dir(&self) -> Option<PathBuf> {
        self.cache_dir.clone()
    }

    /// The plugin-set epoch the enabled set was loaded at.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// A snapshot of the enabled set.
    pub(crate) fn active(&self) -> Arc<ActiveSet> {
        self.active
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The runtime, started on first use.
    pub(crate) fn runtime(&self) -> Result<Arc<PluginRuntime>> {
        self.runtime
            .get_or_init(|| {
                PluginRuntime::with_cache(self.cache_dir.clone())
                    .map(Arc::new)
                    .map_err(|err| err.into_error(None))
            })
            .clone()
    }

    /// Compile (or find compiled) bytes.
    fn compile(&self, wasm: &[u8]) -> std::result::Result<Arc<PluginModule>, PluginError> {
        use sha2::{Digest, Sha256};
        let sha: [u8; 32] = Sha256::digest(wasm).into();
        if let Some(module) = self.cached(&sha) {
            return Ok(module);
        }
        let runtime = self
            .runtime()
            .map_err(|err| PluginError::new(PluginErrorKind::Internal, err.message))?;
        let module = Arc::new(runtime.compile(wasm)?);
        self.modules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(sha, module.clone());
        Ok(module)
    }

    fn cached(&self, sha: &[u8; 32]) -> Option<Arc<PluginModule>> {
        self.modules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(sha)
            .cloned()
    }

    /// The compiled module of a stored plugin (compiled on first use in this process).
    pub(crate) fn module<R: Reader>(
        &self,
        reader: &R,
        record: &PluginRecord,
    ) -> std::result::Result<Arc<PluginModule>, PluginError> {
        let sha = parse_sha(&record.sha256)
            .map_err(|err| PluginError::new(PluginErrorKind::Internal, err.message))?;
        if let Some(module) = self.cached(&sha) {
            return Ok(module);
        }
        let bytes = load_module_bytes(reader, record)
            .map_err(|err| PluginError::new(PluginErrorKind::Internal, err.message))?;
        self.compile(&bytes)
    }
}

/// Arguments of `plugin.install`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallArgs {
    /// Unique name: 1..=64 of `a-z 0-9 - _`.
    pub name: String,
    /// The module, base64.
    #[serde(default)]
    pub wasm: Option<String>,
    /// Or a path to the module file, read by the host process.
    #[serde(default)]
    pub path: Option<String>,
    /// The plugin's own configuration (a JSON object).
    #[serde(default = "empty_object")]
    pub config: Value,
    /// Higher runs first (default 0).
    #[serde(default)]
    pub priority: i32,
    /// `skip` (default) or `fail`.
    #[serde(default)]
    pub on_error: OnError,
    /// Start enabled (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Limits of a call; absent fields take the defaults.
    #[serde(default)]
    pub limits: Limits,
    /// Replace an installed plugin of the same name (module, config and settings).
    #[serde(default)]
    pub replace: bool,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

fn yes() -> bool {
    true
}

/// Arguments naming one plugin.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameArgs {
    /// The plugin.
    pub name: String,
}

/// No arguments.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        return Err(Error::invalid(
            "name",
            "must be 1..=64 characters of a-z, 0-9, '-' and '_'",
        ));
    }
    Ok(())
}

fn module_bytes(args: &InstallArgs) -> Result<Vec<u8>> {
    let bytes = match (&args.wasm, &args.path) {
        (Some(text), None) => base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|err| Error::invalid("wasm", format!("not base64: {err}")))?,
        (None, Some(path)) => {
            let meta = std::fs::metadata(path).map_err(|err| Error::io(path, err))?;
            if meta.len() > runtime::MODULE_BYTES_MAX as u64 {
                return Err(Error::too_large("path", runtime::MODULE_BYTES_MAX));
            }
            std::fs::read(path).map_err(|err| Error::io(path, err))?
        }
        _ => return Err(Error::invalid("wasm", "give exactly one of wasm, path")),
    };
    if bytes.len() > runtime::MODULE_BYTES_MAX {
        return Err(Error::too_large("wasm", runtime::MODULE_BYTES_MAX));
    }
    Ok(bytes)
}

/// `plugin.install`, before the write: check the arguments and compile the module, so
/// the writer lock is not held while cranelift works.
pub(crate) fn prepare_install(
    host: &PluginHost,
    args: &Map<String, Value>,
) -> Result<(Vec<u8>, Arc<PluginModule>)> {
    // The common request fields are the session's (checked there, when the write runs).
    let mut plain = args.clone();
    plain.remove("at");
    plain.remove("idempotency_key");
    plain.remove("operator");
    let typed: InstallArgs = decode_args(Value::Object(plain))?;
    check_name(&typed.name)?;
    if !typed.config.is_object() {
        return Err(Error::invalid("config", "must be a JSON object"));
    }
    if typed.config.to_string().len() > CONFIG_BYTES_MAX {
        return Err(Error::too_large("config", CONFIG_BYTES_MAX));
    }
    typed.limits.check()?;
    let wasm = module_bytes(&typed)?;
    let module = host.compile(&wasm).map_err(|err| err.into_error(None))?;
    Ok((wasm, module))
}

/// `plugin.install`, the write: the record and, when new, the module bytes.
pub(crate) fn store_plugin(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    args: InstallArgs,
    wasm: &[u8],
    module: &PluginModule,
) -> Result<PluginRecord> {
    let existing = txn.get_json::<PluginRecord>(&record_key(&args.name))?;
    if existing.is_some() && !args.replace {
        return Err(Error::new(
            ErrorCode::AlreadyExists,
            format!(
                "plugin {} is already installed; pass replace: true to replace it",
                args.name
            ),
        )
        .with_details(json!({ "field": "name", "value": args.name })));
    }
    if existing.is_none() && records(txn)?.len() >= PLUGINS_MAX {
        return Err(Error::too_large("plugins", PLUGINS_MAX));
    }
    let sha = module.sha256();
    let sha_hex = runtime::hex(&sha);
    if !txn.contains(&chunk_key(&sha, 0))? {
        put_module(txn, &sha, wasm)?;
    }
    let record = PluginRecord {
        name: args.name.clone(),
        sha256: sha_hex.clone(),
        size_bytes: wasm.len() as u64,
        abi_version: module.abi_version(),
        hooks: module.hooks().to_vec(),
        config: args.config,
        priority: args.priority,
        on_error: args.on_error,
        enabled: args.enabled,
        limits: args.limits,
        installed_at: existing.as_ref().map_or(ctx.at, |r| r.installed_at),
        updated_at: ctx.at,
    };
    txn.put_json(record_key(&record.name), &record)?;
    bump_epoch(txn)?;
    changes::note_change(txn, existing.as_ref(), Some(&record))?;
    if let Some(old) = existing
        && old.sha256 != sha_hex
    {
        drop_module_if_unused(txn, &old.sha256, &record.name)?;
    }
    Ok(record)
}

/// Copy every installed plugin (record and module bytes) from `reader` into `txn`: a
/// scratch store for a what-if replay gets the shop's plugins as they are installed.
pub(crate) fn copy_installed<R: Reader>(reader: &R, txn: &mut WriteTxn<'_>) -> Result<()> {
    for record in records(reader)? {
        let wasm = load_module_bytes(reader, &record)?;
        let sha = parse_sha(&record.sha256)?;
        if !txn.contains(&chunk_key(&sha, 0))? {
            put_module(txn, &sha, &wasm)?;
        }
        txn.put_json(record_key(&record.name), &record)?;
    }
    bump_epoch(txn)
}

/// Install a proposed plugin into a scratch store exactly as `plugin.install` would
/// (same checks, same errors), replacing an installed one of the same name.
pub(crate) fn install_proposed(
    host: &PluginHost,
    store: &Store,
    ctx: &Ctx,
    args: &Map<String, Value>,
) -> Result<PluginRecord> {
    let (wasm, module) = prepare_install(host, args)?;
    let mut typed: InstallArgs = decode_args(Value::Object(args.clone()))?;
    typed.replace = true;
    let mut txn = store.write()?;
    let record = store_plugin(&mut txn, ctx, typed, &wasm, &module)?;
    txn.commit()?;
    host.reload(store)?;
    Ok(record)
}

/// `plugin.list`.
pub(crate) fn list<R: Reader>(reader: &R) -> Result<Vec<PluginRecord>> {
    records(reader)
}

/// `plugin.enable` / `plugin.disable`.
pub(crate) fn set_enabled(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    args: NameArgs,
    enabled: bool,
) -> Result<PluginRecord> {
    let mut record = load_record(txn, &args.name)?;
    let before = record.clone();
    record.enabled = enabled;
    record.updated_at = ctx.at;
    txn.put_json(record_key(&record.name), &record)?;
    bump_epoch(txn)?;
    changes::note_change(txn, Some(&before), Some(&record))?;
    Ok(record)
}

/// Count a change of the plugin set (see [`keys::META_PLUGINS`]).
fn bump_epoch(txn: &mut WriteTxn<'_>) -> Result<()> {
    let key = keys::meta(keys::META_PLUGINS);
    let epoch: u64 = txn.get(&key)?.unwrap_or(0);
    txn.put(key, &(epoch + 1))
}

/// `plugin.remove`: the record and, unless shared, the module bytes.
pub(crate) fn remove(txn: &mut WriteTxn<'_>, args: NameArgs) -> Result<Value> {
    let record = load_record(txn, &args.name)?;
    txn.delete(record_key(&record.name));
    bump_epoch(txn)?;
    changes::note_change(txn, Some(&record), None)?;
    drop_module_if_unused(txn, &record.sha256, &record.name)?;
    Ok(json!({ "removed": record.name, "sha256": record.sha256 }))
}
