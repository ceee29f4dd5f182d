"""Money, points, dates and instants across the boundary: exact, typed, timezone-aware."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set, Tuple

import pytest

import pitstop
import wasm
from conftest import CARD, PROGRAM, at, basket

MOSCOW = timezone(timedelta(hours=3))
DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def walk(value: Any, path: str = "") -> Iterator[Tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")
    else:
        yield path, value


# --- Decimal exactness --------------------------------------------------------------------


def test_money_is_exact_with_its_scale(engine: pitstop.Engine, customer: int) -> None:
    lines = [
        {"sku": "W", "name": "washer", "kind": "part", "qty": 3, "unit_price": Decimal("0.10")},
        {"sku": "S", "name": "seal", "kind": "part", "qty": Decimal("0.333"), "unit_price": "99999.99"},
        {"sku": "L", "name": "labour", "kind": "labor", "qty": 1, "unit_price": 99_999_999},
    ]
    quote = engine.quote(customer, lines, at=at("2025-03-02 10:00"))
    gross = [line["gross"] for line in quote["lines"]]
    # 3 × 0.10 is 0.30, not 0.30000000000000004; 0.333 × 99999.99 rounds to the kopeck once.
    assert gross == [Decimal("0.30"), Decimal("33300.00"), Decimal("99999999.00")]
    assert all(value.as_tuple().exponent == -2 for value in gross)
    assert quote["totals"]["gross"] == sum(gross)
    assert str(quote["totals"]["gross"]) == "100033299.30"
    for path, value in walk(quote):
        assert not isinstance(value, float), path


@pytest.mark.parametrize("price", [4500, "4500", Decimal("4500"), Decimal("4.5E+3"), "4500.00"])
def test_int_str_and_decimal_are_the_same_money(engine: pitstop.Engine, customer: int, price: Any) -> None:
    lines = [{"sku": "TO-2", "name": "ТО-2", "kind": "labor", "qty": 1, "unit_price": price}]
    quote = engine.quote(customer, lines, redeem=100, at=at("2025-03-02 10:00"))
    assert quote["lines"][0]["gross"] == Decimal("4500.00")
    assert quote["redemption"]["applied"] == Decimal("100")


@pytest.mark.parametrize(
    "args, field",
    [
        ({"lines": [{"sku": "A", "name": "a", "kind": "labor", "qty": 1, "unit_price": 10.0}]}, "lines[0].unit_price"),
        ({"lines": [{"sku": "A", "name": "a", "kind": "labor", "qty": 1.5, "unit_price": 10}]}, "lines[0].qty"),
        ({"lines": [], "redeem": 0.5}, "redeem"),
    ],
)
def test_float_is_refused_naming_the_field(engine: pitstop.Engine, customer: int, args: Dict[str, Any], field: str) -> None:
    with pytest.raises(TypeError) as raised:
        engine.execute("checkout.quote", {"customer": {"id": customer}, **args})
    assert str(raised.value).startswith(f"{field}: float")
    assert "decimal.Decimal" in str(raised.value)


def test_float_is_refused_anywhere(engine: pitstop.Engine, customer: int) -> None:
    with pytest.raises(TypeError, match="points: float"):
        engine.adjust(customer, 1.0, reason="r", operator="o")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="program.accrual.rate_percent: float"):
        engine.set_program({**PROGRAM, "accrual": {"rate_percent": 5.0}})
    with pytest.raises(TypeError, match="config.percent: float"):
        engine.install_plugin("p", wasm.plugin(b'{"effects":[]}'), config={"percent": 15.0})
    assert engine.plugins() == []


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("sNaN")])
def test_non_finite_decimals_are_refused(engine: pitstop.Engine, customer: int, bad: Decimal) -> None:
    with pytest.raises(ValueError, match="points: .* not a finite number"):
        engine.adjust(customer, bad, reason="r", operator="o")


def test_decimals_beyond_exact_precision_are_refused(engine: pitstop.Engine, customer: int) -> None:
    with pytest.raises(ValueError, match="more digits than Pitstop keeps exactly"):
        engine.adjust(customer, Decimal("1.00000000000000000000000000001"), reason="r", operator="o")


def test_ints_stay_ints_where_the_contract_has_integers(engine: pitstop.Engine, customer: int) -> None:
    vehicle = engine.add_vehicle(customer, plate="В001ВВ77", make="Lada", model="Niva", year=1999, mileage=250_000)
    assert vehicle["year"] == 1999 and type(vehicle["year"]) is int
    assert vehicle["mileage_km"] == 250_000
    with pytest.raises(ValueError, match="out of range"):
        engine.execute("visit.get", {"visit": 1 << 70})


# --- identifiers stay strings -------------------------------------------------------------


def test_identifiers_that_look_like_numbers_stay_strings(engine: pitstop.Engine, customer: int) -> None:
    receipt = engine.commit(customer, basket(), order_id="100500", at=at("2025-03-10 10:00"))
    assert receipt["order_id"] == "100500"
    view = engine.get_customer({"card": CARD}, at=at("2025-03-10 11:00"))
    assert view["customer"]["card"] == CARD
    assert view["customer"]["phone"] == "+79165551234"
    assert view["last_visits"][0]["order_id"] == "100500"
    with pytest.raises(pitstop.AlreadyExists) as raised:
        engine.commit(customer, basket(), order_id="100500", at=at("2025-03-10 10:00"))
    assert "100500" in raised.value.details.values()


# --- dates, instants, timezones -----------------------------------------------------------


def test_instants_come_back_aware_in_utc(engine: pitstop.Engine) -> None:
    moment = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=MOSCOW)
    person = engine.register_customer("Тестов Тест", at=moment)["customer"]
    registered = person["registered_at"]
    assert registered.tzinfo is not None and registered.utcoffset() == timedelta(0)
    assert registered == moment  # the same instant, microseconds included
    assert registered.hour == 9


def test_the_programme_timezone_decides_the_day(engine: pitstop.Engine, customer: int) -> None:
    # 22:30 UTC on the 10th is 01:30 on the 11th in Moscow.
    late = datetime(2025, 3, 10, 22, 30, tzinfo=timezone.utc)
    engine.commit(customer, basket(), order_id="LATE", at=late)
    visit = engine.execute("visit.get", {"order_id": "LATE"})
    assert visit["date"] == date(2025, 3, 11)
    assert visit["at"] == late
    # The same instant written with a Moscow offset is the same visit time.
    same = late.astimezone(MOSCOW)
    engine.commit(customer, basket(), order_id="LATE-2", at=same)
    assert engine.execute("visit.get", {"order_id": "LATE-2"})["at"] == late


def test_zoneinfo_timezones_are_accepted(engine: pitstop.Engine) -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        moscow = zoneinfo.ZoneInfo("Europe/Moscow")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no timezone database")
    moment = datetime(2025, 7, 1, 9, 0, tzinfo=moscow)
    person = engine.register_customer("Зонов Зон", at=moment)["customer"]
    assert person["registered_at"] == datetime(2025, 7, 1, 6, 0, tzinfo=timezone.utc)


def test_naive_datetimes_are_refused(engine: pitstop.Engine, customer: int) -> None:
    with pytest.raises(ValueError, match="at: naive datetime"):
        engine.commit(customer, basket(), order_id="N-1", at=datetime(2025, 3, 10, 10, 0))
    with pytest.raises(pitstop.NotFound):
        engine.execute("visit.get", {"order_id": "N-1"})


def test_dates_round_trip(engine: pitstop.Engine) -> None:
    person = engine.register_customer("Датов Дат", birthday=date(2000, 2, 29), at=at("2025-03-01 09:00"))["customer"]
    assert person["birthday"] == date(2000, 2, 29) and type(person["birthday"]) is date
    report = engine.report("activity", from_=date(2025, 3, 1), to=date(2025, 3, 31))
    assert report.summary["to"] == date(2025, 3, 31)


# --- the conversion tables cover everything the core returns --------------------------------

DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# Fields that are text even when they look like numbers.
IDENTIFIERS = {"card", "number", "new_number", "replaced_by", "key", "value", "order_id", "reference", "sku", "external_id",
               # The owner's reports: RFM digits ("444") and a service (a rule's kind or an SKU) are codes.
               "rfm", "service"}


JSON_NUMBER_AMOUNT = re.compile(r'"(qty|unit_price|points|amount|redeem)": -?\d')


def requests(tmp: Path) -> List[Dict[str, Any]]:
    """The session of docs/operations.md, then more: plugins, vehicles, refunds, jobs."""
    bodies = re.findall(r"```request[^\n]*\n(.*?)```", DOCS.read_text(), re.S)
    # The JSON door refuses a number where a decimal string belongs; this door takes an
    # int there by design (an int is exact) and sends it as a string, so the docs' example
    # of that refusal is no conversion case.
    session = [json.loads(body) for body in bodies if not JSON_NUMBER_AMOUNT.search(body)]
    effects = {
        "effects": [
            {"type": "line_discount", "line": 0, "percent": "10", "reason": "week"},
            {"type": "basket_discount", "amount": "50.50"},
            {"type": "accrual", "multiplier": "1.5"},
            {"type": "bonus_points", "points": "25", "reason": "promo", "expires_in_days": 30},
            {"type": "message", "to": "customer", "text": "Hello"},
            {"type": "add_tags", "tags": ["promo"]},
            {"type": "reminder", "kind": "tyres", "in_days": 30},
        ]
    }
    module = wasm.plugin(json.dumps(effects).encode())
    lines = [
        {"sku": "TO", "name": "oil change", "kind": "labor", "qty": "1", "unit_price": "1500"},
        {"sku": "ADD", "name": "additive", "kind": "goods", "qty": "2", "unit_price": "800", "discount": "10"},
    ]
    who = {"external_id": "1C-77"}
    import base64

    return session + [
        {"op": "plugin.install", "args": {"name": "all-effects", "wasm": base64.b64encode(module).decode(), "config": {"percent": "10"}}},
        {"op": "plugin.list", "args": {}},
        {"op": "customer.register", "args": {"full_name": "Петров Пётр", "phone": "+79031112233", "birthday": "1990-05-20", "external_id": "1C-77", "issue_card": True, "at": "2025-05-01T10:00:00Z"}},
        {"op": "vehicle.add", "args": {"customer": who, "plate": "А123ВС77", "make": "Lada", "model": "Vesta", "year": 2019, "mileage": 50000, "at": "2025-05-01T10:00:00Z"}},
        {"op": "vehicle.mileage", "args": {"vehicle": {"plate": "А123ВС77"}, "km": 51000, "at": "2025-05-11T10:00:00Z"}},
        {"op": "vehicle.get", "args": {"vehicle": {"plate": "А123ВС77"}}},
        {"op": "checkout.quote", "args": {"customer": who, "lines": lines, "redeem": "max", "at": "2025-05-18T10:00:00Z"}},
        {"op": "checkout.commit", "args": {"customer": who, "lines": lines, "order_id": "A-1", "redeem": "100", "at": "2025-05-18T10:00:00Z"}},
        {"op": "visit.get", "args": {"order_id": "A-1"}},
        {"op": "checkout.refund", "args": {"order_id": "A-1", "lines": [{"line": 1, "qty": "1"}], "at": "2025-05-19T10:00:00Z"}},
        {"op": "visit.list", "args": {"customer": who}},
        {"op": "customer.get", "args": {"customer": who, "at": "2025-05-20T10:00:00Z"}},
        {"op": "customer.find", "args": {"query": "Пет"}},
        {"op": "customer.update", "args": {"customer": who, "notes": "x", "consents": {"email": True}}},
        {"op": "card.issue", "args": {"customer": who, "replace": True}},
        {"op": "program.get", "args": {}},
        {"op": "points.hold", "args": {"customer": who, "points": "10", "at": "2025-05-20T10:00:00Z"}},
        {"op": "points.adjust", "args": {"customer": who, "points": "50", "reason": "r", "operator": "o", "at": "2025-05-20T10:00:00Z"}},
        {"op": "points.statement", "args": {"customer": who}},
        {"op": "points.balance", "args": {"customer": who, "at": "2025-05-20T10:00:00Z"}},
        {"op": "jobs.daily", "args": {"date": "2027-01-01"}},
        {"op": "report.activity", "args": {"from": "2025-01-01", "to": "2025-12-31"}},
        {"op": "report.points", "args": {}},
        {"op": "report.dashboard", "args": {"from": "2025-01-01", "to": "2025-12-31"}},
        {"op": "store.stats", "args": {}},
        {"op": "store.backup", "args": {"path": str(tmp / "backup.bin")}},
        {"op": "store.check", "args": {}},
        {"op": "points.adjust", "args": {"customer": who, "points": "-500000", "reason": "r", "operator": "o"}},
    ] + comeback()


PROGRAM_EXAMPLE = DOCS.parent / "program.example.json"
REMINDER_KINDS = {
    "service_due", "points_expiring", "birthday", "recommendation",
    "tyre_season", "order_arrived", "quality_call", "lapsed", "promotion",
}  # fmt: skip


def comeback() -> List[Dict[str, Any]]:
    """A regular customer under the example programme over two years, then reminders.due
    every week so that every kind of reminder (and its details) comes back once at least.
    Marked ``"ok": True``: these must succeed."""
    who = {"external_id": "R-1"}
    car = {"plate": "К777КК77"}

    def day(text: str) -> str:
        return f"{text}T09:00:00Z"

    def visit(order: str, on: str, km: int) -> Dict[str, Any]:
        line = {"sku": "TO-1", "name": "ТО-1 замена масла", "kind": "labor", "qty": "1", "unit_price": "6000"}
        return {"op": "checkout.commit", "args": {"customer": who, "vehicle": car, "mileage": km, "order_id": order,
                                                  "advisor": "Петров", "lines": [line], "at": day(on)}}  # fmt: skip

    session: List[Dict[str, Any]] = [
        {"op": "program.set", "args": {"program": json.loads(PROGRAM_EXAMPLE.read_text(encoding="utf-8"))}},
        {"op": "customer.register", "args": {"full_name": "Лапин Олег Сергеевич", "phone": "+79035557788",
         "birthday": "1985-04-10", "external_id": "R-1", "consents": {"sms": True, "call": True}, "at": day("2024-01-10")}},
        {"op": "vehicle.add", "args": {"customer": who, **car, "make": "Kia", "model": "Rio", "year": 2018,
         "mileage": 20000, "at": day("2024-01-10")}},
        visit("R-ЗН-1", "2024-01-15", 20500),
        visit("R-ЗН-2", "2024-04-15", 23500),
        visit("R-ЗН-3", "2024-07-15", 26500),
        visit("R-ЗН-4", "2024-10-15", 29500),
        {"op": "recommendation.add", "args": {"order_id": "R-ЗН-4", "work": "Замена ремня ГРМ", "urgency": "soon",
         "price": "12500.50", "note": "износ", "at": day("2024-10-15")}},
        {"op": "storage.checkin", "args": {"customer": who, "vehicle": car, "items": ["Nokian ×4"], "location": "С-1",
         "season": "winter", "at": day("2024-04-15")}},
        {"op": "order.create", "args": {"customer": who, "vehicle": car, "part": "Ремень ГРМ", "qty": "1",
         "expected": "2024-10-20", "at": day("2024-10-15")}},
        {"op": "order.arrived", "args": {"id": 2, "at": day("2024-10-16")}},
    ]  # fmt: skip
    start = date(2024, 10, 1)
    session += [
        {"op": "reminders.due", "args": {"date": (start + timedelta(days=7 * week)).isoformat(), "limit": 500}}
        for week in range(70)
    ]
    # A quality call is due two to three days after the visit only.
    session.append({"op": "reminders.due", "args": {"date": "2024-10-17", "kinds": ["quality_call"]}})
    session += [
        {"op": "reminders.mark", "args": {"id": "order_arrived:2", "status": "failed", "channel": "sms"}},
        {"op": "recommendation.list", "args": {"customer": who}},
        {"op": "recommendation.close", "args": {"id": 2, "outcome": "done_here", "note": "заменили", "at": day("2025-11-01")}},
        {"op": "storage.checkout", "args": {"id": 2, "at": day("2024-10-20")}},
        {"op": "storage.list", "args": {"customer": who}},
        {"op": "order.handed_over", "args": {"id": 2, "at": day("2024-10-21")}},
        {"op": "order.list", "args": {"customer": who}},
        {"op": "feedback.add", "args": {"order_id": "R-ЗН-4", "rating": 5, "kind": "praise", "at": day("2024-10-18")}},
        {"op": "report.complaints", "args": {"from": "2024-01-01", "to": "2025-12-31"}},
        {"op": "program.simulate", "args": {"program": {**json.loads(PROGRAM_EXAMPLE.read_text(encoding="utf-8")),
         "expiry_months": 3}, "from": "2024-01-01", "to": "2024-12-31"}},
        {"op": "segment.preview", "args": {"filter": {"spend_min": "1000", "visits_min": 2, "window_days": 3650},
         "at": day("2025-01-01")}},
        {"op": "customer.export", "args": {"customer": who}},
        {"op": "points.hold", "args": {"customer": who, "points": "10", "at": day("2024-10-20")}},
        {"op": "points.release", "args": {"hold": 3, "at": day("2024-10-20")}},
        {"op": "plugin.enable", "args": {"name": "all-effects"}},
        {"op": "plugin.remove", "args": {"name": "all-effects"}},
    ]  # fmt: skip
    return [{**request, "ok": True} for request in session]


def compare(raw: Any, typed: Any, path: str, field: str, exact: bool = True) -> None:
    """`typed` is `raw` converted; with `exact=False` only the kinds must match."""
    assert not isinstance(typed, float), path
    if isinstance(raw, dict):
        assert isinstance(typed, dict) and raw.keys() == typed.keys(), path
        for key in raw:
            compare(raw[key], typed[key], f"{path}.{key}", key, exact)
    elif isinstance(raw, list):
        assert isinstance(typed, list), path
        assert not exact or len(raw) == len(typed), path
        for index, (a, b) in enumerate(zip(raw, typed)):
            compare(a, b, f"{path}[{index}]", field, exact)
    elif isinstance(raw, str):
        if isinstance(typed, Decimal):
            assert DECIMAL.match(raw), path
            assert not exact or str(typed) == raw, path  # exact, with its scale
        elif isinstance(typed, datetime):
            assert typed.utcoffset() == timedelta(0), path
            assert INSTANT.match(raw) and raw.endswith("Z"), path
            if exact:
                assert typed.strftime("%Y-%m-%dT%H:%M:%S") == raw[:19], path
                fraction = raw[20:-1] if raw[19:20] == "." else ""
                assert typed.microsecond == int(fraction[:6].ljust(6, "0") or 0), path  # ns cut to µs
        elif isinstance(typed, date):
            assert DATE.match(raw), path
            assert not exact or typed.isoformat() == raw, path
        else:
            assert isinstance(typed, str), path
            assert not exact or typed == raw, path
            if field not in IDENTIFIERS:
                for pattern in (DECIMAL, DATE, INSTANT):
                    assert not pattern.match(raw), f"{path} = {raw!r} stays str: give {field!r} a typed field in core (core/build.rs derives the kinds) or add it to json::field_kind"
    else:
        assert type(raw) is type(typed), path
        assert not exact or raw == typed, path


def test_every_money_date_and_instant_field_is_converted(engine: pitstop.Engine, tmp_path: Path) -> None:
    """Each request runs once in the raw JSON form and once through execute() — mutating
    ones with the same idempotency key, so the second returns the first result — and every
    leaf is compared. A decimal-, date- or instant-looking string left as str fails here."""
    fresh = tmp_path / "fresh"
    engine.close()
    ops_seen = set()
    with pitstop.open(fresh) as shop:
        mutating = {name for name, mutates, _ in pitstop.operations() if mutates}
        kinds_seen: Set[str] = set()
        for index, request in enumerate(requests(tmp_path)):
            op, args = request["op"], request.get("args", {})
            if op in mutating:
                args = {**args, "idempotency_key": f"drift-{index}"}
            raw = json.loads(shop.execute_json(json.dumps({"op": op, "args": args})))
            ops_seen.add(op)
            try:
                typed_ok, typed = True, shop.execute(op, args)
            except pitstop.PitstopError as err:
                typed_ok, typed = False, {"code": err.code, "message": err.message, "details": err.details}
            assert raw["ok"] == typed_ok, (op, raw)
            assert raw["ok"] or not request.get("ok"), (op, raw)
            if op == "reminders.due":
                kinds_seen.update(item["kind"] for item in raw["result"]["items"])
            # jobs.daily keeps no idempotency record (a second run of a date does nothing and
            # says so), so only the kinds of its fields can be compared.
            exact = op != "jobs.daily"
            compare(raw["result"] if raw["ok"] else raw["error"], typed, op, "", exact)
    assert len(ops_seen) >= 25
    assert kinds_seen == REMINDER_KINDS, kinds_seen
    missing = {name for name, _, _ in pitstop.operations()} - ops_seen
    assert not missing, f"no request of {sorted(missing)} is checked here"
