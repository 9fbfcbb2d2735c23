"""County administration in the browser: staff, org units, and a province admin entering a
county — with the audit entries each change leaves."""

from __future__ import annotations

import re
import uuid

import pyotp
from litestar.testing import TestClient
from sqlalchemy import select

from core.audit import AuditEntry
from core.db import PLATFORM, Database
from core.identity import Staff
from core.tenancy import OrgUnit, Tenant
from tests.helpers import csrf_token


def _browser(app) -> TestClient:
    return TestClient(app=app, base_url="http://testserver.local")


def _sign_in(client, slug: str, username: str, password: str = "Demo-2026", totp: str = ""):
    token = csrf_token(client, f"/t/{slug}/staff/login")
    return client.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": password, "totp": totp, "_csrf_token": token},
        follow_redirects=False,
    )


def _csrf(client, slug: str) -> str:
    return csrf_token(client, f"/t/{slug}/admin/staff")


def _entries(db: Database, slug: str, action: str) -> list[AuditEntry]:
    with db.session(scope=PLATFORM) as s:
        tenant = s.scalar(select(Tenant).where(Tenant.slug == slug))
        assert tenant is not None
        rows = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.tenant_id == tenant.id, AuditEntry.action == action)
            .order_by(AuditEntry.seq)
        ).all()
        s.expunge_all()
        return list(rows)


def _staff_id(db: Database, slug: str, username: str) -> uuid.UUID:
    with db.session(scope=PLATFORM) as s:
        tenant = s.scalar(select(Tenant).where(Tenant.slug == slug))
        assert tenant is not None
        staff_id = s.scalar(
            select(Staff.id).where(Staff.tenant_id == tenant.id, Staff.username == username)
        )
        assert staff_id is not None
        return staff_id


def _create(client, csrf: str, username: str, **extra: str) -> str:
    """Create a staff member at Hechi through the page; returns the temporary password."""
    page = client.post(
        "/t/hechi/admin/staff",
        data={"username": username, "name": "测试人员", "_csrf_token": csrf, **extra},
    )
    assert page.status_code == 200, page.text
    found = re.search(r'data-testid="temporary-password">([^<]+)<', page.text)
    assert found, page.text
    return found.group(1)


