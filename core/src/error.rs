//! Errors: one stable code enum for every front door, plus a message and details.
//!
//! The codes are part of the public contract (C ABI, Python, CLI, JSON). They are
//! snake_case strings on the wire and are never renamed or reused; new codes are
//! only ever added. `docs/errors.md` is the table of them.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fmt;

/// Stable error codes. The wire form is the snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request is not a JSON object of the expected shape.
    InvalidRequest,
    /// The operation name is not known.
    UnknownOperation,
    /// An argument is present but invalid (format, range, length).
    InvalidArgument,
    /// The referenced thing does not exist.
    NotFound,
    /// A unique value (card, phone, email, external id, VIN, order id) is taken.
    AlreadyExists,
    /// Not enough available points for a redemption, hold or adjustment.
    InsufficientPoints,
    /// The same idempotency key was used with different arguments.
    IdempotencyConflict,
    /// The programme document is invalid; details list every problem.
    InvalidProgram,
    /// No programme has been set yet.
    NoProgram,
    /// The customer or card is blocked for loyalty operations.
    Blocked,
    /// A refund asks for more than what remains of the visit.
    RefundExceedsVisit,
    /// The hold is already captured, released or expired.
    HoldNotActive,
    /// A request, string or list exceeds its limit.
    TooLarge,
    /// The store is open in another process (or another handle in this one).
    Locked,
    /// The store's files are damaged.
    Corrupted,
    /// The store was written by a newer (or unknown) format version.
    UnsupportedVersion,
    /// The operating system reported an I/O failure; the store may need reopening.
    Io,
    /// The engine was closed or failed and refuses further work.
    Closed,
    /// A plugin failed and its `on_error` policy is `fail`.
    PluginFailed,
    /// A bug in Pitstop; reported instead of crashing the host.
    Internal,
    /// The plugin module is not valid WebAssembly, or lacks a required export.
    PluginInvalid,
    /// The plugin module was built for another plugin ABI version.
    PluginAbiMismatch,
    /// The plugin module imports something the sandbox does not offer (WASI, ...).
    PluginForbiddenImport,
    /// The plugin trapped.
    PluginTrap,
    /// The plugin used up its instruction budget.
    PluginFuelExhausted,
    /// The plugin ran past its wall-time limit.
    PluginTimeout,
    /// The plugin tried to grow its memory beyond its limit.
    PluginMemoryLimit,
    /// The plugin returned more than its output limit.
    PluginOutputTooLarge,
    /// The plugin's output is not the output schema.
    PluginBadOutput,
    /// A plugin effect failed validation.
    PluginInvalidEffect,
    /// A basket line is sold only from a higher tier than the customer's.
    TierRequired,
    /// The shared store (PostgreSQL) cannot be reached, or waited too long for its lock;
    /// retryable (details.retryable is true).
    Unavailable,
    /// The database refused the login or the access.
    AccessDenied,
}

impl ErrorCode {
    /// Every code, in the order of the documentation table.
    pub const ALL: [ErrorCode; 33] = [
        ErrorCode::InvalidRequest,
        ErrorCode::UnknownOperation,
        ErrorCode::InvalidArgument,
        ErrorCode::NotFound,
        ErrorCode::AlreadyExists,
        ErrorCode::InsufficientPoints,
        ErrorCode::IdempotencyConflict,
        ErrorCode::InvalidProgram,
        ErrorCode::NoProgram,
        ErrorCode::Blocked,
        ErrorCode::RefundExceedsVisit,
        ErrorCode::HoldNotActive,
        ErrorCode::TooLarge,
        ErrorCode::Locked,
        ErrorCode::Corrupted,
        ErrorCode::UnsupportedVersion,
        ErrorCode::Io,
        ErrorCode::Closed,
        ErrorCode::PluginFailed,
        ErrorCode::Internal,
        ErrorCode::PluginInvalid,
        ErrorCode::PluginAbiMismatch,
        ErrorCode::PluginForbiddenImport,
        ErrorCode::PluginTrap,
        ErrorCode::PluginFuelExhausted,
        ErrorCode::PluginTimeout,
        ErrorCode::PluginMemoryLimit,
        ErrorCode::PluginOutputTooLarge,
        ErrorCode::PluginBadOutput,
        ErrorCode::PluginInvalidEffect,
        ErrorCode::TierRequired,
        ErrorCode::Unavailable,
        ErrorCode::AccessDenied,
    ];

