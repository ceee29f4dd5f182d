"""The exception hierarchy, and every exception class raised by its real cause."""

from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

import pytest

import pitstop
import wasm
from conftest import CARD, PROGRAM, at, basket

# Every error code of the core, in the order of docs/errors.md.
CODES = [
    "invalid_request",
    "unknown_operation",
    "invalid_argument",
    "not_found",
    "already_exists",
    "insufficient_points",
    "idempotency_conflict",
    "invalid_program",
    "no_program",
    "blocked",
    "refund_exceeds_visit",
    "hold_not_active",
    "too_large",
    "locked",
    "corrupted",
    "unsupported_version",
    "io",
    "closed",
    "plugin_failed",
    "internal",
    "plugin_invalid",
    "plugin_abi_mismatch",
    "plugin_forbidden_import",
    "plugin_trap",
    "plugin_fuel_exhausted",
    "plugin_timeout",
    "plugin_memory_limit",
    "plugin_output_too_large",
    "plugin_bad_output",
    "plugin_invalid_effect",
    "tier_required",
    "unavailable",
    "access_denied",
]


def camel(code: str) -> str:
    return "".join(word.capitalize() for word in code.split("_"))


def test_one_class_per_code_under_pitstop_error() -> None:
    assert list(pitstop.ERRORS) == CODES
    assert issubclass(pitstop.PitstopError, Exception)
    for code, cls in pitstop.ERRORS.items():
        assert cls.__name__ == camel(code)
        assert getattr(pitstop, cls.__name__) is cls
        assert cls.__module__ == "pitstop"
        assert issubclass(cls, pitstop.PitstopError) and cls is not pitstop.PitstopError
        assert cls.code == code
        assert cls.__doc__ and cls.__doc__.startswith(f"`{code}`: ")
    # The documented examples of the issue exist under these names.
    assert pitstop.NotFound.code == "not_found"
    assert pitstop.InsufficientPoints.code == "insufficient_points"
    assert pitstop.IdempotencyConflict.code == "idempotency_conflict"


def test_every_code_has_a_stub() -> None:
    stub = (Path(pitstop.__file__).parent / "_native.pyi").read_text()
    for cls in pitstop.ERRORS.values():
        assert re.search(rf"^class {cls.__name__}\(PitstopError\):", stub, re.M), cls.__name__


# --- causes ------------------------------------------------------------------------------


def plugin_case(module: bytes, **install: Any) -> Callable[[pitstop.Engine, int, Path], Any]:
    """A plugin that fails at checkout, installed with on_error = fail."""

    def cause(engine: pitstop.Engine, customer: int, tmp: Path) -> Any:
        engine.install_plugin("hostile", module, on_error="fail", **install)
        return engine.quote(customer, basket())

    return cause


def install_case(module: bytes) -> Callable[[pitstop.Engine, int, Path], Any]:
    return lambda engine, customer, tmp: engine.install_plugin("refused", module)


def backup_with(tmp: Path, engine: pitstop.Engine, change: Callable[[bytearray], None]) -> Path:
    source = tmp / "good.bin"
    engine.execute("store.backup", {"path": source})
    data = bytearray(source.read_bytes())
    change(data)
    damaged = tmp / "damaged.bin"
    damaged.write_bytes(bytes(data))
    return damaged


def newer_format(data: bytearray) -> None:
    data[15:19] = (3).to_bytes(4, "little")  # after "PITSTOP-BACKUP\n"; this build writes 2


