//! What the add-in needs from 1C beyond what `addin1c` wraps: the host's error callback
//! (`IAddInDefBase::AddError`, which raises a 1C exception), and the decoding of the
//! UTF-16 strings 1C passes, with their limits.
//!
//! addin1c 0.7 hands the component the host's `IAddInDefBase *` as `&Connection` but
//! wraps only its event methods, not `AddError`. `Connection` is that very pointer, so
//! its first word is the host's vtable, laid out as `AddInDefBase.h` declares it; this
//! module reads the one slot it needs from there.

use addin1c::Connection;
use pitstop_core::{Error, ErrorCode};
use serde_json::json;
use std::ffi::{c_long, c_ushort};

/// `ADDIN_E_FAIL` of `types.h`: the message category shown with the exception.
const ADDIN_E_FAIL: c_ushort = 1006;

/// `E_FAIL` as an HRESULT. A non-zero `scode` makes 1C raise an exception that the
/// 1C code catches with `Попытка ... Исключение`.
const SCODE_E_FAIL: c_long = 0x8000_4005_u32 as i32 as c_long;

/// The source 1C shows with every error this add-in raises.
const ERROR_SOURCE: &str = "Pitstop";

/// The start of `IAddInDefBase`'s vtable (`AddInDefBase.h`): the virtual destructor (one
/// slot with MSVC, which builds 1C for Windows; two with the Itanium C++ ABI of Linux),
/// then `AddError`. The slots after it are not used here.
#[repr(C)]
struct AddInDefBaseVTable {
    dtor: usize,
    #[cfg(target_family = "unix")]
    dtor_deleting: usize,
    add_error: unsafe extern "system" fn(
        this: *const HostInterface,
        wcode: c_ushort,
        source: *const u16,
        descr: *const u16,
        scode: c_long,
    ) -> bool,
}

/// The host's `IAddInDefBase` object: a C++ object whose first word is its vtable.
#[repr(C)]
struct HostInterface {
    vtable: *const AddInDefBaseVTable,
}

/// Raise a 1C exception with `message` through the host's `AddError`. Returns whether
/// the host accepted it (false without a connection: `Init` was never called).
pub fn raise(connection: Option<&'static Connection>, message: &str) -> bool {
    let Some(connection) = connection else {
        return false;
    };
    let source = nul_terminated(ERROR_SOURCE);
    let description = nul_terminated(message);
    let host = std::ptr::from_ref(connection).cast::<HostInterface>();
    // SAFETY: `connection` is the `IAddInDefBase *` 1C passed to `Init`, valid while the
    // object lives; its first word is its vtable, whose `AddError` slot follows the
    // destructor slots as declared above. Both strings are NUL-terminated and outlive
    // the call.
    unsafe {
        let vtable = (*host).vtable;
        ((*vtable).add_error)(
            host,
            ADDIN_E_FAIL,
            source.as_ptr(),
            description.as_ptr(),
            SCODE_E_FAIL,
        )
    }
}

/// `text` as NUL-terminated UTF-16. A NUL inside would cut the text short, so it
/// becomes U+FFFD.
fn nul_terminated(text: &str) -> Vec<u16> {
    text.encode_utf16()
        .map(|unit| if unit == 0 { 0xFFFD } else { unit })
        .chain(std::iter::once(0))
        .collect()
}

/// Decode a UTF-16 string from 1C. `argument` names it in errors; `bytes_max` bounds its
/// UTF-8 length (`too_large` past it), checked on the UTF-16 length first so an oversized
/// string is refused before it is decoded: every UTF-16 unit takes at least one byte.
pub fn decode(units: &[u16], argument: &str, bytes_max: usize) -> Result<String, Error> {
    if units.len() > bytes_max {
        return Err(Error::too_large(argument, bytes_max));
    }
    let text = String::from_utf16(units).map_err(|_| invalid_utf16(units, argument))?;
    if text.len() > bytes_max {
        return Err(Error::too_large(argument, bytes_max));
    }
    Ok(text)
}

/// The error for a string holding a lone surrogate, naming where it is.
fn invalid_utf16(units: &[u16], argument: &str) -> Error {
    let at = char::decode_utf16(units.iter().copied())
        .map(|unit| unit.map(char::len_utf16))
        .take_while(Result::is_ok)
        .map(|len| len.unwrap_or(0))
        .sum::<usize>();
    let code = if argument == "requestJSON" {
        ErrorCode::InvalidRequest
    } else {
        ErrorCode::InvalidArgument
    };
    Error::new(
        code,
        format!("{argument} is not valid UTF-16: a lone surrogate at unit {at}"),
    )
    .with_details(json!({ "argument": argument, "valid_up_to": at }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyrillic_and_emoji_decode() {
        let units: Vec<u16> = "Смирнов 🚗".encode_utf16().collect();
        assert_eq!(decode(&units, "x", 100).unwrap(), "Смирнов 🚗");
    }

    #[test]
    fn a_lone_surrogate_is_named_with_its_position() {
        let units = [u16::from(b'a'), u16::from(b'b'), 0xD800, u16::from(b'c')];
        let error = decode(&units, "requestJSON", 100).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidRequest);
        assert_eq!(error.details["valid_up_to"], 2);
        let error = decode(&units, "store", 100).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn the_limit_counts_utf8_bytes() {
        let units: Vec<u16> = "жжж".encode_utf16().collect();
        assert_eq!(decode(&units, "x", 6).unwrap(), "жжж");
        assert_eq!(
            decode(&units, "x", 5).unwrap_err().code,
            ErrorCode::TooLarge
        );
        assert_eq!(
            decode(&units, "x", 2).unwrap_err().code,
            ErrorCode::TooLarge
        );
    }

    #[test]
    fn nul_inside_a_message_does_not_cut_it() {
        assert_eq!(nul_terminated("a\0b"), vec![97, 0xFFFD, 98, 0]);
    }
}
