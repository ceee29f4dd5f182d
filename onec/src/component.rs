//! The object 1C creates as `Новый("AddIn.<name>.Pitstop")`: its methods and properties,
//! each with an English and a Russian name, and the one boundary every call from 1C
//! passes through.
//!
//! What a call gives back:
//! - called as a function, a method returns the response JSON of the operation
//!   (`{"ok": true, "result": ...}` or `{"ok": false, "error": ...}`); a failed operation
//!   does not raise, the 1C code checks `ok`;
//! - called as a procedure (the result discarded), a failed operation raises, since
//!   nothing would show it otherwise;
//! - misuse raises a 1C exception through the host's `AddError`: a wrong number or type of
//!   arguments, a method before `Open` or after `Close`, `Open` on an open object;
//! - a panic in this crate is caught, reported as an `internal` error through `AddError`,
//!   and never unwinds into 1C.
//!
//! `ПоследняяОшибка/LastError` holds the error object (`{"code", "message", "details"}`)
//! of the last method call, or `""` when it succeeded.

use crate::host;
use crate::stores::{self, SharedStore};
use addin1c::{CStr1C, Connection, ParamValue, RawAddin, Variant, name};
use pitstop_core::{Error, ErrorCode, response};
use serde_json::{Value, json};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// Longest store string and options JSON accepted by `Open`, in UTF-8 bytes: the limit
/// libpitstop's `pitstop_open` puts on its path and options (`ARGUMENT_BYTES_MAX`).
const ARGUMENT_BYTES_MAX: usize = 64 * 1024;

/// Longest operation name accepted by `Execute`, in UTF-8 bytes (the longest real one is
/// under 32; the error for an unknown one quotes at most 64 characters of it).
const OPERATION_BYTES_MAX: usize = 256;

/// The environment variable naming one member (by its English name) that panics when
/// called, read when an object is created: the tests prove with it that a panic inside
/// is contained. Unset in production, where it changes nothing.
pub const PANIC_IN_VARIABLE: &str = "PITSTOP_1C_PANIC_IN";

/// The version 1C reads from `GetInfo` (2000: Native API version 2).
const NATIVE_API_VERSION: u16 = 2000;

/// A member's two names: `english` is 1C's alias 0, `russian` alias 1.
struct Names {
    english: &'static str,
    russian: &'static str,
    english_1c: &'static CStr1C,
    russian_1c: &'static CStr1C,
}

impl Names {
    /// `Russian/English`, as messages name a member.
    fn both(&self) -> String {
        format!("{}/{}", self.russian, self.english)
    }

    /// Whether 1C's `wanted` is one of the names; 1C code is not case-sensitive.
    fn matches(&self, wanted: &str) -> bool {
        let wanted = wanted.to_lowercase();
        wanted == self.english.to_lowercase() || wanted == self.russian.to_lowercase()
    }

    fn alias(&self, alias: usize) -> Option<&'static CStr1C> {
        match alias {
            0 => Some(self.english_1c),
            1 => Some(self.russian_1c),
            _ => None,
        }
    }
}

