//! The boundary: the one macro every export is wrapped in, and the helpers that decode
//! what the host passed and encode what goes back. No business logic lives here.

use crate::status::PitstopStatus;
use pitstop_core::{Error, ErrorCode, response};
use serde_json::{Value, json};
use std::any::Any;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Wrap the body of an `extern "C"` function: a panic inside becomes the return type's
/// [`PanicValue`] (for statuses, `PITSTOP_STATUS_PANIC`) instead of unwinding into the
/// host, which would abort it. Every export uses this macro, as rustls-ffi does.
macro_rules! ffi_boundary {
    ( $($body:tt)* ) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($body)* })) {
            Ok(value) => value,
            Err(_) => $crate::boundary::PanicValue::panic_value(),
        }
    };
}

/// What an export returns when its body panicked.
pub trait PanicValue {
    /// The value returned instead of unwinding.
    fn panic_value() -> Self;
}

impl PanicValue for PitstopStatus {
    fn panic_value() -> Self {
        PitstopStatus::Panic
    }
}

impl PanicValue for u32 {
    fn panic_value() -> Self {
        0
    }
}

impl PanicValue for () {
    fn panic_value() -> Self {}
}

impl PanicValue for *const c_char {
    fn panic_value() -> Self {
        c"".as_ptr()
    }
}

/// A status and the response JSON that goes with it.
#[derive(Debug)]
pub struct Reply {
    /// What the export returns.
    pub status: PitstopStatus,
    /// The contract's response (`{"ok": ...}`), handed to the host.
    pub json: String,
}

impl Reply {
    /// A failure the boundary found itself, with the status the host should see.
    pub fn failure(status: PitstopStatus, error: Error) -> Reply {
        Reply {
            status,
            json: response(Err(error)),
        }
    }

    /// A core error.
    pub fn error(error: Error) -> Reply {
        Reply::failure(PitstopStatus::from_code(error.code), error)
    }

    /// The outcome of a core call that returns a value.
    pub fn from_result(result: pitstop_core::Result<Value>) -> Reply {
        match result {
            Ok(value) => Reply {
                status: PitstopStatus::Ok,
                json: response(Ok(value)),
            },
            Err(error) => Reply::error(error),
        }
    }

    /// A success without a result (`{"ok": true, "result": null}`).
    pub fn ok() -> Reply {
        Reply::from_result(Ok(Value::Null))
    }

    /// A NULL pointer where one was required.
    pub fn null_argument(argument: &str) -> Reply {
        Reply::failure(
            PitstopStatus::NullArgument,
            Error::new(code_for(argument), format!("{argument} is NULL"))
                .with_details(json!({ "argument": argument })),
        )
    }

    /// A string argument that is not UTF-8.
    pub fn invalid_utf8(argument: &str, valid_up_to: usize) -> Reply {
        Reply::failure(
            PitstopStatus::InvalidUtf8,
            Error::new(
                code_for(argument),
                format!("{argument} is not valid UTF-8 (from byte {valid_up_to})"),
            )
            .with_details(json!({ "argument": argument, "valid_up_to": valid_up_to })),
        )
    }

    /// A panic caught at the boundary.
    pub fn panicked(panic: Box<dyn Any + Send>) -> Reply {
        let reason = pitstop_core::panic_text(panic.as_ref());
        Reply::failure(
            PitstopStatus::Panic,
            Error::internal(format!(
                "a bug in libpitstop was caught at the C boundary: {reason}"
            )),
        )
    }
}

/// The contract code for a bad argument: the request itself is `invalid_request`, any
/// other argument `invalid_argument`.
fn code_for(argument: &str) -> ErrorCode {
    if argument == "request_json" {
        ErrorCode::InvalidRequest
    } else {
        ErrorCode::InvalidArgument
    }
}

/// Run `work`, turning a panic into a [`Reply`] that says so.
pub fn guarded<T>(work: impl FnOnce() -> Result<T, Reply>) -> Result<T, Reply> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| Err(Reply::panicked(panic)))
}

