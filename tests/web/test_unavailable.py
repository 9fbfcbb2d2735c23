"""While the database is out of reach — PostgreSQL refusing connections (restarting, or gone),
SQLite held by another writer past its busy timeout — requests answer 503 with Retry-After:
the API in its error format, a browser with a Chinese page; and once it is back, the same
request goes through."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import event

from core.db import Database
from tests.cases.test_pages import _citizen_login
from tests.helpers import account_token, bearer
from tests.servers import free_port

ZHANG = "13800000001"


class Outage:
    """Puts the app's database out of reach and back."""

    def __init__(self, app: Any, db: Database, backend: str) -> None:
        self.app, self.db, self.backend = app, db, backend
        self.blocker: sqlite3.Connection | None = None

    def begin(self) -> None:
        if self.backend == "postgres":  # nothing listens there: connection refused
            closed = self.db.url.rsplit("@", 1)[0] + f"@127.0.0.1:{free_port()}/govhall"
            self.app.state.database = Database(closed)
            self.app.hosts.database = self.app.state.database
            self.app.hosts._loaded = 0.0  # the tenant domains are due for a refresh too
        else:  # another writer holds the file; ours gives up after 0.3 s, not 10
            impatient = Database(self.db.url)
            event.listen(
                impatient.engine,
                "connect",
                lambda conn, _record: conn.execute("PRAGMA busy_timeout=300"),
            )
            self.app.state.database = impatient
            self.blocker = sqlite3.connect(self.db.url.removeprefix("sqlite:///"))
            self.blocker.execute("BEGIN IMMEDIATE")

    def end(self) -> None:
        if self.blocker is not None:
            self.blocker.rollback()
            self.blocker.close()
            self.blocker = None
        self.app.state.database.dispose()
        self.app.state.database = self.db
        self.app.hosts.database = self.db


@pytest.fixture
def outage(app, db: Database, backend: str) -> Iterator[Outage]:
    out = Outage(app, db, backend)
    yield out
    out.end()


def _unavailable(answer: Any) -> None:
    assert answer.status_code == 503, (answer.status_code, answer.text[:300])
    assert int(answer.headers["retry-after"]) > 0


def test_the_api_answers_503_with_retry_after_and_recovers(client, db, outage) -> None:
    token = account_token(db, "hechi", ZHANG)
    apply = {"item": "HC-SC03"}
    outage.begin()
    answer = client.post("/api/v1/t/hechi/cases", json=apply, headers=bearer(token))
    _unavailable(answer)
    body = answer.json()
    assert body["error"] == "database_unavailable" and "稍" in body["detail"]
    assert answer.headers["content-type"].startswith("application/json")
    outage.end()
    again = client.post("/api/v1/t/hechi/cases", json=apply, headers=bearer(token))
    assert again.status_code == 201, again.text


def test_a_browser_gets_a_chinese_page_with_retry_after(app, outage) -> None:
    with TestClient(app=app, base_url="http://testserver.local") as citizen:
        token = _citizen_login(citizen)
        form = {"_csrf_token": token, "key": "重试页面测试", "delivery": "pickup"}
        outage.begin()
        answer = citizen.post(
            "/t/hechi/items/HC-SC03/apply",
            data=form,
            headers={"accept": "text/html"},
            follow_redirects=False,
        )
        _unavailable(answer)
        assert answer.headers["content-type"].startswith("text/html")
        assert 'data-status="503"' in answer.text and "系统正在恢复" in answer.text
        assert "服务暂时不可用" in answer.text and "不会重复办理" in answer.text
        assert "database" not in answer.text.lower() and "Traceback" not in answer.text
        outage.end()
        again = citizen.post("/t/hechi/items/HC-SC03/apply", data=form, follow_redirects=False)
        assert again.status_code in (302, 303), again.text
