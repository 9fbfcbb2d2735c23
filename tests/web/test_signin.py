"""The citizen sign-in page: after an error the same panel stays open with the phone kept and
the error beside its field; citizens' words (手机号, never 用户名); another code only after
60 seconds; an SMS vendor's failure said without the vendor's words."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete

from core.db import Database, utcnow
from core.notify.types import SendResult
from tests.helpers import csrf_token


def _phone() -> str:
    return f"137{secrets.randbelow(10**8):08d}"


def _panel(html: str, name: str) -> str:
    """The opening tag of a sign-in panel (its form)."""
    match = re.search(rf'<form [^>]*data-login-panel="{name}"[^>]*>', html)
    assert match, name
    return match.group(0)


def _is_open(html: str, name: str) -> bool:
    return " hidden" not in _panel(html, name)


@pytest.fixture(autouse=True)
def forget_code_requests(db: Database) -> Iterator[None]:
    """Every test's client has one address: leave no code requests counted against it."""
    yield
    from core.identity.models import LoginThrottle

    with db.session(scope=None) as s:
        s.execute(delete(LoginThrottle).where(LoginThrottle.key.like("otp-req:%")))
        s.commit()


def test_the_page_speaks_to_citizens_and_works_without_script(client) -> None:
    page = client.get("/t/hechi/login")
    assert page.status_code == 200
    assert "手机号" in page.text and "用户名" not in page.text
    assert _is_open(page.text, "code") and not _is_open(page.text, "password")
    # the tabs are links: without script, ?tab=password opens the other panel
    assert 'href="/t/hechi/login?tab=password"' in page.text
    other = client.get("/t/hechi/login?tab=password&next=/t/hechi/my/cases")
    assert _is_open(other.text, "password") and not _is_open(other.text, "code")
    assert 'value="/t/hechi/my/cases"' in other.text
    assert "/static/js/login.js" in page.text
    # sent here from 在线申办: told why, and that the application comes back after
    assert 'data-testid="login-to-continue"' not in page.text
    applying = client.get("/t/hechi/items/HC-SC03/apply")  # signed out: on to the sign-in
    assert "网上申办需要先登录" in applying.text, applying.url


def test_a_wrong_password_keeps_the_password_panel_and_the_phone(client) -> None:
    phone = _phone()  # not a demo citizen: nobody's lock-out grows
    token = csrf_token(client, "/t/hechi/login")
    wrong = client.post(
        "/t/hechi/login/password",
        data={"phone": phone, "password": "Not-the-one-1", "_csrf_token": token},
    )
    assert wrong.status_code == 401
    assert _is_open(wrong.text, "password") and not _is_open(wrong.text, "code")
    assert re.search(rf'id="password-phone"[^>]*value="{phone}"', wrong.text)
    assert "手机号或密码不正确" in wrong.text and "用户名" not in wrong.text
    # beside the password field, which is marked and points at it
    assert re.search(
        r'id="password-password"[^>]*aria-describedby="password-password-error"', wrong.text
    )
    assert 'id="password-password-error"' in wrong.text


def test_a_wrong_code_keeps_the_code_panel_and_the_phone(client, sms_outbox: Path) -> None:
    phone = _phone()
    token = csrf_token(client, "/t/hechi/login")
    client.post(
        "/t/hechi/login/code/request",
        data={"phone": phone},
        headers={"x-csrftoken": token, "HX-Request": "true"},
    )
    wrong = client.post(
        "/t/hechi/login/code",
        data={"phone": phone, "code": "12345x", "_csrf_token": token},
    )
    assert wrong.status_code == 401
    assert _is_open(wrong.text, "code") and not _is_open(wrong.text, "password")
    assert f'value="{phone}"' in wrong.text
    assert "验证码不正确或已失效" in wrong.text and "用户名" not in wrong.text
    assert 'id="code-code-error"' in wrong.text
    # the countdown goes on after the page came back
    wait = re.search(r'id="code-request"[^>]*data-resend-after="(\d+)"', wrong.text)
    assert wait and 0 < int(wait.group(1)) <= 60


def test_another_code_is_refused_within_60_seconds(
    client, db: Database, sms_outbox: Path, monkeypatch
) -> None:
    phone = _phone()
    token = csrf_token(client, "/t/cili/login")

    def ask() -> str:
        return client.post(
            "/t/cili/login/code/request",
            data={"phone": phone},
            headers={"x-csrftoken": token, "HX-Request": "true"},
        ).text

    first = ask()
    assert 'data-testid="code-sent"' in first
    assert re.search(r'data-resend-after="(60|59)"', first)
    again = ask()
    assert "秒后再重新获取" in again and 'data-testid="code-error"' in again
    assert 0 < int(re.search(r'data-resend-after="(\d+)"', again).group(1)) <= 60
    assert len(sms_outbox.read_text(encoding="utf-8").splitlines()) == 1
    # a minute later it is sent
    import core.identity.service as identity
    import core.identity.throttle as throttle

    later = utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(identity, "utcnow", lambda: later)
    monkeypatch.setattr(throttle, "utcnow", lambda: later)  # where the cooldown is kept
    assert 'data-testid="code-sent"' in ask()
    assert len(sms_outbox.read_text(encoding="utf-8").splitlines()) == 2


def test_a_code_asked_for_without_script_opens_the_code_panel(client, sms_outbox: Path) -> None:
    phone = _phone()
    token = csrf_token(client, "/t/bozhou/login")
    page = client.post(
        "/t/bozhou/login/code/request",
        data={"phone": phone, "next": "/t/bozhou/my/cases", "_csrf_token": token},
    )
    assert page.status_code == 200 and "<html" in page.text
    assert _is_open(page.text, "code") and f'value="{phone}"' in page.text
    assert 'data-testid="code-sent"' in page.text and 'value="/t/bozhou/my/cases"' in page.text
    bad = client.post("/t/bozhou/login/code/request", data={"phone": "12345", "_csrf_token": token})
    assert _is_open(bad.text, "code") and 'value="12345"' in bad.text
    assert "请输入 11 位手机号码" in bad.text and 'id="code-phone-error"' in bad.text


def test_a_failing_sms_vendor_is_not_quoted(client, sms_outbox: Path, monkeypatch) -> None:
    import core.notify.sms as sms

    def failing(tenant_id, vendors, message):
        return SendResult(ok=False, error="x"), None, ["acme-sms: HTTP 502 InvalidAccessKeyId"]

    monkeypatch.setattr(sms, "try_vendors", failing)
    token = csrf_token(client, "/t/suning/login")
    answer = client.post(
        "/t/suning/login/code/request",
        data={"phone": _phone()},
        headers={"x-csrftoken": token, "HX-Request": "true"},
    )
    assert "短信发送失败，请稍后重试" in answer.text
    assert "acme" not in answer.text and "InvalidAccessKeyId" not in answer.text
    # nothing was kept: the citizen may ask again at once
    assert 'data-resend-after="0"' in answer.text


def test_staff_and_consent_pages_are_restyled(client) -> None:
    staff = client.get("/t/hechi/staff/login")
    assert staff.status_code == 200 and 'data-testid="staff-login"' in staff.text
    assert 'for="staff-username"' in staff.text and "form-control" in staff.text
