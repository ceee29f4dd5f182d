//! # libpitstop: the C ABI of Pitstop
//!
//! The same operations and JSON shapes as [`pitstop_core::Engine::execute_json`], reached
//! from C (POS, dealer management and 1C-style hosts) through a small, stable surface:
//!
//! | function | what it does |
//! |---|---|
//! | [`pitstop_open`] | open (or create) a store, get a `pitstop_engine *` |
//! | [`pitstop_execute`] | run one JSON operation, get the JSON response |
//! | [`pitstop_validate`] | check a request without running it |
//! | [`pitstop_close`] | sync and close the store; the handle then answers `closed` |
//! | [`pitstop_engine_free`] | close if needed and free the handle |
//! | [`pitstop_string_free`] | free a string the library returned |
//! | [`pitstop_version`], [`pitstop_abi_version`], [`pitstop_status_name`] | introspection |
//!
//! The header `ffi/include/pitstop.h` is generated from this crate by cbindgen
//! (`ffi/cbindgen.toml`) and committed; `tests/header.rs` fails when it is stale
//! (`PITSTOP_BLESS=1 cargo test --release -p pitstop-ffi --test header` rewrites it).
//!
//! This crate only decodes, calls the core and encodes: no operation logic lives here.

#[cfg(panic = "abort")]
compile_error!(
    "pitstop-ffi needs panic = \"unwind\": its boundary turns panics into PITSTOP_STATUS_PANIC"
);

#[macro_use]
mod boundary;
mod status;

pub use status::PitstopStatus;

use boundary::{Reply, guarded, host_str, put_string, respond};
use pitstop_core::{Engine, EngineOptions};
use std::ffi::{CString, c_char};
use std::sync::OnceLock;

/// The ABI version of this header. It changes only when a change could break a host
/// compiled against an earlier header (a signature, a struct, a renumbered value); adding
/// functions or statuses does not change it. Check it at start-up:
/// `assert(pitstop_abi_version() == PITSTOP_ABI_VERSION);`
pub const PITSTOP_ABI_VERSION: u32 = 1;

/// Longest options JSON accepted by `pitstop_open`, and longest path, in bytes.
const ARGUMENT_BYTES_MAX: usize = 64 * 1024;

/// An open store. Opaque: created by `pitstop_open`, freed by `pitstop_engine_free`.
///
/// Thread-safety: every function taking a `const pitstop_engine *` may be called on the
/// same handle from any number of threads at once, including `pitstop_close` (it waits for
/// operations in flight, after which every call answers `PITSTOP_STATUS_CLOSED`). Only
/// `pitstop_engine_free` needs exclusive use: no other call on the handle may be running
/// or start after it.
pub struct PitstopEngine {
    /// The engine keeps the closed state itself: after `pitstop_close` it answers
    /// `closed` to every call, and the handle stays valid memory until freed.
    engine: Engine,
    request_bytes_max: usize,
}

impl PitstopEngine {
    /// Run `work` on the open engine, or answer `closed`.
    fn with_engine(&self, work: impl FnOnce(&Engine) -> Reply) -> Reply {
        match self.engine.check_open() {
            Ok(()) => work(&self.engine),
            Err(closed) => Reply::error(closed),
        }
    }

    /// Wait for operations in flight, close the engine and release the store.
    fn close(&self) -> Reply {
        match self.engine.close() {
            Ok(()) => Reply::ok(),
            Err(error) => Reply::error(error),
        }
    }
}

/// Borrow the handle the host passed.
///
/// # Safety
/// `engine` is NULL or a live handle from `pitstop_open`.
unsafe fn engine_ref<'a>(engine: *const PitstopEngine) -> Result<&'a PitstopEngine, Reply> {
    // SAFETY: NULL or live, as the caller promises.
    unsafe { engine.as_ref() }.ok_or_else(|| Reply::null_argument("engine"))
}

