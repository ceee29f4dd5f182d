//! The sandbox: wasmtime behind a small API. Compile a module once ([`PluginRuntime::compile`]),
//! then run a hook on a fresh instance per call ([`PluginModule::call`]) under hard limits:
//! fuel (instructions), linear memory, wall time (epoch deadline), input and output size.
//!
//! A call never panics and never poisons anything: the instance lives in its own
//! `wasmtime::Store` that is dropped after the call, whatever happened. Instances come from
//! the pooling allocator (slots reused, memory reset by pagemap scan or madvise), and
//! `InstancePre` resolves imports once at compile time, so a fresh call costs a few µs.

use super::{Hook, Limits, PluginError, PluginErrorKind};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::{
    Caller, Config, Enabled, Engine, ExternType, InstanceAllocationStrategy, InstancePre, Linker,
    Module, ModuleExport, OptLevel, PoolingAllocationConfig, ResourceLimiter, Store, Trap, ValType,
};

/// The ABI version this host speaks: a plugin exports `pitstop_abi_version_1`.
pub const ABI_VERSION: u32 = 1;
/// Prefix of the export that marks a plugin's ABI version (the proxy-wasm convention).
pub const ABI_MARKER_PREFIX: &str = "pitstop_abi_version_";
/// The guest allocator export: `(size: i32) -> i32`.
pub const ALLOC_EXPORT: &str = "pitstop_alloc";
/// The guest memory export.
pub const MEMORY_EXPORT: &str = "memory";
/// The only import a plugin may have: `pitstop.log(level: i32, ptr: i32, len: i32)`.
pub const LOG_MODULE: &str = "pitstop";
/// Name of the log import.
pub const LOG_NAME: &str = "log";
/// Largest module accepted, in bytes.
pub const MODULE_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Hard ceiling of a plugin's linear memory: the pool reserves this much per slot.
pub const MEMORY_BYTES_HARD_MAX: u64 = 64 * 1024 * 1024;
/// Log lines one call may write; more are counted and dropped.
pub const LOG_LINES_MAX: usize = 16;
/// Longest log line kept, in bytes (longer ones are cut).
pub const LOG_LINE_BYTES_MAX: usize = 512;
/// Epoch tick: the wall-time deadline is checked with this granularity.
const TICK_MS: u64 = 2;
/// Concurrent plugin instances (pool slots). A checkout uses one at a time per thread.
const POOL_SLOTS: u32 = 128;
/// Table elements a plugin may have (function tables of compiled languages are small).
const TABLE_ELEMENTS_MAX: usize = 20_000;

/// What one call yields besides its output.
#[derive(Debug, Clone, Default)]
pub struct CallOutput {
    /// Output bytes (JSON).
    pub output: Vec<u8>,
    /// Log lines the plugin wrote (at most [`LOG_LINES_MAX`]).
    pub log: Vec<String>,
    /// Instructions (fuel) consumed.
    pub fuel_used: u64,
}

/// The steps of one call, in order: what [`CallSteps::ended`] is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallStep {
    /// A new `wasmtime::Store` with the call's limiter, fuel and deadline.
    Store,
    /// A fresh instance from the pool (`InstancePre`), its exports bound.
    Instantiate,
    /// `pitstop_alloc` called and the input copied into the guest's memory.
    Input,
    /// The hook export ran (the guest's own work, metered by fuel and the epoch).
    Run,
    /// The output block checked and copied out, the fuel read.
    Output,
    /// The store dropped: the pool slot reset (dirty pages zeroed) for the next call.
    Release,
}

/// Told when each step of a call ends, so a benchmark can time them. A call that fails
/// stops telling at the step that failed.
pub trait CallSteps {
    /// `step` has just ended.
    fn ended(&mut self, step: CallStep);
}

/// No one listening: what [`PluginModule::call`] passes (compiles to nothing).
impl CallSteps for () {
    #[inline(always)]
    fn ended(&mut self, _step: CallStep) {}
}

/// Per-call state: limits and the log.
struct CallState {
    limiter: Limiter,
    log: Vec<String>,
    log_dropped: u32,
}

struct Limiter {
    memory_bytes_max: usize,
    memory_denied: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes_max {
            // An error (not `Ok(false)`) makes the growth a trap, so an out-of-memory is
            // reported as such instead of as whatever the guest does with a -1.
            self.memory_denied = true;
            return Err(wasmtime::format_err!(
                "linear memory of {desired} bytes exceeds the limit of {} bytes",
                self.memory_bytes_max
            ));
        }
        Ok(maximum.is_none_or(|max| desired <= max))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS_MAX)
    }
}

