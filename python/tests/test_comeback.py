"""The typed shortcuts for bringing customers back: reminders, campaign reports, exports."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import pitstop
from conftest import PROGRAM, at, basket

REMINDING: Dict[str, Any] = {
    **PROGRAM,
    "reminders": {"window_days": 14, "birthday_days_before": 3, "order_arrived": True},
}

# (name, phone, birthday, consents): the birthdays fall on 3..7 June.
PEOPLE = [
    ("Иванов Пётр", "+79160000001", "1990-06-03", {"sms": True}),
    ("Петрова Анна", "+79160000002", "1985-06-04", {"sms": True, "email": True}),
    ("Сидоров Олег", "+79160000003", "1979-06-05", {"email": True}),
    ("Кузнецов Иван", "+79160000004", "1992-06-05", {"sms": True}),
    ("Молчанов Денис", "+79160000005", "1988-06-05", {}),
]


@pytest.fixture
def shop(store_path: Path) -> Iterator[pitstop.Engine]:
    with pitstop.open(store_path) as engine:
        engine.set_program(REMINDING)
        yield engine


@pytest.fixture
def people(shop: pitstop.Engine) -> List[int]:
    ids = []
    for name, phone, birthday, consents in PEOPLE:
        registered = shop.register_customer(
            name, phone=phone, birthday=date.fromisoformat(birthday), consents=consents, at=at("2025-01-10 09:00")
        )
        ids.append(registered["customer"]["id"])
    return ids


def test_reminders_due_reads_every_page(shop: pitstop.Engine, people: List[int]) -> None:
    everyone = shop.reminders_due(date(2025, 6, 3))
    # Molchanov agreed to nothing: he is not listed. Everyone else is, on every channel.
    assert sorted(item["customer"] for item in everyone) == sorted(people[:4])
    assert {item["kind"] for item in everyone} == {"birthday"}
    for item in everyone:
        assert isinstance(item["due_on"], date) and not isinstance(item["due_on"], datetime)
        assert date(2025, 6, 3) <= item["due_on"] <= date(2025, 6, 5)
        assert item["details"]["birthday"] == item["due_on"]
        assert item["id"].startswith("birthday:") and item["text"]
    # One at a time: the same reminders, in the same order, from five calls.
    assert shop.reminders_due(date(2025, 6, 3), page_size=1) == everyone
    assert shop.reminders_due(date(2025, 6, 3), page_size=3) == everyone
    by_sms = shop.reminders_due(date(2025, 6, 3), channel="sms")
    assert sorted(item["customer"] for item in by_sms) == sorted([people[0], people[1], people[3]])
    assert all("sms" in item["channels"] for item in by_sms)
    assert shop.reminders_due(date(2025, 6, 3), kinds=["order_arrived"]) == []
    assert shop.reminders_due(date(2025, 5, 1)) == []
    # One customer's: the same items, by id or by a reference.
    for person in people:
        theirs = [item for item in everyone if item["customer"] == person]
        assert shop.reminders_due(date(2025, 6, 3), customer=person) == theirs
    assert shop.reminders_due(date(2025, 6, 3), customer={"phone": "+79160000002"}) == [
        item for item in everyone if item["customer"] == people[1]
    ]
    with pytest.raises(pitstop.NotFound):
        shop.reminders_due(date(2025, 6, 3), customer={"phone": "+79990000000"})


def test_reminders_due_of_today_and_kinds(shop: pitstop.Engine, people: List[int]) -> None:
    # Without a date: today in the programme's timezone. An order that arrived just now is due.
    order = shop.execute("order.create", {"customer": {"id": people[0]}, "part": "Фильтр салона", "qty": 1})
    shop.execute("order.arrived", {"id": order["id"]})
    today = shop.reminders_due(kinds=["order_arrived"])
    assert [item["id"] for item in today] == [f"order_arrived:{order['id']}"]
    assert today[0]["details"]["qty"] == Decimal("1")
    assert today[0]["due_on"] == today[0]["details"]["arrived_on"]
    assert shop.reminders_due(today[0]["due_on"], ("order_arrived",)) == today


def test_reminders_due_refuses_what_is_not_a_date_or_a_list(shop: pitstop.Engine) -> None:
    with pytest.raises(TypeError, match="takes a date"):
        shop.reminders_due(datetime(2025, 6, 3, tzinfo=timezone.utc))
    with pytest.raises(TypeError, match="list of reminder kinds"):
        shop.reminders_due(date(2025, 6, 3), kinds="birthday")
    with pytest.raises(ValueError, match="page_size"):
        shop.reminders_due(date(2025, 6, 3), page_size=0)
    with pytest.raises(pitstop.InvalidArgument):
        shop.reminders_due(date(2025, 6, 3), kinds=["horoscope"])
    with pytest.raises(pitstop.InvalidArgument):
        shop.reminders_due(date(2025, 6, 3), page_size=501)


def test_mark_reminder(shop: pitstop.Engine, people: List[int]) -> None:
    due = {item["customer"]: item for item in shop.reminders_due(date(2025, 6, 3))}
    ivanov, petrova = due[people[0]], due[people[1]]
    sent = shop.mark_reminder(ivanov["id"], "sent", "sms", at=at("2025-06-03 07:00"))
    assert (sent["id"], sent["status"], sent["channel"]) == (ivanov["id"], "sent", "sms")
    assert sent["at"] == at("2025-06-03 07:00") and sent["date"] == date(2025, 6, 3)
    failed = shop.mark_reminder(petrova["id"], "failed", "sms")
    assert failed["status"] == "failed"
    again = {item["customer"]: item for item in shop.reminders_due(date(2025, 6, 4))}
    # Sent never comes back; failed comes back and says so.
    assert people[0] not in again
    assert again[people[1]]["failed_attempts"] == 1
    with pytest.raises(pitstop.AlreadyExists):
        shop.mark_reminder(ivanov["id"], "declined")
    with pytest.raises(pitstop.InvalidArgument):
        shop.mark_reminder("nonsense", "sent")
    # The same key and arguments: the first result, nothing new.
    declined = shop.mark_reminder(petrova["id"], "declined", idempotency_key="m-1")
    assert shop.mark_reminder(petrova["id"], "declined", idempotency_key="m-1") == declined
    assert people[1] not in {item["customer"] for item in shop.reminders_due(date(2025, 6, 4))}


def test_campaign_report(shop: pitstop.Engine, people: List[int]) -> None:
    campaign = shop.execute(
        "campaign.create",
        {
            "name": "Июньский шиномонтаж",
            "period": {"from": date(2025, 6, 1), "to": date(2025, 6, 30)},
            "channel": "sms",
            "budget": Decimal("3000.00"),
            "customers": [{"id": ident} for ident in people],
            "offer": {"text": "−15 % на шиномонтаж", "points": 100},
            "at": at("2025-05-25 10:00"),
        },
    )
    notified = shop.execute("campaign.notify", {"campaign": campaign["id"], "at": at("2025-06-01 07:00")})
    assert sorted(notified["notified"]) == sorted([people[0], people[1], people[3]])
    assert {skip["customer"] for skip in notified["skipped"]} == {people[2], people[4]}
    shop.commit(people[0], basket(), order_id="C-1", at=at("2025-06-10 10:00"))
    shop.commit(people[2], basket(), order_id="C-2", at=at("2025-06-10 11:00"))  # not notified: not the campaign's

    report = shop.campaign_report(campaign["id"])
    assert report["campaign"]["name"] == "Июньский шиномонтаж"
    assert report["campaign"]["period"] == {"from": date(2025, 6, 1), "to": date(2025, 6, 30)}
    assert (report["notified"], report["came"], report["visits"]) == (3, 1, 1)
    assert report["revenue"] == Decimal("9155.00")
    assert report["budget"] == Decimal("3000.00")
    assert report["cost_per_customer"] == Decimal("3000.00")
    assert report["points_spent"] == Decimal("300")
    assert isinstance(report["conversion"], Decimal) and report["conversion"] * 3 == pytest.approx(Decimal("100"), abs=1)
    # A refund is taken off the revenue.
    shop.refund("C-1", lines=[{"line": 2}], at=at("2025-06-11 10:00"))
    assert shop.campaign_report(campaign["id"])["revenue"] == Decimal("8505.00")
    assert shop.campaign_report(campaign["id"]) == shop.execute("campaign.report", {"campaign": campaign["id"]})
    with pytest.raises(pitstop.NotFound):
        shop.campaign_report(999)
    # By name, in any case: the same report.
    assert shop.campaign_report("июньский ШИНОМОНТАЖ") == shop.campaign_report(campaign["id"])
    with pytest.raises(pitstop.NotFound, match="Летний"):
        shop.campaign_report("Летний")
    with pytest.raises(TypeError, match="campaign's id"):
        shop.campaign_report(1.0)  # type: ignore[arg-type]


def test_export_customer(shop: pitstop.Engine, people: List[int], tmp_path: Path) -> None:
    ident = people[1]
    shop.add_vehicle(ident, plate="А001АА77", make="Kia", model="Rio", at=at("2025-01-10 09:05"))
    shop.commit(ident, basket(), order_id="E-1", at=at("2025-02-01 10:00"))
    shop.execute("customer.update", {"customer": {"id": ident}, "consents": {"email": False}, "at": at("2025-02-02 10:00")})
    export = shop.export_customer({"phone": "+7 916 000-00-02"})
    assert export["customer"]["id"] == ident
    assert export["customer"]["birthday"] == date(1985, 6, 4)
    assert [visit["order_id"] for visit in export["visits"]] == ["E-1"]
    assert export["visits"][0]["totals"]["gross"] == Decimal("9155.00")
    assert [car["plate"] for car in export["vehicles"]] == ["A001AA77"]
    history = [(event["channel"], event["granted"], event["at"]) for event in export["consent_history"]]
    assert ("email", False, at("2025-02-02 10:00")) in history
    assert all(isinstance(when, datetime) and when.tzinfo for _, _, when in history)
    assert all(isinstance(entry["amount"], Decimal) for entry in export["entries"])
    assert export == shop.export_customer(ident)
    # What a personal-data request hands over: JSON, money and dates as text.
    written = tmp_path / "export.json"
    written.write_text(json.dumps(export, default=str, ensure_ascii=False), encoding="utf-8")
    assert json.loads(written.read_text(encoding="utf-8"))["visits"][0]["totals"]["gross"] == "9155.00"
    shop.execute("customer.erase", {"customer": {"id": ident}, "reason": "заявление № 1"})
    with pytest.raises(pitstop.NotFound):
        shop.export_customer({"phone": "+79160000002"})
