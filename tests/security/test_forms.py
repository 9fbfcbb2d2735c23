"""Every form of every page refuses a post without its CSRF token — signed in or not — and
what a user typed (an item name, a comment, a plugin's config) is escaped, never run, when it
is shown back."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from tests.cases.conftest import Desk
from tests.helpers import csrf_token


def _page_posts(app) -> list[str]:
    paths = []
    for route in app.routes:
        methods: set[str] = getattr(route, "methods", set())
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


def test_every_form_refuses_a_post_without_its_csrf_token(app) -> None:
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


def test_what_users_type_is_shown_escaped(app, db) -> None:
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


def _onboard_active(db, slug: str, code: str) -> None:
    from core.db import PLATFORM
    from core.tenancy import TenantKind, TenantStatus, get_tenant_by_slug
    from core.tenancy.service import onboard_tenant, set_tenant_status

    with db.session(scope=PLATFORM) as s:
        guangxi = get_tenant_by_slug(s, "guangxi")
        county = onboard_tenant(
            s, parent=guangxi, slug=slug, name=f"{slug}县", division_code=code, kind=TenantKind.city
        )
        set_tenant_status(county, TenantStatus.active)
        s.commit()


@pytest.fixture
def lookalike_tenants(db) -> Iterator[None]:
    """Three cities under Guangxi, removed again so the shared demo database is as it was."""
    from sqlalchemy import delete

    from core.db import PLATFORM
    from core.tenancy import Tenant

    slugs = {"schemaxian": "450300", "healthzcun": "450400", "apixian": "450500"}
    for slug, code in slugs.items():
        _onboard_active(db, slug, code)
    yield
    with db.session(scope=PLATFORM) as s:
        s.execute(delete(Tenant).where(Tenant.slug.in_(list(slugs))))
        s.commit()


def test_a_tenant_whose_slug_begins_like_a_platform_route_keeps_csrf(
    app, lookalike_tenants
) -> None:
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        for slug in ("schemaxian", "healthzcun", "apixian"):
            assert browser.get(f"/t/{slug}/").status_code == 200
            for path in ("login/password", "staff/login", "admin/units", "logout"):
                answer = browser.post(f"/t/{slug}/{path}", data={"code": "X"})
                assert answer.status_code == 403, (slug, path, answer.status_code)


def test_platform_route_names_cannot_be_tenant_slugs(app) -> None:
    from core.tenancy.service import RESERVED_SLUGS

    firsts = {r.path.strip("/").split("/")[0] for r in app.routes}
    firsts = {f.removeprefix(".") for f in firsts if f and not f.startswith("{")}
    assert firsts <= RESERVED_SLUGS, firsts - RESERVED_SLUGS
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        token = csrf_token(browser, "/t/guangxi/staff/login")
        browser.post(
            "/t/guangxi/staff/login",
            data={"username": "guangxi-admin", "password": "Demo-2026", "_csrf_token": token},
        )
        for slug in ("api", "schema", "healthz", "oauth", "static", "lang"):
            answer = browser.post(
                "/t/guangxi/console/onboard",
                data={
                    "_csrf_token": token,
                    "slug": slug,
                    "name": "保留字县",
                    "division_code": "450600",
                    "kind": "city",
                },
            )
            assert answer.status_code == 422, slug
            assert "平台保留字" in answer.text, slug
