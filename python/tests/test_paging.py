"""The paging iterators over customer.list, visit.export and ledger.export."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, Iterator, List, Mapping

import pytest

import pitstop
from conftest import at, basket


@pytest.fixture
def shop(engine: pitstop.Engine) -> pitstop.Engine:
    """Seven customers, five with a visit each (so every one has ledger entries)."""
    for n in range(7):
        registered = engine.register_customer(f"Клиент Номер{n}", phone=f"+7916000100{n}", at=at("2025-03-01 09:00"))
        if n < 5:
            engine.commit(registered["customer"]["id"], basket(), order_id=f"P-{n}", at=at("2025-03-02 10:00"))
    return engine


class Counting:
    """Counts the native calls of an engine per operation."""

    def __init__(self, engine: pitstop.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: Dict[str, int] = {}
        call = engine._call

        def counted(op: str, args: Mapping[str, Any]) -> Dict[str, Any]:
            self.calls[op] = self.calls.get(op, 0) + 1
            return call(op, args)

        monkeypatch.setattr(engine, "_call", counted)


def everything(shop: pitstop.Engine, op: str) -> List[Dict[str, Any]]:
    page = shop.execute(op, {"limit": 1000})
    assert page["next_after"] is None or len(page["items"]) == 1000
    items: List[Dict[str, Any]] = page["items"]
    return items


@pytest.mark.parametrize("page_size", [1, 2, 3, 1000])
def test_iterators_give_every_record_once_in_order(shop: pitstop.Engine, page_size: int) -> None:
    customers = list(shop.iter_customers(page_size=page_size))
    assert customers == everything(shop, "customer.list")
    assert [c["id"] for c in customers] == list(range(1, 8))
    visits = list(shop.iter_visits(page_size=page_size))
    assert visits == everything(shop, "visit.export")
    assert [v["order_id"] for v in visits] == [f"P-{n}" for n in range(5)]
    assert all(isinstance(v["totals"]["net"], Decimal) for v in visits)
    ledger = list(shop.iter_ledger(page_size=page_size))
    assert ledger == everything(shop, "ledger.export")
    assert [(e["customer"], e["seq"]) for e in ledger] == sorted((e["customer"], e["seq"]) for e in ledger)
    assert {e["customer"] for e in ledger} == set(range(1, 8))
    assert all(isinstance(e["amount"], Decimal) for e in ledger)


def test_iterators_continue_after_a_cursor(shop: pitstop.Engine) -> None:
    assert [c["id"] for c in shop.iter_customers(after=5, page_size=1)] == [6, 7]
    assert [v["order_id"] for v in shop.iter_visits(after=3)] == ["P-3", "P-4"]
    ledger = list(shop.iter_ledger())
    cut = ledger[3]
    rest = list(shop.iter_ledger(after={"customer": cut["customer"], "seq": cut["seq"]}, page_size=2))
    assert rest == ledger[4:]
    assert list(shop.iter_customers(after=7)) == []


def test_pages_are_read_as_the_iterator_advances(shop: pitstop.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    counting = Counting(shop, monkeypatch)
    customers = shop.iter_customers(page_size=2)
    assert counting.calls == {"customer.list": 1}, "the first page is read at the call"
    assert next(customers)["id"] == 1 and next(customers)["id"] == 2
    assert counting.calls == {"customer.list": 1}
    assert next(customers)["id"] == 3
    assert counting.calls == {"customer.list": 2}
    assert [c["id"] for c in customers] == [4, 5, 6, 7]
    # 7 customers in pages of 2: four pages (the core says when it is the last).
    assert counting.calls["customer.list"] == 4


def test_bad_arguments_raise_at_the_call(shop: pitstop.Engine) -> None:
    with pytest.raises(ValueError, match="page_size"):
        shop.iter_customers(page_size=0)
    with pytest.raises(ValueError, match="page_size"):
        shop.iter_visits(page_size=True)
    with pytest.raises(pitstop.InvalidArgument):
        shop.iter_ledger(page_size=1001)
    with pytest.raises(pitstop.InvalidArgument):
        shop.iter_ledger(after={"customer": 1})


def test_a_repeated_cursor_is_an_error_not_a_loop(shop: pitstop.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def stuck(op: str, args: Mapping[str, Any]) -> Dict[str, Any]:
        return {"items": [{"id": 1}], "next_after": 1}

    monkeypatch.setattr(shop, "_call", stuck)
    pages: Iterator[Dict[str, Any]] = shop.iter_visits()
    with pytest.raises(RuntimeError, match="same cursor twice"):
        list(pages)
