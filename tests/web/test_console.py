"""The province (and city) console: the tenant tree, the onboarding wizard, the lifecycle with a
reason, who sees a tenant still being onboarded, copying a sibling's setup and bulk onboarding
from a spreadsheet — each change in the audit log."""

from __future__ import annotations

import io
import json
import random
import re
import time

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import select

from core.audit import AuditEntry
from core.db import PLATFORM, Database
from core.errors import InvalidInput
from core.identity import Staff
from core.plugins import get_plugin_manager
from core.plugins.models import TenantPlugin
from core.tenancy import OrgUnit, Tenant, TenantKind, TenantStatus, scope_for
from core.tenancy.service import check_division_code, onboard_tenant, set_tenant_status
from tests.helpers import csrf_token, tenant

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def _sign_in(client, slug: str, username: str) -> str:
    token = csrf_token(client, f"/t/{slug}/staff/login")
    response = client.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text[:400]
    return token


def _free(database: Database, prefix: str) -> tuple[str, str]:
    """An unused county code under ``prefix`` (four digits; 90–99 are left to the audit
    tests, which name theirs) and an unused slug."""
    with database.session(scope=PLATFORM) as s:
        codes = set(s.scalars(select(Tenant.division_code)))
        slugs = set(s.scalars(select(Tenant.slug)))
    code = next(
        c for c in (f"{prefix}{n:02d}" for n in random.sample(range(40, 90), 50)) if c not in codes
    )
    slug = next(s for s in (f"t{random.randrange(10**6)}" for _ in range(50)) if s not in slugs)
    return code, slug


def _entries(database: Database, t: Tenant, action: str) -> list[AuditEntry]:
    with database.session(scope=scope_for(t)) as s:
        return list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.tenant_id == t.id, AuditEntry.action == action)
                .order_by(AuditEntry.seq)
            )
        )


def _county(database: Database, parent_slug: str, status: TenantStatus) -> Tenant:
    parent = tenant(database, parent_slug)
    code, slug = _free(database, parent.division_code[:4])
    with database.session(scope=PLATFORM) as s:
        fresh = s.get(Tenant, parent.id)
        made = onboard_tenant(s, parent=fresh, slug=slug, name=f"测试县{slug}", division_code=code)
        if status is not TenantStatus.onboarding:
            set_tenant_status(made, status)
        s.commit()
    from web.deps import forget_tenants

    forget_tenants()
    return tenant(database, slug)


# -- the tree and its codes -----------------------------------------------------------------


def test_division_codes_are_checked_against_the_parent_in_chinese(db: Database) -> None:
    hechi, guangxi = tenant(db, "hechi"), tenant(db, "guangxi")
    check_division_code("451203", TenantKind.district, hechi)
    check_division_code("451203", TenantKind.district, guangxi)
    cases = [
        ("45120", TenantKind.district, hechi, "6 位数字"),
        ("341203", TenantKind.district, hechi, "不在河池市（451200）之内"),
        ("451300", TenantKind.district, hechi, "不以 00 结尾"),
        ("451300", TenantKind.city, hechi, "上级应是省"),
        ("451203", TenantKind.county, None, "请选择上级地区"),
    ]
    for code, kind, parent, words in cases:
        with pytest.raises(InvalidInput) as caught:
            check_division_code(code, kind, parent)
        assert words in caught.value.detail
        assert not re.search(r"[a-z]{4,}", caught.value.detail), caught.value.detail


def test_a_status_move_that_is_not_allowed_is_refused_in_chinese(db: Database) -> None:
    county = _county(db, "hechi", TenantStatus.active)
    with db.session(scope=scope_for(county)) as s:
        fresh = s.get(Tenant, county.id)
        with pytest.raises(InvalidInput) as caught:
            set_tenant_status(fresh, TenantStatus.onboarding)
    assert "已开通" in caught.value.detail and "筹备中" in caught.value.detail


def test_the_console_shows_the_tree_with_filters(client, db: Database) -> None:
    county = _county(db, "hechi", TenantStatus.onboarding)
    _sign_in(client, "guangxi", "guangxi-admin")
    page = client.get("/t/guangxi/console")
    assert page.status_code == 200
    assert f'data-testid="county-{county.slug}"' in page.text
    assert 'data-testid="county-hechi"' in page.text and "筹备中" in page.text
    only = client.get("/t/guangxi/console?status=onboarding&parent=hechi")
    assert f'data-testid="county-{county.slug}"' in only.text
    assert 'data-testid="county-hechi"' not in only.text
    cities = client.get("/t/guangxi/console?kind=city")
    assert 'data-testid="county-hechi"' in cities.text
    assert f'data-testid="county-{county.slug}"' not in cities.text
    assert "/console/enter/hechi" in page.text


