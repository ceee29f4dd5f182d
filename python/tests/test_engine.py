"""Every typed method, and execute() for every operation of the contract."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Dict

import pytest

import pitstop
import wasm
from conftest import CARD, PROGRAM, at, basket


def test_open_is_a_context_manager_that_releases_the_store(store_path: Path) -> None:
    with pitstop.open(store_path) as shop:
        assert not shop.closed
        assert shop.path == str(store_path)
        with pytest.raises(pitstop.Locked):
            pitstop.open(store_path)
    assert shop.closed
    with pytest.raises(pitstop.Closed):
        shop.execute("program.get")
    shop.close()  # twice is harmless
    # The lock went with the engine: the store opens again, with what was written.
    with pitstop.open(store_path) as again:
        again.set_program(PROGRAM)
    with pitstop.open(str(store_path), durability="import", cache_capacity_bytes=8 << 20) as again:
        assert again.execute("program.get")["name"] == PROGRAM["name"]


def test_options_are_checked_by_the_core(store_path: Path) -> None:
    with pytest.raises(pitstop.InvalidArgument, match="cache_capacity_bytes"):
        pitstop.open(store_path, cache_capacity_bytes=10)
    with pytest.raises(pitstop.InvalidArgument, match="durability|unknown"):
        pitstop.open(store_path, durability="sometimes")
    with pytest.raises(pitstop.InvalidArgument, match="unknown field"):
        pitstop.open(store_path, no_such_option=1)


def test_register_get_and_find(engine: pitstop.Engine) -> None:
    registered = engine.register_customer(
        "Смирнов Алексей Петрович",
        phone="8 916 555-12-34",
        email="smirnov@example.com",
        birthday=date(1984, 5, 17),
        card=CARD,
        external_id="1C-000042",
        tags=["oil-club"],
        consents={"sms": True},
        source="referral",
        notes="prefers mornings",
        gender="male",
        at=at("2025-03-01 09:00"),
        idempotency_key="reg-1",
    )
    person = registered["customer"]
    assert person["phone"] == "+79165551234"
    assert person["card"] == CARD and isinstance(person["card"], str)
    assert person["birthday"] == date(1984, 5, 17)
    assert person["registered_at"] == datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert person["consents"][0]["at"] == at("2025-03-01 09:00")
    assert registered["welcome_bonus"] == Decimal("300")
    assert registered["balance"]["available"] == Decimal("300")
    # The same key and arguments: the first result, nothing new.
    again = engine.register_customer(
        "Смирнов Алексей Петрович",
        phone="8 916 555-12-34",
        email="smirnov@example.com",
        birthday=date(1984, 5, 17),
        card=CARD,
        external_id="1C-000042",
        tags=["oil-club"],
        consents={"sms": True},
        source="referral",
        notes="prefers mornings",
        gender="male",
        at=at("2025-03-01 09:00"),
        idempotency_key="reg-1",
    )
    assert again == registered

    ident = person["id"]
    for reference in (ident, {"card": CARD}, {"phone": "+7 (916) 555-12-34"}, {"external_id": "1C-000042"}):
        view = engine.get_customer(reference, at=at("2025-03-02 10:00"))
        assert view["customer"]["id"] == ident
        assert view["balance"]["total"] == Decimal("300")
    engine.register_customer("Смирнова Анна", phone="+79165550000")
    found = engine.find_customers("Смирнов")
    assert [item["full_name"] for item in found["items"]] == ["Смирнов Алексей Петрович", "Смирнова Анна"]
    first = engine.find_customers("смирн", limit=1)
    assert len(first["items"]) == 1 and first["next"]
    second = engine.find_customers("смирн", limit=1, after=first["next"])
    assert second["items"][0]["id"] != first["items"][0]["id"]
    by_card = engine.find_customers(by={"card": CARD})
    assert [item["id"] for item in by_card["items"]] == [ident]


def test_find_duplicates_and_merge_customers(engine: pitstop.Engine) -> None:
    keep = engine.register_customer("Семёнов Игорь", phone="+7 916 123-45-67", at=at("2025-03-01 09:00"))
    gone = engine.register_customer(
        "Семенов Игорь", notes="тел. 8(916)1234567", card=CARD, at=at("2025-03-01 09:00")
    )
    keep_id, gone_id = keep["customer"]["id"], gone["customer"]["id"]
    found = engine.find_duplicates(min_score=Decimal("0.9"))
    [pair] = found["candidates"]
    assert (pair["a"], pair["b"]) == (min(keep_id, gone_id), max(keep_id, gone_id))
    assert isinstance(pair["score"], Decimal) and pair["score"] >= Decimal("0.9")
    assert {r["code"] for r in pair["reasons"]} == {"same_phone", "similar_name_shared_phone"}
    preview = engine.merge_customers(keep_id, gone_id, dry_run=True, at=at("2025-03-02 10:00"))
    assert preview["dry_run"] is True and preview["cards"] == 1
    assert engine.get_customer(gone_id)["customer"]["id"] == gone_id
    merged = engine.merge_customers(keep_id, {"id": gone_id}, at=at("2025-03-02 10:00"))
    assert merged["points"]["points"] == Decimal("300")
    for reference in (gone_id, {"card": CARD}):
        assert engine.get_customer(reference)["customer"]["id"] == keep_id
    assert engine.merge_customers(keep_id, gone_id) == merged
    assert engine.find_duplicates()["candidates"] == []


def test_vehicle_quote_commit_refund(engine: pitstop.Engine, customer: int) -> None:
    view = engine.get_customer({"plate": "O777OO77"})
    car = view["vehicles"][0]
    assert (car["make"], car["model"], car["year"], car["mileage_km"]) == ("Skoda", "Octavia", 2017, 98000)
    assert car["added_at"] == at("2025-03-01 09:05")

    quote = engine.quote({"plate": "O777OO77"}, basket(), redeem="max", at=at("2025-03-10 10:00"))
    assert quote["totals"]["gross"] == Decimal("9155.00")
    assert quote["redemption"]["applied"] == Decimal("300")
    assert [line["net"] for line in quote["lines"]] == [Decimal("4500.00"), Decimal("4005.00"), Decimal("650.00")]

    receipt = engine.commit(
        {"plate": "O777OO77"},
        basket(),
        redeem="max",
        vehicle={"plate": "O777OO77"},
        mileage=105200,
        order_id="ЗН-000123",
        idempotency_key="pos1-ЗН-000123",
        at=at("2025-03-10 10:05"),
    )
    # What the cashier was quoted is what was committed.
    assert receipt["totals"] == quote["totals"]
    assert receipt["order_id"] == "ЗН-000123"
    retry = engine.commit(
        {"plate": "O777OO77"},
        basket(),
        redeem="max",
        vehicle={"plate": "O777OO77"},
        mileage=105200,
        order_id="ЗН-000123",
        idempotency_key="pos1-ЗН-000123",
        at=at("2025-03-10 10:05"),
    )
    assert retry == receipt
    assert engine.get_customer(customer)["customer"]["visits"] == 1

    refund = engine.refund("ЗН-000123", lines=[{"line": 2}], reason="не подошёл", at=at("2025-03-11 12:00"))
    assert refund["refund"]["money"] == Decimal("650.00")
    assert refund["refund"]["lines"] == [[2, Decimal("1")]]
    visit = engine.execute("visit.get", {"order_id": "ЗН-000123"})
    assert visit["lines"][2]["refunded_qty"] == Decimal("1")
    assert visit["date"] == date(2025, 3, 10)


def test_balance_statement_adjust_daily(engine: pitstop.Engine, customer: int) -> None:
    engine.commit(customer, basket(), order_id="A-1", at=at("2025-03-10 10:05"))
    balance = engine.balance({"card": CARD}, at=at("2025-03-11 12:00"))
    assert balance["total"] == balance["available"] + balance["pending"] + balance["held"]
    assert balance["next_expiries"][0]["date"] == date(2025, 5, 30)

    changed = engine.adjust(
        customer, Decimal("-50"), reason="ошибка кассира", operator="Иванова", idempotency_key="adj-1", at=at("2025-03-12 10:00")
    )
    assert changed["entries"][0]["amount"] == Decimal("-50")
    assert changed["balance"]["total"] == balance["total"] - 50
    credit = engine.adjust(
        customer, "12", reason="goodwill", operator="Иванова", expiry_days=30, at=at("2025-03-12 11:00")
    )
    assert credit["balance"]["total"] == balance["total"] - 38

    statement = engine.statement(customer, limit=2)
    assert [entry["amount"] for entry in statement["entries"]] == [Decimal("12"), Decimal("-50")]
    assert statement["next_before"] is not None
    older = engine.statement(customer, before=statement["next_before"])
    assert {entry["kind"] for entry in older["entries"]} >= {"welcome", "accrual"}
    assert all(isinstance(entry["at"], datetime) and entry["at"].tzinfo for entry in older["entries"])

    # Long after every expiry date: the daily job burns what is left.
    daily = engine.daily(date(2027, 1, 1))
    assert daily["date"] == date(2027, 1, 1)
    assert daily["points_expired"] == balance["total"] - 38
    assert engine.balance(customer)["total"] == 0
    with pytest.raises(TypeError):
        engine.daily(datetime(2027, 1, 2, tzinfo=timezone.utc))


def test_plugins_install_list_disable_enable_remove(engine: pitstop.Engine, customer: int) -> None:
    ten_percent = wasm.plugin(b'{"effects":[{"type":"line_discount","line":0,"percent":"10","reason":"week"}]}')
    installed = engine.install_plugin("labour-week", ten_percent, config={"percent": Decimal("10")}, priority=5)
    assert installed["name"] == "labour-week"
    assert installed["config"] == {"percent": Decimal("10")}
    listed = engine.plugins()
    assert [(p["name"], p["enabled"], p["hooks"]) for p in listed] == [("labour-week", True, ["checkout"])]
    assert isinstance(listed[0]["installed_at"], datetime)

    quote = engine.quote(customer, basket())
    assert quote["lines"][0]["discount"] == Decimal("450.00")
    assert quote["plugins"][0]["effects"][0]["line_discount"]["applied"] == Decimal("450.00")

    engine.disable_plugin("labour-week")
    assert engine.quote(customer, basket())["lines"][0]["discount"] == Decimal("0.00")
    engine.enable_plugin("labour-week")
    assert engine.quote(customer, basket())["lines"][0]["discount"] == Decimal("450.00")
    removed = engine.remove_plugin("labour-week")
    assert removed["removed"] == "labour-week"
    assert engine.plugins() == []


def test_plugin_from_a_path(engine: pitstop.Engine, tmp_path: Path) -> None:
    module = tmp_path / "module.wasm"
    module.write_bytes(wasm.plugin(b'{"effects":[]}'))
    assert engine.install_plugin("from-file", module)["name"] == "from-file"
    assert engine.install_plugin("from-str", str(module), enabled=False)["enabled"] is False


def test_reports(engine: pitstop.Engine, customer: int) -> None:
    engine.commit(customer, basket(), order_id="A-1", redeem="max", at=at("2025-03-10 10:05"))
    engine.commit(customer, basket()[:1], order_id="A-2", at=at("2025-04-02 10:05"))
    activity = engine.report("activity", from_=date(2025, 3, 1), to=date(2025, 4, 30))
    assert isinstance(activity, pitstop.Report) and isinstance(activity, list)
    assert [row["month"] for row in activity] == ["2025-03", "2025-04"]
    march, april = activity
    assert (march["customers"], march["new_customers"], april["returning_customers"]) == (1, 1, 1)
    assert march["revenue"] == Decimal("9155.00")
    assert april["average_check"] == Decimal("4500.00")
    assert activity.summary["from"] == date(2025, 3, 1)
    assert activity.summary["total"]["visits"] == 2
    assert activity.summary["total"]["revenue"] == Decimal("13655.00")

    points = engine.report("points")
    assert len(points) == 1
    (row,) = points
    assert row["outstanding"] == row["issued"] - row["redeemed"] - row["expired"]
    assert row["liability"] == Decimal(row["outstanding"]).quantize(Decimal("0.01"))
    assert row["currency"] == "RUB"
    # The same operation through execute().
    assert engine.execute("report.points", {}) == row

    page = engine.dashboard(from_=date(2025, 3, 1), to=date(2025, 4, 30))
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert 'data-chart="revenue"' in page and "мар\u00a02025" in page
    assert f"<td>13\u00a0655,00\u00a0₽</td>" in page  # the total revenue, Russian style


def test_simulate_program(engine: pitstop.Engine, customer: int) -> None:
    labour = [{"sku": "TO-1", "name": "ТО-1", "kind": "labor", "qty": 1, "unit_price": Decimal("4000")}]
    engine.commit(customer, labour, order_id="S-1", at=at("2025-03-10 10:05"))
    engine.commit(customer, labour, order_id="S-2", at=at("2025-04-10 10:05"))
    proposed = {**PROGRAM, "accrual": {**PROGRAM["accrual"], "rate_by_kind": {"labor": "14", "part": "3"}}}
    result = engine.simulate_program(proposed, date(2025, 3, 2), date(2025, 4, 30))
    # 7% of 4000 twice against 14%; the welcome bonus of 2025-03-01 is carried in.
    assert result["in_force"]["issued"] == Decimal("560")
    assert result["proposed"]["issued"] == Decimal("1120")
    assert result["actual"]["issued"] == Decimal("560")
    assert result["proposed"]["liability_start"] == Decimal("300")
    assert result["from"] == date(2025, 3, 2)
    (change,) = result["changes"]
    assert change["customer"] == customer and change["change"] == Decimal("560")
    assert "same visits" in result["assumption"]
    # Nothing was written.
    assert engine.balance(customer, at=at("2025-04-30 12:00"))["total"] == Decimal("860")
    assert len(engine.statement(customer)["entries"]) == 3
    with pytest.raises(pitstop.InvalidProgram):
        engine.simulate_program({"name": "x", "accrual": {"rate_percent": "-5"}}, date(2025, 3, 2), date(2025, 4, 30))


def test_to_pandas_when_installed(engine: pitstop.Engine, customer: int) -> None:
    pandas = pytest.importorskip("pandas")
    engine.commit(customer, basket(), order_id="A-1", at=at("2025-03-10 10:05"))
    frame = pitstop.to_pandas(engine.report("activity", from_=date(2025, 3, 1), to=date(2025, 3, 31)))
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame["month"]) == ["2025-03"]
    assert frame["revenue"][0] == Decimal("9155.00") and isinstance(frame["revenue"][0], Decimal)


def test_to_pandas_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        pitstop.to_pandas([{"a": 1}])


# --- execute(): every operation of the contract -------------------------------------------

HOLD: Dict[str, Any] = {}

# The programme of the table: the conftest one with referral, feedback bonus and reminders.
GROWTH_PROGRAM: Dict[str, Any] = {
    **PROGRAM,
    "referral": {"min_first_visit": 3000, "referrer_points": 500, "referee_points": "300"},
    "feedback": {"bonus_points": 50},
    "reminders": {
        "window_days": 14,
        "recommendation_after_days": 30,
        "order_arrived": True,
        "quality_call": {"after_days_min": 2, "after_days_max": 3},
    },
}


def _args(
    engine: pitstop.Engine, customer: int, tmp: Path, results: Dict[str, Any]
) -> Dict[str, Callable[[], Dict[str, Any]]]:
    """Arguments for each operation, in an order that makes every call succeed; a lambda
    may read the results of the operations before it."""
    lines = basket()
    module = wasm.plugin(b'{"effects":[]}')
    return {
        "program.set": lambda: {"program": GROWTH_PROGRAM},
        "program.get": lambda: {},
        "program.simulate": lambda: {"program": PROGRAM, "from": date(2025, 3, 1), "to": date(2025, 3, 31)},
        "referral.code": lambda: {"customer": {"id": customer}},
        "customer.register": lambda: {
            "full_name": "Петров Пётр",
            "phone": "+79031112233",
            "issue_card": True,
            "referral_code": results["referral.code"]["code"].lower(),
            "at": at("2025-03-02 09:00"),
        },
        "customer.get": lambda: {"customer": {"id": customer}},
        "customer.find": lambda: {"query": "Петров"},
        "customer.update": lambda: {"customer": {"id": customer}, "notes": "VIP", "add_tags": ["taxi"]},
        "card.issue": lambda: {"customer": {"phone": "+79031112233"}, "replace": True},
        "card.block": lambda: {"card": CARD, "reason": "утеряна", "reissue": True},
        "vehicle.add": lambda: {"customer": {"id": customer}, "plate": "А123ВС77", "make": "Lada", "model": "Vesta"},
        "vehicle.mileage": lambda: {"vehicle": {"plate": "А123ВС77"}, "km": 51000},
        "vehicle.get": lambda: {"vehicle": {"plate": "А123ВС77"}},
        "checkout.quote": lambda: {"customer": {"id": customer}, "lines": lines},
        "checkout.commit": lambda: {
            "customer": {"id": customer},
            "vehicle": {"plate": "O777OO77"},
            "lines": lines,
            "order_id": "Z-1",
            "advisor": "Иванов",
            "at": at("2025-03-10 10:05"),
        },
        "visit.get": lambda: {"order_id": "Z-1"},
        "visit.list": lambda: {"customer": {"id": customer}},
        "visit.import": lambda: {
            "visits": [{"order_id": "H-1", "customer": {"id": customer}, "date": date(2024, 5, 1), "lines": lines}]
        },
        "visit.export": lambda: {"limit": 10},
        "customer.list": lambda: {"limit": 10},
        "ledger.export": lambda: {"after": {"customer": customer, "seq": 1}},
        # Bringing customers back: the defect sheet, storage, an order, reminders, feedback.
        "recommendation.add": lambda: {
            "order_id": "Z-1",
            "work": "Замена передних тормозных колодок",
            "urgency": "critical",
            "price": 4200,
            "at": at("2025-03-10 10:10"),
        },
        "recommendation.list": lambda: {"customer": {"id": customer}, "open_only": True},
        "storage.checkin": lambda: {
            "customer": {"id": customer},
            "vehicle": {"plate": "O777OO77"},
            "items": ["Nokian Hakkapeliitta 9 205/55 R16 ×4"],
            "location": "Стеллаж 3",
            "season": "winter",
            "at": at("2025-04-05 10:00"),
        },
        "storage.list": lambda: {"customer": {"id": customer}, "active_only": True},
        "order.create": lambda: {
            "customer": {"id": customer},
            "part": "Колодки TRW GDB1550",
            "sku": "GDB1550",
            "qty": 2,
            "expected": date(2025, 4, 15),
            "at": at("2025-04-08 10:00"),
        },
        "order.arrived": lambda: {"id": results["order.create"]["id"], "at": at("2025-04-14 08:00")},
        "order.list": lambda: {"status": "arrived"},
        "reminders.due": lambda: {
            "date": date(2025, 4, 15),
            "channel": "sms",
            "customer": {"id": customer},
            "limit": 100,
        },
        "reminders.mark": lambda: {
            "id": f"order_arrived:{results['order.create']['id']}",
            "status": "sent",
            "channel": "sms",
            "at": at("2025-04-15 09:30"),
        },
        "recommendation.close": lambda: {
            "id": results["recommendation.add"]["id"],
            "outcome": "done_elsewhere",
            "at": at("2025-04-20 10:00"),
        },
        "storage.checkout": lambda: {"id": results["storage.checkin"]["id"], "at": at("2025-10-20 10:00")},
        "order.handed_over": lambda: {"id": results["order.create"]["id"], "at": at("2025-04-16 10:00")},
        "feedback.add": lambda: {
            "order_id": "Z-1",
            "rating": 4,
            "kind": "review",
            "text": "Хорошо, но долго",
            "at": at("2025-03-12 15:00"),
        },
        "report.complaints": lambda: {"from": date(2025, 1, 1), "to": date(2025, 12, 31)},
        # Growth: segments, a campaign, referrals, personal data.
        "segment.save": lambda: {
            "name": "Шкоды с SMS",
            "filter": {"makes": ["Skoda"], "consent": "sms", "spend_min": 1000, "last_visit_after": date(2025, 1, 1)},
        },
        "segment.list": lambda: {},
        "segment.preview": lambda: {"name": "Шкоды с SMS", "limit": 10, "at": at("2025-03-25 10:00")},
        "campaign.create": lambda: {
            "name": "Весенний шиномонтаж",
            "period": {"from": date(2025, 4, 1), "to": date(2025, 4, 30)},
            "channel": "sms",
            "budget": 5000,
            "segment": "Шкоды с SMS",
            "offer": {"text": "Шиномонтаж −15 %", "points": 100},
            "at": at("2025-03-25 10:00"),
        },
        "campaign.notify": lambda: {"campaign": results["campaign.create"]["id"], "at": at("2025-04-01 07:00")},
        "campaign.report": lambda: {"name": "весенний шиномонтаж"},
        "campaign.list": lambda: {"limit": 10},
        "report.referrals": lambda: {"limit": 10},
        "customer.export": lambda: {"customer": {"id": customer}},
        "customer.erase": lambda: {"customer": {"phone": "+79031112233"}, "reason": "заявление № 15"},
        "checkout.refund": lambda: {"order_id": "Z-1", "lines": [{"line": 1, "qty": Decimal("0.5")}]},
        "points.balance": lambda: {"customer": {"id": customer}},
        "points.statement": lambda: {"customer": {"id": customer}},
        "points.adjust": lambda: {"customer": {"id": customer}, "points": 100, "reason": "r", "operator": "o"},
        "points.hold": lambda: {"customer": {"id": customer}, "points": "40", "reference": "Z-2"},
        "points.capture": lambda: {"hold": HOLD["id"], "points": 15},
        "points.release": lambda: {"hold": HOLD["second"]},
        "plugin.install": lambda: {"name": "p", "wasm": module},
        "plugin.list": lambda: {},
        "plugin.disable": lambda: {"name": "p"},
        "plugin.enable": lambda: {"name": "p"},
        "plugin.remove": lambda: {"name": "p"},
        "jobs.daily": lambda: {"date": date(2030, 1, 1)},
        "report.activity": lambda: {"from": date(2025, 1, 1), "to": date(2034, 12, 31)},
        "report.points": lambda: {},
        "report.dashboard": lambda: {"from": date(2025, 1, 1), "to": date(2025, 12, 31)},
        "report.customers": lambda: {"from": date(2025, 1, 1), "to": date(2025, 12, 31)},
        "report.pareto": lambda: {"from": date(2025, 1, 1), "to": date(2025, 12, 31)},
        "report.lapsed": lambda: {"from": date(2025, 1, 1), "to": date(2025, 12, 31)},
        "report.tiers": lambda: {"from": date(2025, 1, 1), "to": date(2025, 12, 31)},
        "report.cohorts": lambda: {"from": date(2025, 1, 1), "to": date(2025, 12, 31)},
        "report.changes": lambda: {"from": date(2025, 1, 1), "to": date(2025, 12, 31)},
        "report.sources": lambda: {"from": date(2025, 1, 1), "to": date(2025, 12, 31)},
        "report.points_monthly": lambda: {"from": date(2025, 1, 1), "to": date(2025, 12, 31)},
        "report.services": lambda: {"from": date(2025, 1, 1), "to": date(2025, 12, 31)},
        "report.birthdays": lambda: {"from": date(2025, 12, 1), "to": date(2026, 1, 31)},
        "catalog.duplicates": lambda: {"from": date(2025, 1, 1), "to": date(2025, 12, 31)},
        "catalog.alias": lambda: {"name": "Замена масла в двигателе", "aliases": ["Масло моторное — замена"]},
        "catalog.aliases": lambda: {"limit": 10},
        "catalog.unalias": lambda: {"name": "Масло моторное — замена"},
        "report.completeness": lambda: {"top": 10},
        "store.backup": lambda: {"path": tmp / "backup.bin"},
        "store.check": lambda: {},
        "store.stats": lambda: {},
        "store.rebuild_aggregates": lambda: {},
        # Duplicate customers: a second record of a new customer, dismissed, then previewed.
        "customer.duplicates": lambda: {"min_score": "0.5"},
        "customer.distinct": lambda: {
            "a": {"id": customer},
            "b": {"id": engine.execute("customer.register", {"full_name": "Сидоров Олег", "phone": "+79035550011"})["customer"]["id"]},
        },
        "customer.merge": lambda: {"keep": {"id": customer}, "merge": {"phone": "+79035550011"}, "dry_run": True},
    }


def test_execute_reaches_every_operation(engine: pitstop.Engine, customer: int, tmp_path: Path) -> None:
    results: Dict[str, Any] = {}
    table = _args(engine, customer, tmp_path, results)
    names = [name for name, _, _ in pitstop.operations()]
    assert sorted(table) == sorted(names), "every operation of the contract has a call here"
    for name in table:
        if name == "points.release":
            HOLD["second"] = engine.execute("points.hold", {"customer": {"id": customer}, "points": 5})["hold"]["id"]
        results[name] = engine.execute(name, table[name]())
        if name == "points.hold":
            HOLD["id"] = results[name]["hold"]["id"]
        assert isinstance(results[name], (dict, list)), name
    assert results["store.check"]["problems"] == [] and results["store.check"]["accounts"] == 2
    assert results["store.check"]["aggregates"] == "verified"
    assert results["store.rebuild_aggregates"]["customers"] >= 1
    assert results["checkout.refund"]["refund"]["lines"] == [[1, Decimal("0.5")]]
    assert results["points.capture"]["hold"]["captured"] == Decimal("15")
    assert results["card.block"]["new_card"]["number"] != CARD
    assert results["store.backup"]["records"] > 0
    assert results["report.dashboard"]["from"] == date(2025, 1, 1)
    assert results["report.dashboard"]["html"].startswith("<!DOCTYPE html>")
    mutating = {name for name, mutates, _ in pitstop.operations() if mutates}
    assert {"checkout.commit", "points.adjust", "plugin.install", "customer.erase", "reminders.mark"} <= mutating
    assert not {"report.points", "reminders.due", "customer.export", "campaign.report"} & mutating

    # The new operations, typed: money and points as Decimal, days as date.
    code = results["referral.code"]["code"]
    assert results["customer.register"]["customer"]["id"] != customer
    (recommendation,) = results["recommendation.list"]
    assert recommendation["price"] == Decimal("4200") and recommendation["date"] == date(2025, 3, 10)
    assert results["recommendation.close"]["closed_on"] == date(2025, 4, 20)
    (stored,) = results["storage.list"]["items"]
    assert stored["checked_in"] == date(2025, 4, 5) and stored["checked_out"] is None
    assert results["storage.checkout"]["checked_out"] == date(2025, 10, 20)
    order = results["order.create"]
    assert (order["qty"], order["expected"], order["ordered_on"]) == (Decimal("2"), date(2025, 4, 15), date(2025, 4, 8))
    assert results["order.arrived"]["arrived_on"] == date(2025, 4, 14)
    assert [item["id"] for item in results["order.list"]["items"]] == [order["id"]]
    assert results["order.handed_over"]["handed_over_on"] == date(2025, 4, 16)
    due = {item["kind"]: item for item in results["reminders.due"]["items"]}
    assert sorted(due) == ["order_arrived", "recommendation"], results["reminders.due"]
    assert due["order_arrived"]["due_on"] == date(2025, 4, 14)
    assert due["order_arrived"]["details"]["qty"] == Decimal("2")
    assert due["order_arrived"]["details"]["arrived_on"] == date(2025, 4, 14)
    assert due["recommendation"]["due_on"] == date(2025, 4, 9)
    assert due["recommendation"]["details"]["price"] == Decimal("4200")
    assert due["recommendation"]["details"]["recommended_on"] == date(2025, 3, 10)
    assert all(item["channels"] == ["sms"] and item["customer"] == customer for item in due.values())
    assert results["reminders.mark"]["status"] == "sent"
    assert results["reminders.mark"]["date"] == date(2025, 4, 15)
    assert results["feedback.add"]["bonus"] == Decimal("50")
    assert results["feedback.add"]["feedback"]["employee"] == "Иванов"
    complaints = results["report.complaints"]
    assert complaints["complaints"] == 0 and complaints["by_employee"][0]["average_rating"] == Decimal("4")
    assert results["segment.preview"]["items"][0]["id"] == customer
    assert results["segment.list"][0]["filter"]["spend_min"] == Decimal("1000")
    assert results["campaign.create"]["budget"] == Decimal("5000")
    assert results["campaign.create"]["period"]["from"] == date(2025, 4, 1)
    assert results["campaign.notify"]["notified"] == [customer] and results["campaign.notify"]["points"] == Decimal("100")
    (listed,) = results["campaign.list"]["items"]
    assert listed["name"] == "Весенний шиномонтаж" and listed["budget"] == Decimal("5000.00")
    assert listed["period"] == {"from": date(2025, 4, 1), "to": date(2025, 4, 30)} and listed["channel"] == "sms"
    assert results["campaign.list"]["next"] is None
    report = results["campaign.report"]
    assert report["campaign"]["id"] == results["campaign.create"]["id"]
    assert (report["notified"], report["came"], report["visits"]) == (1, 0, 0)
    assert (report["budget"], report["points_spent"], report["cost_per_customer"]) == (Decimal("5000"), Decimal("100"), None)
    (referral,) = results["report.referrals"]["rows"]
    assert referral["referrer"] == customer and referral["rewarded_referrer"] == Decimal("0")
    export = results["customer.export"]
    assert export["referral"]["code"] == code
    assert results["customer.erase"]["customer"] == results["customer.register"]["customer"]["id"]
    with pytest.raises(pitstop.NotFound):
        engine.execute("customer.get", {"customer": {"phone": "+79031112233"}})


def test_execute_json_is_the_contract_verbatim(engine: pitstop.Engine) -> None:
    reply = json.loads(engine.execute_json('{"op": "program.get", "args": {}}'))
    assert reply["ok"] is True and reply["result"]["accrual"]["rate_percent"] == "5"
    reply = json.loads(engine.execute_json('{"op": "no.such"}'))
    assert reply == {
        "ok": False,
        "error": {"code": "unknown_operation", "message": 'unknown operation "no.such"', "details": reply["error"]["details"]},
    }
    engine.close()
    assert json.loads(engine.execute_json('{"op": "program.get"}'))["error"]["code"] == "closed"
