//! The status every fallible export returns: stable numbers, never renumbered.

use pitstop_core::ErrorCode;
use std::ffi::{CStr, c_char};

/// What a call did. Every fallible function returns one; `PITSTOP_STATUS_OK` is 0.
///
/// The values are part of the ABI: they are never renumbered or reused, new ones are only
/// added. A host built against an older header may therefore see a value its enum does not
/// name: treat any value other than `PITSTOP_STATUS_OK` as a failure, and read the error
/// JSON that came with it (`pitstop_status_name` also names values added later).
///
/// - 1..=99: the call itself was wrong or broke at the boundary (a NULL pointer, text that
///   is not UTF-8, a caught panic). The error JSON carries the nearest contract code
///   (`invalid_argument`, `invalid_request` or `internal`).
/// - 100 and up: one per error code of the operation contract, in the order of
///   `docs/errors.md`; `pitstop_status_name` returns exactly the JSON `error.code`.
///   A code the core adds later gets the next free number here.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PitstopStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 2,
    /// A bug in libpitstop panicked; the panic was caught at the boundary and nothing
    /// crossed it. The handle stays usable.
    Panic = 3,
    /// A failure without a more specific status; read `error.code` in the JSON.
    Error = 4,
    /// The request is not a JSON object of the expected shape.
    InvalidRequest = 100,
    /// The operation name is not known.
    UnknownOperation = 101,
    /// An argument is present but invalid (format, range, length).
    InvalidArgument = 102,
    /// The referenced thing does not exist.
    NotFound = 103,
    /// A unique value (card, phone, email, external id, VIN, order id) is taken.
    AlreadyExists = 104,
    /// Not enough available points.
    InsufficientPoints = 105,
    /// The same idempotency key was used with different arguments.
    IdempotencyConflict = 106,
    /// The programme document is invalid.
    InvalidProgram = 107,
    /// No programme has been set yet.
    NoProgram = 108,
    /// The customer or card is blocked.
    Blocked = 109,
    /// A refund asks for more than what remains of the visit.
    RefundExceedsVisit = 110,
    /// The hold is already captured, released or expired.
    HoldNotActive = 111,
    /// A request, string or list exceeds its limit.
    TooLarge = 112,
    /// The store is already open (in another process, or through another handle here).
    Locked = 113,
    /// The store's files are damaged.
    Corrupted = 114,
    /// The store was written by an unknown format version.
    UnsupportedVersion = 115,
    /// The operating system reported an I/O failure.
    Io = 116,
    /// The handle was closed (or the engine failed) and refuses further work.
    Closed = 117,
    /// A plugin failed and its policy is to fail the operation.
    PluginFailed = 118,
    /// An internal error (a bug) reported by the core; nothing was changed.
    Internal = 119,
    /// The plugin module is not valid WebAssembly, or lacks a required export.
    PluginInvalid = 120,
    /// The plugin module was built for another plugin ABI version.
    PluginAbiMismatch = 121,
    /// The plugin module imports something the sandbox does not offer.
    PluginForbiddenImport = 122,
    /// The plugin trapped.
    PluginTrap = 123,
    /// The plugin used up its instruction budget.
    PluginFuelExhausted = 124,
    /// The plugin ran past its wall-time limit.
    PluginTimeout = 125,
    /// The plugin tried to grow its memory beyond its limit.
    PluginMemoryLimit = 126,
    /// The plugin returned more than its output limit.
    PluginOutputTooLarge = 127,
    /// The plugin's output is not the output schema.
    PluginBadOutput = 128,
    /// A plugin effect failed validation.
    PluginInvalidEffect = 129,
    /// A line of the exclusive catalogue was offered to a customer below its tier.
    TierRequired = 130,
    /// The shared store (PostgreSQL) cannot be reached or is busy; retryable.
    Unavailable = 131,
    /// The database refused the login or the access.
    AccessDenied = 132,
}