macro_rules! names {
    ($english:literal, $russian:literal) => {
        Names {
            english: $english,
            russian: $russian,
            english_1c: name!($english),
            russian_1c: name!($russian),
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Open,
    Execute,
    ExecuteRequest,
    Close,
}

struct MethodSpec {
    method: Method,
    names: Names,
    /// Parameter names, as errors name them.
    params: &'static [&'static str],
    /// How many leading parameters 1C code must pass; the rest default to `""`.
    params_required: usize,
}

/// The methods, numbered by their position as 1C sees them.
const METHODS: [MethodSpec; 4] = [
    MethodSpec {
        method: Method::Open,
        names: names!("Open", "Открыть"),
        params: &["store", "optionsJSON"],
        params_required: 1,
    },
    MethodSpec {
        method: Method::Execute,
        names: names!("Execute", "Выполнить"),
        params: &["operation", "argumentsJSON"],
        params_required: 1,
    },
    MethodSpec {
        method: Method::ExecuteRequest,
        names: names!("ExecuteRequest", "ВыполнитьЗапрос"),
        params: &["requestJSON"],
        params_required: 1,
    },
    MethodSpec {
        method: Method::Close,
        names: names!("Close", "Закрыть"),
        params: &[],
        params_required: 0,
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Property {
    Version,
    LastError,
}

/// The properties, read-only, numbered by their position.
const PROPERTIES: [(Property, Names); 2] = [
    (Property::Version, names!("Version", "Версия")),
    (Property::LastError, names!("LastError", "ПоследняяОшибка")),
];

/// What a method called correctly answers: the response JSON, and the error when the
/// operation failed.
struct Reply {
    json: String,
    failure: Option<Error>,
}

/// Why a call gave no `{"ok": true}`.
enum Fault {
    /// The operation failed: the response JSON says so.
    Failed(Error),
    /// The 1C code used the object wrongly: a 1C exception.
    Misuse(Error),
}

impl From<Error> for Fault {
    fn from(error: Error) -> Fault {
        Fault::Failed(error)
    }
}

fn misuse(code: ErrorCode, message: String, details: Value) -> Fault {
    Fault::Misuse(Error::new(code, message).with_details(details))
}

/// Where the object stands.
enum State {
    /// Created; `Open` not called yet.
    New,
    /// `Open` succeeded: the store, shared with the other objects of this process on it.
    Open(Arc<SharedStore>),
    /// `Close` was called; `Open` may open a store again.
    Closed,
}

/// The `Pitstop` object. 1C calls one object from one thread at a time; objects of
/// one process share the engines of their stores (see `stores.rs`).
pub struct Pitstop {
    connection: Option<&'static Connection>,
    state: State,
    last_error: String,
    /// The member that panics when called ([`PANIC_IN_VARIABLE`]).
    panic_in: Option<String>,
}

impl Default for Pitstop {
    fn default() -> Self {
        Pitstop::new()
    }
}

impl Pitstop {
    /// A new object, not open yet.
    pub fn new() -> Pitstop {
        Pitstop {
            connection: None,
            state: State::New,
            last_error: String::new(),
            panic_in: std::env::var(PANIC_IN_VARIABLE).ok(),
        }
    }

    fn inject_panic(&self, member: &Names) {
        if self.panic_in.as_deref() == Some(member.english) {
            panic!("{PANIC_IN_VARIABLE} asked {} to panic", member.english);
        }
    }

    /// Record `error` as the last error and raise it as a 1C exception. Returns false,
    /// what the Native API call then returns.
    fn raise(&mut self, error: &Error) -> bool {
        self.last_error = error.to_json().to_string();
        host::raise(
            self.connection,
            &format!("{}: {}", error.code.as_str(), error.message),
        );
        false
    }

    /// Run one call from 1C; a panic inside is raised as `internal` and never unwinds
    /// into 1C, which would abort its process.
    fn contained(&mut self, what: &str, work: impl FnOnce(&mut Pitstop) -> bool) -> bool {
        match catch_unwind(AssertUnwindSafe(|| work(self))) {
            Ok(done) => done,
            Err(panic) => {
                let reason = pitstop_core::panic_text(panic.as_ref());
                let error = Error::internal(format!(
                    "a bug in the Pitstop add-in was caught in {what}: {reason}"
                ));
                // A second panic (in AddError's host) must not escape either.
                catch_unwind(AssertUnwindSafe(|| self.raise(&error))).unwrap_or(false)
            }
        }
    }

    /// Call method `number` with `params`: the operation's outcome, or the misuse to
    /// raise. Sets the last error.
    fn call(&mut self, number: usize, params: &mut [Variant]) -> Result<Reply, Error> {
        self.last_error.clear();
        let Some(spec) = METHODS.get(number) else {
            return Err(Error::new(
                ErrorCode::InvalidRequest,
                format!("the Pitstop object has no method number {number}"),
            ));
        };
        self.inject_panic(&spec.names);
        let outcome = check_count(spec, params.len()).and_then(|()| self.dispatch(spec, params));
        match outcome {
            Ok(result) => Ok(Reply {
                json: response(Ok(result)),
                failure: None,
            }),
            Err(Fault::Failed(error)) => {
                self.last_error = error.to_json().to_string();
                Ok(Reply {
                    json: response(Err(error.clone())),
                    failure: Some(error),
                })
            }
            Err(Fault::Misuse(error)) => Err(error),
        }
    }

    fn dispatch(&mut self, spec: &MethodSpec, params: &[Variant]) -> Result<Value, Fault> {
        match spec.method {
            Method::Open => self.open(spec, params),
            Method::Execute => {
                let store = self.store(spec)?;
                let operation = text_param(spec, params, 0, OPERATION_BYTES_MAX)?;
                let arguments = text_param(spec, params, 1, store.request_bytes_max)?;
                let arguments = parse_arguments(&arguments)?;
                Ok(store.engine.execute(&operation, arguments)?)
            }
            Method::ExecuteRequest => {
                let store = self.store(spec)?;
                let request = text_param(spec, params, 0, store.request_bytes_max)?;
                Ok(store.engine.execute_request(&request)?)
            }
            Method::Close => self.close(spec),
        }
    }

    fn open(&mut self, spec: &MethodSpec, params: &[Variant]) -> Result<Value, Fault> {
        if let State::Open(_) = self.state {
            return Err(misuse(
                ErrorCode::InvalidRequest,
                format!(
                    "{}: this object already has a store open; call Закрыть/Close first",
                    spec.names.both()
                ),
                json!({ "method": spec.names.english }),
            ));
        }
        let store = text_param(spec, params, 0, ARGUMENT_BYTES_MAX)?;
        let options = text_param(spec, params, 1, ARGUMENT_BYTES_MAX)?;
        // The store string goes to the core as it came, as pitstop_open passes its path.
        self.state = State::Open(stores::open(&store, &options)?);
        Ok(Value::Null)
    }

    fn close(&mut self, spec: &MethodSpec) -> Result<Value, Fault> {
        self.store(spec)?;
        if let State::Open(store) = std::mem::replace(&mut self.state, State::Closed) {
            stores::release(store)?;
        }
        Ok(Value::Null)
    }

    /// The open store, or the misuse of calling `spec` without one.
    fn store(&self, spec: &MethodSpec) -> Result<Arc<SharedStore>, Fault> {
        let why = match &self.state {
            State::Open(store) => return Ok(Arc::clone(store)),
            State::New => "no store is open: call Открыть/Open(store, optionsJSON) first",
            State::Closed => {
                "the object was closed by Закрыть/Close: open a store again with Открыть/Open"
            }
        };
        Err(misuse(
            ErrorCode::Closed,
            format!("{}: {why}", spec.names.both()),
            json!({ "method": spec.names.english }),
        ))
    }

    /// Let go of the store without reporting (1C's `Done`, or the object destroyed).
    fn release(&mut self) {
        if let State::Open(store) = std::mem::replace(&mut self.state, State::Closed) {
            // Nobody is left to tell of a failed final sync; the store is released either way.
            let _ = stores::release(store);
        }
    }

    fn property(&self, number: usize) -> Option<(Property, &'static Names)> {
        PROPERTIES
            .get(number)
            .map(|(property, names)| (*property, names))
    }
}

impl Drop for Pitstop {
    fn drop(&mut self) {
        // Dropped inside DestroyObject's catch_unwind.
        self.release();
    }
}

fn check_count(spec: &MethodSpec, given: usize) -> Result<(), Fault> {
    if (spec.params_required..=spec.params.len()).contains(&given) {
        return Ok(());
    }
    Err(misuse(
        ErrorCode::InvalidArgument,
        format!(
            "{}({}) takes {} arguments, {} given",
            spec.names.both(),
            spec.params.join(", "),
            if spec.params_required == spec.params.len() {
                spec.params.len().to_string()
            } else {
                format!("{} to {}", spec.params_required, spec.params.len())
            },
            given
        ),
        json!({ "method": spec.names.english, "given": given }),
    ))
}

/// Parameter `index` of `spec` as text: a 1C string, or for an optional parameter left out
/// (or `Неопределено`) `""`. Another type is misuse; a string that does not decode or is
/// longer than `bytes_max` fails the operation.
fn text_param(
    spec: &MethodSpec,
    params: &[Variant],
    index: usize,
    bytes_max: usize,
) -> Result<String, Fault> {
    let param = spec.params[index];
    let value = params.get(index).map(Variant::get);
    match value {
        Some(ParamValue::Str(units)) => Ok(host::decode(units, param, bytes_max)?),
        None | Some(ParamValue::Empty) if index >= spec.params_required => Ok(String::new()),
        other => Err(misuse(
            ErrorCode::InvalidArgument,
            format!(
                "{}: {param} must be a string (Строка), got {}",
                spec.names.both(),
                type_name(other.as_ref())
            ),
            json!({ "method": spec.names.english, "argument": param }),
        )),
    }
}

/// The 1C type of a value passed, as a message names it.
fn type_name(value: Option<&ParamValue>) -> &'static str {
    match value {
        None => "nothing",
        Some(ParamValue::Empty) => "Неопределено (Undefined)",
        Some(ParamValue::Bool(_)) => "Булево (Boolean)",
        Some(ParamValue::I32(_) | ParamValue::F64(_)) => "Число (Number)",
        Some(ParamValue::Date(_)) => "Дата (Date)",
        Some(ParamValue::Str(_)) => "Строка (String)",
        Some(ParamValue::Blob(_)) => "ДвоичныеДанные (BinaryData)",
    }
}

/// `argumentsJSON` of `Execute`, read as strictly as a whole request (a key twice is
/// refused); empty means no arguments.
fn parse_arguments(text: &str) -> Result<Value, Error> {
    if text.trim().is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    pitstop_core::json::from_str(text).map_err(|err| {
        Error::new(
            ErrorCode::InvalidRequest,
            format!("argumentsJSON is not acceptable JSON: {err}"),
        )
        .with_details(json!({ "argument": "argumentsJSON" }))
    })
}

/// Run a lookup 1C makes (a name, a number): it has nothing to report, so a panic in it
/// answers "not found" (`None`) instead of unwinding into 1C. The other entries that do
/// more than read a constant table run in [`Pitstop::contained`].
fn quiet<T>(lookup: impl FnOnce() -> Option<T>) -> Option<T> {
    catch_unwind(AssertUnwindSafe(lookup)).unwrap_or(None)
}

/// Find `wanted` among `names`, as 1C's FindMethod and FindProp ask.
fn find<'a>(names: impl Iterator<Item = &'a Names>, wanted: &CStr1C) -> Option<usize> {
    let units = wanted.strip_suffix(&[0]).unwrap_or(wanted);
    let wanted = String::from_utf16_lossy(units);
    names.into_iter().position(|names| names.matches(&wanted))
}

impl RawAddin for Pitstop {
    fn init(&mut self, interface: &'static Connection) -> bool {
        self.connection = Some(interface);
        true
    }

    fn get_info(&mut self) -> u16 {
        NATIVE_API_VERSION
    }

    fn done(&mut self) {
        self.contained("Done", |this| {
            this.release();
            true
        });
    }

    fn register_extension_as(&mut self) -> &CStr1C {
        name!("Pitstop")
    }

    fn get_n_props(&mut self) -> usize {
        PROPERTIES.len()
    }

    fn find_prop(&mut self, name: &CStr1C) -> Option<usize> {
        quiet(|| find(PROPERTIES.iter().map(|(_, names)| names), name))
    }

    fn get_prop_name(&mut self, num: usize, alias: usize) -> Option<&'static CStr1C> {
        quiet(|| self.property(num).and_then(|(_, names)| names.alias(alias)))
    }

    fn get_prop_val(&mut self, num: usize, val: &mut Variant) -> bool {
        self.contained("GetPropVal", |this| {
            let Some((property, names)) = this.property(num) else {
                return false;
            };
            this.inject_panic(names);
            let text = match property {
                Property::Version => pitstop_core::VERSION,
                Property::LastError => this.last_error.as_str(),
            };
            if val.set_str1c(text).is_ok() {
                return true;
            }
            this.raise(&out_of_memory(text.len()))
        })
    }

    fn set_prop_val(&mut self, _num: usize, _val: &Variant) -> bool {
        false
    }

    fn is_prop_readable(&mut self, num: usize) -> bool {
        num < PROPERTIES.len()
    }

    fn is_prop_writable(&mut self, _num: usize) -> bool {
        false
    }

    fn get_n_methods(&mut self) -> usize {
        METHODS.len()
    }

    fn find_method(&mut self, name: &CStr1C) -> Option<usize> {
        quiet(|| find(METHODS.iter().map(|spec| &spec.names), name))
    }

    fn get_method_name(&mut self, num: usize, alias: usize) -> Option<&'static CStr1C> {
        quiet(|| METHODS.get(num).and_then(|spec| spec.names.alias(alias)))
    }

    fn get_n_params(&mut self, num: usize) -> usize {
        METHODS.get(num).map_or(0, |spec| spec.params.len())
    }

    fn get_param_def_value(&mut self, method: usize, param: usize, mut value: Variant) -> bool {
        self.contained("GetParamDefValue", |_| {
            let Some(spec) = METHODS.get(method) else {
                return false;
            };
            if param < spec.params_required || param >= spec.params.len() {
                return false;
            }
            // Left out, an optional parameter comes as Неопределено, read as "".
            value.set_empty();
            true
        })
    }

    fn has_ret_val(&mut self, method: usize) -> bool {
        method < METHODS.len()
    }

    fn call_as_proc(&mut self, method: usize, params: &mut [Variant]) -> bool {
        self.contained("CallAsProc", |this| match this.call(method, params) {
            Ok(Reply { failure: None, .. }) => true,
            // Called as a procedure nothing would show the failure: raise it.
            Ok(Reply {
                failure: Some(error),
                ..
            }) => this.raise(&error),
            Err(misuse) => this.raise(&misuse),
        })
    }

    fn call_as_func(&mut self, method: usize, params: &mut [Variant], val: &mut Variant) -> bool {
        self.contained("CallAsFunc", |this| match this.call(method, params) {
            Ok(reply) => {
                if val.set_str1c(reply.json.as_str()).is_ok() {
                    return true;
                }
                this.raise(&out_of_memory(reply.json.len()))
            }
            Err(misuse) => this.raise(&misuse),
        })
    }
}

