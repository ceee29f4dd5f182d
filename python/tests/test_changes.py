"""Who changed what from Python: ``operator`` on the writing wrappers, typed records of
``report_changes`` across pages, filters, and erasure leaving no personal value."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Dict, List

import pytest

import pitstop
from conftest import PROGRAM, at

PETROVA = "Кассир Петрова"
SOKOLOV = "Управляющий Соколов"


def line(price: int) -> Dict[str, Any]:
    return {"sku": "DIAG", "name": "Диагностика", "kind": "labor", "qty": 1, "unit_price": price}


def test_writers_pass_the_operator_and_the_report_reads_every_page(engine: pitstop.Engine) -> None:
    who = engine.register_customer("Орлов Игорь Петрович", phone="+79161110001", card="2000000000015",
                                   at=at("2025-03-01 09:00"), operator=PETROVA)["customer"]["id"]  # fmt: skip
    engine.adjust(who, 120, reason="перенос баланса", operator=SOKOLOV, at=at("2025-03-02 09:00"))
    receipt = engine.commit(who, [line(3000)], order_id="ЗН-1", at=at("2025-03-03 10:00"), operator=PETROVA)
    engine.refund("ЗН-1", at=at("2025-03-04 10:00"), operator=SOKOLOV)
    engine.set_program({**PROGRAM, "expiry_months": 6}, operator=SOKOLOV)

    march = engine.report_changes(date(2025, 3, 1), date(2025, 3, 31), page_size=1)
    assert isinstance(march, pitstop.Report) and march.name == "changes"
    assert [(r["op"], r["operator"]) for r in march] == [
        ("customer.register", PETROVA),
        ("points.adjust", SOKOLOV),
        ("checkout.commit", PETROVA),
        ("checkout.refund", SOKOLOV),
    ]
    assert all(isinstance(r["at"], datetime) and r["customer"] == who for r in march)
    # Values stay text (a balance, a name, a card number alike); the chain of balances
    # ends where the receipt says the sale left it.
    sale = [c for c in march[2]["changes"] if c["entity"] == "balance"]
    assert all(isinstance(c["after"], str) for c in sale)
    assert Decimal(sale[-1]["after"]) == receipt["balance"]
    adjust = march[1]["changes"]
    assert [(c["field"], Decimal(c["after"]) - Decimal(c["before"])) for c in adjust] == [("adjustment", Decimal(120))]

    by_sokolov = engine.report_changes(date(2025, 3, 1), date(2025, 3, 31), operator=SOKOLOV)
    assert by_sokolov == [r for r in march if r["operator"] == SOKOLOV]
    assert engine.report_changes(date(2025, 3, 1), date(2025, 3, 31), customer=who + 1) == []
    # The programme change was made now: found under today's date in the programme's
    # timezone (Moscow), with no customer. That date may be the machine's tomorrow (after
    # 21:00 UTC), so the range runs from yesterday to tomorrow.
    today = date.today()
    now = engine.report_changes(today - timedelta(days=1), today + timedelta(days=1), operator=SOKOLOV)
    assert [r["op"] for r in now] == ["program.set"]
    assert now[0]["customer"] is None
    assert {"version", "expiry_months"} <= {c["field"] for c in now[0]["changes"]}


def test_a_read_refuses_the_operator_and_an_erasure_scrubs_the_log(engine: pitstop.Engine) -> None:
    who = engine.register_customer("Кузнецова Марина", phone="+79035550102", email="marina@yandex.ru",
                                   birthday=date(1988, 2, 29), at=at("2025-04-01 09:00"), operator=PETROVA)["customer"]["id"]  # fmt: skip
    with pytest.raises(pitstop.PitstopError) as raised:
        engine.execute("points.balance", {"customer": {"id": who}, "operator": PETROVA})
    assert raised.value.code == "invalid_argument"
    engine.execute("customer.erase", {"customer": {"id": who}, "reason": "заявление", "operator": SOKOLOV,
                                      "at": "2025-04-02T09:00:00Z"})  # fmt: skip
    rows: List[Dict[str, Any]] = engine.report_changes(date(2025, 4, 1), date(2025, 4, 30))
    assert [(r["op"], r["operator"]) for r in rows] == [("customer.register", PETROVA), ("customer.erase", SOKOLOV)]
    text = repr(rows)
    for value in ["Кузнецова", "Марина", "+79035550102", "marina@yandex.ru", "1988-02-29"]:
        assert value not in text, value