def test_the_api_lists_the_tree_with_parents_and_filters(client, db: Database) -> None:
    from tests.helpers import bearer, staff_token

    county = _county(db, "hechi", TenantStatus.onboarding)
    token = staff_token(db, "guangxi", "guangxi-admin")
    rows = client.get("/api/v1/t/guangxi/tenants", headers=bearer(token)).json()
    mine = next(r for r in rows if r["slug"] == county.slug)
    assert mine["parent"] == "hechi" and mine["status_label"] == "筹备中"
    under = client.get(
        "/api/v1/t/guangxi/tenants?parent=hechi&status=onboarding", headers=bearer(token)
    ).json()
    assert county.slug in {r["slug"] for r in under} and "hechi" not in {r["slug"] for r in under}
    moved = client.patch(
        f"/api/v1/t/guangxi/tenants/{county.slug}",
        headers=bearer(token),
        json={"status": "active", "reason": "接口开通"},
    )
    assert moved.status_code == 200 and moved.json()["status"] == "active"
    assert _entries(db, tenant(db, county.slug), "tenant.status")[-1].reason == "接口开通"


# -- onboarding -----------------------------------------------------------------------------


def test_a_city_admin_onboards_its_own_district(client, db: Database) -> None:
    code, slug = _free(db, "4512")
    token = _sign_in(client, "hechi", "hechi-admin")
    before = len(_entries(db, tenant(db, "hechi"), "tenant.onboard"))
    response = client.post(
        "/t/hechi/console/onboard",
        data={
            "name": "宜州测试区",
            "division_code": code,
            "kind": "district",
            "parent": "hechi",
            "slug": slug,
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text[:500]
    made = tenant(db, slug)
    assert made.parent_id == tenant(db, "hechi").id and made.status is TenantStatus.onboarding
    assert len(_entries(db, tenant(db, "hechi"), "tenant.onboard")) == before + 1
    # a city admin cannot reach into the province: guangxi is not a parent it may choose
    outside = client.post(
        "/t/hechi/console/onboard",
        data={
            "name": "越权",
            "division_code": "450199",
            "kind": "county",
            "parent": "guangxi",
            "slug": slug + "x",
            "_csrf_token": token,
        },
    )
    assert outside.status_code == 422 and "请选择上级地区" in outside.text
    # a county has no console: the city's admin is not signed in there, and is sent to sign in
    assert client.get("/t/cili/console", follow_redirects=False).status_code in (302, 303, 403)


def test_the_province_walks_the_wizard_under_a_city(client, db: Database) -> None:
    code, slug = _free(db, "4512")
    token = _sign_in(client, "guangxi", "guangxi-admin")
    bad = client.post(
        "/t/guangxi/console/onboard",
        data={
            "name": "宜州测试区",
            "division_code": "341203",
            "kind": "district",
            "parent": "hechi",
            "slug": slug,
            "_csrf_token": token,
        },
    )
    assert bad.status_code == 422 and "不在河池市" in bad.text and 'value="宜州测试区"' in bad.text
    assert 'aria-invalid="true"' in bad.text
    created = client.post(
        "/t/guangxi/console/onboard",
        data={
            "name": "宜州测试区",
            "division_code": code,
            "kind": "district",
            "parent": "hechi",
            "slug": slug,
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert created.headers["location"].startswith(f"/t/guangxi/console/onboard/{slug}/branding")
    county = tenant(db, slug)
    assert county.parent_id == tenant(db, "hechi").id

    # branding: a file that is not an image is refused, what was typed is kept
    fields = {
        "display_name": "宜州测试区网上办事大厅",
        "primary_color": "#aa3322",
        "accent_color": "#ffcc00",
        "slogan": "一次都不跑",
        "_csrf_token": token,
    }
    refused = client.post(
        f"/t/guangxi/console/setup/{slug}/branding",
        data=fields,
        files={"logo": ("logo.png", b"<svg onload=alert(1)>", "image/png")},
    )
    assert refused.status_code == 422 and "PNG、JPEG 或 WebP" in refused.text
    assert 'value="一次都不跑"' in refused.text and 'value="#aa3322"' in refused.text
    saved = client.post(
        f"/t/guangxi/console/setup/{slug}/branding",
        data=fields,
        files={"logo": ("logo.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert saved.status_code in (302, 303), saved.text[:400]
    county = tenant(db, slug)
    assert county.branding["primary_color"] == "#aa3322" and county.branding["logo"]
    assert _entries(db, county, "tenant.branding")

    # leaving and coming back resumes at the first step not done
    resume = client.get(f"/t/guangxi/console/onboard/{slug}", follow_redirects=False)
    assert resume.headers["location"].endswith(f"/onboard/{slug}/admin")

    # the first admin: a temporary password shown once, and it signs in
    admin = client.post(
        f"/t/guangxi/console/setup/{slug}/admin",
        data={
            "username": f"{slug}-admin",
            "name": "韦测试",
            "phone": "13800001234",
            "_csrf_token": token,
        },
    )
    assert admin.status_code == 200
    password = re.search(r'data-testid="password-value">([^<]+)<', admin.text).group(1)
    with db.session(scope=scope_for(county)) as s:
        staff = s.scalar(select(Staff).where(Staff.username == f"{slug}-admin"))
        assert staff is not None and password not in (staff.password_hash or "")
    assert "138****1234" in client.get(f"/t/guangxi/console/onboard/{slug}/admin").text

    # the catalog (skipped here), the plugins, then activate with a reason
    client.post(
        f"/t/guangxi/console/setup/{slug}/catalog",
        data={"action": "skip", "_csrf_token": token},
    )
    # a courier with no address configured would fail the first citizen: not switched on here
    courier = client.post(
        f"/t/guangxi/console/setup/{slug}/plugins",
        data={"plugin-sms_console": "1", "plugin-courier_post": "1", "_csrf_token": token},
        follow_redirects=False,
    )
    assert courier.status_code == 422 and "完成设置，才能启用" in courier.text
    with db.session(scope=PLATFORM) as s:
        county_id = tenant(db, slug).id
        assert not s.scalar(
            select(TenantPlugin.enabled).where(
                TenantPlugin.tenant_id == county_id, TenantPlugin.name == "courier_post"
            )
        )
    plugins = client.post(
        f"/t/guangxi/console/setup/{slug}/plugins",
        data={"plugin-sms_console": "1", "_csrf_token": token},
        follow_redirects=False,
    )
    assert plugins.status_code in (302, 303), plugins.text[:600]
    # the last step says what the county would lack if opened now
    ready = client.get(f"/t/guangxi/console/onboard/{slug}/activate").text
    assert 'data-testid="wizard-readiness"' in ready
    assert "还没有任何事项" in ready and "除管理员外还没有工作人员" in ready
    assert 'data-testid="skipped-catalog"' in ready  # passed over, not ticked as done
    assert tenant(db, slug).status is TenantStatus.onboarding
    client.post(
        f"/t/guangxi/console/status/{slug}",
        data={"action": "activate", "reason": "准备完成", "_csrf_token": token},
    )
    county = tenant(db, slug)
    assert county.status is TenantStatus.active
    assert _entries(db, county, "tenant.status")[-1].reason == "准备完成"
    assert _entries(db, county, "staff.create")

    # the new admin signs in with the temporary password
    client.cookies.clear()
    login = csrf_token(client, f"/t/{slug}/staff/login")
    signed = client.post(
        f"/t/{slug}/staff/login",
        data={"username": f"{slug}-admin", "password": password, "_csrf_token": login},
        follow_redirects=False,
    )
    assert signed.status_code in (302, 303)
    assert client.get(signed.headers["location"]).status_code == 200


def test_an_onboarding_tenant_is_seen_only_by_its_staff_and_the_province(
    client, db: Database
) -> None:
    county = _county(db, "hechi", TenantStatus.onboarding)
    assert client.get(f"/t/{county.slug}/").status_code == 404
    assert client.get(f"/api/v1/t/{county.slug}/").status_code == 404
    assert client.get(f"/t/{county.slug}/staff/login").status_code == 200
    _sign_in(client, "guangxi", "guangxi-admin")
    assert client.get(f"/t/{county.slug}/").status_code == 200
    client.cookies.clear()
    _sign_in(client, "bozhou", "bozhou-admin")  # another province's staff
    assert client.get(f"/t/{county.slug}/").status_code == 404
    # its first admin signs in with the temporary password and sets their own, before it opens
    from web.onboarding import create_first_admin

    with db.session(scope=scope_for(county)) as s:
        _, password = create_first_admin(
            s,
            s.get(Tenant, county.id),
            None,
            username=f"{county.slug}-admin",
            name="管理员",
            phone="",
        )
        s.commit()
    client.cookies.clear()
    token = csrf_token(client, f"/t/{county.slug}/staff/login")
    signed = client.post(
        f"/t/{county.slug}/staff/login",
        data={"username": f"{county.slug}-admin", "password": password, "_csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code in (302, 303)
    assert client.get(signed.headers["location"]).status_code == 200


def test_activate_suspend_reactivate_need_a_reason(client, db: Database) -> None:
    county = _county(db, "hechi", TenantStatus.onboarding)
    token = _sign_in(client, "guangxi", "guangxi-admin")
    url = f"/t/guangxi/console/status/{county.slug}"
    empty = client.post(url, data={"action": "activate", "reason": " ", "_csrf_token": token})
    assert "请填写原因" in empty.text and tenant(db, county.slug).status is TenantStatus.onboarding
    for action, reason, status in [
        ("activate", "筹备完成", TenantStatus.active),
        ("suspend", "系统迁移", TenantStatus.suspended),
        ("reactivate", "迁移完成", TenantStatus.active),
    ]:
        page = client.post(url, data={"action": action, "reason": reason, "_csrf_token": token})
        assert page.status_code == 200
        assert tenant(db, county.slug).status is status
        if status is TenantStatus.suspended:
            assert client.get(f"/t/{county.slug}/").status_code == 403
            assert "的网上办事大厅 的" not in client.get(f"/t/{county.slug}/").text
    entries = _entries(db, tenant(db, county.slug), "tenant.status")
    assert [e.reason for e in entries[-3:]] == ["筹备完成", "系统迁移", "迁移完成"]
    assert entries[-2].after == {"status": "已暂停"}
    assert "迁移完成" in client.get("/t/guangxi/console").text


def test_copy_setup_copies_units_and_plugins_but_never_a_secret(client, db: Database) -> None:
    from core.tenancy import OrgUnitKind, add_org_unit

    sibling = _county(db, "hechi", TenantStatus.active)
    target = _county(db, "hechi", TenantStatus.onboarding)
    with db.session(scope=scope_for(sibling)) as s:
        fresh = s.get(Tenant, sibling.id)
        add_org_unit(
            s,
            fresh,
            code="ZWZX",
            name=f"{sibling.name}政务服务中心",
            kind=OrgUnitKind.service_centre,
        )
        get_plugin_manager().set_enabled(
            s, fresh, "sms_console", True, {"priority": 7, "webhook_token": "topsecret-xyz"}
        )
        s.commit()
    token = _sign_in(client, "guangxi", "guangxi-admin")
    page = client.get(f"/t/guangxi/console/copy/{target.slug}")
    assert sibling.name in page.text
    done = client.post(
        f"/t/guangxi/console/copy/{target.slug}",
        data={"source": sibling.slug, "_csrf_token": token},
    )
    assert done.status_code == 200 and "已从" in done.text
    with db.session(scope=scope_for(target)) as s:
        row = s.get(TenantPlugin, (target.id, "sms_console"))
        assert row is not None and row.enabled and row.config.get("priority") == 7
        assert "topsecret-xyz" not in json.dumps(row.config)
        names = [u.name for u in s.scalars(select(OrgUnit))]
    assert f"{target.name}政务服务中心" in names
    copied = _entries(db, target, "tenant.copy_setup")
    assert copied and "topsecret-xyz" not in json.dumps(copied[-1].after)


# -- bulk onboarding ------------------------------------------------------------------------


def _sheet(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["名称", "行政区划代码", "类型", "上级区划代码", "网址标识"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _wait(client, url: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = client.get(url, headers={"HX-Request": "true"}).text
        status = re.search(r'data-testid="bulk-status">([^<]+)<', text).group(1)
        if status not in ("排队中", "校验中", "写入中"):
            return text
        time.sleep(0.2)
    raise AssertionError("the bulk onboarding did not finish")


def test_bulk_onboarding_is_all_or_nothing_with_row_numbers(client, db: Database) -> None:
    token = _sign_in(client, "guangxi", "guangxi-admin")
    assert client.get("/t/guangxi/console/bulk/template.xlsx").content[:2] == b"PK"
    (c1, s1), (c2, s2) = _free(db, "4512"), _free(db, "4512")
    while c2 == c1 or s2 == s1:
        c2, s2 = _free(db, "4512")
    bad = _sheet([["测试一区", c1, "区", "451200", s1], ["测试二区", "341299", "区", "451200", s2]])
    with db.session(scope=PLATFORM) as s:
        before = len(s.scalars(select(Tenant.id)).all())
    response = client.post(
        "/t/guangxi/console/bulk",
        data={"_csrf_token": token},
        files={"file": ("counties.xlsx", bad, "application/octet-stream")},
        follow_redirects=False,
    )
    text = _wait(client, response.headers["location"])
    assert "失败，未开通任何地区" in text and "第 3 行" in text and "第 2 行" not in text
    with db.session(scope=PLATFORM) as s:
        assert len(s.scalars(select(Tenant.id)).all()) == before
    good = _sheet([["测试一区", c1, "区", "451200", s1], ["测试二区", c2, "区", "451200", s2]])
    response = client.post(
        "/t/guangxi/console/bulk",
        data={"_csrf_token": token},
        files={"file": ("counties.xlsx", good, "application/octet-stream")},
        follow_redirects=False,
    )
    text = _wait(client, response.headers["location"])
    assert "已开通 2 个地区" in text
    assert tenant(db, s2).parent_id == tenant(db, "hechi").id


# -- the command line -----------------------------------------------------------------------


def test_cli_onboards_a_district_under_hechi_that_lists_and_activates(db: Database) -> None:
    from web.cli import main

    code, slug = _free(db, "4512")
    runner = CliRunner()
    made = runner.invoke(
        main,
        [
            "tenants",
            "onboard",
            "--parent",
            "hechi",
            "--slug",
            slug,
            "--name",
            "宜州测试区",
            "--division-code",
            code,
            "--kind",
            "district",
        ],
    )
    assert made.exit_code == 0, made.output
    assert "筹备中" in made.output
    rows = {
        r["slug"]: r for r in json.loads(runner.invoke(main, ["tenants", "list", "--json"]).output)
    }
    assert rows[slug]["parent"] == "hechi" and rows[slug]["status_label"] == "筹备中"
    tree = runner.invoke(main, ["tenants", "list"]).output
    assert re.search(rf"\n    {code}  宜州测试区 \({slug}\) \[筹备中\]", tree)


def test_the_catalog_step_and_copying_adopted_items(client, db: Database) -> None:
    from core.catalog import Item
    from core.catalog.adoption import adopt_standard
    from core.identity import Role
    from core.identity.service import create_staff, grant_role
    from tests.adoption_world import new_county

    world = new_county(db)  # an active county with departments, in a test province
    province = world.province
    boss = f"{province.slug}-boss"
    with db.session(scope=scope_for(province)) as s:
        if s.scalar(select(Staff.id).where(Staff.username == boss)) is None:
            grant_role(
                s,
                create_staff(s, province, username=boss, name="省管理员", password="Demo-2026"),
                Role.province_admin,
            )
            s.commit()
    with db.session(scope=scope_for(world.county)) as s:
        report = adopt_standard(s, s.get(Tenant, world.county.id), None, codes=["T-SC01", "T-SC02"])
        assert not report.problems, report.problems
        s.commit()
    code, slug = _free(db, province.division_code[:2] + "01")
    with db.session(scope=PLATFORM) as s:
        onboard_tenant(
            s, parent=s.get(Tenant, province.id), slug=slug, name="新县", division_code=code
        )
        s.commit()
    fresh = tenant(db, slug)
    token = _sign_in(client, province.slug, boss)
    # adopting everything into a county without departments is refused, and nothing adopted
    refused = client.post(
        f"/t/{province.slug}/console/setup/{slug}/catalog",
        data={"action": "adopt", "_csrf_token": token},
    )
    assert refused.status_code == 422 and "未认领任何事项" in refused.text
    # copying the sibling brings its departments and its two adopted items
    done = client.post(
        f"/t/{province.slug}/console/copy/{slug}",
        data={"source": world.county.slug, "_csrf_token": token},
    )
    assert "事项 2 项" in done.text, done.text[:2000]
    with db.session(scope=scope_for(fresh)) as s:
        assert set(s.scalars(select(Item.code))) >= {"T-SC01", "T-SC02"}


def test_a_county_admin_has_no_console(client, db: Database) -> None:
    _sign_in(client, "cili", "cili-admin")
    assert client.get("/t/cili/console").status_code == 403
    assert client.get("/t/cili/console/onboard").status_code == 403
