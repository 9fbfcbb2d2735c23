"""Every form of every page refuses a post without its CSRF token — signed in or not — and
what a user typed (an item name, a comment, a plugin's config) is escaped, never run, when it
is shown back."""

from __future__ import annotations

import re

from litestar.testing import TestClient

from tests.cases.conftest import Desk
from tests.helpers import csrf_token


def _page_posts(app) -> list[str]:  # type: ignore[no-untyped-def]
    paths = []
    for route in app.routes:
        methods = getattr(route, "methods", set())
        if "POST" in methods and not route.path.startswith(("/api/", "/oauth/", "/schema")):
            paths.append(route.path)
    return sorted(set(paths))


def _fill(path: str) -> str:
    values = {"slug": "hechi", "number": "HC-X", "code": "HC-SC03", "name": "sms_console"}
    return re.sub(
        r"\{(\w+)(?::\w+)?\}",
        lambda m: values.get(m.group(1), "00000000-0000-0000-0000-000000000000"),
        path,
    )


def test_every_form_refuses_a_post_without_its_csrf_token(app) -> None:  # type: ignore[no-untyped-def]
    posts = _page_posts(app)
    assert len(posts) > 20, posts  # the walk found the forms
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        token = csrf_token(browser, "/t/hechi/staff/login")
        browser.post(
            "/t/hechi/staff/login",
            data={"username": "hechi-admin", "password": "Demo-2026", "_csrf_token": token},
        )
        for path in posts:
            url = _fill(path)
            answer = browser.post(url, data={"x": "1"}, follow_redirects=False)
            assert answer.status_code == 403, (url, answer.status_code)


def test_what_users_type_is_shown_escaped(app, db) -> None:  # type: ignore[no-untyped-def]
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    hechi = Desk(db, "hechi")
    number = hechi.apply(hechi.citizen("13800000001"), "HC-SC03")
    hechi.act(hechi.staff("hechi-clerk"), number, "comment", reason=attack)
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        token = csrf_token(browser, "/t/hechi/staff/login")
        browser.post(
            "/t/hechi/staff/login",
            data={"username": "hechi-admin", "password": "Demo-2026", "_csrf_token": token},
        )
        page = browser.get(f"/t/hechi/workbench/cases/{number}")
        assert page.status_code == 200
        assert "&lt;script&gt;" in page.text and attack not in page.text
        saved = browser.post(
            "/t/hechi/admin/plugins/sms_console/config",
            data={"_csrf_token": token, "enabled": "on", "outbox_path": attack},
        )
        assert attack not in saved.text
        with hechi.session() as s:  # put it back
            from core.plugins import get_plugin_manager

            get_plugin_manager().set_enabled(s, hechi.tenant, "sms_console", True, {})
            s.commit()
