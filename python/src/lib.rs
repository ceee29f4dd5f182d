//! `pitstop._native`: the pyo3 extension behind the `pitstop` Python package.
//!
//! It only translates: Python arguments to the contract's JSON, one call of
//! [`pitstop_core::Engine::execute`] with the GIL released, the JSON result back to
//! Python objects, and core errors to the exception of their code. Every operation,
//! rule and report lives in `pitstop-core`.

mod convert;
mod engine;
mod errors;

use pitstop_core::OPS;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Every operation of the contract: `(name, changes_state, summary)`.
#[pyfunction]
fn operations() -> Vec<(&'static str, bool, &'static str)> {
    OPS.iter()
        .map(|spec| (spec.name, spec.mutates, spec.summary))
        .collect()
}

#[pymodule]
#[pyo3(name = "_native")]
fn native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("__version__", pitstop_core::VERSION)?;
    module.add_class::<engine::PyEngine>()?;
    module.add_function(wrap_pyfunction!(operations, module)?)?;
    module.add_function(wrap_pyfunction!(engine::restore, module)?)?;
    let classes = errors::classes(py)?;
    module.add("PitstopError", classes.base.bind(py))?;
    let by_code = PyDict::new(py);
    for (code, name, class) in &classes.by_code {
        module.add(name.as_str(), class.bind(py))?;
        by_code.set_item(code.as_str(), class.bind(py))?;
    }
    module.add("ERRORS", by_code)?;
    Ok(())
}