    /// The wire name, e.g. `insufficient_points`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::UnknownOperation => "unknown_operation",
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::NotFound => "not_found",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::InsufficientPoints => "insufficient_points",
            ErrorCode::IdempotencyConflict => "idempotency_conflict",
            ErrorCode::InvalidProgram => "invalid_program",
            ErrorCode::NoProgram => "no_program",
            ErrorCode::Blocked => "blocked",
            ErrorCode::RefundExceedsVisit => "refund_exceeds_visit",
            ErrorCode::HoldNotActive => "hold_not_active",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Locked => "locked",
            ErrorCode::Corrupted => "corrupted",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::Io => "io",
            ErrorCode::Closed => "closed",
            ErrorCode::PluginFailed => "plugin_failed",
            ErrorCode::Internal => "internal",
            ErrorCode::PluginInvalid => "plugin_invalid",
            ErrorCode::PluginAbiMismatch => "plugin_abi_mismatch",
            ErrorCode::PluginForbiddenImport => "plugin_forbidden_import",
            ErrorCode::PluginTrap => "plugin_trap",
            ErrorCode::PluginFuelExhausted => "plugin_fuel_exhausted",
            ErrorCode::PluginTimeout => "plugin_timeout",
            ErrorCode::PluginMemoryLimit => "plugin_memory_limit",
            ErrorCode::PluginOutputTooLarge => "plugin_output_too_large",
            ErrorCode::PluginBadOutput => "plugin_bad_output",
            ErrorCode::PluginInvalidEffect => "plugin_invalid_effect",
            ErrorCode::TierRequired => "tier_required",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::AccessDenied => "access_denied",
        }
    }

    /// One line describing when the code is returned (used by the docs table).
    pub fn description(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "the request is not a JSON object of the expected shape",
            ErrorCode::UnknownOperation => "the operation name is not known",
            ErrorCode::InvalidArgument => "an argument is invalid (format, range, length)",
            ErrorCode::NotFound => {
                "the referenced customer, card, vehicle, visit or hold does not exist"
            }
            ErrorCode::AlreadyExists => "a unique value is already taken; details name the owner",
            ErrorCode::InsufficientPoints => "not enough available points",
            ErrorCode::IdempotencyConflict => "the idempotency key was used with other arguments",
            ErrorCode::InvalidProgram => {
                "the programme is invalid; details.problems lists every problem"
            }
            ErrorCode::NoProgram => "no programme has been set yet",
            ErrorCode::Blocked => "the customer or card is blocked",
            ErrorCode::RefundExceedsVisit => "the refund asks for more than remains of the visit",
            ErrorCode::HoldNotActive => "the hold was already captured, released or expired",
            ErrorCode::TooLarge => "a request, string or list exceeds its limit",
            ErrorCode::Locked => "the store is already open elsewhere",
            ErrorCode::Corrupted => "the store's files are damaged",
            ErrorCode::UnsupportedVersion => "the store was written by an unknown format version",
            ErrorCode::Io => "the operating system reported an I/O failure",
            ErrorCode::Closed => "the engine is closed or failed",
            ErrorCode::PluginFailed => {
                "a plugin returned an error object of its own (checkout refused when its on_error is fail)"
            }
            ErrorCode::Internal => "an internal error (a bug); nothing was changed",
            ErrorCode::PluginInvalid => {
                "the plugin module is not valid WebAssembly or lacks a required export"
            }
            ErrorCode::PluginAbiMismatch => {
                "the plugin module was built for another plugin ABI version"
            }
            ErrorCode::PluginForbiddenImport => {
                "the plugin module imports something the sandbox does not offer (WASI, clock, randomness)"
            }
            ErrorCode::PluginTrap => {
                "the plugin trapped (unreachable, out-of-bounds access, stack overflow)"
            }
            ErrorCode::PluginFuelExhausted => "the plugin used up its instruction budget (fuel)",
            ErrorCode::PluginTimeout => "the plugin ran past its wall-time limit",
            ErrorCode::PluginMemoryLimit => "the plugin tried to grow its memory beyond its limit",
            ErrorCode::PluginOutputTooLarge => {
                "the plugin returned more bytes than its output limit"
            }
            ErrorCode::PluginBadOutput => {
                "the plugin's output is not valid JSON of the output schema, or lies outside its memory"
            }
            ErrorCode::PluginInvalidEffect => {
                "a plugin effect failed validation (discount above its line, missing line, absurd bonus, unknown field)"
            }
            ErrorCode::TierRequired => {
                "a basket line is in the exclusive catalogue of a higher tier than the customer's; details.lines name each line and the tier it needs"
            }
            ErrorCode::Unavailable => {
                "the shared store (PostgreSQL) cannot be reached or is busy past its wait limit, or a write kept meeting other processes' writes to the same customer or figure (details.conflict; Pitstop already ran it 12 times); nothing was changed (unless details.outcome_unknown: then retry with the same idempotency_key); retryable"
            }
            ErrorCode::AccessDenied => {
                "the database refused the login (wrong user or password) or the access"
            }
        }
    }

    /// Parse a wire name back into a code.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == name)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed operation: stable code, human message naming the thing, structured details.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    /// The stable code.
    pub code: ErrorCode,
    /// A sentence for a human, naming the thing that is wrong.
    pub message: String,
    /// Machine-readable details (`null` when there are none).
    pub details: Value,
}

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error without details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    /// Attach details.
    pub fn with_details(mut self, details: Value) -> Error {
        self.details = details;
        self
    }

    /// `invalid_argument` naming the field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Error {
        let message = message.into();
        Error::new(ErrorCode::InvalidArgument, format!("{field}: {message}"))
            .with_details(json!({ "field": field }))
    }

    /// `not_found` naming what was looked for.
    pub fn not_found(what: &str, key: impl fmt::Display) -> Error {
        Error::new(ErrorCode::NotFound, format!("{what} {key} not found"))
            .with_details(json!({ "what": what, "key": key.to_string() }))
    }

    /// `too_large` naming the field and the limit.
    pub fn too_large(field: &str, limit: usize) -> Error {
        Error::new(
            ErrorCode::TooLarge,
            format!("{field} exceeds the limit of {limit}"),
        )
        .with_details(json!({ "field": field, "limit": limit }))
    }

    /// `corrupted` with a description of what was found.
    pub fn corrupted(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Corrupted, message)
    }

    /// `internal`: a broken invariant or a bug, reported instead of panicking.
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Internal, message)
    }

    /// `io` from an operating-system error, naming what was being done.
    pub fn io(context: &str, err: std::io::Error) -> Error {
        Error::new(ErrorCode::Io, format!("{context}: {err}"))
    }

    /// The JSON error object of the contract: `{code, message, details}`.
    pub fn to_json(&self) -> Value {
        json!({ "code": self.code.as_str(), "message": self.message, "details": self.details })
    }
}

/// The text of a caught panic's payload (`panic!` with a message gives a `String` or a
/// `&str`), for the `internal` error that reports it.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic")
}
