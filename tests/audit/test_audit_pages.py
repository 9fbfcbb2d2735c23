"""The audit log as people use it: a plugin enabled and configured shows up with what changed
and never its secret (page, API, CSV); filters; a county sees its own entries, the province
every county's; the CSV opens in Excel; a tampered entry is reported; the calendar, catalog,
seal and announcement changes each leave an entry."""

from __future__ import annotations

import csv
import io
import re

from litestar.testing import TestClient
from sqlalchemy import func, select, update

from core.audit import SYSTEM_ACTOR, AuditEntry, describe, record
from core.catalog import create_item, save_draft
from core.db import PLATFORM, Database
from core.identity import Role
from core.identity.service import create_staff, grant_role
from core.tenancy import TenantNotFound, get_tenant_by_slug, scope_for
from core.tenancy.service import onboard_tenant
from tests.cases.test_seals import seal_png
from tests.core.test_catalog import BASE
from tests.helpers import bearer, csrf_token, staff_token

SECRET = "tok-Very-Secret-4242"


def _county(db: Database, slug: str, code: str):
    """A county under 河池 with an admin (``{slug}-admin``) and a clerk (``{slug}-clerk``)."""
    with db.session(scope=None) as s:
        try:
            return get_tenant_by_slug(s, slug)
        except TenantNotFound:
            hechi = get_tenant_by_slug(s, "hechi")
            county = onboard_tenant(
                s, parent=hechi, slug=slug, name=f"{slug}县", division_code=code
            )
            s.commit()
    with db.session(scope=scope_for(county)) as s:
        for username, name, role in (
            (f"{slug}-admin", "审计县管理员", Role.tenant_admin),
            (f"{slug}-clerk", "审计县窗口", Role.window_clerk),
        ):
            staff = create_staff(s, county, username=username, name=name, password="Demo-2026")
            grant_role(s, staff, role)
        s.commit()
    return county


def _count(db: Database, county, action: str) -> int:
    with db.session(scope=scope_for(county)) as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.tenant_id == county.id, AuditEntry.action == action)
            )
            or 0
        )


def _browser(app, slug: str, username: str) -> TestClient:
    browser = TestClient(app=app, base_url="http://testserver.local")
    browser.__enter__()
    token = csrf_token(browser, f"/t/{slug}/staff/login")
    signed = browser.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
    )
    assert signed.status_code < 400
    return browser


def test_a_plugin_enable_and_config_are_logged_without_the_secret(app, client, db) -> None:
    county = _county(db, "audit-pa", "451297")
    token = staff_token(db, "audit-pa", "audit-pa-admin")
    url = "/api/v1/t/audit-pa/plugins/sms_console"
    before = _count(db, county, "plugin.enable")
    off = client.put(url, headers=bearer(token), json={"enabled": False})
    assert off.status_code == 200, off.text
    on = client.put(
        url,
        headers=bearer(token),
        json={"enabled": True, "config": {"priority": 3, "webhook_token": SECRET}},
    )
    assert on.status_code == 200, on.text
    assert _count(db, county, "plugin.enable") == before + 1

    listed = client.get("/api/v1/t/audit-pa/audit", headers=bearer(token))
    assert listed.status_code == 200 and SECRET not in listed.text
    items = listed.json()["items"]
    enable = next(i for i in items if i["action"] == "plugin.enable")
    assert enable["action_label"] == "启用插件" and enable["actor_name"] == "审计县管理员"
    assert enable["changes"] == ["「启用」否 → 是"] and enable["origin"]
    config = next(i for i in items if i["action"] == "plugin.config")
    assert "「回调令牌」（空） → 已更改" in config["changes"]
    assert any(line.endswith("→ 3") for line in config["changes"])

    admin = _browser(app, "audit-pa", "audit-pa-admin")
    page = admin.get("/t/audit-pa/admin/audit/")
    assert page.status_code == 200 and "启用插件" in page.text and SECRET not in page.text
    assert "已更改" in page.text and "{" not in re.sub(r"<[^>]+>", "", page.text.split("<main")[-1])
    exported = admin.get("/t/audit-pa/admin/audit/export.csv")
    assert exported.status_code == 200 and exported.content.startswith(b"\xef\xbb\xbf")
    assert SECRET.encode() not in exported.content
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["时间", "地区", "操作人"] and any("启用插件" in r for r in rows)
    # filters: the action, the target and the period
    only = admin.get("/t/audit-pa/admin/audit/", params={"action": "plugin.config"})
    assert "修改插件配置" in only.text and only.text.count('data-testid="audit-entry"') >= 1
    assert "启用插件</span>" not in only.text
    none = admin.get("/t/audit-pa/admin/audit/", params={"q": "没有这个对象"})
    assert 'data-testid="audit-entry"' not in none.text and "没有符合条件的记录" in none.text
    past = admin.get("/t/audit-pa/admin/audit/", params={"until": "2020-01-01"})
    assert 'data-testid="audit-entry"' not in past.text
    admin.__exit__(None, None, None)


