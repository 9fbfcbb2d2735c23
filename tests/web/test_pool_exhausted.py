"""A signed-in request waiting for a pooled database connection holds up only itself: the
same process goes on answering others (it used to read the principal on the event loop, so
one wait for the pool stalled every request of the process — the load bench's 500 clients)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from litestar.testing import TestClient

from core.config import get_settings
from core.db import Database
from tests.helpers import csrf_token

pytestmark = pytest.mark.postgres

POOL_TIMEOUT = 8.0


@contextmanager
def one_connection(db: Database, settings: Any = None) -> Iterator[tuple[TestClient, Database]]:
    """A client of an app whose database pool holds one connection (waits up to POOL_TIMEOUT)."""
    from web.app import create_app

    small = Database(db.url, pool_size=1, max_overflow=0, pool_timeout=POOL_TIMEOUT)
    try:
        app = create_app(settings or get_settings(), small)
        with TestClient(app=app, base_url="http://testserver.local") as client:
            yield client, small
    finally:
        small.dispose()


def test_a_request_waiting_for_the_pool_does_not_stall_the_process(
    db: Database, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("PostgreSQL only: a pool of connections")
    with one_connection(db) as (client, small):
        token = csrf_token(client, "/t/hechi/staff/login")
        signed = client.post(
            "/t/hechi/staff/login",
            data={"username": "hechi-clerk", "password": "Demo-2026", "_csrf_token": token},
        )
        assert signed.status_code in (200, 302, 303)
        held = small.engine.connect()  # the pool's only connection, busy elsewhere
        held.exec_driver_sql("select 1")
        waiting = threading.Thread(target=client.get, args=("/t/hechi/workbench",))
        try:
            waiting.start()
            time.sleep(0.5)  # the signed-in request is now waiting for the pool
            started = time.monotonic()
            asset = client.get("/static/vendor/htmx.min.js")
            answered_in = time.monotonic() - started
        finally:
            held.close()
            waiting.join(POOL_TIMEOUT + 5)
        assert asset.status_code == 200
        assert answered_in < POOL_TIMEOUT / 2, answered_in


def test_a_tenant_read_waiting_for_the_pool_does_not_stall_the_process(
    db: Database, backend: str
) -> None:
    """The tenant is kept for two seconds; reading it again (a miss) while every connection
    is taken used to block the event loop in the pool's wait, and with it the clean-up that
    gives connections back: the process stood still until the pool's timeout."""
    if backend != "postgres":
        pytest.skip("PostgreSQL only: a pool of connections")
    from web.deps import forget_tenants

    with one_connection(db) as (client, small):
        assert client.get("/t/hechi/").status_code == 200
        held = small.engine.connect()  # the pool's only connection, busy elsewhere
        held.exec_driver_sql("select 1")
        forget_tenants()  # the next page must read its tenant from the database
        waiting = threading.Thread(target=client.get, args=("/t/hechi/items",))
        try:
            waiting.start()
            time.sleep(0.5)  # its tenant read is now waiting for the pool
            started = time.monotonic()
            asset = client.get("/static/vendor/htmx.min.js")
            answered_in = time.monotonic() - started
        finally:
            held.close()
            waiting.join(POOL_TIMEOUT + 5)
        assert asset.status_code == 200
        assert answered_in < POOL_TIMEOUT / 2, answered_in
        assert client.get("/t/hechi/items").status_code == 200
