"""The example scripts, run as a user runs them, against a store built here."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Dict, List

import pytest

import pitstop
from conftest import PROGRAM, at, basket

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, timeout=120
    )


def read_csv(path: Path) -> List[Dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture
def season(tmp_path: Path) -> Path:
    """A quarter of a service station: three customers, visits in March, April and May."""
    path = tmp_path / "shop"
    with pitstop.open(path) as shop:
        shop.set_program(PROGRAM)
        ids = [
            shop.register_customer(name, phone=phone, at=at("2025-03-01 09:00"))["customer"]["id"]
            for name, phone in [("Смирнов А.", "+79160000001"), ("Иванова Б.", "+79160000002"), ("Петров В.", "+79160000003")]
        ]
        shop.commit(ids[0], basket(), order_id="M-1", redeem="max", at=at("2025-03-05 10:00"))
        shop.commit(ids[1], basket()[:1], order_id="M-2", at=at("2025-03-20 10:00"))
        shop.commit(ids[0], basket()[1:], order_id="A-1", at=at("2025-04-10 10:00"))
        shop.commit(ids[2], basket()[:1], order_id="A-2", at=at("2025-04-11 10:00"))
        shop.refund("A-2", at=at("2025-04-12 10:00"))
        shop.commit(ids[1], basket(), order_id="Y-1", redeem=100, at=at("2025-05-15 10:00"))
        shop.daily(date(2025, 6, 30))
    return path


def test_monthly_report(season: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run("monthly_report.py", str(season), "--from", "2025-03-01", "--to", "2025-05-31", "--out", str(out))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Activity 2025-03-01 .. 2025-05-31"
    table = [line.split() for line in lines[1:8]]
    assert table[0][:3] == ["Month", "Visits", "Served"]
    assert [row[0] for row in table[2:5]] == ["2025-03", "2025-04", "2025-05"]
    assert table[6][0] == "Total"
    assert "liability" in done.stdout and "RUB" in done.stdout

    with pitstop.open(season) as shop:
        expected = shop.report("activity", from_=date(2025, 3, 1), to=date(2025, 5, 31))
        (points,) = shop.report("points")
    monthly = read_csv(out / "monthly_report.csv")
    assert [row["month"] for row in monthly] == ["2025-03", "2025-04", "2025-05", "total"]
    for written, row in zip(monthly, expected):
        assert Decimal(written["revenue"]) == row["revenue"] and written["revenue"] == str(row["revenue"])
        assert Decimal(written["average_check"]) == row["average_check"]
        assert int(written["customers"]) == row["customers"]
        assert Decimal(written["returning_share"]) == row["returning_share"]
    assert monthly[1]["returning_customers"] == "1"  # Смирнов came back in April
    assert Decimal(monthly[3]["revenue"]) == expected.summary["total"]["revenue"]
    (summary,) = read_csv(out / "points_report.csv")
    assert {key: Decimal(summary[key]) for key in ("issued", "redeemed", "expired", "liability")} == {
        key: points[key] for key in ("issued", "redeemed", "expired", "liability")
    }
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no chart" in done.stdout
        assert not (out / "monthly_report.png").exists()
    else:
        assert (out / "monthly_report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_monthly_report_of_a_store_in_use(season: Path, tmp_path: Path) -> None:
    with pitstop.open(season):
        done = run("monthly_report.py", str(season), "--out", str(tmp_path))
    assert done.returncode == 2
    assert "open in another program" in done.stderr


EXPORT = """Код;ФИО;Телефон;Дата рождения;Карта;СМС;Госномер;VIN;Марка;Модель;Год;Пробег;Теги
1C-001;Смирнов Алексей;8 916 555-12-34;17.05.1984;2000000000015;да;о777оо77;XW8ZZZ61ZHG012345;Skoda;Octavia;2017;98 000;taxi|oil-club
1C-002;Иванова Мария;+7 903 111-22-33;1990-02-01;;нет;;;;;;;
1C-003;Петров Пётр;+7 903 111-22-44;31/02/1990;;;;;;;;;
1C-004;Сидоров Сидор;12;;;;;;;;;;
1C-005;Двойник Карты;+7 903 111-22-55;;2000000000015;;;;;;;;
1C-006;Без Модели;+7 903 111-22-66;;;;А001АА77;;Lada;;;;
1C-007;Чужой Номер;+7 903 111-22-77;;;;О777ОО77;;Lada;Vesta;2020;;
1C-008;;+7 903 111-22-88;;;;;;;;;;
"""


def test_import_customers_with_a_row_report(season: Path, tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_text(EXPORT, encoding="utf-8")
    report = tmp_path / "report.csv"
    done = run("import_customers.py", str(season), str(source), "--report", str(report))
    assert done.returncode == 1, done.stderr
    assert "8 rows: 2 imported, 1 partial, 5 failed" in done.stdout
    rows = {row["external_id"]: row for row in read_csv(report)}
    assert [row["row"] for row in rows.values()] == [str(n) for n in range(2, 10)]
    expected = {
        "1C-001": ("imported", "", ""),
        "1C-002": ("imported", "", ""),
        "1C-003": ("failed", "invalid_row", "birthday"),
        "1C-004": ("failed", "invalid_argument", "phone"),
        "1C-005": ("failed", "already_exists", "card"),
        "1C-006": ("failed", "invalid_row", "model"),
        "1C-007": ("partial", "already_exists", "plate"),
        "1C-008": ("failed", "invalid_row", "full_name"),
    }
    assert {key: (row["status"], row["code"], row["field"]) for key, row in rows.items()} == expected
    assert "31/02/1990" in rows["1C-003"]["message"]

    with pitstop.open(season) as shop:
        smirnov = shop.get_customer({"external_id": "1C-001"})
        assert smirnov["customer"]["card"] == "2000000000015"
        assert smirnov["customer"]["birthday"] == date(1984, 5, 17)
        assert smirnov["customer"]["tags"] == ["oil-club", "taxi"]
        assert [c["channel"] for c in smirnov["customer"]["consents"]] == ["sms"]
        (car,) = smirnov["vehicles"]
        assert (car["plate"], car["year"], car["mileage_km"]) == ("O777OO77", 2017, 98000)
        assert shop.get_customer({"external_id": "1C-007"})["vehicles"] == []
        count = shop.execute("store.stats", {})["records"]

    # A second run changes nothing; the fixed file imports the fixed rows.
    again = run("import_customers.py", str(season), str(source), "--report", str(report))
    assert again.returncode == 1
    assert {row["external_id"]: (row["status"], row["code"], row["field"]) for row in read_csv(report)} == expected
    with pitstop.open(season) as shop:
        assert shop.execute("store.stats", {})["records"] == count

    fixed = EXPORT.replace("31/02/1990", "28.02.1990").replace(";12;", ";+7 903 111-22-45;")
    source.write_text(fixed, encoding="cp1251")
    third = run("import_customers.py", str(season), str(source), "--report", str(report), "--encoding", "cp1251")
    statuses = {row["external_id"]: row["status"] for row in read_csv(report)}
    assert statuses["1C-003"] == statuses["1C-004"] == "imported", third.stdout
    assert statuses["1C-001"] == "imported"
    with pitstop.open(season) as shop:
        assert shop.get_customer({"external_id": "1C-003"})["customer"]["birthday"] == date(1990, 2, 28)


def test_import_of_an_unreadable_file(season: Path, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("name;shoe size\nX;42\n", encoding="utf-8")
    done = run("import_customers.py", str(season), str(source))
    assert done.returncode == 2
    assert "shoe_size" in done.stderr


# --- reminders_today.py ----------------------------------------------------------------------

MOSCOW = timezone(timedelta(hours=3))  # no DST since 2014, and no timezone database needed
REMINDERS = {
    "window_days": 14,
    "birthday_days_before": 3,
    "order_arrived": True,
    "templates": {"birthday": "{first_name}, с днём рождения!\nЖдём вас в «{shop}»."},
}


@pytest.fixture
def regulars(tmp_path: Path) -> Path:
    """Four customers with June birthdays (one agreed to e-mail only, one to nothing) and an
    order that arrived on 2 June."""
    path = tmp_path / "regulars"
    with pitstop.open(path) as shop:
        shop.set_program({**PROGRAM, "reminders": REMINDERS})
        people = [
            ("Иванов Пётр Ильич", "+79160000001", date(1990, 6, 3), {"sms": True}),
            ("Петрова Анна", "+79160000002", date(1985, 6, 5), {"sms": True, "email": True}),
            ("Сидоров Олег", "+79160000003", date(1979, 6, 4), {"email": True}),
            ("Молчанов Денис", "+79160000004", date(1988, 6, 4), {}),
        ]
        ids = [
            shop.register_customer(name, phone=phone, birthday=birthday, consents=consents, at=at("2025-01-10 09:00"))[
                "customer"
            ]["id"]
            for name, phone, birthday, consents in people
        ]
        order = shop.execute(
            "order.create", {"customer": {"id": ids[1]}, "part": "Колодки", "qty": 2, "at": at("2025-05-20 10:00")}
        )
        shop.execute("order.arrived", {"id": order["id"], "at": at("2025-06-02 08:00")})
    return path


def parse(stdout: str) -> List[Dict[str, str]]:
    return list(csv.DictReader(stdout.splitlines()))


def test_reminders_today_as_csv(regulars: Path) -> None:
    done = run("reminders_today.py", str(regulars), "--date", "2025-06-03")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "id,kind,customer,name,phone,due_on,text"
    rows = parse(done.stdout)
    with pitstop.open(regulars) as shop:
        expected = shop.reminders_due(date(2025, 6, 3), channel="sms")
    # Sidorov agreed to e-mail only, Molchanov to nothing: neither gets an SMS.
    assert [row["id"] for row in rows] == [item["id"] for item in expected]
    assert sorted((row["kind"], row["phone"]) for row in rows) == [
        ("birthday", "+79160000001"),
        ("birthday", "+79160000002"),
        ("order_arrived", "+79160000002"),
    ]
    ivanov = next(row for row in rows if row["phone"] == "+79160000001")
    assert ivanov["name"] == "Иванов Пётр Ильич" and ivanov["due_on"] == "2025-06-03"
    # The programme's template, filled in, on one line for the gateway.
    assert ivanov["text"] == f"Пётр, с днём рождения! Ждём вас в «{PROGRAM['name']}»."
    assert "2 reminders" not in done.stderr and "3 reminders" in done.stderr
    # A pure read: the same file again. By e-mail: Sidorov and Petrova.
    assert run("reminders_today.py", str(regulars), "--date", "2025-06-03").stdout == done.stdout
    email = parse(run("reminders_today.py", str(regulars), "--date", "2025-06-03", "--channel", "email").stdout)
    assert sorted(row["phone"] for row in email) == ["+79160000002", "+79160000002", "+79160000003"]
    only = parse(run("reminders_today.py", str(regulars), "--date", "2025-06-03", "--kind", "order_arrived").stdout)
    assert [row["kind"] for row in only] == ["order_arrived"]


def test_reminders_today_marked_sent_do_not_come_back(regulars: Path, tmp_path: Path) -> None:
    out = tmp_path / "sms.csv"
    done = run("reminders_today.py", str(regulars), "--date", "2025-06-03", "--mark-sent", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "3 reminders, marked sent" in done.stderr
    assert len(read_csv(out)) == 3
    again = run("reminders_today.py", str(regulars), "--date", "2025-06-04")
    assert again.returncode == 0, again.stderr
    assert parse(again.stdout) == []
    with pitstop.open(regulars) as shop:
        assert shop.reminders_due(date(2025, 6, 4), channel="sms") == []
        # Only the SMS ones were marked: Sidorov's e-mail is still due.
        assert [item["phone"] for item in shop.reminders_due(date(2025, 6, 4), channel="email")] == ["+79160000003"]


def test_reminders_of_today_by_default(tmp_path: Path) -> None:
    path = tmp_path / "today"
    today = datetime.now(MOSCOW).date()
    with pitstop.open(path) as shop:
        shop.set_program({**PROGRAM, "reminders": REMINDERS})
        # 1992 is a leap year: a birthday exists for every day, 29 February included.
        shop.register_customer(
            "Сегодняшний Именинник", phone="+79160000009", birthday=today.replace(year=1992), consents={"sms": True}
        )
    done = run("reminders_today.py", str(path))
    assert done.returncode == 0, done.stderr
    (row,) = parse(done.stdout)
    assert (row["kind"], row["phone"], row["due_on"]) == ("birthday", "+79160000009", today.isoformat())


def test_reminders_of_a_store_in_use(regulars: Path) -> None:
    with pitstop.open(regulars):
        done = run("reminders_today.py", str(regulars))
    assert done.returncode == 2
    assert "open in another program" in done.stderr
    bad = run("reminders_today.py", str(regulars), "--date", "2025-06-03", "--kind", "horoscope")
    assert bad.returncode == 2 and "invalid_argument" in bad.stderr
