"""The settings of docs/operations.md's table that shape a request: the JSON limit, the
default language, the scheduler's pace."""

from __future__ import annotations

import json

import pytest
from litestar.testing import TestClient

from core.config import get_settings, reset_settings
from core.db import Database
from tests.helpers import bearer, staff_token


@pytest.fixture
def configured(db: Database, monkeypatch):
    """A client of an app built with the given ``GOVHALL_*`` values."""
    from web.app import create_app

    clients = []

    def build(**env: str) -> TestClient:
        for name, value in env.items():
            monkeypatch.setenv(f"GOVHALL_{name.upper()}", value)
        reset_settings()
        client = TestClient(app=create_app(get_settings(), db), base_url="http://testserver.local")
        clients.append(client.__enter__())
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)
    monkeypatch.undo()
    reset_settings()


def test_a_json_body_past_max_json_bytes_is_413_though_far_under_the_upload_limit(
    configured, db: Database
) -> None:
    client = configured(max_json_bytes="2000")
    token = staff_token(db, "cili", "cili-admin")
    body = json.dumps({"code": "X", "name": "长" * 1000, "kind": "window"})  # ~3 KB
    answer = client.post(
        "/api/v1/t/cili/org-units",
        content=body,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert answer.status_code == 413 and answer.json()["error"] == "payload_too_large"
    # an ordinary request still passes the limit
    assert client.get("/api/v1/t/cili/org-units", headers=bearer(token)).status_code == 200


def test_a_visitor_without_a_choice_gets_the_default_language(configured) -> None:
    english = configured(default_lang="en")
    page = english.get("/t/hechi/")
    assert page.status_code == 200 and '<html lang="en"' in page.text
    english.cookies.set("lang", "zh")
    assert 'lang="zh' in english.get("/t/hechi/").text


def test_the_scheduler_paces_deadlines_and_the_outbox_by_the_setting(monkeypatch) -> None:
    from workers.actors import PERIODIC, relay_pending, sweep_deadlines
    from workers.scheduler import LocalLock, Scheduler

    monkeypatch.setenv("GOVHALL_SCHEDULER_INTERVAL", "15")
    reset_settings()
    try:
        paced = dict(
            (actor.actor_name, every) for every, actor in Scheduler(PERIODIC, LocalLock()).jobs
        )
    finally:
        monkeypatch.delenv("GOVHALL_SCHEDULER_INTERVAL")
        reset_settings()
    assert paced[sweep_deadlines.actor_name] == 15.0
    assert paced[relay_pending.actor_name] == 15.0
    assert max(paced.values()) == 3600.0  # the hourly purge keeps its own pace


def test_a_vendor_naming_our_sms_templates_reads_in_the_admin_words() -> None:
    from web.templating import plain_codes

    said = plain_codes("模板 case_received 未配置模板编码（otp 正常；my_otp_code 不是模板）")
    assert said == "模板 “收件通知” 未配置模板编码（“登录验证码” 正常；my_otp_code 不是模板）"
