//! Python objects <-> the JSON of the operation contract.
//!
//! The core speaks JSON with money and points as decimal strings, dates as `YYYY-MM-DD`
//! and instants as RFC 3339. This module turns those into `decimal.Decimal`,
//! `datetime.date` and timezone-aware `datetime.datetime` (UTC) and back, using pyo3's
//! `rust_decimal` and `chrono` conversions.
//!
//! Which strings are money, points, dates or instants is known from the field names of
//! the core's result types (tables in [`crate::fields`]); nothing is guessed from the
//! look of a value, so a card number or a phone stays a `str`.
//!
//! Inputs: `Decimal`, `int` and `str` are accepted for money and points; `float` is
//! refused everywhere (a `TypeError` naming the field), as are naive datetimes.

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use pitstop_core::json::{FieldKind as Kind, field_kind as kind_of};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString,
    PyTuple, PyType,
};
use rust_decimal::Decimal;
use serde_json::{Map, Number, Value};
use std::str::FromStr;

/// Deepest nesting of an argument (a cycle or a runaway structure is refused, not recursed).
pub const DEPTH_MAX: usize = 64;

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static PATH_LIKE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static MAPPING: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DECIMAL.import(py, "decimal", "Decimal")
}

fn utc(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    UTC.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("datetime")?
                .getattr("timezone")?
                .getattr("utc")?
                .unbind(),
        )
    })
    .map(|utc| utc.bind(py))
}

/// Convert operation arguments (`None` is `{}`) to JSON. Their shape is the core's to
/// judge: anything but a mapping gets its `invalid_request`.
pub fn arguments(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Value> {
    match obj {
        Some(obj) if !obj.is_none() => to_json(obj),
        _ => Ok(Value::Object(Map::new())),
    }
}

/// Convert any supported Python value to JSON.
pub fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_json_at(obj, &mut Vec::new(), 0)
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|name| name.to_string())
        .unwrap_or_else(|_| "object".to_owned())
}

/// The recursive worker: `path` holds owned steps so messages can name the field.
fn to_json_at(obj: &Bound<'_, PyAny>, path: &mut Vec<OwnedStep>, depth: usize) -> PyResult<Value> {
    if depth > DEPTH_MAX {
        return Err(PyValueError::new_err(format!(
            "{}: nested deeper than {DEPTH_MAX} levels",
            describe(path)
        )));
    }
    match scalar_in(obj, path)? {
        Some(value) => Ok(value),
        None => container_in(obj, path, depth),
    }
}

/// A value that holds no other: `None`, bool, int, Decimal, str, date, datetime, bytes;
/// `None` (Rust's) when `obj` is none of them.
fn scalar_in(obj: &Bound<'_, PyAny>, path: &[OwnedStep]) -> PyResult<Option<Value>> {
    let py = obj.py();
    if obj.is_none() {
        return Ok(Some(Value::Null));
    }
    if let Ok(flag) = obj.cast::<PyBool>() {
        return Ok(Some(Value::Bool(flag.is_true())));
    }
    if obj.is_instance_of::<PyInt>() {
        return int_in(obj, path).map(Some);
    }
    if obj.is_instance_of::<PyFloat>() {
        return Err(PyTypeError::new_err(format!(
            "{}: float {} is not accepted: Pitstop keeps money, points and quantities exact; \
             pass decimal.Decimal, int or str",
            describe(path),
            obj.repr()?
        )));
    }
    if obj.is_instance(decimal_type(py)?)? {
        return decimal_in(obj, path).map(|text| Some(Value::String(text)));
    }
    if let Ok(text) = obj.cast::<PyString>() {
        return Ok(Some(Value::String(text.to_cow()?.into_owned())));
    }
    // A datetime is also a date: look at it first.
    if obj.is_instance_of::<PyDateTime>() {
        return instant_in(obj, path).map(|text| Some(Value::String(text)));
    }
    if obj.is_instance_of::<PyDate>() {
        let date: NaiveDate = obj.extract()?;
        return Ok(Some(Value::String(date.format("%Y-%m-%d").to_string())));
    }
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        let text = base64::engine::general_purpose::STANDARD.encode(bytes.as_bytes());
        return Ok(Some(Value::String(text)));
    }
    if let Ok(bytes) = obj.cast::<PyByteArray>() {
        let text = base64::engine::general_purpose::STANDARD.encode(bytes.to_vec());
        return Ok(Some(Value::String(text)));
    }
    Ok(None)
}

