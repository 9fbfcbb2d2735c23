"""Signing in: staff passwords, citizens by password or SMS code, lock-out, CSRF."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import reset_settings
from core.db import Database
from tests.helpers import csrf_token, sms_code


def _staff_login(client, slug: str, username: str, password: str):
    token = csrf_token(client, f"/t/{slug}/staff/login")
    return client.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": password, "_csrf_token": token},
        follow_redirects=False,
    )


def test_staff_sign_in_opens_the_workbench(client) -> None:
    response = _staff_login(client, "hechi", "hechi-clerk", "Demo-2026")
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/t/hechi/workbench"
    page = client.get("/t/hechi/workbench")
    assert page.status_code == 200 and "窗口受理员" in page.text


def test_staff_of_one_county_cannot_use_their_session_in_another(client) -> None:
    _staff_login(client, "hechi", "hechi-admin", "Demo-2026")
    assert client.get("/t/hechi/admin").status_code == 200
    other = client.get("/t/bozhou/admin", follow_redirects=False)
    assert other.status_code in (302, 303) and "/t/bozhou/staff/login" in other.headers["location"]


def test_a_wrong_password_gets_a_generic_message(client) -> None:
    wrong_user = _staff_login(client, "bozhou", "nobody-here", "Demo-2026")
    wrong_pass = _staff_login(client, "bozhou", "bozhou-clerk", "Wrong-2026")
    assert wrong_user.status_code == wrong_pass.status_code == 401
    assert "用户名、密码或动态口令不正确" in wrong_user.text
    assert "用户名、密码或动态口令不正确" in wrong_pass.text


def test_a_disabled_account_is_told_so_only_with_the_right_password(client, db) -> None:
    """The person whose account was disabled learns why they cannot sign in (it read like a
    typo); a guesser with a wrong password learns nothing more than for any account."""
    from sqlalchemy import update

    from core.identity import Staff
    from core.tenancy import scope_for
    from tests.helpers import tenant

    bozhou = tenant(db, "bozhou")
    with db.session(scope=scope_for(bozhou)) as s:
        s.execute(
            update(Staff)
            .where(Staff.tenant_id == bozhou.id, Staff.username == "bozhou-issuer")
            .values(active=False)
        )
        s.commit()
    try:
        wrong = _staff_login(client, "bozhou", "bozhou-issuer", "Wrong-2026")
        assert "用户名、密码或动态口令不正确" in wrong.text and "停用" not in wrong.text
        right = _staff_login(client, "bozhou", "bozhou-issuer", "Demo-2026")
        assert right.status_code == 403 and "此账号已被停用" in right.text
    finally:
        with db.session(scope=scope_for(bozhou)) as s:
            s.execute(
                update(Staff)
                .where(Staff.tenant_id == bozhou.id, Staff.username == "bozhou-issuer")
                .values(active=True)
            )
            s.commit()


def test_repeated_failures_lock_the_account_even_for_the_right_password(client) -> None:
    for _ in range(5):
        _staff_login(client, "cili", "cili-reviewer", "Wrong-2026")
    locked = _staff_login(client, "cili", "cili-reviewer", "Demo-2026")
    assert locked.status_code == 429
    assert "尝试次数过多" in locked.text


def test_role_pages_refuse_staff_without_the_role(client) -> None:
    _staff_login(client, "suning", "suning-clerk", "Demo-2026")
    assert client.get("/t/suning/admin").status_code == 403
    assert client.get("/t/suning/console").status_code == 403


def test_a_form_post_without_the_csrf_token_is_refused(client) -> None:
    client.get("/t/hechi/staff/login")
    response = client.post(
        "/t/hechi/staff/login", data={"username": "hechi-clerk", "password": "Demo-2026"}
    )
    assert response.status_code == 403


def test_a_citizen_signs_in_with_an_sms_code(client, sms_outbox: Path) -> None:
    token = csrf_token(client, "/t/hechi/login")
    sent = client.post(
        "/t/hechi/login/code/request",
        data={"phone": "13912345678"},
        headers={"x-csrftoken": token, "HX-Request": "true"},
    )
    assert sent.status_code == 200 and "验证码已发送" in sent.text
    assert "【河池市政务服务】" in sms_outbox.read_text(encoding="utf-8")
    code = sms_code(sms_outbox)
    response = client.post(
        "/t/hechi/login/code",
        data={"phone": "13912345678", "code": code, "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303)
    assert "用户5678" in client.get("/t/hechi/").text


def test_a_used_or_wrong_code_does_not_sign_in(client, sms_outbox: Path) -> None:
    token = csrf_token(client, "/t/bozhou/login")
    client.post(
        "/t/bozhou/login/code/request",
        data={"phone": "13912340000"},
        headers={"x-csrftoken": token},
    )
    code = sms_code(sms_outbox)
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post(
        "/t/bozhou/login/code", data={"phone": "13912340000", "code": wrong, "_csrf_token": token}
    )
    assert bad.status_code == 401
    ok = client.post(
        "/t/bozhou/login/code",
        data={"phone": "13912340000", "code": code, "_csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code in (302, 303)
    client.cookies.clear()
    token = csrf_token(client, "/t/bozhou/login")
    reused = client.post(
        "/t/bozhou/login/code", data={"phone": "13912340000", "code": code, "_csrf_token": token}
    )
    assert reused.status_code == 401


@pytest.fixture
def no_resend_wait() -> Iterator[None]:
    """Codes may be asked for again at once, so that the hourly cap is what is tested."""
    os.environ["GOVHALL_OTP_RESEND_SECONDS"] = "0"
    reset_settings()
    yield
    os.environ.pop("GOVHALL_OTP_RESEND_SECONDS")
    reset_settings()


def test_sms_code_requests_are_throttled_per_phone(
    client, sms_outbox: Path, no_resend_wait
) -> None:
    token = csrf_token(client, "/t/cili/login")
    answers = [
        client.post(
            "/t/cili/login/code/request",
            data={"phone": "13700001111"},
            headers={"x-csrftoken": token},
        ).text
        for _ in range(6)
    ]
    assert all("验证码已发送" in a for a in answers[:5])
    assert "过于频繁" in answers[5]
    assert len(sms_outbox.read_text(encoding="utf-8").splitlines()) == 5


def test_sms_code_brute_force_is_locked_out(client, sms_outbox: Path) -> None:
    token = csrf_token(client, "/t/suning/login")
    client.post(
        "/t/suning/login/code/request",
        data={"phone": "13600002222"},
        headers={"x-csrftoken": token},
    )
    code = sms_code(sms_outbox)
    guesses = [f"{n:06d}" for n in range(5) if f"{n:06d}" != code][:5]
    for guess in guesses:
        client.post(
            "/t/suning/login/code",
            data={"phone": "13600002222", "code": guess, "_csrf_token": token},
        )
    locked = client.post(
        "/t/suning/login/code", data={"phone": "13600002222", "code": code, "_csrf_token": token}
    )
    assert locked.status_code == 429


def test_a_citizen_signs_in_with_a_password_from_the_province_pack(
    client,
    db: Database,
) -> None:
    import tomllib

    from tests.conftest import TENANTS

    people = tomllib.loads((TENANTS / "guangxi" / "people.toml").read_text(encoding="utf-8"))
    phone = people["accounts"][0]["phone"]
    token = csrf_token(client, "/t/hechi/login")
    response = client.post(
        "/t/hechi/login/password",
        data={"phone": phone, "password": "Demo-2026", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303)
    # The same account works in its province's other tenants, not in another province.
    assert "张伟" in client.get("/t/guangxi/").text
    assert "张伟" not in client.get("/t/bozhou/").text
