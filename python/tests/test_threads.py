"""One engine shared by threads: correct results, and the GIL released during core work."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, Dict, List

import pitstop
import wasm
from conftest import at, basket

THREADS = 8
COMMITS = 12


def test_commits_from_many_threads(engine: pitstop.Engine) -> None:
    ids = [
        engine.register_customer(f"Клиент {n}", phone=f"+7916000{n:04d}", at=at("2025-03-01 09:00"))["customer"]["id"]
        for n in range(THREADS)
    ]

    def work(worker: int) -> List[Decimal]:
        accrued = []
        for n in range(COMMITS):
            receipt = engine.commit(
                ids[worker],
                basket(),
                order_id=f"T{worker}-{n}",
                idempotency_key=f"T{worker}-{n}",
                at=at("2025-03-10 10:00"),
            )
            accrued.append(receipt["totals"]["accrual"])
            # Reads in between, from the same engine.
            assert engine.balance(ids[worker], at=at("2025-03-10 10:00"))["customer"] == ids[worker]
        return accrued

    with ThreadPoolExecutor(THREADS) as pool:
        accrued = list(pool.map(work, range(THREADS)))
    for worker, customer in enumerate(ids):
        balance = engine.balance(customer, at=at("2025-03-10 11:00"))
        assert balance["total"] == Decimal("300") + sum(accrued[worker])
        assert engine.get_customer(customer, at=at("2025-03-10 11:00"))["customer"]["visits"] == COMMITS
    report = engine.report("activity", from_=at("2025-03-01 00:00").date(), to=at("2025-03-31 00:00").date())
    assert report[0]["visits"] == THREADS * COMMITS
    assert engine.execute("store.check", {})["problems"] == []


def test_the_gil_is_released_while_the_core_works(engine: pitstop.Engine, customer: int) -> None:
    """A plugin spins until its deadline inside a quote on one thread; meanwhile Python
    code keeps running on this one. Were the GIL held, the counter would stand still."""
    spinner = wasm.plugin(body=wasm.LOOP_FOREVER + wasm.i64_const(0))
    engine.install_plugin("spinner", spinner, limits={"fuel": 2_000_000_000, "time_ms": 400})
    done = threading.Event()
    outcome: Dict[str, Any] = {}

    def quote() -> None:
        started = time.perf_counter()
        outcome["quote"] = engine.quote(customer, basket())
        outcome["seconds"] = time.perf_counter() - started
        done.set()

    worker = threading.Thread(target=quote)
    counted = 0
    worker.start()
    time.sleep(0.05)  # let the quote get into the plugin
    while not done.is_set():
        counted += 1
    worker.join()
    assert outcome["seconds"] >= 0.3
    assert outcome["quote"]["plugins"][0]["status"] == "skipped"
    assert outcome["quote"]["plugins"][0]["error"]["code"] == "plugin_timeout"
    # Millions of iterations in ~0.35 s with the GIL free; a held GIL allows at most a
    # handful of switch intervals' worth before the quote ends.
    assert counted > 100_000, counted


def test_parallel_plugin_calls_overlap(engine: pitstop.Engine, customer: int) -> None:
    """Two quotes whose plugins each spin for 300 ms finish in well under 600 ms."""
    spinner = wasm.plugin(body=wasm.LOOP_FOREVER + wasm.i64_const(0))
    engine.install_plugin("spinner", spinner, limits={"fuel": 2_000_000_000, "time_ms": 300})
    engine.quote(customer, basket())  # compile once, outside the measurement
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        quotes = list(pool.map(lambda _: engine.quote(customer, basket()), range(2)))
    elapsed = time.perf_counter() - started
    assert all(q["plugins"][0]["error"]["code"] == "plugin_timeout" for q in quotes)
    # Serialised by a lock (or the GIL) this would take >= 0.6 s; wall-clock deadlines
    # overlap even on one busy core.
    assert elapsed < 0.55, elapsed


def test_close_while_threads_call(engine: pitstop.Engine, customer: int) -> None:
    errors: List[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                engine.balance(customer)
            except pitstop.Closed:
                return
            except BaseException as err:  # pragma: no cover - reported below
                errors.append(err)
                return

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    engine.close()
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert engine.closed
    # Every handle is gone: the store opens again.
    with pitstop.open(engine.path) as again:
        assert again.get_customer(customer)["customer"]["id"] == customer
