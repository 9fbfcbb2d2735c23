"""Sessions end on the server: a cookie saved before 退出 opens nothing afterwards, and a new
password, a change of roles, disabling and an admin's "end all sessions" end every session of
that person at once."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from litestar.testing import TestClient
from sqlalchemy import select

from core.db import Database
from core.identity import Role, Staff
from core.identity.service import create_account, create_staff, grant_role
from core.tenancy import scope_for
from tests.helpers import bearer, csrf_token, staff_token, tenant

BASE = "http://testserver.local"


def _browser(app) -> TestClient:
    return TestClient(app=app, base_url=BASE)


def _sign_in_staff(browser: TestClient, username: str, password: str = "Demo-2026") -> None:
    token = csrf_token(browser, "/t/hechi/staff/login")
    answer = browser.post(
        "/t/hechi/staff/login",
        data={"username": username, "password": password, "_csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code in (302, 303), answer.text


def _opens(app, cookies: dict[str, str], path: str) -> bool:
    """Whether a browser holding only ``cookies`` (a saved copy) gets ``path``."""
    with _browser(app) as thief:
        thief.cookies.update(cookies)
        return thief.get(path, follow_redirects=False).status_code == 200


def _new_admin(db: Database) -> str:
    """A Hechi admin of our own, so that ending their sessions disturbs no other test."""
    username = f"hechi-temp-{secrets.token_hex(3)}"
    t = tenant(db, "hechi")
    with db.session(scope=scope_for(t)) as s:
        staff = create_staff(s, t, username=username, name="临时管理员", password="Demo-2026")
        grant_role(s, staff, Role.tenant_admin)
        s.commit()
    return username


def test_a_cookie_saved_before_signing_out_opens_nothing_after(app, db: Database) -> None:
    username = _new_admin(db)
    with _browser(app) as browser:
        _sign_in_staff(browser, username)
        assert browser.get("/t/hechi/admin").status_code == 200
        saved = dict(browser.cookies)
        assert _opens(app, saved, "/t/hechi/admin")
        token = csrf_token(browser, "/t/hechi/admin")
        out = browser.post("/t/hechi/logout", data={"_csrf_token": token}, follow_redirects=False)
        assert out.status_code in (302, 303)
    assert not _opens(app, saved, "/t/hechi/admin")
    with _browser(app) as browser:  # signing in again works as before
        _sign_in_staff(browser, username)
        assert browser.get("/t/hechi/admin").status_code == 200


def test_a_citizens_saved_cookie_dies_with_their_sign_out(app, db: Database) -> None:
    phone = f"139{secrets.randbelow(10**8):08d}"
    guangxi = tenant(db, "guangxi")
    with db.session(scope=scope_for(guangxi)) as s:
        create_account(s, guangxi, name="退出测试", phone=phone, password="Demo-2026")
        s.commit()
    with _browser(app) as browser:
        token = csrf_token(browser, "/t/hechi/login")
        browser.post(
            "/t/hechi/login/password",
            data={"phone": phone, "password": "Demo-2026", "_csrf_token": token},
        )
        assert browser.get("/t/hechi/my/cases").status_code == 200
        saved = dict(browser.cookies)
        browser.post("/t/hechi/logout", data={"_csrf_token": csrf_token(browser, "/t/hechi/")})
    assert not _opens(app, saved, "/t/hechi/my/cases")


def _signed_in_elsewhere(app, db: Database, change: Callable[[str, str], None]) -> None:
    """Sign a fresh admin in, let ``change(username, admin_token)`` happen, and expect the
    session (still held by its browser, never signed out) to be over."""
    username = _new_admin(db)
    admin = staff_token(db, "hechi", "hechi-admin")
    with _browser(app) as browser:
        _sign_in_staff(browser, username)
        assert browser.get("/t/hechi/admin").status_code == 200
        change(username, admin)
        assert browser.get("/t/hechi/admin", follow_redirects=False).status_code in (302, 303)


def _staff_id(db: Database, username: str) -> str:
    t = tenant(db, "hechi")
    with db.session(scope=scope_for(t)) as s:
        return str(s.scalar(select(Staff.id).where(Staff.username == username)))


def test_an_admin_ends_every_session_of_a_staff_member(app, client, db: Database) -> None:
    def end(username: str, admin: str) -> None:
        url = f"/api/v1/t/hechi/staff/{_staff_id(db, username)}/end-sessions"
        assert client.post(url, headers=bearer(admin)).status_code == 204

    _signed_in_elsewhere(app, db, end)


def test_a_new_password_ends_the_old_sessions(app, client, db: Database) -> None:
    def new_password(username: str, admin: str) -> None:
        answer = client.patch(
            f"/api/v1/t/hechi/staff/{_staff_id(db, username)}",
            json={"password": "Fresh-2026-pass"},
            headers=bearer(admin),
        )
        assert answer.status_code == 200, answer.text

    _signed_in_elsewhere(app, db, new_password)


def test_disabling_ends_the_sessions_and_tokens(app, client, db: Database) -> None:
    def disable(username: str, admin: str) -> None:
        own = staff_token(db, "hechi", username)
        assert client.get("/api/v1/t/hechi/me", headers=bearer(own)).status_code == 200
        answer = client.patch(
            f"/api/v1/t/hechi/staff/{_staff_id(db, username)}",
            json={"active": False},
            headers=bearer(admin),
        )
        assert answer.status_code == 200 and answer.json()["active"] is False
        assert client.get("/api/v1/t/hechi/me", headers=bearer(own)).status_code == 401

    _signed_in_elsewhere(app, db, disable)


def test_a_change_of_roles_ends_the_sessions(app, db: Database) -> None:
    def promote(username: str, _admin: str) -> None:
        t = tenant(db, "hechi")
        with db.session(scope=scope_for(t)) as s:
            staff = s.scalar(select(Staff).where(Staff.username == username))
            grant_role(s, staff, Role.supervisor)
            s.commit()

    _signed_in_elsewhere(app, db, promote)


def test_only_a_tenant_admin_ends_sessions(client, db: Database) -> None:
    clerk = staff_token(db, "hechi", "hechi-clerk")
    target = _staff_id(db, "hechi-reviewer")
    url = f"/api/v1/t/hechi/staff/{target}/end-sessions"
    assert client.post(url, headers=bearer(clerk)).status_code == 403
    bozhou_admin = staff_token(db, "bozhou", "bozhou-admin")
    assert (
        client.post(f"/api/v1/t/bozhou/staff/{target}/end-sessions", headers=bearer(bozhou_admin))
    ).status_code == 404


def test_a_new_password_or_end_all_also_revokes_tokens_and_enabling_brings_none_back(
    client, db: Database
) -> None:
    admin = staff_token(db, "hechi", "hechi-admin")
    for change in (
        {"password": "Fresh-2026-pass"},
        "end-sessions",
        {"active": False},
    ):
        username = _new_admin(db)
        own = staff_token(db, "hechi", username)
        assert client.get("/api/v1/t/hechi/me", headers=bearer(own)).status_code == 200
        url = f"/api/v1/t/hechi/staff/{_staff_id(db, username)}"
        if change == "end-sessions":
            assert client.post(url + "/end-sessions", headers=bearer(admin)).status_code == 204
        else:
            assert client.patch(url, json=change, headers=bearer(admin)).status_code == 200
        assert client.get("/api/v1/t/hechi/me", headers=bearer(own)).status_code == 401, change
        client.patch(url, json={"active": True}, headers=bearer(admin))
        assert client.get("/api/v1/t/hechi/me", headers=bearer(own)).status_code == 401, change


def test_signing_out_of_the_browser_leaves_an_apps_token_alone(app, client, db: Database) -> None:
    username = _new_admin(db)
    own = staff_token(db, "hechi", username)
    with _browser(app) as browser:
        _sign_in_staff(browser, username)
        browser.post("/t/hechi/logout", data={"_csrf_token": csrf_token(browser, "/t/hechi/admin")})
    assert client.get("/api/v1/t/hechi/me", headers=bearer(own)).status_code == 200