def _set_up(app, username: str, temporary: str, password: str = "Own-pass-2026") -> TestClient:
    """Sign in with the temporary password and choose ``password``; a signed-in browser."""
    browser = _browser(app).__enter__()
    first = _sign_in(browser, "hechi", username, temporary)
    assert first.status_code in (302, 303) and first.headers["location"].endswith("/staff/setup")
    token = csrf_token(browser, "/t/hechi/staff/setup/")
    done = browser.post(
        "/t/hechi/staff/setup/",
        data={"password": password, "confirm": password, "_csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code in (302, 303) and done.headers["location"].endswith("/workbench")
    return browser


def test_a_new_staff_members_temporary_password_opens_one_sign_in(app, client, db) -> None:
    _sign_in(client, "hechi", "hechi-admin")
    csrf = _csrf(client, "hechi")
    before = len(_entries(db, "hechi", "staff.create"))
    username = f"t-{uuid.uuid4().hex[:8]}"
    temporary = _create(
        client, csrf, username, phone="13800001234", role="window_clerk", unit="HC-ZWZX"
    )
    listed = client.get("/t/hechi/admin/staff?role=window_clerk&unit=HC-ZWZX").text
    assert username in listed and "138****1234" in listed and "13800001234" not in listed
    assert username not in client.get("/t/hechi/admin/staff?role=approver").text

    with _browser(app) as someone:
        first = _sign_in(someone, "hechi", username, temporary)
        assert first.headers["location"].endswith("/staff/setup")
        # the temporary password is spent: it does not open a second sign-in
        with _browser(app) as again:
            assert _sign_in(again, "hechi", username, temporary).status_code == 401
        token = csrf_token(someone, "/t/hechi/staff/setup/")
        mismatch = someone.post(
            "/t/hechi/staff/setup/",
            data={"password": "Own-pass-2026", "confirm": "Own-pass-2027", "_csrf_token": token},
        )
        assert mismatch.status_code == 422 and "两次输入的密码不一致" in mismatch.text
        weak = someone.post(
            "/t/hechi/staff/setup/",
            data={"password": "short", "confirm": "short", "_csrf_token": token},
        )
        assert weak.status_code == 422 and "密码至少 8 位" in weak.text
        done = someone.post(
            "/t/hechi/staff/setup/",
            data={"password": "Own-pass-2026", "confirm": "Own-pass-2026", "_csrf_token": token},
            follow_redirects=False,
        )
        assert done.headers["location"].endswith("/workbench")
        assert someone.get("/t/hechi/workbench").status_code == 200
    with _browser(app) as later:
        assert (
            _sign_in(later, "hechi", username, "Own-pass-2026")
            .headers["location"]
            .endswith("/workbench")
        )

    entries = _entries(db, "hechi", "staff.create")
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.after is not None and entry.after["phone"] == "138****1234"
    assert temporary not in str(entry.after) and "13800001234" not in str(entry.after)
    assert entry.after["roles"] == ["窗口受理员（河池市政务服务中心）"]


def test_creating_staff_says_what_is_wrong_beside_the_field(client, db) -> None:
    _sign_in(client, "hechi", "hechi-admin")
    csrf = _csrf(client, "hechi")
    taken = client.post(
        "/t/hechi/admin/staff",
        data={"username": "hechi-clerk", "name": "重名", "_csrf_token": csrf},
    )
    assert (
        taken.status_code == 422
        and "已被使用" in taken.text
        and 'aria-invalid="true"' in taken.text
    )
    assert 'value="重名"' in taken.text  # what was typed is kept
    bad = client.post(
        "/t/hechi/admin/staff",
        data={"username": "张三", "name": "张三", "_csrf_token": csrf},
    )
    assert bad.status_code == 422 and "小写字母" in bad.text
    no_province_role = client.post(
        "/t/hechi/admin/staff",
        data={"username": "p-admin-x", "name": "x", "role": "province_admin", "_csrf_token": csrf},
    )
    assert no_province_role.status_code == 422 and "不能授予" in no_province_role.text


def test_a_clerk_is_refused_and_another_tenants_staff_member_is_not_found(client, db) -> None:
    _sign_in(client, "hechi", "hechi-clerk")
    for path in ("/t/hechi/admin/staff", "/t/hechi/admin/units", "/t/hechi/admin/staff/new"):
        assert client.get(path).status_code == 403, path
    with _browser(client.app) as admin:
        _sign_in(admin, "hechi", "hechi-admin")
        other = _staff_id(db, "bozhou", "bozhou-admin")
        assert admin.get(f"/t/hechi/admin/staff/{other}").status_code == 404
        csrf = _csrf(admin, "hechi")
        refused = admin.post(f"/t/hechi/admin/staff/{other}/disable", data={"_csrf_token": csrf})
        assert refused.status_code == 404


def test_roles_disabling_and_ending_sessions_sign_the_person_out(app, client, db) -> None:
    _sign_in(client, "hechi", "hechi-admin")
    csrf = _csrf(client, "hechi")
    username = f"r-{uuid.uuid4().hex[:8]}"
    person = _set_up(app, username, _create(client, csrf, username))
    staff_id = _staff_id(db, "hechi", username)
    page = f"/t/hechi/admin/staff/{staff_id}"
    rolls = len(_entries(db, "hechi", "staff.roles"))

    added = client.post(
        f"{page}/roles",
        data={"role": "reviewer", "unit": "HC-RSJ", "_csrf_token": csrf},
        follow_redirects=False,
    )
    assert added.status_code in (302, 303)
    assert "审核员" in client.get(page).text
    assert person.get("/t/hechi/workbench", follow_redirects=False).status_code != 200
    entry = _entries(db, "hechi", "staff.roles")[-1]
    assert len(_entries(db, "hechi", "staff.roles")) == rolls + 1
    assert entry.before == {"roles": []}
    assert entry.after == {"roles": ["审核员（市人力资源和社会保障局）"]}

    twice = client.post(
        f"{page}/roles", data={"role": "reviewer", "unit": "HC-RSJ", "_csrf_token": csrf}
    )
    assert twice.status_code == 422 and "已有这个角色" in twice.text

    with _browser(app) as person:
        _sign_in(person, "hechi", username, "Own-pass-2026")
        assert person.get("/t/hechi/workbench").status_code == 200
        client.post(f"{page}/sessions", data={"_csrf_token": csrf})
        assert person.get("/t/hechi/workbench", follow_redirects=False).status_code != 200
        assert _entries(db, "hechi", "staff.sessions_ended")[-1].target_id == str(staff_id)

        _sign_in(person, "hechi", username, "Own-pass-2026")
        assert person.get("/t/hechi/workbench").status_code == 200
        client.post(f"{page}/disable", data={"_csrf_token": csrf})
        assert person.get("/t/hechi/workbench", follow_redirects=False).status_code != 200
        refused = _sign_in(person, "hechi", username, "Own-pass-2026")
        assert refused.status_code == 403 and "此账号已被停用" in refused.text  # told why
        assert "已停用" in client.get(page).text
        client.post(f"{page}/enable", data={"_csrf_token": csrf})
        assert _sign_in(person, "hechi", username, "Own-pass-2026").status_code in (302, 303)
    assert _entries(db, "hechi", "staff.disable")[-1].after == {"active": False}
    assert _entries(db, "hechi", "staff.enable")[-1].after == {"active": True}

    reset = client.post(f"{page}/password", data={"_csrf_token": csrf})
    assert reset.status_code == 200
    new_temporary = re.search(r'data-testid="temporary-password">([^<]+)<', reset.text)
    assert new_temporary is not None
    with _browser(app) as person:
        assert _sign_in(person, "hechi", username, "Own-pass-2026").status_code == 401
        first = _sign_in(person, "hechi", username, new_temporary.group(1))
        assert first.headers["location"].endswith("/staff/setup")
    reset_entry = _entries(db, "hechi", "staff.password_reset")[-1]
    assert new_temporary.group(1) not in str(reset_entry.after)

    # removing the role again
    held = re.search(rf"{page}/roles/([0-9a-f-]+)/remove", client.get(page).text)
    assert held is not None
    client.post(f"{page}/roles/{held.group(1)}/remove", data={"_csrf_token": csrf})
    assert _entries(db, "hechi", "staff.roles")[-1].after == {"roles": []}


def test_an_admin_keeps_their_own_admin_role_and_account(client, db) -> None:
    _sign_in(client, "hechi", "hechi-admin")
    csrf = _csrf(client, "hechi")
    me = _staff_id(db, "hechi", "hechi-admin")
    page = f"/t/hechi/admin/staff/{me}"
    disabled = client.post(f"{page}/disable", data={"_csrf_token": csrf}, follow_redirects=True)
    assert "不能停用自己的账号" in disabled.text
    held = re.search(rf"{page}/roles/([0-9a-f-]+)/remove", client.get(page).text)
    assert held is not None
    removed = client.post(
        f"{page}/roles/{held.group(1)}/remove", data={"_csrf_token": csrf}, follow_redirects=True
    )
    assert "不能移除自己唯一的管理员角色" in removed.text
    assert client.get("/t/hechi/admin/staff").status_code == 200  # still an admin


def test_a_required_dynamic_code_is_enrolled_at_the_next_sign_in(app, client, db) -> None:
    _sign_in(client, "hechi", "hechi-admin")
    csrf = _csrf(client, "hechi")
    username = f"o-{uuid.uuid4().hex[:8]}"
    _set_up(app, username, _create(client, csrf, username)).__exit__(None, None, None)
    staff_id = _staff_id(db, "hechi", username)
    client.post(
        f"/t/hechi/admin/staff/{staff_id}/totp", data={"required": "on", "_csrf_token": csrf}
    )
    assert _entries(db, "hechi", "staff.totp_required")[-1].after == {"totp_required": True}
    assert "待绑定动态口令" in client.get(f"/t/hechi/admin/staff/{staff_id}").text

    with _browser(app) as person:
        first = _sign_in(person, "hechi", username, "Own-pass-2026")
        assert first.headers["location"].endswith("/staff/setup")
        page = person.get("/t/hechi/staff/setup/").text
        secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page)
        assert secret is not None and "otpauth://totp/" in page and 'data-testid="totp-qr"' in page
        token = csrf_token(person, "/t/hechi/staff/setup/")
        wrong = person.post("/t/hechi/staff/setup/", data={"code": "000000", "_csrf_token": token})
        assert wrong.status_code == 422 and "动态口令不正确" in wrong.text
        # the secret shown stays the same while enrolling
        assert secret.group(1) in wrong.text
        code = pyotp.TOTP(secret.group(1)).now()
        done = person.post(
            "/t/hechi/staff/setup/",
            data={"code": code, "_csrf_token": token},
            follow_redirects=False,
        )
        assert done.headers["location"].endswith("/workbench")
    with _browser(app) as person:
        assert _sign_in(person, "hechi", username, "Own-pass-2026").status_code == 401
        code = pyotp.TOTP(secret.group(1)).now()
        ok = _sign_in(person, "hechi", username, "Own-pass-2026", totp=code)
        assert ok.headers["location"].endswith("/workbench")


def test_units_are_created_moved_and_closed_by_the_rules(client, db) -> None:
    _sign_in(client, "hechi", "hechi-admin")
    csrf = _csrf(client, "hechi")
    tag = uuid.uuid4().hex[:6].upper()
    parent, child = f"T{tag}-P", f"T{tag}-C"
    created = len(_entries(db, "hechi", "unit.create"))

    orphan = client.post(
        "/t/hechi/admin/units",
        data={
            "code": f"T{tag}-X",
            "name": "孤儿",
            "kind": "window",
            "parent": "NO-SUCH",
            "_csrf_token": csrf,
        },
    )
    assert orphan.status_code == 422 and "上级机构“NO-SUCH”不存在" in orphan.text
    with db.session(scope=PLATFORM) as s:
        assert s.scalar(select(OrgUnit.id).where(OrgUnit.code == f"T{tag}-X")) is None

    for code, name, kind, up in (
        (parent, "测试服务中心", "service_centre", ""),
        (child, "测试窗口", "window", parent),
    ):
        made = client.post(
            "/t/hechi/admin/units",
            data={"code": code, "name": name, "kind": kind, "parent": up, "_csrf_token": csrf},
            follow_redirects=False,
        )
        assert made.status_code in (302, 303), made.text
    tree = client.get("/t/hechi/admin/units").text
    assert "测试服务中心" in tree and "政务服务中心" in tree and "service_centre" not in tree
    assert len(_entries(db, "hechi", "unit.create")) == created + 2
    assert _entries(db, "hechi", "unit.create")[-1].after == {
        "name": "测试窗口",
        "kind": "窗口",
        "parent": "测试服务中心",
    }
    assert "政务服务中心" in client.get("/t/hechi/admin/units/new").text  # every kind offered
    edited_hours = client.post(
        f"/t/hechi/admin/units/{parent}",
        data={
            "name": "测试服务中心",
            "kind": "service_centre",
            "office_hours": "周一至周五",
            "_csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert edited_hours.status_code in (302, 303)
    audit = client.get("/t/hechi/admin/audit").text  # the audit page words every key
    assert "办公时间" in audit and "office_hours" not in audit and "修改机构" in audit

    cycle = client.post(
        f"/t/hechi/admin/units/{parent}/move", data={"parent": child, "_csrf_token": csrf}
    )
    assert cycle.status_code == 422 and "不能把机构移到它自己或它的下级机构之下" in cycle.text
    moved = client.post(
        f"/t/hechi/admin/units/{child}/move",
        data={"parent": "HC-ZWZX", "_csrf_token": csrf},
        follow_redirects=False,
    )
    assert moved.status_code in (302, 303)
    assert _entries(db, "hechi", "unit.move")[-1].after == {"parent": "河池市政务服务中心"}
    client.post(f"/t/hechi/admin/units/{child}/move", data={"parent": parent, "_csrf_token": csrf})

    edited = client.post(
        f"/t/hechi/admin/units/{child}",
        data={"name": "测试窗口（改）", "kind": "window", "_csrf_token": csrf},
        follow_redirects=False,
    )
    assert edited.status_code in (302, 303)
    update = _entries(db, "hechi", "unit.update")[-1]
    assert update.before == {"name": "测试窗口"} and update.after == {"name": "测试窗口（改）"}
    empty_name = client.post(
        f"/t/hechi/admin/units/{child}", data={"name": " ", "kind": "window", "_csrf_token": csrf}
    )
    assert empty_name.status_code == 422 and "请填写机构名称" in empty_name.text

    busy = client.post(f"/t/hechi/admin/units/{parent}/close", data={"_csrf_token": csrf})
    assert busy.status_code == 409 and "请先撤销或移走下级机构" in busy.text

    username = f"u-{uuid.uuid4().hex[:8]}"
    _create(client, csrf, username, role="window_clerk", unit=child)
    staffed = client.post(f"/t/hechi/admin/units/{child}/close", data={"_csrf_token": csrf})
    assert staffed.status_code == 409 and "1 名工作人员在该机构任职" in staffed.text
    staff_id = _staff_id(db, "hechi", username)
    held = re.search(
        rf"/admin/staff/{staff_id}/roles/([0-9a-f-]+)/remove",
        client.get(f"/t/hechi/admin/staff/{staff_id}").text,
    )
    assert held is not None
    client.post(
        f"/t/hechi/admin/staff/{staff_id}/roles/{held.group(1)}/remove", data={"_csrf_token": csrf}
    )

    for code in (child, parent):
        closed = client.post(
            f"/t/hechi/admin/units/{code}/close", data={"_csrf_token": csrf}, follow_redirects=False
        )
        assert closed.status_code in (302, 303), code
    assert [e.target_id for e in _entries(db, "hechi", "unit.close")][-2:] == [child, parent]
    chooser = client.get("/t/hechi/admin/units/new").text
    assert (
        f'value="{parent}"' not in chooser and "已撤销" in client.get("/t/hechi/admin/units").text
    )
    assert f'value="{parent}"' not in client.get("/t/hechi/admin/staff/new").text
    under_closed = client.post(
        "/t/hechi/admin/units",
        data={
            "code": f"T{tag}-Y",
            "name": "y",
            "kind": "window",
            "parent": parent,
            "_csrf_token": csrf,
        },
    )
    assert under_closed.status_code == 422 and "已撤销" in under_closed.text


def test_the_old_add_unit_form_still_refuses_a_duplicate(client, db) -> None:
    _sign_in(client, "cili", "cili-admin")
    csrf = _csrf(client, "cili")
    again = client.post(
        "/t/cili/admin/units",
        data={"code": "CL-ZWZX", "name": "重复", "kind": "department", "_csrf_token": csrf},
    )
    assert again.status_code == 422 and "已存在" in again.text


def test_a_province_admin_enters_a_county_and_it_is_recorded(app, client, db) -> None:
    _sign_in(client, "guangxi", "guangxi-admin")
    token = csrf_token(client, "/t/guangxi/console")
    assert client.get("/t/hechi/admin/staff", follow_redirects=False).status_code != 200
    entered = len(_entries(db, "hechi", "tenant.enter"))

    elsewhere = client.post("/t/guangxi/console/enter/bozhou", data={"_csrf_token": token})
    assert elsewhere.status_code == 404  # not a county of this province

    # straight to one admin page (the wizard's 逐项选择认领), and nowhere outside the county
    for then, lands in (
        ("/admin/catalog/adopt", "/t/hechi/admin/catalog/adopt"),
        ("//evil.example/admin", "/t/hechi/admin"),
        ("/admin/../../guangxi/console", "/t/hechi/admin"),
    ):
        deep = client.post(
            "/t/guangxi/console/enter/hechi",
            data={"_csrf_token": token, "next": then},
            follow_redirects=False,
        )
        assert deep.headers["location"] == lands, then
    went = client.post(
        "/t/guangxi/console/enter/hechi", data={"_csrf_token": token}, follow_redirects=False
    )
    assert went.status_code in (302, 303) and went.headers["location"] == "/t/hechi/admin"
    home = client.get("/t/hechi/admin")
    assert home.status_code == 200 and "您正以省级管理员身份管理 河池市" in home.text
    assert client.get("/t/hechi/admin/staff").status_code == 200
    # only the administration: no workbench, no cases
    assert client.get("/t/hechi/workbench", follow_redirects=False).status_code != 200
    assert client.get("/t/hechi/my", follow_redirects=False).status_code != 200

    entries = _entries(db, "hechi", "tenant.enter")
    assert len(entries) == entered + 4  # three deep entries above, then this one
    with db.session(scope=PLATFORM) as s:
        guangxi = s.scalar(select(Tenant).where(Tenant.slug == "guangxi"))
        assert guangxi is not None
        assert entries[-1].actor_tenant_id == guangxi.id

    csrf = csrf_token(client, "/t/hechi/admin/units/new")
    code = f"GX{uuid.uuid4().hex[:6].upper()}"
    made = client.post(
        "/t/hechi/admin/units",
        data={"code": code, "name": "省级代建部门", "kind": "department", "_csrf_token": csrf},
        follow_redirects=False,
    )
    assert made.status_code in (302, 303)
    created = _entries(db, "hechi", "unit.create")[-1]
    assert created.target_id == code and created.actor_tenant_id == guangxi.id

    # the banner and a way back to 系统管理 on every page of the county, the portal's too
    portal = client.get("/t/hechi/items").text
    assert (
        "您正以省级管理员身份管理 河池市" in portal and 'data-testid="entered-admin-link"' in portal
    )
    assert "/t/hechi/workbench" not in client.get("/t/hechi/admin/audit").text

    left = client.post("/t/hechi/admin/leave", data={"_csrf_token": csrf}, follow_redirects=False)
    assert left.headers["location"] == "/t/guangxi/console"
    leave = _entries(db, "hechi", "tenant.leave")[-1]
    assert leave.actor_tenant_id == guangxi.id
    assert client.get("/t/hechi/admin", follow_redirects=False).status_code != 200
    assert client.get("/t/guangxi/console").status_code == 200  # still the province's admin


def test_only_a_province_admin_enters(client, db) -> None:
    _sign_in(client, "hechi", "hechi-admin")
    token = _csrf(client, "hechi")
    refused = client.post("/t/hechi/console/enter/hechi", data={"_csrf_token": token})
    assert refused.status_code == 403