fn out_of_memory(bytes: usize) -> Error {
    Error::internal(format!(
        "1C's memory manager refused the {bytes} bytes of the answer"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_has_two_names_and_is_found_by_either_in_any_case() {
        for (number, spec) in METHODS.iter().enumerate() {
            for name in [spec.names.english, spec.names.russian] {
                for wanted in [name.to_string(), name.to_uppercase(), name.to_lowercase()] {
                    let units: Vec<u16> = wanted.encode_utf16().chain([0]).collect();
                    // SAFETY: NUL-terminated.
                    let wanted = unsafe { CStr1C::from_bytes_unchecked(&units) };
                    assert_eq!(find(METHODS.iter().map(|s| &s.names), wanted), Some(number));
                }
            }
        }
        let units: Vec<u16> = "пОСЛЕДНЯЯоШИБКА\0".encode_utf16().collect();
        // SAFETY: NUL-terminated.
        let wanted = unsafe { CStr1C::from_bytes_unchecked(&units) };
        assert_eq!(find(PROPERTIES.iter().map(|(_, n)| n), wanted), Some(1));
    }

    #[test]
    fn arguments_are_read_strictly() {
        assert_eq!(parse_arguments("  ").unwrap(), json!({}));
        assert_eq!(parse_arguments(r#"{"a": 1}"#).unwrap(), json!({"a": 1}));
        let error = parse_arguments(r#"{"a": 1, "a": 2}"#).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidRequest);
        assert!(error.message.contains("twice"), "{}", error.message);
        assert_eq!(
            parse_arguments("{").unwrap_err().code,
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn counts_name_the_parameters() {
        let Err(Fault::Misuse(error)) = check_count(&METHODS[0], 3) else {
            panic!("three arguments to Open are misuse");
        };
        assert!(
            error
                .message
                .contains("Открыть/Open(store, optionsJSON) takes 1 to 2 arguments, 3 given"),
            "{}",
            error.message
        );
        assert!(check_count(&METHODS[0], 1).is_ok());
        assert!(check_count(&METHODS[3], 0).is_ok());
    }
}