/// Stops the epoch ticker when the runtime goes away.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The plugin runtime: one wasmtime engine (compiler, pooling allocator, epoch ticker)
/// and the linker that offers the log import. Create one per process and share it.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<CallState>,
    cache_dir: Option<PathBuf>,
    _ticker: Ticker,
}

impl std::fmt::Debug for PluginRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRuntime")
            .field("cache_dir", &self.cache_dir)
            .finish_non_exhaustive()
    }
}

fn engine_config() -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(POOL_SLOTS)
        .total_memories(POOL_SLOTS)
        .total_tables(POOL_SLOTS)
        .total_component_instances(0)
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        .table_elements(TABLE_ELEMENTS_MAX)
        .max_memory_size(MEMORY_BYTES_HARD_MAX as usize)
        // Reset small memories with memset (and, where the kernel has PAGEMAP_SCAN,
        // only the pages the call dirtied) instead of madvise + page faults next time.
        .linear_memory_keep_resident(2 * 1024 * 1024)
        .table_keep_resident(64 * 1024)
        .pagemap_scan(Enabled::Auto);
    let mut config = Config::new();
    config
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        // Each slot reserves 4 GiB of address space (not memory) plus a guard, so a
        // 32-bit plugin's loads and stores need no bounds checks: measured here, ~10%
        // faster calls than a 64 MiB reservation with explicit checks. 128 slots are
        // 0.5 TiB of the 128 TiB a 64-bit process may map.
        .memory_reservation(4 * 1024 * 1024 * 1024)
        .memory_guard_size(32 * 1024 * 1024)
        .memory_reservation_for_growth(0)
        .consume_fuel(true)
        .epoch_interruption(true)
        .cranelift_opt_level(OptLevel::Speed)
        // Determinism: one NaN bit pattern, and relaxed SIMD with its deterministic lowering.
        .cranelift_nan_canonicalization(true)
        .relaxed_simd_deterministic(true)
        .max_wasm_stack(512 * 1024)
        .wasm_backtrace_max_frames(None);
    config
}

impl PluginRuntime {
    /// A runtime without an on-disk cache of compiled code.
    pub fn new() -> Result<PluginRuntime, PluginError> {
        PluginRuntime::with_cache(None)
    }

    /// A runtime that keeps compiled code in `cache_dir` (created if missing), keyed by
    /// the module's sha256 and the engine's compatibility hash.
    pub fn with_cache(cache_dir: Option<PathBuf>) -> Result<PluginRuntime, PluginError> {
        let engine = Engine::new(&engine_config()).map_err(|err| {
            PluginError::new(
                PluginErrorKind::Internal,
                format!("the plugin runtime could not start: {err}"),
            )
        })?;
        let mut linker: Linker<CallState> = Linker::new(&engine);
        linker
            .func_wrap(LOG_MODULE, LOG_NAME, log_import)
            .map_err(|err| PluginError::new(PluginErrorKind::Internal, err.to_string()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let ticker_engine = engine.clone();
        let ticker_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("pitstop-plugin-epoch".into())
            .spawn(move || {
                while !ticker_stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(TICK_MS));
                    ticker_engine.increment_epoch();
                }
            })
            .map_err(|err| {
                PluginError::new(
                    PluginErrorKind::Internal,
                    format!("cannot start the plugin deadline thread: {err}"),
                )
            })?;
        Ok(PluginRuntime {
            engine,
            linker,
            cache_dir,
            _ticker: Ticker {
                stop,
                thread: Some(thread),
            },
        })
    }

