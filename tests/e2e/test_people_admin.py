"""In Chromium: a county admin creates a staff member and requires a dynamic code (asked in a
dialog first); the new person signs in with the temporary password, chooses their own and
enrols the code; a province admin enters the county from the console and leaves again."""

from __future__ import annotations

import re
import uuid

import pyotp

from tests.e2e.conftest import staff_sign_in
from tests.servers import LiveServer


def test_a_staff_member_is_created_and_sets_up_their_sign_in(e2e_pages, live: LiveServer) -> None:
    admin = e2e_pages.open()
    staff_sign_in(admin, live, "hechi", "hechi-admin")
    admin.goto(f"{live.url}/t/hechi/admin")
    admin.get_by_test_id("staff-link").click()
    admin.get_by_test_id("staff-new").click()
    username = f"e2e-{uuid.uuid4().hex[:6]}"
    admin.get_by_label("姓名").fill("周一鸣")
    admin.get_by_label("用户名").fill(username)
    admin.get_by_label("角色").select_option("window_clerk")
    admin.get_by_label("所在机构").select_option("HC-ZWZX")
    admin.get_by_role("button", name="保存并生成临时密码").click()
    temporary = admin.get_by_test_id("temporary-password").inner_text().strip()
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", temporary)
    admin.get_by_role("link", name="查看该工作人员").click()
    admin.get_by_test_id("totp-on").click()
    dialog = admin.get_by_role("dialog")
    assert "使用动态口令" in dialog.inner_text()
    with admin.expect_navigation():
        dialog.get_by_test_id("confirm-ok").click()
    assert "已要求使用动态口令" in admin.get_by_test_id("page-msg").inner_text()

    person = e2e_pages.open(phone=True)
    person.goto(f"{live.url}/t/hechi/staff/login")
    person.fill("input[name=username]", username)
    person.fill("input[name=password]", temporary)
    person.get_by_role("button", name="登录").click()
    person.wait_for_url("**/staff/setup")
    person.get_by_label("新密码", exact=True).fill("Zhou-2026-ok")
    person.get_by_label("再次输入新密码").fill("Zhou-2026-ok")
    assert person.get_by_test_id("totp-qr").evaluate("img => img.naturalWidth") > 0
    secret = person.get_by_test_id("totp-secret").inner_text().strip()
    person.get_by_label("应用显示的 6 位数字").fill(pyotp.TOTP(secret).now())
    assert person.evaluate("document.documentElement.scrollWidth") <= 375
    person.get_by_role("button", name="完成设置并进入工作台").click()
    person.wait_for_url("**/workbench")


def test_a_province_admin_enters_a_county_and_leaves(e2e_pages, live: LiveServer) -> None:
    province = e2e_pages.open()
    staff_sign_in(province, live, "guangxi", "guangxi-admin")
    province.goto(f"{live.url}/t/guangxi/console")
    with province.expect_navigation():
        province.get_by_test_id("enter-hechi").click()
    assert province.url.endswith("/t/hechi/admin")
    banner = province.get_by_test_id("entered-banner")
    assert "您正以省级管理员身份管理 河池市" in banner.inner_text()
    province.get_by_test_id("units-link").click()
    assert "河池市政务服务中心" in province.get_by_test_id("unit-tree").inner_text()
    with province.expect_navigation():
        province.get_by_test_id("leave-county").click()
    assert province.url.endswith("/t/guangxi/console")