/// Open (or create) the Pitstop store in the directory `path`.
///
/// - `engine_out` (required): receives the new handle on success, NULL on failure. The
///   caller owns the handle and frees it with `pitstop_engine_free`.
/// - `error_out` (may be NULL): receives NULL on success; on failure a response JSON
///   `{"ok": false, "error": {"code", "message", "details"}}` that the caller frees with
///   `pitstop_string_free`.
/// - `path` (required): UTF-8, NUL-terminated: a sled directory (created if missing), or
///   a PostgreSQL connection string (`postgresql://user:password@host:5432/shop` or
///   `host=… dbname=…`) naming an empty database or a Pitstop store, for a store shared by
///   several processes.
/// - `options_json` (may be NULL or `""` for defaults): UTF-8 JSON such as
///   `{"durability": "durable" | "import", "cache_capacity_bytes": N, "request_bytes_max": N,
///   "write_ahead_log": true | false}` (sled: `false` syncs by flushing sled's pages instead
///   of the store's write-ahead log; a fallback, slower).
///
/// A sled store is open through at most one handle at a time: opening it again, in this
/// process or another, fails with `PITSTOP_STATUS_LOCKED` until the first handle is closed.
/// Share the one handle between threads instead, or use PostgreSQL, which any number of
/// handles in any number of processes may open.
///
/// Returns `PITSTOP_STATUS_OK`, or the failure: `NULL_ARGUMENT`, `INVALID_UTF8`,
/// `INVALID_ARGUMENT` (bad options), `LOCKED`, `NOT_FOUND` (a directory or database that
/// is not a store), `CORRUPTED`, `UNSUPPORTED_VERSION`, `IO`, `UNAVAILABLE` (PostgreSQL
/// cannot be reached), `ACCESS_DENIED` (PostgreSQL refused the login), `PANIC`.
///
/// # Safety
/// `engine_out` is valid for writing a pointer; `error_out` is NULL or valid for writing a
/// pointer; `path` and `options_json` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pitstop_open(
    engine_out: *mut *mut PitstopEngine,
    error_out: *mut *mut c_char,
    path: *const c_char,
    options_json: *const c_char,
) -> PitstopStatus {
    ffi_boundary! {
        if !error_out.is_null() {
            // SAFETY: non-NULL and writable, as the caller promises.
            unsafe { error_out.write(std::ptr::null_mut()) };
        }
        let opened = if engine_out.is_null() {
            Err(Reply::null_argument("engine_out"))
        } else {
            // SAFETY: non-NULL and writable, as the caller promises.
            unsafe { engine_out.write(std::ptr::null_mut()) };
            // SAFETY: NULL or NUL-terminated, as the caller promises.
            guarded(|| unsafe { open_engine(path, options_json) })
        };
        match opened {
            Ok(engine) => {
                // SAFETY: checked non-NULL above.
                unsafe { engine_out.write(Box::into_raw(Box::new(engine))) };
                PitstopStatus::Ok
            }
            Err(reply) => {
                // SAFETY: NULL or writable, as the caller promises.
                unsafe { put_string(error_out, reply.json) };
                reply.status
            }
        }
    }
}

/// # Safety
/// `path` and `options_json` are NULL or NUL-terminated strings.
unsafe fn open_engine(
    path: *const c_char,
    options_json: *const c_char,
) -> Result<PitstopEngine, Reply> {
    // SAFETY: NULL or NUL-terminated, as the caller promises.
    let path = unsafe { host_str(path, "path", ARGUMENT_BYTES_MAX) }?;
    let options = if options_json.is_null() {
        ""
    } else {
        // SAFETY: NUL-terminated, as the caller promises.
        unsafe { host_str(options_json, "options_json", ARGUMENT_BYTES_MAX) }?
    };
    let options = EngineOptions::from_json(options).map_err(Reply::error)?;
    let request_bytes_max = options.request_bytes_max;
    let engine = Engine::open(path, options).map_err(Reply::error)?;
    Ok(PitstopEngine {
        engine,
        request_bytes_max,
    })
}

/// Execute one operation: `request_json` is `{"op": "noun.verb", "args": {...}}`, exactly
/// as in `docs/operations.md`.
///
/// - `response_out` (required): always receives a response JSON when the status is not
///   `NULL_ARGUMENT` for `response_out` itself: `{"ok": true, "result": ...}` on success,
///   `{"ok": false, "error": {"code", "message", "details"}}` on failure. The caller owns
///   it and frees it with `pitstop_string_free`.
/// - `engine` (required): a handle from `pitstop_open`; may be shared between threads.
/// - `request_json` (required): UTF-8, NUL-terminated, at most the store's
///   `request_bytes_max` bytes (1 MiB by default). Borrowed for the call only.
///
/// Returns `PITSTOP_STATUS_OK`, or the status of the failure: one of 100 and up, named
/// exactly like `error.code` in the response (`INSUFFICIENT_POINTS`, `NOT_FOUND`, ...,
/// `CLOSED` after `pitstop_close`), or `NULL_ARGUMENT`, `INVALID_UTF8`, `PANIC`.
///
/// # Safety
/// `response_out` is NULL or valid for writing a pointer; `engine` is NULL or a handle
/// from `pitstop_open` not yet passed to `pitstop_engine_free`; `request_json` is NULL or
/// a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pitstop_execute(
    response_out: *mut *mut c_char,
    engine: *const PitstopEngine,
    request_json: *const c_char,
) -> PitstopStatus {
    ffi_boundary! {
        // SAFETY: the pointers are as the caller promises.
        unsafe {
            respond(response_out, || {
                run_request(engine, request_json, |engine, request| {
                    Reply::from_result(engine.execute_request(request))
                })
            })
        }
    }
}