    /// Validate and compile a module: only the log import, the ABI marker, memory,
    /// allocator and at least one hook export with the right signatures.
    pub fn compile(&self, wasm: &[u8]) -> Result<PluginModule, PluginError> {
        if wasm.len() > MODULE_BYTES_MAX {
            return Err(PluginError::new(
                PluginErrorKind::Invalid,
                format!(
                    "the module has {} bytes; the limit is {MODULE_BYTES_MAX}",
                    wasm.len()
                ),
            ));
        }
        let sha256: [u8; 32] = Sha256::digest(wasm).into();
        let module = self.load_or_compile(wasm, &sha256)?;
        let (abi_version, hooks) = inspect(&module)?;
        let pre = self.linker.instantiate_pre(&module).map_err(|err| {
            PluginError::new(
                PluginErrorKind::Invalid,
                format!("the module cannot be linked: {err}"),
            )
        })?;
        let export = |name: &str| {
            module.get_export_index(name).ok_or_else(|| {
                PluginError::new(PluginErrorKind::Invalid, format!("no export {name}"))
            })
        };
        let memory = export(MEMORY_EXPORT)?;
        let alloc = export(ALLOC_EXPORT)?;
        let mut entries = Vec::new();
        for hook in &hooks {
            entries.push((*hook, export(hook.export())?));
        }
        Ok(PluginModule {
            sha256,
            size_bytes: wasm.len(),
            abi_version,
            hooks,
            pre,
            memory,
            alloc,
            entries,
        })
    }

    fn cache_path(&self, sha256: &[u8; 32]) -> Option<PathBuf> {
        use std::hash::{Hash, Hasher};
        let dir = self.cache_dir.as_ref()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        Some(dir.join(format!("{}-{:016x}.cwasm", hex(sha256), hasher.finish())))
    }

    fn load_or_compile(&self, wasm: &[u8], sha256: &[u8; 32]) -> Result<Module, PluginError> {
        let cache_path = self.cache_path(sha256);
        if let Some(path) = &cache_path
            && let Some(module) = self.load_cached(path)
        {
            return Ok(module);
        }
        let module = Module::new(&self.engine, wasm).map_err(|err| {
            PluginError::new(
                PluginErrorKind::Invalid,
                format!("not a valid WebAssembly module: {err:#}"),
            )
        })?;
        if let Some(path) = &cache_path {
            store_cached(&module, path);
        }
        Ok(module)
    }

    /// A cache file is `sha256(artifact) ++ artifact`, written by this engine only. Any
    /// failure to read, verify or load it is a miss: the module is compiled again.
    fn load_cached(&self, path: &Path) -> Option<Module> {
        let bytes = std::fs::read(path).ok()?;
        if bytes.len() < 32 {
            return None;
        }
        let (digest, artifact) = bytes.split_at(32);
        if Sha256::digest(artifact).as_slice() != digest {
            return None;
        }
        // SAFETY: the artifact is one this engine's `Module::serialize` produced (its
        // checksum matches what we wrote next to it, and wasmtime checks the engine
        // compatibility header). The cache directory is as trusted as the store itself.
        unsafe { Module::deserialize(&self.engine, artifact) }.ok()
    }
}

fn store_cached(module: &Module, path: &Path) {
    let Ok(artifact) = module.serialize() else {
        return;
    };
    let Some(dir) = path.parent() else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let mut bytes = Vec::with_capacity(artifact.len() + 32);
    bytes.extend_from_slice(&Sha256::digest(&artifact));
    bytes.extend_from_slice(&artifact);
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, &bytes).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

fn log_import(mut caller: Caller<'_, CallState>, level: i32, ptr: i32, len: i32) {
    if caller.data().log.len() >= LOG_LINES_MAX {
        caller.data_mut().log_dropped += 1;
        return;
    }
    let Some(memory) = caller
        .get_export(MEMORY_EXPORT)
        .and_then(|export| export.into_memory())
    else {
        return;
    };
    let start = ptr as u32 as usize;
    let len = (len as u32 as usize).min(LOG_LINE_BYTES_MAX);
    let data = memory.data(&caller);
    let Some(bytes) = start.checked_add(len).and_then(|end| data.get(start..end)) else {
        caller.data_mut().log_dropped += 1;
        return;
    };
    let level = match level {
        0 => "debug",
        1 => "info",
        2 => "warn",
        _ => "error",
    };
    let line = format!("{level}: {}", String::from_utf8_lossy(bytes));
    caller.data_mut().log.push(line);
}

fn inspect(module: &Module) -> Result<(u32, Vec<Hook>), PluginError> {
    check_imports(module)?;
    let version = abi_version(module)?;
    let hooks = check_exports(module, version)?;
    Ok((version, hooks))
}