/// Run `work` for an export whose response goes to `out`: checks and clears `out`, runs
/// the work (a panic becomes a `PITSTOP_STATUS_PANIC` reply), then hands the JSON over.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
pub unsafe fn respond(out: *mut *mut c_char, work: impl FnOnce() -> Reply) -> PitstopStatus {
    if out.is_null() {
        return PitstopStatus::NullArgument;
    }
    // SAFETY: non-NULL, and the caller promises it is writable.
    unsafe { out.write(std::ptr::null_mut()) };
    let reply = guarded(|| Ok(work())).unwrap_or_else(|reply| reply);
    // SAFETY: as above.
    unsafe { put_string(out, reply.json) };
    reply.status
}

/// Hand `text` to the host through `out` as a NUL-terminated string that it frees with
/// `pitstop_string_free`. Does nothing when `out` is NULL.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
pub unsafe fn put_string(out: *mut *mut c_char, text: String) {
    if out.is_null() {
        return;
    }
    let text = CString::new(text).unwrap_or_else(|err| {
        // JSON escapes NUL, so this never happens; if it did, drop the NULs, never panic.
        let mut bytes = err.into_vec();
        bytes.retain(|byte| *byte != 0);
        CString::new(bytes).unwrap_or_default()
    });
    // SAFETY: non-NULL, and the caller promises it is writable.
    unsafe { out.write(text.into_raw()) };
}

/// Borrow a host string as UTF-8. `argument` names it in errors; `bytes_max` bounds its
/// length before it is decoded (`too_large` past it).
///
/// # Safety
/// `text` is NULL or points to a NUL-terminated string that outlives `'a`.
pub unsafe fn host_str<'a>(
    text: *const c_char,
    argument: &str,
    bytes_max: usize,
) -> Result<&'a str, Reply> {
    if text.is_null() {
        return Err(Reply::null_argument(argument));
    }
    // SAFETY: non-NULL and NUL-terminated, as the caller promises.
    let bytes = unsafe { CStr::from_ptr(text) }.to_bytes();
    if bytes.len() > bytes_max {
        return Err(Reply::error(Error::too_large(
            if argument == "request_json" {
                "request"
            } else {
                argument
            },
            bytes_max,
        )));
    }
    std::str::from_utf8(bytes).map_err(|err| Reply::invalid_utf8(argument, err.valid_up_to()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_status_export_becomes_the_panic_status() {
        let status: PitstopStatus = ffi_boundary! {
            if std::hint::black_box(true) {
                panic!("boom");
            }
            PitstopStatus::Ok
        };
        assert_eq!(status, PitstopStatus::Panic);
        let text: *const c_char = ffi_boundary! { panic!("boom") };
        assert!(!text.is_null());
        let number: u32 = ffi_boundary! { panic!("boom") };
        assert_eq!(number, 0);
    }

    #[test]
    fn a_panic_in_the_work_still_hands_over_an_error_json() {
        let mut out: *mut c_char = std::ptr::null_mut();
        // SAFETY: `out` is a valid local.
        let status = unsafe { respond(&mut out, || panic!("boom in work")) };
        assert_eq!(status, PitstopStatus::Panic);
        assert!(!out.is_null());
        // SAFETY: handed over by put_string.
        let json = unsafe { CString::from_raw(out) }.into_string().unwrap();
        let value: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["ok"], false);
        assert_eq!(value["error"]["code"], "internal");
        assert!(
            value["error"]["message"]
                .as_str()
                .unwrap()
                .contains("boom in work")
        );
    }

    #[test]
    fn every_outcome_has_its_status_and_its_json() {
        let ok = Reply::from_result(Ok(json!({"a": 1})));
        assert_eq!(ok.status, PitstopStatus::Ok);
        assert_eq!(ok.json, response(Ok(json!({"a": 1}))));
        for code in ErrorCode::ALL {
            let reply = Reply::from_result(Err(Error::new(code, "x")));
            assert_eq!(reply.status, PitstopStatus::from_code(code));
            assert_eq!(reply.json, response(Err(Error::new(code, "x"))));
        }
    }

    #[test]
    fn interior_nul_is_dropped_not_fatal() {
        let mut out: *mut c_char = std::ptr::null_mut();
        // SAFETY: `out` is a valid local.
        unsafe { put_string(&mut out, "a\0b".to_string()) };
        // SAFETY: handed over by put_string.
        let text = unsafe { CString::from_raw(out) };
        assert_eq!(text.to_str().unwrap(), "ab");
    }
}