/// Check a request without executing it: the operation must exist and its arguments must
/// decode. Nothing is read from or written to the store.
///
/// - `response_out` (required): receives `{"ok": true, "result": {"op": "...", "mutates":
///   true|false}}` or the error response, as for `pitstop_execute`; the caller frees it
///   with `pitstop_string_free`.
/// - `engine`, `request_json`: as for `pitstop_execute`.
///
/// Returns the same statuses as `pitstop_execute`.
///
/// # Safety
/// As for `pitstop_execute`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pitstop_validate(
    response_out: *mut *mut c_char,
    engine: *const PitstopEngine,
    request_json: *const c_char,
) -> PitstopStatus {
    ffi_boundary! {
        // SAFETY: the pointers are as the caller promises.
        unsafe {
            respond(response_out, || {
                run_request(engine, request_json, |engine, request| {
                    Reply::from_result(engine.validate_json(request))
                })
            })
        }
    }
}

/// Decode the handle and the request, then run `work` on the open engine.
///
/// # Safety
/// `engine` is NULL or live; `request_json` is NULL or NUL-terminated.
unsafe fn run_request(
    engine: *const PitstopEngine,
    request_json: *const c_char,
    work: impl FnOnce(&Engine, &str) -> Reply,
) -> Reply {
    // SAFETY: NULL or live, as the caller promises.
    let engine = match unsafe { engine_ref(engine) } {
        Ok(engine) => engine,
        Err(reply) => return reply,
    };
    // A NULL request is the caller's mistake whatever the handle's state; anything else
    // is checked for being closed first: after `pitstop_close` every call answers CLOSED
    // (the header's promise), not INVALID_UTF8 or TOO_LARGE for what it passed.
    if request_json.is_null() {
        return Reply::null_argument("request_json");
    }
    engine.with_engine(|open| {
        // SAFETY: NULL or NUL-terminated, as the caller promises.
        match unsafe { host_str(request_json, "request_json", engine.request_bytes_max) } {
            Ok(request) => work(open, request),
            Err(reply) => reply,
        }
    })
}

/// Sync everything and close the store, releasing its lock so it can be opened again.
/// Waits for operations in flight on other threads; afterwards every call on the handle
/// answers `PITSTOP_STATUS_CLOSED`. Closing a closed handle does nothing and returns
/// `PITSTOP_STATUS_OK`. The handle itself stays allocated: free it with
/// `pitstop_engine_free` once no thread uses it any more.
///
/// - `error_out` (may be NULL): receives NULL on success, or on failure an error response
///   JSON the caller frees with `pitstop_string_free`. The store is closed either way.
/// - `engine` (required).
///
/// Returns `PITSTOP_STATUS_OK`, `NULL_ARGUMENT`, `IO` (the final sync failed), `PANIC`.
///
/// # Safety
/// `error_out` is NULL or valid for writing a pointer; `engine` is NULL or a handle from
/// `pitstop_open` not yet passed to `pitstop_engine_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pitstop_close(
    error_out: *mut *mut c_char,
    engine: *const PitstopEngine,
) -> PitstopStatus {
    ffi_boundary! {
        if !error_out.is_null() {
            // SAFETY: non-NULL and writable, as the caller promises.
            unsafe { error_out.write(std::ptr::null_mut()) };
        }
        // SAFETY: NULL or live, as the caller promises.
        let reply = guarded(|| unsafe { engine_ref(engine) }.map(PitstopEngine::close))
            .unwrap_or_else(|reply| reply);
        if reply.status != PitstopStatus::Ok {
            // SAFETY: NULL or writable, as the caller promises.
            unsafe { put_string(error_out, reply.json) };
        }
        reply.status
    }
}

/// Free a handle: closes the store if it is still open (an error of that final sync is
/// lost: call `pitstop_close` first to see it), then releases the handle's memory.
/// NULL does nothing.
///
/// This must be the last call on the handle: no other thread may be using it or use it
/// afterwards. Using a freed handle is undefined behaviour, as with `free()`; nothing can
/// detect it. A host whose threads may still hold the handle closes it instead (every
/// later call then answers `PITSTOP_STATUS_CLOSED`) and frees it once they are done.
///
/// # Safety
/// `engine` is NULL or a handle from `pitstop_open` that no other thread uses, and it is
/// not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pitstop_engine_free(engine: *mut PitstopEngine) {
    ffi_boundary! {
        if !engine.is_null() {
            // SAFETY: allocated by pitstop_open with Box::into_raw and handed over here.
            drop(unsafe { Box::from_raw(engine) });
        }
    }
}