def test_the_province_sees_every_county_and_a_county_only_its_own(app, client, db) -> None:
    a, b = _county(db, "audit-ca", "451295"), _county(db, "audit-cb", "451294")
    for county, label in ((a, "甲县的机构"), (b, "乙县的机构")):
        with db.session(scope=scope_for(county)) as s:
            record(s, county, None, "unit.create", target_type="unit", target_label=label)
            s.commit()
    province = _browser(app, "guangxi", "guangxi-admin")
    page = province.get("/t/guangxi/console/audit/")
    assert page.status_code == 200 and "甲县的机构" in page.text and "乙县的机构" in page.text
    one = province.get("/t/guangxi/console/audit/", params={"tenant": "audit-ca"})
    assert "甲县的机构" in one.text and "乙县的机构" not in one.text
    api = client.get(
        "/api/v1/t/guangxi/audit",
        headers=bearer(staff_token(db, "guangxi", "guangxi-admin")),
        params={"tenant": "audit-cb"},
    )
    assert {i["tenant"] for i in api.json()["items"]} == {"audit-cb"}
    province.__exit__(None, None, None)

    county = _browser(app, "audit-ca", "audit-ca-admin")
    own = county.get("/t/audit-ca/admin/audit/")
    assert "甲县的机构" in own.text and "乙县的机构" not in own.text
    assert county.get("/t/audit-ca/console/audit/").status_code == 404
    county.__exit__(None, None, None)
    clerk = _browser(app, "audit-ca", "audit-ca-clerk")
    assert clerk.get("/t/audit-ca/admin/audit/").status_code == 403
    clerk.__exit__(None, None, None)
    hechi_clerk = _browser(app, "hechi", "hechi-clerk")
    assert hechi_clerk.get("/t/hechi/console/audit/").status_code == 403
    hechi_clerk.__exit__(None, None, None)
    supervisor = _browser(app, "hechi", "hechi-supervisor")  # 电子监察 reads the county's log
    log = supervisor.get("/t/hechi/admin/audit/")
    assert log.status_code == 200
    # the way back is 电子监察, not 系统管理 (a 403 for a supervisor)
    crumbs = log.text.split('<ol class="breadcrumb')[1].split("</ol>")[0]
    assert 'href="/t/hechi/supervision"' in crumbs and '/t/hechi/admin"' not in crumbs
    assert supervisor.get("/t/hechi/admin/staff").status_code == 403  # and changes nothing
    supervisor.__exit__(None, None, None)
    api_clerk = client.get(
        "/api/v1/t/audit-ca/audit", headers=bearer(staff_token(db, "audit-ca", "audit-ca-clerk"))
    )
    assert api_clerk.status_code == 403


