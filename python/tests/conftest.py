"""Shared fixtures: a fresh store with the programme of docs/operations.md."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import pitstop

# wasm.py sits next to the tests.
sys.path.insert(0, str(Path(__file__).parent))

PROGRAM: Dict[str, Any] = {
    "name": "Клуб автосервиса",
    "timezone": "Europe/Moscow",
    "accrual": {"rate_percent": "5", "rate_by_kind": {"labor": "7", "part": "3"}, "min_bill": "500"},
    "redemption": {"kinds": ["labor"], "cap_percent": "30"},
    "expiry_months": 12,
    "pending_days": 0,
    "welcome_bonus": {"points": "300", "expiry_days": 90},
}

CARD = "2000000000015"


def at(text: str) -> datetime:
    """An instant in UTC from ``YYYY-MM-DD HH:MM``."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)


def basket() -> List[Dict[str, Any]]:
    """The basket of the operations reference: labour 4500, oil 4.5 × 890, a filter 650."""
    return [
        {"sku": "TO-2", "name": "ТО-2 (работа)", "kind": "labor", "qty": 1, "unit_price": Decimal("4500")},
        {"sku": "OIL-5W30", "name": "Масло 5W-30", "kind": "goods", "qty": Decimal("4.5"), "unit_price": "890"},
        {"sku": "FLT-01", "name": "Фильтр масляный", "kind": "part", "qty": 1, "unit_price": 650},
    ]


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def engine(store_path: Path) -> Iterator[pitstop.Engine]:
    """An open store with the programme set."""
    with pitstop.open(store_path) as shop:
        shop.set_program(PROGRAM)
        yield shop


@pytest.fixture
def customer(engine: pitstop.Engine) -> int:
    """A registered customer with a card and a car; returns the id."""
    registered = engine.register_customer(
        "Смирнов Алексей Петрович",
        phone="8 916 555-12-34",
        birthday=datetime(1984, 5, 17).date(),
        consents={"sms": True},
        card=CARD,
        at=at("2025-03-01 09:00"),
    )
    engine.add_vehicle(
        {"card": CARD},
        vin="XW8ZZZ61ZHG012345",
        plate="о777оо77",
        make="Skoda",
        model="Octavia",
        year=2017,
        mileage=98000,
        at=at("2025-03-01 09:05"),
    )
    identifier: int = registered["customer"]["id"]
    return identifier
