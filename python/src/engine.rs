//! `pitstop._native.Engine`: an open store. Decode the arguments, call the core with the
//! GIL released, encode the result. Nothing else happens here.

use crate::{convert, errors};
use pitstop_core::{Engine, EngineOptions, Error, ErrorCode};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;
use std::path::PathBuf;

/// Engine options from a dict of the contract's option names (`None`: the defaults).
pub fn engine_options(
    py: Python<'_>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<EngineOptions> {
    let options = match options {
        Some(options) => convert::to_json(options.as_any())?,
        None => Value::Object(Default::default()),
    };
    EngineOptions::from_json(&options.to_string()).map_err(|err| errors::to_py(py, err))
}

/// Restore a backup file into a new store directory; returns the summary.
#[pyfunction]
#[pyo3(signature = (backup, path, options = None))]
pub fn restore<'py>(
    py: Python<'py>,
    backup: PathBuf,
    path: PathBuf,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let options = engine_options(py, options)?;
    let restored = py.detach(move || Engine::restore(&backup, &path, &options));
    let summary = restored.map_err(|err| errors::to_py(py, err))?;
    let summary = serde_json::to_value(summary)
        .map_err(|err| errors::to_py(py, Error::new(ErrorCode::Internal, err.to_string())))?;
    convert::to_python(py, &summary)
}

/// An open Pitstop store (thread-safe; share it between threads).
#[pyclass(name = "Engine", module = "pitstop._native", frozen)]
pub struct PyEngine {
    /// The engine keeps the closed state itself: after `close()` every call raises
    /// `ClosedError`, and a close waits for the calls in flight (which run without the
    /// GIL, so it never waits for a thread that waits for the GIL).
    engine: Engine,
    path: PathBuf,
}

#[pymethods]
impl PyEngine {
    /// Open (or create) the store at `path`. `options` are the engine options of the
    /// contract: `durability` (`"durable"` or `"import"`), `cache_capacity_bytes`,
    /// `request_bytes_max`, `plugin_cache_dir`, `branch`, `write_ahead_log` (sled: `False`
    /// syncs by flushing sled's pages instead of the store's write-ahead log).
    #[new]
    #[pyo3(signature = (path, options = None))]
    fn new(py: Python<'_>, path: PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let options = match options {
            Some(options) => convert::to_json(options.as_any())?,
            None => Value::Object(Default::default()),
        };
        let options =
            EngineOptions::from_json(&options.to_string()).map_err(|err| errors::to_py(py, err))?;
        let opened = {
            let path = path.clone();
            py.detach(move || Engine::open(&path, options))
        };
        let engine = opened.map_err(|err| errors::to_py(py, err))?;
        Ok(PyEngine { engine, path })
    }

    /// Run one operation of the contract: `args` is a mapping (money as `Decimal`, `int`
    /// or `str`; dates as `date`; instants as aware `datetime`). Returns the result as
    /// plain Python objects; raises the `PitstopError` subclass of the error code.
    #[pyo3(signature = (op, args = None))]
    fn execute<'py>(
        &self,
        py: Python<'py>,
        op: &str,
        args: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = convert::arguments(args)?;
        let engine = &self.engine;
        let outcome = py.detach(move || engine.execute(op, args));
        match outcome {
            Ok(result) => convert::to_python(py, &result),
            Err(err) => Err(errors::to_py(py, err)),
        }
    }

    /// Run one request in the contract's JSON form (`{"op": ..., "args": ...}`) and return
    /// the JSON response text, exactly as the C ABI does.
    fn execute_json(&self, py: Python<'_>, request: &str) -> String {
        let engine = &self.engine;
        py.detach(move || engine.execute_json(request))
    }

    /// Wait for the calls in flight, sync and close the store, releasing its file lock.
    /// Closing twice is harmless.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let engine = &self.engine;
        py.detach(move || engine.close())
            .map_err(|err| errors::to_py(py, err))
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.engine.is_closed()
    }

    /// The store: its directory, or `postgresql://user@host:port/db` (never a password).
    #[getter]
    fn path(&self) -> String {
        Engine::describe_store(&self.path)
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { "closed" } else { "open" };
        format!("<pitstop Engine {} ({state})>", self.path())
    }
}