def test_verification_reports_a_tampered_entry(app, client, db) -> None:
    county = _county(db, "audit-va", "451293")
    with db.session(scope=scope_for(county)) as s:
        for n in range(3):
            record(s, county, None, "unit.create", target_type="unit", target_label=f"机构{n}")
        s.commit()
    token = staff_token(db, "audit-va", "audit-va-admin")
    ok = client.get("/api/v1/t/audit-va/audit/verify", headers=bearer(token)).json()
    assert ok["intact"] is True
    admin = _browser(app, "audit-va", "audit-va-admin")
    assert 'data-testid="audit-verify-ok"' in admin.get("/t/audit-va/admin/audit/?verify=1").text
    with db.session(scope=PLATFORM) as s:
        s.execute(
            update(AuditEntry)
            .where(AuditEntry.tenant_id == county.id, AuditEntry.seq == 2)
            .values(target_label="改过的")
        )
        s.commit()
    bad = client.get("/api/v1/t/audit-va/audit/verify", headers=bearer(token)).json()
    assert bad["intact"] is False and bad["chains"][0]["broken_at"] == 2
    page = admin.get("/t/audit-va/admin/audit/?verify=1")
    assert 'data-testid="audit-verify-broken"' in page.text and "第 2 条" in page.text
    admin.__exit__(None, None, None)


def test_calendar_catalog_seal_and_announcement_changes_leave_entries(app, db) -> None:
    hechi = get_tenant_by_slug_db(db, "hechi")
    admin = _browser(app, "hechi", "hechi-admin")
    token = csrf_token(admin, "/t/hechi/admin/calendar/")
    counts = {a: _count(db, hechi, a) for a in ("calendar.change", "announcement.change")}
    day = admin.post(
        "/t/hechi/admin/calendar/days",
        data={"day": "2031-05-06", "workday": "0", "note": "审计测试", "_csrf_token": token},
        follow_redirects=False,
    )
    assert day.status_code in (302, 303)
    assert _count(db, hechi, "calendar.change") == counts["calendar.change"] + 1
    made = admin.post(
        "/t/hechi/admin/announcements/",
        data={"title": "审计测试公告", "body": "正文", "action": "save", "_csrf_token": token},
        follow_redirects=False,
    )
    assert made.status_code in (302, 303)
    assert _count(db, hechi, "announcement.change") == counts["announcement.change"] + 1
    page = admin.get("/t/hechi/admin/audit/", params={"q": "审计测试公告"})
    assert "修改公告" in page.text and "「标题」审计测试公告" in page.text
    seals = _count(db, hechi, "seal.upload")
    put = admin.post(
        "/t/hechi/admin/seals/HC-FGW",
        files={"file": ("seal.png", seal_png(), "image/png")},
        data={"_csrf_token": token},
        follow_redirects=False,
    )
    assert put.status_code in (302, 303)
    gone = admin.post(
        "/t/hechi/admin/seals/HC-FGW/remove", data={"_csrf_token": token}, follow_redirects=False
    )
    assert gone.status_code in (302, 303)
    assert _count(db, hechi, "seal.upload") == seals + 2
    admin.__exit__(None, None, None)

    cili = get_tenant_by_slug_db(db, "cili")
    edits, publications = _count(db, cili, "catalog.item"), _count(db, cili, "catalog.publish")
    with db.session(scope=scope_for(cili)) as s:
        item = create_item(
            s,
            cili,
            code="CL-AUD1",
            content={**BASE, "department": "CL-RSJ"},
            publish=True,
            actor=SYSTEM_ACTOR,
        )
        content = {**BASE, "department": "CL-RSJ", "promised_days": 3}
        save_draft(s, cili, item, content, actor=SYSTEM_ACTOR)
        s.commit()
    assert _count(db, cili, "catalog.item") == edits + 2
    assert _count(db, cili, "catalog.publish") == publications + 1
    with db.session(scope=scope_for(cili)) as s:
        last = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.tenant_id == cili.id, AuditEntry.action == "catalog.item")
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert last is not None and any("承诺时限" in line for line in describe(last))


def get_tenant_by_slug_db(db: Database, slug: str):
    with db.session(scope=None) as s:
        return get_tenant_by_slug(s, slug)
