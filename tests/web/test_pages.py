"""The web shell: branded portals, errors as pages or JSON, host routing, language."""

from __future__ import annotations

from core.db import PLATFORM, Database
from core.tenancy import TenantStatus, get_tenant_by_slug
from web.deps import forget_tenants


def test_each_portal_shows_its_own_branding(client) -> None:
    hechi = client.get("/t/hechi/")
    bozhou = client.get("/t/bozhou/")
    assert hechi.status_code == bozhou.status_code == 200
    assert "河池市网上办事大厅" in hechi.text and "#1d5fa8" in hechi.text
    assert "亳州市网上办事大厅" in bozhou.text and "#8c1c13" in bozhou.text
    assert "亳州" not in hechi.text


def test_platform_home_lists_provinces_and_their_counties(client) -> None:
    page = client.get("/")
    for name in ("广西数字政务一体化平台", "河池市网上办事大厅", "肃宁县", "慈利县政务服务中心"):
        assert name in page.text


def test_unknown_tenant_is_a_404_page_and_a_json_404(client) -> None:
    page = client.get("/t/atlantis/")
    assert page.status_code == 404 and "页面不存在" in page.text
    api = client.get("/api/v1/t/atlantis/org-units")
    assert api.status_code == 404
    assert api.json()["error"] == "tenant_not_found"


def test_a_suspended_tenant_says_so(client, db: Database) -> None:
    with db.session(scope=PLATFORM) as session:
        t = get_tenant_by_slug(session, "cili")
        t.status = TenantStatus.suspended
        session.commit()
    forget_tenants()
    try:
        page = client.get("/t/cili/")
        assert page.status_code == 403
        assert "暂停服务" in page.text and "suspended-staff" not in page.text
        staff = client.get("/t/cili/staff/login")  # its staff are told what it means for them
        assert staff.status_code == 403 and 'data-testid="suspended-staff"' in staff.text
    finally:
        with db.session(scope=PLATFORM) as session:
            get_tenant_by_slug(session, "cili").status = TenantStatus.active
            session.commit()
        forget_tenants()


def test_a_tenant_domain_serves_its_portal_without_the_prefix(client) -> None:
    page = client.get("/", headers={"Host": "hechi.govhall.localhost"})
    assert "河池市网上办事大厅" in page.text
    units = client.get("/api/v1/org-units", headers={"Host": "bozhou.govhall.localhost"})
    assert units.status_code == 200
    assert any("亳州" in u["name"] or u["code"].startswith("BZ-") for u in units.json())


def test_english_switch_translates_the_ui(client) -> None:
    assert "登录" in client.get("/t/hechi/login").text
    switch = client.get("/lang/en?next=/t/hechi/login", follow_redirects=False)
    assert switch.status_code in (302, 303) and switch.headers["location"] == "/t/hechi/login"
    client.cookies.set("lang", "en")
    page = client.get("/t/hechi/login")
    assert "Sign in" in page.text and 'lang="en"' in page.text


