"""A PostgreSQL store from Python: the same Engine, a connection string instead of a
directory, and several engines (processes, in real life) on one store at once. Runs when
the tests are given a server (`make test` starts a throwaway cluster)."""

from __future__ import annotations

import os
import uuid
from decimal import Decimal

import pytest

import pitstop
from conftest import PROGRAM, at, basket

SERVER = os.environ.get("PITSTOP_TEST_POSTGRES")
pytestmark = pytest.mark.skipif(not SERVER, reason="no PostgreSQL server for the tests (make test starts one)")


@pytest.fixture
def shared_store() -> str:
    """The test database's own schema (the Rust tests use schemas of their own)."""
    assert SERVER is not None
    return SERVER


def test_two_engines_share_one_store_and_its_balances(shared_store: str) -> None:
    till = pitstop.Engine(shared_store)
    till.set_program(PROGRAM)
    run = uuid.uuid4().hex[:8]
    order = f"ЗН-{run}"
    phone = "+7916" + str(int(run, 16) % 10_000_000).zfill(7)
    office = pitstop.Engine(shared_store)
    registered = till.register_customer("Анна Сергеевна Кузнецова", phone=phone, at=at("2025-03-01 10:00"))
    customer: int = registered["customer"]["id"]
    # The engine names the store without the password the connection string may hold.
    assert till.path.startswith("postgresql://") and "password" not in till.path
    receipt = till.commit(customer, basket(), order_id=order, at=at("2025-03-02 10:00"), idempotency_key=order)
    # The office sees the till's visit and balance at once, and a retry sent by the
    # office with the till's key gets the till's receipt.
    assert office.balance(customer, at=at("2025-03-02 11:00")) == till.balance(customer, at=at("2025-03-02 11:00"))
    again = office.commit(customer, basket(), order_id=order, at=at("2025-03-02 10:00"), idempotency_key=order)
    assert again == receipt
    office.adjust(customer, Decimal("-10"), reason="списание", operator="офис", at=at("2025-03-02 12:00"))
    assert till.balance(customer, at=at("2025-03-02 13:00"))["available"] == office.balance(customer, at=at("2025-03-02 13:00"))["available"]
    till.close()
    office.close()
