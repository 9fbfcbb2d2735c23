"""A web process past its limit of requests in progress refuses the next ones at once with
503 and Retry-After, in Chinese for a browser and in the error form for the API, and takes
requests again as soon as one ends (at 500 clients, every request used to wait past its
client's patience: docs/performance.md, "Load")."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import msgspec
import pytest

from core.config import get_settings
from core.db import Database
from tests.helpers import csrf_token
from tests.web.test_pool_exhausted import POOL_TIMEOUT, one_connection

pytestmark = pytest.mark.postgres


def test_past_the_limit_requests_are_refused_at_once_and_taken_again_after(
    db: Database, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("PostgreSQL only: a request held waiting for a pooled connection")
    settings = msgspec.structs.replace(get_settings(), max_concurrent_requests=1)
    with one_connection(db, settings) as (client, small):
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
            time.sleep(0.5)  # the one request this process takes is waiting for the pool
            started = time.monotonic()
            page = client.get("/t/hechi/items", headers={"accept": "text/html"})
            api = client.get("/api/v1/t/hechi/items")
            refused_in = time.monotonic() - started
            asset = client.get("/static/vendor/htmx.min.js")
        finally:
            held.close()
            waiting.join(POOL_TIMEOUT + 5)
        assert refused_in < 1.0, refused_in  # refused at once, not after a wait
        assert page.status_code == 503 and page.headers["retry-after"] == "3"
        assert "请稍后再试" in page.text and "办事的人较多" in page.text
        assert page.headers["content-type"].startswith("text/html")
        assert api.status_code == 503 and api.headers["retry-after"] == "3"
        assert api.json() == {"error": "busy", "detail": "办事的人较多，请稍等几秒后再试"}
        assert asset.status_code == 200  # static files are never refused
        # the held request has ended: the next one is served
        assert client.get("/t/hechi/items").status_code == 200


def test_no_limit_when_set_to_zero() -> None:
    from web.shedding import Admission

    calls: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["path"])

    unlimited = Admission(app, 0)
    unlimited.in_progress = 10_000
    # its own thread: an earlier test's client may leave this thread's event loop marked running
    called = threading.Thread(
        target=asyncio.run,
        args=(unlimited({"type": "http", "path": "/t/hechi/"}, None, None),),  # type: ignore[arg-type]
    )
    called.start()
    called.join(10)
    assert calls == ["/t/hechi/"] and unlimited.refused == 0
