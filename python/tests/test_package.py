"""What the installed package ships: typing markers, stubs, names, the operation list."""

from __future__ import annotations

import re
from pathlib import Path

import pitstop
from pitstop import _native

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_typed_package_with_stubs() -> None:
    package = Path(pitstop.__file__).parent
    assert (package / "py.typed").exists()
    assert (package / "_native.pyi").exists()
    assert any(path.name.startswith("_native.") and path.suffix in (".so", ".pyd") for path in package.iterdir())


def test_public_names() -> None:
    for name in pitstop.__all__:
        assert hasattr(pitstop, name), name
    assert pitstop.__version__ == _native.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", pitstop.__version__)


def test_operations_are_the_documented_ones() -> None:
    documented = set(re.findall(r"^\| `([a-z]+\.[a-z_]+)` \|", DOCS.read_text(), re.M))
    listed = {name for name, _, _ in pitstop.operations()}
    assert listed == documented
    for name, mutates, summary in pitstop.operations():
        assert isinstance(mutates, bool) and summary, name
