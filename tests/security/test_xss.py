"""Stored XSS: markup typed into a county's branding (at onboarding, or in its pack) and into
an item's name is shown as text on every page that shows it — the portal, search, the guide,
the application form, my cases, the workbench, the dashboard's chart data, the province
console — and our pages forbid inline script besides (Content-Security-Policy)."""

from __future__ import annotations

import re

import msgspec
import pytest
from sqlalchemy import update

from core.db import PLATFORM
from core.packs.schema import Branding
from core.tenancy import Tenant
from tests.cases.conftest import Desk
from tests.helpers import bearer, csrf_token, staff_token

ATTACK = '"><script>alert(1)</script><img src=x onerror=alert(2)><!--'
LEAKS = ("<script>alert(1)", "<img src=x onerror", "<!--")


def _clean(html: str, where: str) -> None:
    for leak in LEAKS:
        assert leak not in html, (where, leak)


def _sign_in(client, slug: str, username: str) -> None:
    token = csrf_token(client, f"/t/{slug}/staff/login")
    signed = client.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
    )
    assert signed.status_code < 400, signed.text


def test_an_item_name_full_of_markup_is_text_everywhere(client, db) -> None:
    admin = bearer(staff_token(db, "hechi", "hechi-admin"))
    content = {"name": f"食品{ATTACK}", "category": "xzxk", "department": "HC-SCJ"}
    for field in ("conditions", "office_hours", "contacts"):
        content[field] = ATTACK
    created = client.post(
        "/api/v1/t/hechi/items", headers=admin, json={"code": "HC-XSS1", "content": content}
    )
    assert created.status_code == 201, created.text
    draft = client.put(
        "/api/v1/t/hechi/items/HC-XSS1/draft",
        headers=admin,
        json={
            "content": {
                **content,
                "promised_days": 5,
                "legal_days": 10,
                "process": "instant",
                "channels": ["online", "counter"],
                "materials": [{"name": ATTACK, "required": "required"}],
            }
        },
    )
    assert draft.status_code == 200, draft.text
    published = client.post("/api/v1/t/hechi/items/HC-XSS1/publish", headers=admin, json={})
    assert published.status_code == 200, published.text

    hechi = Desk(db, "hechi")
    number = hechi.apply(hechi.citizen("13800000001"), "HC-XSS1")
    hechi.act(hechi.staff("hechi-clerk"), number, "decide")

    public = {
        "search": "/t/hechi/items?q=食品",
        "guide": "/t/hechi/items/HC-XSS1",
        "home": "/t/hechi/",
    }
    for where, path in public.items():
        page = client.get(path)
        assert page.status_code == 200, (where, page.status_code)
        _clean(page.text, where)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/t/hechi/items/HC-XSS1").text

    _sign_in(client, "hechi", "hechi-supervisor")
    staff = {
        "case": f"/t/hechi/workbench/cases/{number}",
        "dashboard": "/t/hechi/supervision/dashboard?by=item",
        "drill": "/t/hechi/supervision/dashboard/cases?by=item&item=HC-XSS1&metric=completed",
    }
    for where, path in staff.items():
        page = client.get(path)
        assert page.status_code == 200, (where, page.status_code, page.text[:300])
        _clean(page.text, where)
    dashboard = client.get(staff["dashboard"]).text
    data = re.search(
        r'<script type="application/json" id="dashboard-data">(.*?)</script>', dashboard, re.S
    )
    assert data is not None and "alert(1)" in data.group(1)  # the name is there, as data
    assert "<" not in data.group(1)  # the chart's data cannot close its block or open a comment
    assert msgspec.json.decode(data.group(1).encode())  # and it is still valid JSON
    csp = client.get("/t/hechi/").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"  # no inline script, whatever gets through


def test_branding_full_of_markup_is_text_and_colours_cannot_close_the_style(client, db) -> None:
    # A province admin onboards a county whose name is an attack
    token = bearer(staff_token(db, "guangdong", "guangdong-admin"))
    created = client.post(
        "/api/v1/t/guangdong/tenants",
        headers=token,
        json={"slug": "xss", "name": f"县{ATTACK}", "division_code": "440103"},
    )
    assert created.status_code == 201, created.text
    client.patch("/api/v1/t/guangdong/tenants/xss", headers=token, json={"status": "active"})
    # … and its branding row is edited by hand to hold worse than any pack would accept
    with db.session(scope=PLATFORM) as s:
        s.execute(
            update(Tenant)
            .where(Tenant.slug == "xss")
            .values(
                branding={
                    "display_name": f"县{ATTACK}",
                    "slogan": ATTACK,
                    "footer": ATTACK,
                    "primary_color": "red;}</style><script>alert(3)</script><style>",
                    "accent_color": "url(javascript:alert(4))",
                }
            )
        )
        s.commit()
    for path in ("/t/xss/", "/t/xss/items", "/t/xss/login", "/t/xss/staff/login"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        _clean(page.text, path)
        assert "alert(3)" not in page.text and "javascript:" not in page.text
        # the defaults stand in for a bad colour
        assert "--gh-primary: #1d5fa8" in page.text and "--gh-accent: #f3c623" in page.text
    _sign_in(client, "guangdong", "guangdong-admin")
    console = client.get("/t/guangdong/console")
    assert console.status_code == 200
    _clean(console.text, "province console")
    # packs refuse such a colour before it is ever stored
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(
            {"display_name": "县", "primary_color": "red;}</style>"}, Branding, strict=False
        )
