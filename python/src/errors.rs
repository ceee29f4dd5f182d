//! The exception hierarchy: `pitstop.PitstopError` and one subclass per core error code
//! (`NotFound`, `InsufficientPoints`, ...), created here from `ErrorCode::ALL` so a new
//! code in the core gets its class without touching the binding.
//!
//! An instance carries `code` (the wire name), `message` and `details` (converted like a
//! result: money as `Decimal`, dates as `date`).

use crate::convert;
use pitstop_core::{Error, ErrorCode};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use std::ffi::CString;

/// The exception classes, created once per interpreter.
pub struct Classes {
    /// `pitstop.PitstopError`.
    pub base: Py<PyType>,
    /// One class per code, in the order of `ErrorCode::ALL`.
    pub by_code: Vec<(ErrorCode, String, Py<PyType>)>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// `not_found` -> `NotFound`, `io` -> `Io`.
pub fn class_name(code: ErrorCode) -> String {
    code.as_str()
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn c_string(text: &str) -> PyResult<CString> {
    CString::new(text).map_err(|err| pyo3::exceptions::PyValueError::new_err(err.to_string()))
}

fn create(py: Python<'_>) -> PyResult<Classes> {
    // Class attributes are set after creation: `PyErr::new_type` (pyo3 0.30) drops its
    // `dict` argument before CPython reads it.
    let base = PyErr::new_type(
        py,
        &c_string("pitstop.PitstopError")?,
        Some(&c_string(
            "Base class of every error Pitstop reports.\n\n\
             Attributes: code (the stable snake_case error code), message (a sentence \
             naming the thing that is wrong), details (structured details or None).",
        )?),
        Some(&py.get_type::<PyException>()),
        None,
    )?;
    base.bind(py).setattr("code", py.None())?;
    base.bind(py).setattr("message", "")?;
    base.bind(py).setattr("details", py.None())?;
    let mut by_code = Vec::with_capacity(ErrorCode::ALL.len());
    for code in ErrorCode::ALL {
        let name = class_name(code);
        let doc = format!("`{}`: {}.", code.as_str(), code.description());
        let class = PyErr::new_type(
            py,
            &c_string(&format!("pitstop.{name}"))?,
            Some(&c_string(&doc)?),
            Some(base.bind(py)),
            None,
        )?;
        class.bind(py).setattr("code", code.as_str())?;
        by_code.push((code, name, class));
    }
    Ok(Classes { base, by_code })
}

/// The classes, created on first use.
pub fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || create(py))
}

/// Turn a core error into the Python exception of its code.
pub fn to_py(py: Python<'_>, error: Error) -> PyErr {
    match build(py, &error) {
        Ok(err) => err,
        Err(err) => err,
    }
}

fn build(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let classes = classes(py)?;
    let class = classes
        .by_code
        .iter()
        .find(|(code, _, _)| *code == error.code)
        .map(|(_, _, class)| class.bind(py))
        .unwrap_or_else(|| classes.base.bind(py));
    let instance = class.call1((error.message.as_str(),))?;
    instance.setattr("code", error.code.as_str())?;
    instance.setattr("message", error.message.as_str())?;
    instance.setattr("details", convert::to_python(py, &error.details)?)?;
    Ok(PyErr::from_value(instance))
}