/// Every status, in numeric order (not exported: the header has the enum).
const STATUSES: [PitstopStatus; 38] = [
    PitstopStatus::Ok,
    PitstopStatus::NullArgument,
    PitstopStatus::InvalidUtf8,
    PitstopStatus::Panic,
    PitstopStatus::Error,
    PitstopStatus::InvalidRequest,
    PitstopStatus::UnknownOperation,
    PitstopStatus::InvalidArgument,
    PitstopStatus::NotFound,
    PitstopStatus::AlreadyExists,
    PitstopStatus::InsufficientPoints,
    PitstopStatus::IdempotencyConflict,
    PitstopStatus::InvalidProgram,
    PitstopStatus::NoProgram,
    PitstopStatus::Blocked,
    PitstopStatus::RefundExceedsVisit,
    PitstopStatus::HoldNotActive,
    PitstopStatus::TooLarge,
    PitstopStatus::Locked,
    PitstopStatus::Corrupted,
    PitstopStatus::UnsupportedVersion,
    PitstopStatus::Io,
    PitstopStatus::Closed,
    PitstopStatus::PluginFailed,
    PitstopStatus::Internal,
    PitstopStatus::PluginInvalid,
    PitstopStatus::PluginAbiMismatch,
    PitstopStatus::PluginForbiddenImport,
    PitstopStatus::PluginTrap,
    PitstopStatus::PluginFuelExhausted,
    PitstopStatus::PluginTimeout,
    PitstopStatus::PluginMemoryLimit,
    PitstopStatus::PluginOutputTooLarge,
    PitstopStatus::PluginBadOutput,
    PitstopStatus::PluginInvalidEffect,
    PitstopStatus::TierRequired,
    PitstopStatus::Unavailable,
    PitstopStatus::AccessDenied,
];

impl PitstopStatus {
    /// The status of a value a host passed in, if this build knows it.
    pub fn from_i32(value: i32) -> Option<PitstopStatus> {
        STATUSES.into_iter().find(|status| *status as i32 == value)
    }

    /// The status for a contract error code: the one named like it.
    pub fn from_code(code: ErrorCode) -> PitstopStatus {
        PitstopStatus::from_code_name(code.as_str())
    }

    /// The status for a contract error code given by its wire name. A code this table
    /// does not name yet gives `Error` (the ffi tests fail until it gets its own status).
    pub fn from_code_name(name: &str) -> PitstopStatus {
        STATUSES
            .into_iter()
            .find(|status| *status as i32 >= 100 && status.name().to_bytes() == name.as_bytes())
            .unwrap_or(PitstopStatus::Error)
    }