def flip_middle(data: bytearray) -> None:
    data[len(data) // 2] ^= 0xFF


def no_program(engine: pitstop.Engine, customer: int, tmp: Path) -> Any:
    with pitstop.open(tmp / "empty") as empty:
        return empty.register_customer("Иванов Иван")


def closed(engine: pitstop.Engine, customer: int, tmp: Path) -> Any:
    engine.close()
    return engine.balance(customer)


def twice(first: Callable[[pitstop.Engine, int], Any], second: Callable[[pitstop.Engine, int], Any]) -> Callable[[pitstop.Engine, int, Path], Any]:
    def cause(engine: pitstop.Engine, customer: int, tmp: Path) -> Any:
        first(engine, customer)
        return second(engine, customer)

    return cause


def commit(order: str, key: str = "", lines: Any = None) -> Callable[[pitstop.Engine, int], Any]:
    return lambda engine, customer: engine.commit(
        customer, lines or basket(), order_id=order, idempotency_key=key or None, at=at("2025-03-10 10:00")
    )


def hold_capture(engine: pitstop.Engine, customer: int) -> Any:
    held = engine.execute(
        "points.hold", {"customer": {"id": customer}, "points": 10, "at": at("2025-03-02 10:00")}
    )
    return engine.execute("points.release", {"hold": held["hold"]["id"]})


def unreachable_server(engine: pitstop.Engine, customer: int, tmp: Path) -> Any:
    # Nothing listens on port 1: the connection fails fast, within its timeout.
    return pitstop.Engine("postgresql://postgres@127.0.0.1:1/shop?connect_timeout=3")


def wrong_password(engine: pitstop.Engine, customer: int, tmp: Path) -> Any:
    cluster = os.environ.get("PITSTOP_TEST_PG_DIR")
    if not cluster:
        pytest.skip("no PostgreSQL server for the tests (make test starts one)")
    port = (Path(cluster) / "port").read_text().strip()
    return pitstop.Engine(f"postgresql://postgres:wrong@127.0.0.1:{port}/pitstop_test")


def exclusive_line(engine: pitstop.Engine, customer: int, tmp: Path) -> Any:
    """Motul 300V is sold from the gold tier up; the customer has no tier yet."""
    levels = [{"code": "base", "name": "Базовый"}, {"code": "gold", "name": "Золото", "min_spend": 80000}]
    engine.set_program({**PROGRAM, "tiers": {"levels": levels}, "exclusive": [{"sku": "MOTUL-300V*", "min_tier": "gold"}]})
    motul = {"sku": "MOTUL-300V-5W40", "name": "Motul 300V", "kind": "goods", "qty": 4, "unit_price": 2500}
    return engine.quote(customer, [motul], at=at("2025-03-02 10:00"))


CAUSES: Dict[str, Tuple[Callable[[pitstop.Engine, int, Path], Any], str]] = {
    # args that are not an object
    "invalid_request": (lambda e, c, t: e.execute("points.balance", [c]), "JSON object"),  # type: ignore[arg-type]
    "unknown_operation": (lambda e, c, t: e.execute("points.transfer", {}), "points.transfer"),
    "invalid_argument": (lambda e, c, t: e.register_customer("Иванов", phone="12"), "phone"),
    "not_found": (lambda e, c, t: e.balance({"card": "2999999999990"}), "2999999999990"),
    "already_exists": (lambda e, c, t: e.register_customer("Двойник", card=CARD), CARD),
    "insufficient_points": (lambda e, c, t: e.adjust(c, -100000, reason="r", operator="o"), "available"),
    "idempotency_conflict": (twice(commit("A-1", "k-1"), commit("A-2", "k-1")), "k-1"),
    "invalid_program": (lambda e, c, t: e.set_program({**PROGRAM, "timezone": "Mars/Olympus"}), "Mars/Olympus"),
    "no_program": (no_program, "program"),
    "blocked": (
        lambda e, c, t: (e.execute("card.block", {"card": CARD, "reason": "утеряна"}), e.balance({"card": CARD})),
        CARD,
    ),
    "refund_exceeds_visit": (
        twice(commit("A-1"), lambda e, c: [e.refund("A-1"), e.refund("A-1")]),
        "A-1",
    ),
    "hold_not_active": (
        lambda e, c, t: e.execute("points.capture", {"hold": hold_capture(e, c)["hold"]["id"]}),
        "hold",
    ),
    "too_large": (lambda e, c, t: e.register_customer("Я" * 201), "full_name"),
    "locked": (lambda e, c, t: pitstop.open(e.path), "already open"),
    "corrupted": (lambda e, c, t: pitstop.restore(backup_with(t, e, flip_middle), t / "restored"), "damaged"),
    "unsupported_version": (
        lambda e, c, t: pitstop.restore(backup_with(t, e, newer_format), t / "restored"),
        "format 3",
    ),
    "io": (lambda e, c, t: e.execute("store.backup", {"path": t / "no" / "such" / "dir.bin"}), "No such file"),
    "closed": (closed, "closed"),
    "plugin_failed": (plugin_case(wasm.plugin(b'{"error":{"code":"bad_config","message":"percent?"}}')), "bad_config"),
    "plugin_invalid": (install_case(b"\x00asm garbage"), "WebAssembly"),
    "plugin_abi_mismatch": (install_case(wasm.plugin(b"{}", abi=2)), "ABI 2"),
    "plugin_forbidden_import": (
        install_case(wasm.plugin(b"{}", imports=[("wasi_snapshot_preview1", "proc_exit")])),
        "wasi_snapshot_preview1",
    ),
    "plugin_trap": (plugin_case(wasm.plugin(body=wasm.UNREACHABLE)), "unreachable"),
    "plugin_fuel_exhausted": (
        plugin_case(wasm.plugin(body=wasm.LOOP_FOREVER + wasm.i64_const(0)), limits={"fuel": 100_000}),
        "fuel",
    ),
    "plugin_timeout": (
        plugin_case(
            wasm.plugin(body=wasm.LOOP_FOREVER + wasm.i64_const(0)),
            limits={"fuel": 2_000_000_000, "time_ms": 5},
        ),
        "time",
    ),
    "plugin_memory_limit": (plugin_case(wasm.plugin(body=wasm.memory_grow(1000) + wasm.returns(16, 2))), "memory"),
    "plugin_output_too_large": (plugin_case(wasm.plugin(body=wasm.returns(16, 30_000))), "30000"),
    "plugin_bad_output": (plugin_case(wasm.plugin(b"not json")), "output"),
    "plugin_invalid_effect": (
        plugin_case(wasm.plugin(b'{"effects":[{"type":"line_discount","line":7,"percent":"10"}]}')),
        "line 7",
    ),
    "tier_required": (exclusive_line, "MOTUL-300V-5W40"),
    "unavailable": (unreachable_server, "cannot be reached"),
    "access_denied": (wrong_password, "refused the login"),
}

# `internal` is a bug in Pitstop by definition: nothing outside can cause it.
UNCAUSABLE = {"internal"}


def test_every_code_but_internal_has_a_cause() -> None:
    assert set(CAUSES) | UNCAUSABLE == set(CODES)


@pytest.mark.parametrize("code", [code for code in CODES if code not in UNCAUSABLE])
def test_raised_by_its_cause(code: str, engine: pitstop.Engine, customer: int, tmp_path: Path) -> None:
    cause, mentions = CAUSES[code]
    cls = pitstop.ERRORS[code]
    with pytest.raises(cls) as raised:
        cause(engine, customer, tmp_path)
    err = raised.value
    assert type(err) is cls
    assert isinstance(err, pitstop.PitstopError)
    assert err.code == code
    assert err.message and str(err) == err.message
    assert mentions in err.message, err.message
    # Details arrive as Python objects (never a JSON string).
    assert err.details is None or isinstance(err.details, dict)


def test_details_are_typed(engine: pitstop.Engine, customer: int) -> None:
    with pytest.raises(pitstop.InsufficientPoints) as raised:
        engine.adjust(customer, Decimal("-1000"), reason="r", operator="o", at=at("2025-03-02 10:00"))
    details = raised.value.details
    assert details == {"customer": customer, "available": Decimal("300"), "requested": Decimal("1000")}
    assert isinstance(details["available"], Decimal)

    with pytest.raises(pitstop.AlreadyExists) as exists:
        engine.register_customer("Двойник", card=CARD)
    # An identifier stays a string even when it is all digits.
    assert CARD in exists.value.details.values()

    with pytest.raises(pitstop.InvalidProgram) as invalid:
        engine.set_program({**PROGRAM, "timezone": "Mars/Olympus", "redemption": {"cap_percent": "130"}})
    assert len(invalid.value.details["problems"]) == 2


def test_failures_change_nothing_and_the_engine_goes_on(engine: pitstop.Engine, customer: int) -> None:
    before = engine.balance(customer, at=at("2025-03-02 10:00"))
    with pytest.raises(pitstop.PluginTrap):
        plugin_case(wasm.plugin(body=wasm.UNREACHABLE))(engine, customer, Path("."))
    with pytest.raises(pitstop.PluginTrap):
        engine.commit(customer, basket(), order_id="T-1")
    with pytest.raises(pitstop.NotFound):
        engine.execute("visit.get", {"order_id": "T-1"})
    engine.disable_plugin("hostile")
    assert engine.balance(customer, at=at("2025-03-02 10:00")) == before
    assert engine.commit(customer, basket(), order_id="T-1", at=at("2025-03-02 10:00"))["order_id"] == "T-1"


def test_errors_of_the_binding_are_python_errors(engine: pitstop.Engine, customer: int) -> None:
    with pytest.raises(TypeError, match="lines\\[0\\].unit_price: float"):
        engine.quote(customer, [{"sku": "A", "name": "a", "kind": "labor", "qty": 1, "unit_price": 10.5}])
    with pytest.raises(TypeError, match="a reference is an id"):
        engine.balance("2000000000015")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="keys must be str"):
        engine.execute("customer.update", {"customer": {1: "x"}})
    with pytest.raises(TypeError, match="set cannot be sent"):
        engine.execute("customer.update", {"customer": {"id": customer}, "tags": {"a"}})
    with pytest.raises(pitstop.InvalidArgument):
        engine.execute("jobs.daily", {"date": "10.06.2025"})
    # A date is not an instant: the core names the field.
    with pytest.raises(pitstop.InvalidArgument, match="at"):
        engine.execute("points.balance", {"customer": {"id": customer}, "at": date(2025, 3, 1)})
