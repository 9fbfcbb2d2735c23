"""Through the real pages, behind our own proxy: five wrong passwords from one client address
lock that address out of the account, and the owner, from another address, signs in with
the right password (tests/identity/test_lockouts.py has the rest)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import delete

from core.config import reset_settings
from core.db import Database
from core.identity.models import LoginThrottle
from tests.helpers import csrf_token, tenant
from tests.servers import LiveServer


@pytest.fixture
def behind_our_proxy(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    from web.app import create_app

    monkeypatch.setenv("GOVHALL_TRUSTED_PROXIES", "127.0.0.1")
    reset_settings()
    server = LiveServer(create_app(database=db)).start()
    yield server
    server.stop()
    monkeypatch.undo()
    reset_settings()
    cili = tenant(db, "cili")
    with db.session(scope=None) as s:
        s.execute(delete(LoginThrottle).where(LoginThrottle.key.like(f"staff:{cili.id}:%")))
        s.commit()


def _staff_login(server: LiveServer, password: str, address: str) -> int:
    with httpx.Client(base_url=server.url, headers={"X-Forwarded-For": address}) as http:
        token = csrf_token(http, "/t/cili/staff/login")
        return http.post(
            "/t/cili/staff/login",
            data={"username": "cili-issuer", "password": password, "_csrf_token": token},
        ).status_code


def test_a_guesser_locks_out_only_their_own_address(behind_our_proxy: LiveServer) -> None:
    attacker, owner = "198.51.100.66", "203.0.113.20"
    assert [_staff_login(behind_our_proxy, "Wrong-2026", attacker) for _ in range(5)] == [401] * 5
    assert _staff_login(behind_our_proxy, "Demo-2026", attacker) == 429
    assert _staff_login(behind_our_proxy, "Demo-2026", owner) in (302, 303)