/// The only import a plugin may have is the host's log function: no WASI, nothing else.
fn check_imports(module: &Module) -> Result<(), PluginError> {
    for import in module.imports() {
        let allowed = import.module() == LOG_MODULE
            && import.name() == LOG_NAME
            && matches!(import.ty(), ExternType::Func(ref f)
                if f.params().map(|p| p.is_i32()).eq([true, true, true]) && f.results().len() == 0);
        if !allowed {
            let wasi = import.module().starts_with("wasi");
            let message = if wasi {
                format!(
                    "the module imports {}::{}: plugins get no WASI (no files, clock, randomness \
                     or environment); build for wasm32-unknown-unknown",
                    import.module(),
                    import.name()
                )
            } else {
                format!(
                    "the module imports {}::{}; the only import offered is {LOG_MODULE}::{LOG_NAME}(level: i32, ptr: i32, len: i32)",
                    import.module(),
                    import.name()
                )
            };
            return Err(PluginError::new(PluginErrorKind::ForbiddenImport, message)
                .with_detail("import", format!("{}::{}", import.module(), import.name())));
        }
    }
    Ok(())
}

/// The plugin ABI the module declares by its marker export; exactly this host's.
fn abi_version(module: &Module) -> Result<u32, PluginError> {
    let mut versions = Vec::new();
    for export in module.exports() {
        if let Some(version) = export.name().strip_prefix(ABI_MARKER_PREFIX) {
            versions.push(version.to_string());
        }
    }
    match versions.as_slice() {
        [] => Err(PluginError::new(
            PluginErrorKind::Invalid,
            format!(
                "not a Pitstop plugin: it exports no {ABI_MARKER_PREFIX}N marker (this host speaks ABI {ABI_VERSION})"
            ),
        )
        .with_detail("missing", format!("{ABI_MARKER_PREFIX}{ABI_VERSION}"))),
        [one] if one == &ABI_VERSION.to_string() => Ok(ABI_VERSION),
        _ => {
            Err(PluginError::new(
                PluginErrorKind::AbiMismatch,
                format!(
                    "the module is built for plugin ABI {}; this host speaks ABI {ABI_VERSION}",
                    versions.join(", ")
                ),
            )
            .with_detail("found", versions.join(","))
            .with_detail("supported", ABI_VERSION.to_string()))
        }
    }
}

/// The exports a plugin needs (its memory, the allocator, at least one hook, each of the
/// right type); returns the hooks it has.
fn check_exports(module: &Module, version: u32) -> Result<Vec<Hook>, PluginError> {
    let mut missing = Vec::new();
    let mut hooks = Vec::new();
    let func_sig = |name: &str, params: &[ValType], results: &[ValType]| -> Option<bool> {
        let export = module.get_export(name)?;
        Some(match export {
            ExternType::Func(f) => {
                f.params()
                    .map(|p| p.to_string())
                    .eq(params.iter().map(|p| p.to_string()))
                    && f.results()
                        .map(|p| p.to_string())
                        .eq(results.iter().map(|p| p.to_string()))
            }
            _ => false,
        })
    };
    match module.get_export(MEMORY_EXPORT) {
        Some(ExternType::Memory(memory)) if !memory.is_64() && !memory.is_shared() => {}
        Some(_) => missing.push(format!("{MEMORY_EXPORT} (a 32-bit, unshared memory)")),
        None => missing.push(MEMORY_EXPORT.to_string()),
    }
    match func_sig(ALLOC_EXPORT, &[ValType::I32], &[ValType::I32]) {
        Some(true) => {}
        Some(false) => missing.push(format!("{ALLOC_EXPORT} with type (i32) -> i32")),
        None => missing.push(ALLOC_EXPORT.to_string()),
    }
    for hook in Hook::ALL {
        match func_sig(
            hook.export(),
            &[ValType::I32, ValType::I32],
            &[ValType::I64],
        ) {
            Some(true) => hooks.push(hook),
            Some(false) => missing.push(format!("{} with type (i32, i32) -> i64", hook.export())),
            None => {}
        }
    }
    if marker_has_params(module, version) {
        missing.push(format!("{ABI_MARKER_PREFIX}{version} with type () -> ()"));
    }
    if hooks.is_empty() {
        missing.push(format!(
            "a hook export ({})",
            Hook::ALL.map(Hook::export).join(" or ")
        ));
    }
    if !missing.is_empty() {
        return Err(PluginError::new(
            PluginErrorKind::Invalid,
            format!("the module lacks required exports: {}", missing.join("; ")),
        )
        .with_detail("missing", missing.join("; ")));
    }
    Ok(hooks)
}

fn marker_has_params(module: &Module, version: u32) -> bool {
    match module.get_export(&format!("{ABI_MARKER_PREFIX}{version}")) {
        Some(ExternType::Func(f)) => f.params().len() != 0 || f.results().len() != 0,
        _ => true,
    }
}