/// An int: a decimal string under a decimal field (`qty=3`), else a JSON number.
fn int_in(obj: &Bound<'_, PyAny>, path: &[OwnedStep]) -> PyResult<Value> {
    if field_kind(path) == Kind::Decimal {
        return Ok(Value::String(obj.str()?.to_cow()?.into_owned()));
    }
    if let Ok(number) = obj.extract::<i64>() {
        return Ok(Value::Number(number.into()));
    }
    if let Ok(number) = obj.extract::<u64>() {
        return Ok(Value::Number(number.into()));
    }
    Err(PyValueError::new_err(format!(
        "{}: integer {} is out of range",
        describe(path),
        obj.str()?
    )))
}

/// A value that holds others (dict, list, tuple, any Mapping) or a path.
fn container_in(
    obj: &Bound<'_, PyAny>,
    path: &mut Vec<OwnedStep>,
    depth: usize,
) -> PyResult<Value> {
    let py = obj.py();
    if let Ok(dict) = obj.cast::<PyDict>() {
        return mapping_in(dict.items().iter(), path, depth);
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for (index, item) in obj.try_iter()?.enumerate() {
            path.push(OwnedStep::Index(index));
            let value = to_json_at(&item?, path, depth + 1);
            path.pop();
            items.push(value?);
        }
        return Ok(Value::Array(items));
    }
    let path_like = PATH_LIKE.import(py, "os", "PathLike")?;
    if obj.is_instance(path_like)? {
        let text = py.import("os")?.call_method1("fsdecode", (obj,))?;
        return Ok(Value::String(text.extract()?));
    }
    let mapping = MAPPING.import(py, "collections.abc", "Mapping")?;
    if obj.is_instance(mapping)? {
        let items = obj.call_method0("items")?;
        let mut pairs = Vec::new();
        for pair in items.try_iter()? {
            pairs.push(pair?);
        }
        return mapping_in(pairs.into_iter(), path, depth);
    }
    Err(PyTypeError::new_err(format!(
        "{}: {} cannot be sent to Pitstop (use str, int, Decimal, bool, None, date, \
         aware datetime, bytes, list or dict)",
        describe(path),
        type_name(obj)
    )))
}

fn mapping_in<'py>(
    pairs: impl Iterator<Item = Bound<'py, PyAny>>,
    path: &mut Vec<OwnedStep>,
    depth: usize,
) -> PyResult<Value> {
    let mut map = Map::new();
    for pair in pairs {
        let (key, value): (Bound<'py, PyAny>, Bound<'py, PyAny>) = pair.extract()?;
        let Ok(key) = key.cast::<PyString>() else {
            return Err(PyTypeError::new_err(format!(
                "{}: keys must be str, not {}",
                describe(path),
                type_name(&key)
            )));
        };
        let key = key.to_cow()?.into_owned();
        path.push(OwnedStep::Key(key.clone()));
        let converted = to_json_at(&value, path, depth + 1);
        path.pop();
        map.insert(key, converted?);
    }
    Ok(Value::Object(map))
}

