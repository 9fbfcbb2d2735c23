"""With an https base URL every cookie is Secure and every answer carries HSTS; with a plain
http one (development) neither, or the browser would refuse the development server."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from core.config import reset_settings
from core.db import Database
from tests.helpers import csrf_token


def _cookies(db: Database, monkeypatch: pytest.MonkeyPatch, base_url: str) -> dict[str, str]:
    """Each cookie's Set-Cookie line, and the HSTS header under the key "hsts"."""
    from web.app import create_app

    monkeypatch.setenv("GOVHALL_BASE_URL", base_url)
    reset_settings()
    seen: dict[str, str] = {}
    try:
        with TestClient(app=create_app(database=db), base_url=base_url) as browser:
            first = browser.get("/t/hechi/staff/login")  # sets the CSRF cookie
            token = csrf_token(browser, "/t/hechi/staff/login")
            signed = browser.post(
                "/t/hechi/staff/login",
                data={"username": "hechi-admin", "password": "Demo-2026", "_csrf_token": token},
                follow_redirects=False,
            )
            answers = [
                first,
                signed,
                browser.get("/lang/en?next=/t/hechi/", follow_redirects=False),
                browser.get("/elder/on?next=/t/hechi/", follow_redirects=False),
            ]
            for answer in answers:
                for line in answer.headers.get_list("set-cookie"):
                    seen[line.split("=", 1)[0]] = line
            seen["hsts"] = signed.headers.get("strict-transport-security") or ""
    finally:
        monkeypatch.delenv("GOVHALL_BASE_URL")
        reset_settings()
    return seen


def test_https_cookies_are_secure_and_hsts_is_sent(db, monkeypatch) -> None:
    seen = _cookies(db, monkeypatch, "https://zwfw.hechi.example")
    assert {"govhall_session", "govhall_csrf", "lang", "elder"} <= set(seen), seen
    for name in ("govhall_session", "govhall_csrf", "lang", "elder"):
        assert "secure" in seen[name].lower(), seen[name]
    assert "max-age=31536000" in seen["hsts"]


def test_plain_http_cookies_are_not_secure(db, monkeypatch) -> None:
    seen = _cookies(db, monkeypatch, "http://127.0.0.1:8000")
    for name in ("govhall_session", "govhall_csrf", "lang", "elder"):
        assert "secure" not in seen[name].lower(), seen[name]
    assert seen["hsts"] == ""