/// A compiled, validated plugin module, ready to instantiate.
pub struct PluginModule {
    sha256: [u8; 32],
    size_bytes: usize,
    abi_version: u32,
    hooks: Vec<Hook>,
    pre: InstancePre<CallState>,
    memory: ModuleExport,
    alloc: ModuleExport,
    entries: Vec<(Hook, ModuleExport)>,
}

impl std::fmt::Debug for PluginModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginModule")
            .field("sha256", &hex(&self.sha256))
            .field("hooks", &self.hooks)
            .finish_non_exhaustive()
    }
}

impl PluginModule {
    /// sha256 of the module bytes.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// Size of the module in bytes.
    pub fn size_bytes(&self) -> usize {
        self.size_bytes
    }

    /// The ABI version it was built for.
    pub fn abi_version(&self) -> u32 {
        self.abi_version
    }

    /// Hooks it exports.
    pub fn hooks(&self) -> &[Hook] {
        &self.hooks
    }

    /// Run `hook` with `input` on a fresh instance under `limits`.
    pub fn call(
        &self,
        runtime: &PluginRuntime,
        hook: Hook,
        input: &[u8],
        limits: &Limits,
    ) -> Result<CallOutput, PluginError> {
        self.call_with_steps(runtime, hook, input, limits, &mut ())
    }

    /// [`PluginModule::call`], telling `steps` when each step ends (the plugin benchmark's
    /// breakdown of one call).
    pub fn call_with_steps(
        &self,
        runtime: &PluginRuntime,
        hook: Hook,
        input: &[u8],
        limits: &Limits,
        steps: &mut impl CallSteps,
    ) -> Result<CallOutput, PluginError> {
        let entry = self.entry(hook, input, limits)?;
        let mut store = new_store(runtime, limits)?;
        steps.ended(CallStep::Store);
        let instance = match self.pre.instantiate(&mut store) {
            Ok(instance) => instance,
            Err(err) => return Err(classify(&store, err)),
        };
        let bound = self.bind(&mut store, &instance, entry)?;
        steps.ended(CallStep::Instantiate);
        let (ptr, len) = write_input(&mut store, &bound, input)?;
        steps.ended(CallStep::Input);
        let packed = match bound.run.call(&mut store, (ptr, len)) {
            Ok(packed) => packed as u64,
            Err(err) => return Err(classify(&store, err)),
        };
        steps.ended(CallStep::Run);
        let output = read_output(&store, bound.memory, packed, limits)?;
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        steps.ended(CallStep::Output);
        let state = store.into_data();
        steps.ended(CallStep::Release);
        let mut log = state.log;
        if state.log_dropped > 0 {
            log.push(format!("({} more log lines dropped)", state.log_dropped));
        }
        Ok(CallOutput {
            output,
            log,
            fuel_used,
        })
    }

    /// The export of `hook`, once the input is known to fit the plugin's limit.
    fn entry(
        &self,
        hook: Hook,
        input: &[u8],
        limits: &Limits,
    ) -> Result<&ModuleExport, PluginError> {
        if input.len() > limits.input_bytes as usize {
            return Err(PluginError::new(
                PluginErrorKind::InputTooLarge,
                format!(
                    "the input has {} bytes; the plugin's limit is {}",
                    input.len(),
                    limits.input_bytes
                ),
            ));
        }
        let Some(entry) = self
            .entries
            .iter()
            .find(|(h, _)| *h == hook)
            .map(|(_, e)| e)
        else {
            return Err(PluginError::new(
                PluginErrorKind::Invalid,
                format!("the plugin does not export {}", hook.export()),
            ));
        };
        Ok(entry)
    }

    /// The instance's memory, allocator and the hook's entry point, typed.
    fn bind(
        &self,
        store: &mut Store<CallState>,
        instance: &wasmtime::Instance,
        entry: &ModuleExport,
    ) -> Result<Bound, PluginError> {
        let memory = instance
            .get_module_export(&mut *store, &self.memory)
            .and_then(|e| e.into_memory())
            .ok_or_else(|| PluginError::new(PluginErrorKind::Invalid, "no memory export"))?;
        let alloc = instance
            .get_module_export(&mut *store, &self.alloc)
            .and_then(|e| e.into_func())
            .and_then(|f| f.typed::<i32, i32>(&*store).ok())
            .ok_or_else(|| PluginError::new(PluginErrorKind::Invalid, "no allocator export"))?;
        let run = instance
            .get_module_export(&mut *store, entry)
            .and_then(|e| e.into_func())
            .and_then(|f| f.typed::<(i32, i32), i64>(&*store).ok())
            .ok_or_else(|| PluginError::new(PluginErrorKind::Invalid, "no hook export"))?;
        Ok(Bound { memory, alloc, run })
    }
}

