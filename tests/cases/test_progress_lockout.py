"""The public progress query: five wrong query codes for a case number from one address lock
that address out of the number; the applicant, from another address, still looks it up with
the right code; a guess spread over many addresses meets the ceiling for everyone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from core.config import reset_settings
from core.db import Database
from core.errors import NotFound
from core.identity.errors import LockedOut
from core.identity.models import LoginThrottle
from tests.cases.conftest import Desk


@pytest.fixture
def hechi(db: Database) -> Iterator[Desk]:
    yield Desk(db, "hechi")
    with db.session(scope=None) as s:
        s.execute(delete(LoginThrottle).where(LoginThrottle.key.like("progress:%")))
        s.commit()


def _lookup(desk: Desk, number: str, code: str, address: str) -> object:
    from core.cases import queries

    with desk.session() as s:
        try:
            return queries.throttled_progress(s, desk.tenant.id, number, code, address)
        finally:
            s.commit()


def _case(desk: Desk) -> tuple[str, str]:
    number = desk.apply(desk.citizen("13800000001"), "HC-SC03")
    return number, desk.case(number).query_code


def test_a_guesser_locks_out_only_their_own_address(hechi: Desk) -> None:
    number, code = _case(hechi)
    for i in range(5):
        with pytest.raises(NotFound):
            _lookup(hechi, number, f"WRONG{i}", "198.51.100.7")
    with pytest.raises(LockedOut):
        _lookup(hechi, number, code, "198.51.100.7")
    assert _lookup(hechi, number, code, "203.0.113.9") is not None


@pytest.fixture
def low_ceiling(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GOVHALL_LOGIN_ACCOUNT_MAX_FAILURES", "8")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def test_a_guess_from_many_addresses_meets_the_ceiling(hechi: Desk, low_ceiling) -> None:
    number, code = _case(hechi)
    for i in range(8):
        with pytest.raises(NotFound):
            _lookup(hechi, number, f"WRONG{i}", f"192.0.2.{i}")
    with pytest.raises(LockedOut):
        _lookup(hechi, number, code, "203.0.113.9")