    /// The stable snake_case name; for 100 and up, the contract's `error.code`.
    pub fn name(self) -> &'static CStr {
        match self {
            PitstopStatus::Ok => c"ok",
            PitstopStatus::NullArgument => c"null_argument",
            PitstopStatus::InvalidUtf8 => c"invalid_utf8",
            PitstopStatus::Panic => c"panic",
            PitstopStatus::Error => c"error",
            PitstopStatus::InvalidRequest => c"invalid_request",
            PitstopStatus::UnknownOperation => c"unknown_operation",
            PitstopStatus::InvalidArgument => c"invalid_argument",
            PitstopStatus::NotFound => c"not_found",
            PitstopStatus::AlreadyExists => c"already_exists",
            PitstopStatus::InsufficientPoints => c"insufficient_points",
            PitstopStatus::IdempotencyConflict => c"idempotency_conflict",
            PitstopStatus::InvalidProgram => c"invalid_program",
            PitstopStatus::NoProgram => c"no_program",
            PitstopStatus::Blocked => c"blocked",
            PitstopStatus::RefundExceedsVisit => c"refund_exceeds_visit",
            PitstopStatus::HoldNotActive => c"hold_not_active",
            PitstopStatus::TooLarge => c"too_large",
            PitstopStatus::Locked => c"locked",
            PitstopStatus::Corrupted => c"corrupted",
            PitstopStatus::UnsupportedVersion => c"unsupported_version",
            PitstopStatus::Io => c"io",
            PitstopStatus::Closed => c"closed",
            PitstopStatus::PluginFailed => c"plugin_failed",
            PitstopStatus::Internal => c"internal",
            PitstopStatus::PluginInvalid => c"plugin_invalid",
            PitstopStatus::PluginAbiMismatch => c"plugin_abi_mismatch",
            PitstopStatus::PluginForbiddenImport => c"plugin_forbidden_import",
            PitstopStatus::PluginTrap => c"plugin_trap",
            PitstopStatus::PluginFuelExhausted => c"plugin_fuel_exhausted",
            PitstopStatus::PluginTimeout => c"plugin_timeout",
            PitstopStatus::PluginMemoryLimit => c"plugin_memory_limit",
            PitstopStatus::PluginOutputTooLarge => c"plugin_output_too_large",
            PitstopStatus::PluginBadOutput => c"plugin_bad_output",
            PitstopStatus::PluginInvalidEffect => c"plugin_invalid_effect",
            PitstopStatus::TierRequired => c"tier_required",
            PitstopStatus::Unavailable => c"unavailable",
            PitstopStatus::AccessDenied => c"access_denied",
        }
    }

    /// The name of any value, for `pitstop_status_name`: `"unknown"` for values this
    /// build does not know.
    pub fn name_of(value: i32) -> *const c_char {
        PitstopStatus::from_i32(value)
            .map_or(c"unknown", PitstopStatus::name)
            .as_ptr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_contract_code_has_its_own_status_named_like_it() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let status = PitstopStatus::from_code(code);
            assert_ne!(status, PitstopStatus::Error, "{code} has no status");
            assert!((status as i32) >= 100);
            assert_eq!(status.name().to_str().unwrap(), code.as_str());
            assert_eq!(PitstopStatus::from_code_name(code.as_str()), status);
            assert!(seen.insert(status), "{code} shares a status");
        }
    }

    #[test]
    fn values_are_the_published_ones() {
        // The ABI: these numbers never change. Adding a status appends a line here.
        let published: [(i32, &str); 38] = [
            (0, "ok"),
            (1, "null_argument"),
            (2, "invalid_utf8"),
            (3, "panic"),
            (4, "error"),
            (100, "invalid_request"),
            (101, "unknown_operation"),
            (102, "invalid_argument"),
            (103, "not_found"),
            (104, "already_exists"),
            (105, "insufficient_points"),
            (106, "idempotency_conflict"),
            (107, "invalid_program"),
            (108, "no_program"),
            (109, "blocked"),
            (110, "refund_exceeds_visit"),
            (111, "hold_not_active"),
            (112, "too_large"),
            (113, "locked"),
            (114, "corrupted"),
            (115, "unsupported_version"),
            (116, "io"),
            (117, "closed"),
            (118, "plugin_failed"),
            (119, "internal"),
            (120, "plugin_invalid"),
            (121, "plugin_abi_mismatch"),
            (122, "plugin_forbidden_import"),
            (123, "plugin_trap"),
            (124, "plugin_fuel_exhausted"),
            (125, "plugin_timeout"),
            (126, "plugin_memory_limit"),
            (127, "plugin_output_too_large"),
            (128, "plugin_bad_output"),
            (129, "plugin_invalid_effect"),
            (130, "tier_required"),
            (131, "unavailable"),
            (132, "access_denied"),
        ];
        for ((value, name), status) in published.into_iter().zip(STATUSES) {
            assert_eq!(status as i32, value);
            assert_eq!(status.name().to_str().unwrap(), name);
            assert_eq!(PitstopStatus::from_i32(value), Some(status));
        }
        assert_eq!(PitstopStatus::from_i32(5), None);
        assert_eq!(PitstopStatus::from_i32(-1), None);
    }
}