fn decimal_in(obj: &Bound<'_, PyAny>, path: &[OwnedStep]) -> PyResult<String> {
    if !obj.call_method0("is_finite")?.extract::<bool>()? {
        return Err(PyValueError::new_err(format!(
            "{}: {} is not a finite number",
            describe(path),
            obj.repr()?
        )));
    }
    let value: Decimal = obj.extract().map_err(|err: PyErr| {
        PyValueError::new_err(format!("{}: {}", describe(path), err.value(obj.py())))
    })?;
    // rust_decimal holds 28 significant digits: refuse anything it would round.
    let back = value.into_pyobject(obj.py())?;
    if !back.eq(obj)? {
        return Err(PyValueError::new_err(format!(
            "{}: {} has more digits than Pitstop keeps exactly",
            describe(path),
            obj.str()?
        )));
    }
    Ok(value.to_string())
}

fn instant_in(obj: &Bound<'_, PyAny>, path: &[OwnedStep]) -> PyResult<String> {
    if obj.call_method0("utcoffset")?.is_none() {
        return Err(PyValueError::new_err(format!(
            "{}: naive datetime {} has no timezone; give it a tzinfo \
             (e.g. datetime.timezone.utc or zoneinfo.ZoneInfo(\"Europe/Moscow\")), \
             or pass a date",
            describe(path),
            obj.str()?
        )));
    }
    let in_utc = obj.call_method1("astimezone", (utc(obj.py())?,))?;
    let instant: DateTime<Utc> = in_utc.extract()?;
    Ok(instant.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// One step of an argument path, owned.
pub enum OwnedStep {
    /// A mapping key.
    Key(String),
    /// A list position.
    Index(usize),
}

fn describe(path: &[OwnedStep]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            OwnedStep::Key(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            OwnedStep::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    if text.is_empty() {
        "args".to_owned()
    } else {
        text
    }
}

/// The kind of the field a value sits in (list items belong to the field holding the list).
fn field_kind(path: &[OwnedStep]) -> Kind {
    let mut names = path.iter().rev().filter_map(|step| match step {
        OwnedStep::Key(key) => Some(key.as_str()),
        OwnedStep::Index(_) => None,
    });
    match names.next() {
        Some(name) => kind_of(names.next(), name),
        None => Kind::Text,
    }
}

/// Convert a JSON result (or error details) to Python objects.
pub fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    out(py, value, None, None)
}

/// `key` is the field holding `value`, `parent` the field holding that object.
fn out<'py>(
    py: Python<'py>,
    value: &Value,
    parent: Option<&str>,
    key: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any(),
        Value::Number(number) => number_out(py, number)?,
        Value::String(text) => {
            let kind = key.map_or(Kind::Text, |key| kind_of(parent, key));
            string_out(py, text, kind)?
        }
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(out(py, item, parent, key)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (name, item) in map {
                dict.set_item(name, out(py, item, key, Some(name))?)?;
            }
            dict.into_any()
        }
    })
}

fn number_out<'py>(py: Python<'py>, number: &Number) -> PyResult<Bound<'py, PyAny>> {
    if let Some(value) = number.as_u64() {
        return Ok(value.into_pyobject(py)?.into_any());
    }
    if let Some(value) = number.as_i64() {
        return Ok(value.into_pyobject(py)?.into_any());
    }
    // The core never writes fractional JSON numbers; if one appears it stays exact.
    let value = Decimal::from_str(&number.to_string())
        .or_else(|_| Decimal::from_scientific(&number.to_string()))
        .map_err(|err| PyValueError::new_err(format!("number {number}: {err}")))?;
    value.into_pyobject(py)
}

fn string_out<'py>(py: Python<'py>, text: &str, kind: Kind) -> PyResult<Bound<'py, PyAny>> {
    match kind {
        Kind::Decimal => {
            if let Ok(value) = Decimal::from_str(text) {
                return value.into_pyobject(py);
            }
        }
        Kind::Date => {
            if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                return date.into_pyobject(py).map(|d| d.into_any());
            }
        }
        Kind::Instant => {
            if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
                return instant
                    .with_timezone(&Utc)
                    .into_pyobject(py)
                    .map(|d| d.into_any());
            }
        }
        Kind::Text => {}
    }
    Ok(PyString::new(py, text).into_any())
}