def test_the_language_switch_is_no_open_redirect(client) -> None:
    response = client.get("/lang/en?next=//evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"


def test_health_and_openapi(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    schema = client.get("/schema/openapi.json").json()
    assert "/api/v1/t/{slug}/org-units" in schema["paths"]


def test_pages_carry_a_viewport_for_phones_and_security_headers(client) -> None:
    page = client.get("/t/suning/")
    assert 'name="viewport"' in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_the_logo_comes_from_storage_as_svg(client) -> None:
    logo = client.get("/t/hechi/branding/logo")
    assert logo.status_code == 200
    assert logo.headers["content-type"].startswith("image/svg+xml")
    assert "sandbox" in logo.headers["content-security-policy"]
    assert b"<svg" in logo.content


def test_a_signed_in_persons_pages_are_kept_in_no_cache(client) -> None:
    """A counter's shared computer: once signed out, the back button must not bring a
    citizen's or a clerk's page back from the browser's cache. Public pages stay cacheable."""
    from tests.helpers import csrf_token

    public = client.get("/t/hechi/")
    assert "no-store" not in public.headers.get("cache-control", "")
    assert "camera=()" in public.headers["permissions-policy"]
    token = csrf_token(client, "/t/hechi/staff/login")
    client.post(
        "/t/hechi/staff/login",
        data={"username": "hechi-clerk", "password": "Demo-2026", "_csrf_token": token},
    )
    workbench = client.get("/t/hechi/workbench")
    assert workbench.status_code == 200
    assert workbench.headers["cache-control"] == "no-store"
    api = client.get("/api/v1/t/hechi/items", headers={"authorization": "Bearer nothing"})
    assert api.headers["cache-control"] == "no-store"


def test_a_signed_out_visit_to_any_staff_page_goes_to_the_staff_sign_in(client) -> None:
    """Staff whose session ended (a password reset, 全部下线) and who open a deep staff page
    are sent to the staff sign-in, not the citizens' SMS sign-in."""
    for path in (
        "/t/hechi/admin/staff",
        "/t/hechi/workbench/cases/451200-20261203-00001",
        "/t/hechi/admin/calendar/",
        "/t/hechi/workbench",
    ):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code in (302, 303), (path, answer.status_code)
        assert answer.headers["location"].startswith("/t/hechi/staff/login?next="), path
    citizen = client.get("/t/hechi/my/cases", follow_redirects=False)
    assert citizen.headers["location"].startswith("/t/hechi/login?next=")


def test_a_county_admin_sees_what_is_still_to_set_up(client) -> None:
    """The administrator's workbench says how many setup steps are left and the admin home
    lists them, each with where to do it: a county on the development SMS plugin has no SMS
    vendor yet; its departments and clerks are there."""
    from tests.helpers import csrf_token

    token = csrf_token(client, "/t/hechi/staff/login")
    client.post(
        "/t/hechi/staff/login",
        data={"username": "hechi-admin", "password": "Demo-2026", "_csrf_token": token},
    )
    assert 'data-testid="getting-started-banner"' in client.get("/t/hechi/workbench").text
    home = client.get("/t/hechi/admin").text
    checklist = home.split('data-testid="getting-started"')[1].split("</section>")[0]
    sms = checklist.split('data-testid="getting-started-5"')[1].split("</li>")[0]
    assert "/admin/plugins/" in sms  # still to do, with where
    departments = checklist.split('data-testid="getting-started-1"')[1].split("</li>")[0]
    assert "text-success" in departments and "去设置" not in departments


def test_a_provinces_announcement_is_shown_on_its_counties_portals(client, db) -> None:
    """The province publishes once for all its regions: a county's home page and notice list
    show it (marked 上级发布) and open it; another province's counties do not."""
    from core.db import PLATFORM
    from core.portal import create_announcement
    from core.tenancy import get_tenant_by_slug

    with db.session(scope=PLATFORM) as s:
        guangxi = get_tenant_by_slug(s, "guangxi")
        row = create_announcement(
            s,
            guangxi,
            title="全区元旦期间政务服务安排",
            body="各地窗口照常受理。",
            published=True,
            pinned=True,
        )
        s.commit()
        ident = row.id
    try:
        home = client.get("/t/hechi/").text
        assert "全区元旦期间政务服务安排" in home and "上级发布" in home
        shown = client.get(f"/t/hechi/announcements/{ident}")
        assert shown.status_code == 200 and "各地窗口照常受理" in shown.text
        assert "全区元旦期间政务服务安排" not in client.get("/t/cili/").text
        assert client.get(f"/t/cili/announcements/{ident}").status_code == 404
    finally:
        with db.session(scope=PLATFORM) as s:
            from core.portal.models import Announcement

            s.delete(s.get(Announcement, (guangxi.id, ident)))
            s.commit()
