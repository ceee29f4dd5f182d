//! # pitstop-1c: Pitstop as a 1C:Enterprise add-in (Native API)
//!
//! 1C loads native code only as an add-in («внешняя компонента») that follows its Native
//! API. This crate is that add-in: one object, `Pitstop`, whose methods run the same
//! operations and JSON shapes as [`pitstop_core::Engine::execute_json`] and every other
//! door (`docs/operations.md`):
//!
//! | method / property | what it does |
//! |---|---|
//! | `Открыть/Open(store, optionsJSON)` | open (or create) a store; objects of one process share it |
//! | `Выполнить/Execute(operation, argumentsJSON)` | run one operation, return the response JSON |
//! | `ВыполнитьЗапрос/ExecuteRequest(requestJSON)` | run `{"op", "args"}`, return the response JSON |
//! | `Закрыть/Close()` | let go of the store; the last object on it closes it |
//! | `Версия/Version` | the library's version |
//! | `ПоследняяОшибка/LastError` | the error of the last call as JSON, `""` after a success |
//!
//! The exports below are what 1C looks up in the library; the object's interface tables
//! are built by the `addin1c` crate (`component.rs` implements its `RawAddin`). Like the C
//! ABI, this crate only decodes, calls the core and encodes. Every entry from 1C runs in
//! `catch_unwind`: no panic reaches 1C.

#[cfg(panic = "abort")]
compile_error!("pitstop-1c needs panic = \"unwind\": its boundary turns panics into 1C errors");

mod component;
mod host;
mod stores;

pub use component::{PANIC_IN_VARIABLE, Pitstop};

use addin1c::{AttachType, CStr1C, create_component, destroy_component, name};
use std::ffi::{c_int, c_long, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicI32, Ordering};

/// The one class of this add-in, as `GetClassNames` lists it.
const CLASS_NAME: &CStr1C = name!("Pitstop");

/// `eAppCapabilitiesLast` of `ComponentBase.h`: what this add-in supports of what the
/// platform offers.
const APP_CAPABILITIES_LAST: c_int = 3;

/// What the platform said it can do (`SetPlatformCapabilities`); -1 until it says.
static PLATFORM_CAPABILITIES: AtomicI32 = AtomicI32::new(-1);

/// Create an object of the class `name`: 1C's `Новый("AddIn.<name>.Pitstop")`.
/// Returns 1 and the object in `component`, or 0 for a class this library does not have.
///
/// # Safety
/// `name` is NULL or a NUL-terminated UTF-16 string; `component` is NULL or writable.
#[allow(non_snake_case)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetClassObject(name: *const u16, component: *mut *mut c_void) -> c_long {
    let created = catch_unwind(AssertUnwindSafe(|| {
        if name.is_null() || component.is_null() {
            return 0;
        }
        // SAFETY: non-NULL and NUL-terminated, as the caller promises.
        if unsafe { CStr1C::from_ptr(name) } != CLASS_NAME {
            return 0;
        }
        // SAFETY: non-NULL and writable, as the caller promises.
        unsafe { create_component(component, Pitstop::new()) }
    }));
    created.unwrap_or(0)
}

/// Destroy an object made by `GetClassObject`, closing its store if it was the last
/// object on it. Returns 0, or -1 for NULL.
///
/// # Safety
/// `component` is NULL or points to NULL or to an object from `GetClassObject` that is
/// destroyed once and not used again.
#[allow(non_snake_case)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DestroyObject(component: *mut *mut c_void) -> c_long {
    let destroyed = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: NULL or readable, as the caller promises.
        if component.is_null() || unsafe { (*component).is_null() } {
            return -1;
        }
        // SAFETY: an object from GetClassObject, destroyed once, as the caller promises.
        unsafe { destroy_component(component) }
    }));
    destroyed.unwrap_or(-1)
}

/// The classes of this library, `|`-separated: just `Pitstop`. A static string.
#[allow(non_snake_case)]
#[unsafe(no_mangle)]
pub extern "C" fn GetClassNames() -> *const u16 {
    CLASS_NAME.as_ptr()
}

/// The platform says what it can do; the add-in answers what it supports.
#[allow(non_snake_case)]
#[unsafe(no_mangle)]
pub extern "C" fn SetPlatformCapabilities(capabilities: c_int) -> c_int {
    PLATFORM_CAPABILITIES.store(capabilities, Ordering::Relaxed);
    APP_CAPABILITIES_LAST
}

/// The add-in runs in 1C's own process or in a separate one, whichever the 1C code asks.
#[allow(non_snake_case)]
#[unsafe(no_mangle)]
pub extern "C" fn GetAttachType() -> AttachType {
    AttachType::Any
}
