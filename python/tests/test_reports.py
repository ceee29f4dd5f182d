"""The owner's reports from Python: typed rows and summaries, and the DataFrame view."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Dict, List

import pytest

import pitstop
from conftest import at


def line(sku: str, name: str, price: int) -> Dict[str, Any]:
    return {"sku": sku, "name": name, "kind": "labor", "qty": 1, "unit_price": price}


@pytest.fixture
def history(engine: pitstop.Engine) -> Dict[str, int]:
    """Three customers: Орлов every month (four visits), Зайцева twice, Белов once."""
    ids = {
        "orlov": engine.register_customer("Орлов Игорь Петрович", phone="+79161110001", birthday=date(1984, 12, 30),
                                          source="Яндекс.Карты", consents={"sms": True}, at=at("2025-01-01 09:00"))["customer"]["id"],
        "zaitseva": engine.register_customer("Зайцева Ольга Ивановна", phone="+79161110002", birthday=date(1990, 1, 3),
                                             consents={"email": True}, at=at("2025-01-01 09:00"))["customer"]["id"],
        "belov": engine.register_customer("Белов Антон Сергеевич", phone="+79161110003", source="Авито",
                                          at=at("2025-01-01 09:00"))["customer"]["id"],
    }  # fmt: skip
    for n, day in enumerate(["2025-01-10", "2025-02-10", "2025-03-10", "2025-04-10"]):
        engine.commit(ids["orlov"], [line("OIL-1", "Замена масла", 10000)], order_id=f"O-{n}", at=at(f"{day} 10:00"))
    engine.commit(ids["zaitseva"], [line("DIAG", "Диагностика", 3000)], order_id="Z-1", at=at("2025-01-20 10:00"))
    engine.commit(ids["zaitseva"], [line("DIAG", "Диагностика", 3000)], order_id="Z-2", at=at("2025-03-20 10:00"))
    engine.commit(ids["belov"], [line("DIAG", "Диагностика", 2000)], order_id="B-1", at=at("2025-02-05 10:00"))
    return ids


def test_customers_and_pareto(engine: pitstop.Engine, history: Dict[str, int]) -> None:
    best = engine.report_customers(date(2025, 1, 1), date(2025, 4, 30), top=2)
    assert isinstance(best, pitstop.Report) and best.name == "customers"
    assert [row["month"] for row in best] == ["2025-01", "2025-02", "2025-03", "2025-04"]
    assert all(row["customer"] == history["orlov"] for row in best)
    assert best[0]["revenue"] == Decimal("10000.00") and best[0]["last_visit"] == date(2025, 1, 10)
    assert [r["customer"] for r in best.summary["by_visits"]] == [history["orlov"], history["zaitseva"]]
    assert best.summary["by_spend"][0]["revenue"] == Decimal("40000.00")

    # 48 000 in all: Орлов's 40 000 is 83.3% of it, so one customer of three is the core.
    pareto = engine.report_pareto(date(2025, 1, 1), date(2025, 4, 30))
    assert pareto.summary["core_customers"] == 1 and pareto.summary["customers"] == 3
    assert pareto.summary["core_customer_share"] == Decimal("33.3")
    assert pareto[0]["cumulative_share"] == Decimal("83.3")


def test_lapsed_cohorts_sources_services(engine: pitstop.Engine, history: Dict[str, int]) -> None:
    # By 31 December Орлов (every 28–31 days, last on 10 April) has been away 265 days.
    lapsed = engine.report_lapsed(date(2025, 1, 1), date(2025, 12, 31))
    assert [row["customer"] for row in lapsed] == [history["orlov"]]
    # Three customers: the best of three is above 2/3 of them, score 1 + ⌊5 × 2 / 3⌋ = 4.
    assert lapsed[0]["usual_interval_days"] == 31 and lapsed[0]["rfm"] == "444"
    assert "1.5" in lapsed.summary["rule"]

    cohorts = engine.report_cohorts(date(2025, 1, 1), date(2025, 4, 30))
    january = cohorts[0]
    assert january["cohort"] == "2025-01" and january["size"] == 2
    assert january["retained"] == [2, 1, 2, 1]
    assert january["percent"] == [Decimal("100.0"), Decimal("50.0"), Decimal("100.0"), Decimal("50.0")]

    sources = engine.report_sources(date(2025, 1, 1), date(2025, 4, 30))
    by_source = {row["source"]: row for row in sources}
    assert by_source["Яндекс.Карты"]["revenue"] == Decimal("40000.00")
    assert by_source[None]["new_customers"] == 1 and by_source["Авито"]["visits"] == 1

    services = engine.report_services(date(2025, 1, 1), date(2025, 4, 30))
    oil = next(row for row in services if row["service"] == "OIL-1")
    assert (oil["repeats"], oil["median_interval_days"]) == (3, 31)


def test_tiers_birthdays_points(engine: pitstop.Engine, history: Dict[str, int]) -> None:
    tiers = engine.report_tiers(date(2025, 1, 1), date(2025, 12, 31))
    assert isinstance(tiers.summary["tiers"], list) and tiers.summary["up"] == sum(
        row["moves"] for row in tiers if row["direction"] == "up"
    )
    birthdays = engine.report_birthdays(date(2025, 12, 25), date(2026, 1, 5))
    assert [(row["date"], row["age"]) for row in birthdays] == [(date(2025, 12, 30), 41), (date(2026, 1, 3), 36)]
    assert birthdays[0]["consents"]["sms"] is True and birthdays[1]["consents"]["sms"] is False
    points = engine.report_points_monthly(date(2025, 1, 1), date(2025, 4, 30))
    assert [row["month"] for row in points] == ["2025-01", "2025-02", "2025-03", "2025-04"]
    assert all(isinstance(row["outstanding"], Decimal) for row in points)
    assert points[-1]["outstanding"] == engine.report("points")[0]["outstanding"]
    assert isinstance(points.summary["expiring"]["days_90"], Decimal)
    with pytest.raises(pitstop.InvalidArgument, match="branch"):
        engine.report("tiers", from_=date(2025, 1, 1), to=date(2025, 2, 1), branch="north")


def test_to_dataframe(engine: pitstop.Engine, history: Dict[str, int]) -> None:
    pandas = pytest.importorskip("pandas")
    report = engine.report_customers(date(2025, 1, 1), date(2025, 4, 30))
    frame = report.to_dataframe()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame["month"]) == ["2025-01", "2025-02", "2025-03", "2025-04"]
    assert isinstance(frame["revenue"][0], Decimal) and frame["revenue"][0] == Decimal("10000.00")
    assert frame.attrs["report"] == "customers" and frame.attrs["summary"]["customers"] == 3


def test_to_dataframe_without_pandas(engine: pitstop.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    report = engine.report_cohorts(date(2025, 1, 1), date(2025, 1, 31))
    monkeypatch.setitem(__import__("sys").modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        report.to_dataframe()


def rows(report: pitstop.Report) -> List[Dict[str, Any]]:
    return list(report)


def test_service_names_and_completeness(engine: pitstop.Engine, history: Dict[str, int]) -> None:
    """Two names of one service on Белов's next visit; the shop confirms them; the services
    report counts them as one row. Completeness: Белов has no email, birthday, gender or
    consents; Зайцева no source; only Орлов and Белов have a patronymic to tell."""
    engine.commit(
        history["belov"],
        [line("DIAG-2", "Диагностика компьютерная", 2500), line("DIAG-3", "Комп. диагностика", 2500)],
        order_id="B-2", at=at("2025-04-05 10:00"),
    )  # fmt: skip
    found = engine.catalog_duplicates(date(2025, 1, 1), date(2025, 4, 30))
    assert found["from"] == date(2025, 1, 1) and found["groups"] == 1
    (group,) = found["rows"]
    assert {n["name"] for n in group["names"]} == {"Диагностика компьютерная", "Комп. диагностика"}
    assert group["proposed"] == "Диагностика компьютерная"
    confirmed = engine.catalog_alias("Диагностика компьютерная", ["Комп. диагностика"])
    assert confirmed["aliases"] == ["Комп. диагностика"]
    services = engine.report_services(date(2025, 1, 1), date(2025, 4, 30))
    merged = [row for row in services if row["service"] == "Диагностика компьютерная"]
    assert len(merged) == 1 and merged[0]["lines"] == 2 and merged[0]["revenue"] == Decimal("5000.00")
    assert engine.catalog_unalias("Комп. диагностика")["group"] is None

    report = engine.report_completeness(top=10)
    total = report["total"]
    assert total["customers"] == 3
    assert total["email"] == {"missing": 3, "of": 3, "percent": Decimal("100.0")}
    assert total["source"]["missing"] == 1 and total["source"]["percent"] == Decimal("33.3")
    assert total["gender"]["missing"] == 3
    assert {(r["customer"], r["gender"]) for r in report["gender_rows"]} == {
        (history["orlov"], "male"), (history["zaitseva"], "female"), (history["belov"], "male"),
    }  # fmt: skip
    assert report["name_fixes"] == 0
    assert report["by_registrar"][0]["registered_by"] is None