/// What a call uses of an instance.
struct Bound {
    memory: wasmtime::Memory,
    alloc: wasmtime::TypedFunc<i32, i32>,
    run: wasmtime::TypedFunc<(i32, i32), i64>,
}

/// Ask the guest for a block of the input's size and copy the input there: `(ptr, len)`.
fn write_input(
    store: &mut Store<CallState>,
    bound: &Bound,
    input: &[u8],
) -> Result<(i32, i32), PluginError> {
    let len = input.len() as i32;
    let ptr = match bound.alloc.call(&mut *store, len) {
        Ok(ptr) => ptr,
        Err(err) => return Err(classify(store, err)),
    };
    let start = ptr as u32 as usize;
    if start == 0 || bound.memory.write(&mut *store, start, input).is_err() {
        return Err(PluginError::new(
            PluginErrorKind::BadOutput,
            format!(
                "{ALLOC_EXPORT}({len}) returned {start}, which is not a usable block of its memory"
            ),
        ));
    }
    Ok((ptr, len))
}

/// A store for one call: the memory limiter, the fuel and the time deadline.
fn new_store(runtime: &PluginRuntime, limits: &Limits) -> Result<Store<CallState>, PluginError> {
    let mut store = Store::new(
        &runtime.engine,
        CallState {
            limiter: Limiter {
                memory_bytes_max: limits.memory_bytes.min(MEMORY_BYTES_HARD_MAX) as usize,
                memory_denied: false,
            },
            log: Vec::new(),
            log_dropped: 0,
        },
    );
    store.limiter(|state| &mut state.limiter);
    store
        .set_fuel(limits.fuel)
        .map_err(|err| PluginError::new(PluginErrorKind::Internal, err.to_string()))?;
    store.set_epoch_deadline(u64::from(limits.time_ms).div_ceil(TICK_MS) + 1);
    Ok(store)
}

/// The output block a hook returned (pointer in the high half, length in the low half),
/// copied out of the plugin's memory after checking its size and bounds.
fn read_output(
    store: &Store<CallState>,
    memory: wasmtime::Memory,
    packed: u64,
    limits: &Limits,
) -> Result<Vec<u8>, PluginError> {
    let out_ptr = (packed >> 32) as usize;
    let out_len = (packed & 0xffff_ffff) as usize;
    if out_len > limits.output_bytes as usize {
        return Err(PluginError::new(
            PluginErrorKind::OutputTooLarge,
            format!(
                "the output has {out_len} bytes; the plugin's limit is {}",
                limits.output_bytes
            ),
        ));
    }
    let data = memory.data(store);
    let Some(output) = out_ptr
        .checked_add(out_len)
        .and_then(|end| data.get(out_ptr..end))
    else {
        return Err(PluginError::new(
            PluginErrorKind::BadOutput,
            format!(
                "the output block {out_ptr}+{out_len} lies outside the plugin's memory of {} bytes",
                data.len()
            ),
        ));
    };
    Ok(output.to_vec())
}

fn classify(store: &Store<CallState>, err: wasmtime::Error) -> PluginError {
    if store.data().limiter.memory_denied {
        return PluginError::new(
            PluginErrorKind::MemoryLimit,
            format!(
                "the plugin tried to grow its memory beyond {} bytes",
                store.data().limiter.memory_bytes_max
            ),
        );
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => PluginError::new(
            PluginErrorKind::FuelExhausted,
            "the plugin used up its instruction budget (fuel)",
        ),
        Some(Trap::Interrupt) => PluginError::new(
            PluginErrorKind::Timeout,
            "the plugin ran past its time limit",
        ),
        Some(trap) => {
            PluginError::new(PluginErrorKind::Trap, format!("the plugin trapped: {trap}"))
                .with_detail("trap", format!("{trap:?}"))
        }
        None => PluginError::new(PluginErrorKind::Trap, format!("the plugin failed: {err:#}")),
    }
}