/// Free a string returned by this library (`response_out`, `error_out`). NULL does
/// nothing. Never pass these strings to `free()`, and never free one twice.
///
/// # Safety
/// `string` is NULL or a string returned by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pitstop_string_free(string: *mut c_char) {
    ffi_boundary! {
        if !string.is_null() {
            // SAFETY: made by CString::into_raw in put_string and handed over here.
            drop(unsafe { CString::from_raw(string) });
        }
    }
}

/// The library's version, e.g. `"0.1.0"`: a static NUL-terminated string, never NULL;
/// do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn pitstop_version() -> *const c_char {
    ffi_boundary! {
        static VERSION: OnceLock<CString> = OnceLock::new();
        VERSION
            .get_or_init(|| CString::new(pitstop_core::VERSION).unwrap_or_default())
            .as_ptr()
    }
}

/// The ABI version of the loaded library; compare it with `PITSTOP_ABI_VERSION` from the
/// header the host was compiled with.
#[unsafe(no_mangle)]
pub extern "C" fn pitstop_abi_version() -> u32 {
    ffi_boundary! { PITSTOP_ABI_VERSION }
}

/// The stable snake_case name of a status value (`"ok"`, `"insufficient_points"`, ...;
/// for 100 and up the same as `error.code` in the JSON), or `"unknown"` for a value this
/// library does not know. A static NUL-terminated string, never NULL; do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn pitstop_status_name(status: i32) -> *const c_char {
    ffi_boundary! { PitstopStatus::name_of(status) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn take(response: *mut c_char) -> String {
        assert!(!response.is_null());
        // SAFETY: a string handed out by this library, freed once here.
        let text = unsafe { CStr::from_ptr(response) }
            .to_str()
            .unwrap()
            .to_string();
        // SAFETY: as above.
        unsafe { pitstop_string_free(response) };
        text
    }

    #[test]
    fn the_library_version_is_the_core_version() {
        // SAFETY: a static NUL-terminated string.
        let version = unsafe { CStr::from_ptr(pitstop_version()) };
        assert_eq!(version.to_str().unwrap(), pitstop_core::VERSION);
        assert_eq!(pitstop_abi_version(), PITSTOP_ABI_VERSION);
    }

    #[test]
    fn open_execute_close_free() {
        let dir = std::env::temp_dir().join(format!("pitstop-ffi-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = CString::new(dir.to_str().unwrap()).unwrap();
        let mut engine: *mut PitstopEngine = std::ptr::null_mut();
        let mut error: *mut c_char = std::ptr::null_mut();
        // SAFETY: valid out-parameters and strings.
        let status = unsafe { pitstop_open(&mut engine, &mut error, path.as_ptr(), c"".as_ptr()) };
        assert_eq!(status, PitstopStatus::Ok);
        assert!(error.is_null());
        let mut response: *mut c_char = std::ptr::null_mut();
        let request = cr#"{"op": "store.stats"}"#;
        // SAFETY: valid out-parameter, live handle, NUL-terminated request.
        let status = unsafe { pitstop_execute(&mut response, engine, request.as_ptr()) };
        assert_eq!(status, PitstopStatus::Ok);
        assert!(take(response).starts_with(r#"{"ok":true"#));
        // SAFETY: live handle.
        assert_eq!(
            unsafe { pitstop_close(&mut error, engine) },
            PitstopStatus::Ok
        );
        // SAFETY: as above.
        let status = unsafe { pitstop_execute(&mut response, engine, request.as_ptr()) };
        assert_eq!(status, PitstopStatus::Closed);
        assert!(take(response).contains(r#""code":"closed""#));
        // Whatever the request holds, a closed handle answers CLOSED, even not UTF-8.
        for request in [c"{\"op\": \"\xff\"}", c"\xc0\xaf"] {
            let request = request.as_ptr();
            // SAFETY: as above; the request is NULL or NUL-terminated.
            let status = unsafe { pitstop_execute(&mut response, engine, request) };
            assert_eq!(status, PitstopStatus::Closed);
            assert!(take(response).contains(r#""code":"closed""#));
            // SAFETY: as above.
            let status = unsafe { pitstop_validate(&mut response, engine, request) };
            assert_eq!(status, PitstopStatus::Closed);
            assert!(take(response).contains(r#""code":"closed""#));
        }
        // SAFETY: freed once, not used again.
        unsafe { pitstop_engine_free(engine) };
        let _ = std::fs::remove_dir_all(&dir);
    }
}
