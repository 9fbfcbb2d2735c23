"""Issue 21 in Chromium, with no command line: the province admin onboards 宜州区 under 河池
(branding with a logo, the first admin, plugins, activation); the county admin chooses their own
password, creates a department and its staff, adopts province standard items; each new person
signs in for the first time; a citizen of Guangxi applies on a phone; clerk, reviewer and
approver (three people) decide the case; the audit log shows every change and no secret, and
the province's tenant list shows 宜州区 under 河池."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.conftest import PHONE, press
from tests.servers import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

ITEM = "城乡居民基本养老保险待遇申领"  # GX-SB03: the "short" process, 受理 → 审核 → 审批
ADOPTED = ("GX-SB03", "GX-SB02", "GX-HJ03")
UNIT = ("YZ-XZSPJ", "宜州区行政审批局")
STAFF = {
    "window_clerk": ("yizhou-clerk", "韦小梅", "Wei-2026-window"),
    "reviewer": ("yizhou-reviewer", "黄志强", "Huang-2026-review"),
    "approver": ("yizhou-approver", "蓝天明", "Lan-2026-approve"),
}
ADMIN = ("yizhou-admin", "覃海燕", "13800004512", "Qin-2026-admin")


def _sign_in(page, live: LiveServer, slug: str, username: str, password: str) -> None:
    page.goto(f"{live.url}/t/{slug}/staff/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def _first_sign_in(page, live: LiveServer, username: str, temporary: str, own: str) -> None:
    """The temporary password opens one sign-in, which goes to choosing one's own."""
    _sign_in(page, live, "yizhou", username, temporary)
    page.wait_for_url("**/t/yizhou/staff/setup")
    page.get_by_label("新密码", exact=True).fill(own)
    page.get_by_label("再次输入新密码").fill(own)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("完成设置")).click()
    page.wait_for_url("**/t/yizhou/workbench")


def _act(page, step: str, button: str) -> None:
    task = page.get_by_test_id(f"task-{step}")
    task.locator("textarea[name=reason]").fill("材料齐全，符合条件")
    press(page, task.get_by_role("button", name=button, exact=True))


def test_a_province_onboards_yizhou_and_a_case_is_decided_there(
    live: LiveServer, tmp_path: Path, e2e_pages
) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (64, 64), (246, 195, 67)).save(logo)
    pdf = tmp_path / "材料.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"0" * 20_000)
    secrets: list[str] = []

    # 1. the province admin onboards 宜州区 under 河池 in the console's wizard
    province = e2e_pages.open()
    _sign_in(province, live, "guangxi", "guangxi-admin", "Demo-2026")
    province.goto(f"{live.url}/t/guangxi/console")
    province.get_by_test_id("onboard-new").click()
    province.get_by_label("上级地区").select_option("hechi")
    province.get_by_label("类型").select_option("district")
    province.get_by_label("行政区划代码").fill("451203")
    province.get_by_test_id("code-hint").filter(has_text="宜州区").wait_for()
    province.get_by_label("名称", exact=True).fill("宜州区")
    province.get_by_label("网址标识（小写字母）").fill("yizhou")
    province.get_by_role("button", name="创建并继续").click()
    province.wait_for_url("**/console/onboard/yizhou/branding*")
    province.get_by_label("门户名称").fill("宜州区网上办事大厅")
    province.get_by_label("主色").fill("#106048")
    province.get_by_label("辅色").fill("#f6c343")
    province.get_by_label("标语").fill("刘三姐故乡 · 办事不求人")
    province.locator("input[name=logo]").set_input_files(str(logo))
    province.get_by_role("button", name="保存并继续").click()
    province.wait_for_url("**/console/onboard/yizhou/admin*")
    username, name, phone, own = ADMIN
    province.get_by_label("用户名").fill(username)
    province.get_by_label("姓名").fill(name)
    province.get_by_label("手机号").fill(phone)
    province.get_by_role("button", name="创建管理员").click()
    temporary = province.get_by_test_id("password-value").inner_text().strip()
    secrets.append(temporary)
    province.get_by_role("link", name="下一步：认领事项").click()
    province.wait_for_url("**/console/onboard/yizhou/catalog*")
    # no department yet to carry the items: the county admin adopts them later
    province.get_by_role("button", name="暂不认领，下一步").click()
    province.wait_for_url("**/console/onboard/yizhou/plugins*")
    plugins = province.get_by_test_id("wizard-plugins")
    plugins.get_by_label("控制台短信（开发用）").check()
    province.get_by_role("button", name="保存并继续").click()
    province.wait_for_url("**/console/onboard/yizhou/activate*")
    province.get_by_label("开通说明（记入审计日志）").fill("宜州区准备完成，正式开通")
    province.get_by_test_id("wizard-activate").get_by_role("button", name="开通").click()
    with province.expect_navigation():
        province.get_by_role("dialog").get_by_test_id("confirm-ok").click()
    county = province.get_by_test_id("county-yizhou")
    assert "已开通" in county.inner_text()
    assert "上级 河池市" in county.inner_text()

    # 2. the county admin: own password, a department, three staff, adopted items
    admin = e2e_pages.open()
    _first_sign_in(admin, live, username, temporary, own)
    admin.get_by_role("link", name="系统管理").first.click()
    admin.get_by_test_id("units-link").click()
    admin.get_by_role("link", name=re.compile("新增机构")).first.click()
    admin.get_by_label("机构编码").fill(UNIT[0])
    admin.get_by_label("机构名称").fill(UNIT[1])
    admin.get_by_label("类型").select_option("department")
    with admin.expect_navigation():
        admin.get_by_role("button", name="保存").click()
    assert UNIT[1] in admin.locator("main").inner_text()

    temporaries: dict[str, str] = {}
    for role, (login, person, _own) in STAFF.items():
        admin.goto(f"{live.url}/t/yizhou/admin")
        admin.get_by_test_id("staff-link").click()
        admin.get_by_test_id("staff-new").click()
        admin.get_by_label("姓名").fill(person)
        admin.get_by_label("用户名").fill(login)
        admin.get_by_label("角色").select_option(role)
        admin.get_by_label("所在机构").select_option(UNIT[0])
        admin.get_by_role("button", name="保存并生成临时密码").click()
        temporaries[login] = admin.get_by_test_id("temporary-password").inner_text().strip()
        secrets.append(temporaries[login])

    admin.goto(f"{live.url}/t/yizhou/admin")
    admin.get_by_role("link", name=re.compile("事项认领|认领")).first.click()
    for code in ADOPTED:
        admin.locator(f"tr[data-code='{code}'] input[name=code]").check()
    admin.get_by_test_id("map-GUANGXI-ZWB").select_option(UNIT[0])
    admin.get_by_test_id("adopt-selected").click()
    assert len(ADOPTED) == admin.get_by_test_id("confirm-row").count()
    with admin.expect_navigation():
        admin.get_by_test_id("adopt-confirm").click()
    assert ITEM in admin.locator("main").inner_text()

    # 3. each new staff member signs in for the first time
    staff = {}
    for login, _person, own_password in STAFF.values():
        staff[login] = e2e_pages.open()
        _first_sign_in(staff[login], live, login, temporaries[login], own_password)

    # 4. a citizen of Guangxi applies at 宜州区 on a phone
    citizen = e2e_pages.open(phone=True)
    citizen.goto(f"{live.url}/t/yizhou/")
    assert "宜州区网上办事大厅" in citizen.get_by_test_id("brand-name").inner_text()
    assert citizen.locator("img.gh-logo").evaluate("img => img.naturalWidth") > 0
    citizen.goto(f"{live.url}/t/yizhou/login?tab=password")
    form = citizen.locator('form[action$="/login/password"]')
    form.locator("input[name=phone]").fill("13800000008")
    form.locator("input[name=password]").fill("Demo-2026")
    with citizen.expect_navigation():
        form.locator("button[type=submit]").click()
    citizen.goto(f"{live.url}/t/yizhou/items?q=养老")
    citizen.get_by_role("link", name=ITEM).first.click()
    assert citizen.get_by_test_id("item-name").inner_text() == ITEM
    citizen.get_by_test_id("apply").click()
    citizen.wait_for_url("**/apply*")
    citizen.get_by_test_id("apply-next").click()
    citizen.wait_for_url("**/my/cases/**")
    number = citizen.get_by_test_id("case-number").inner_text()
    uploads = citizen.locator("form.upload")
    for index in range(uploads.count()):
        with citizen.expect_navigation():  # the page reloads once the upload is stored
            uploads.nth(index).locator("input[type=file]").set_input_files(str(pdf))
    citizen.get_by_test_id("review").click()
    citizen.get_by_test_id("submit").click()
    assert citizen.get_by_test_id("case-state").inner_text() == "待受理"

    # 5. 受理 → 审核 → 审批, each by the person whose step it is
    for (login, _person, _own), (step, button) in zip(
        STAFF.values(),
        (("accept", "受理"), ("review", "审核通过"), ("approve", "批准")),
        strict=True,
    ):
        page = staff[login]
        page.goto(f"{live.url}/t/yizhou/workbench")
        page.get_by_role("link", name=number).click()
        _act(page, step, button)
    assert page.get_by_test_id("case-state").inner_text() == "已办结"
    citizen.reload()
    assert citizen.get_by_test_id("case-state").inner_text() == "已办结"
    # 窗口领取: the clerk hands the result over and says so
    clerk = staff[STAFF["window_clerk"][0]]
    clerk.reload()
    with clerk.expect_navigation():
        clerk.get_by_test_id("do-deliver").click()
    assert clerk.get_by_test_id("case-state").inner_text() == "已送达"
    citizen.get_by_role("link", name="我的办件").first.click()
    citizen.wait_for_url("**/my/cases*")
    assert "已送达" in citizen.locator(f"[data-number='{number}']").inner_text()
    assert citizen.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]

    # 6. the audit log shows each change and no password: the county's own log …
    admin.goto(f"{live.url}/t/yizhou/admin")
    admin.get_by_role("link", name=re.compile("审计日志")).first.click()
    log = admin.get_by_test_id("audit-entries").inner_text()
    for what in ("修改门户外观", "新增工作人员", "变更服务状态", "启用插件", "新增机构"):
        assert what in log, what
    assert "认领标准事项" in log and "GX-SB03" in log
    for person in [ADMIN[1]] + [p for _l, p, _o in STAFF.values()]:
        assert person in log, person
    assert UNIT[1] in log and "宜州区准备完成，正式开通" in log
    assert not re.search(r"「[a-z_]+」", log), log  # every changed field named in Chinese
    entries = admin.get_by_test_id("audit-entry")
    for n in range(entries.count()):  # from where, the province's changes too
        assert "来自 127.0.0.1" in entries.nth(n).inner_text()
    for secret in secrets + [ADMIN[3]] + [o for _l, _p, o in STAFF.values()]:
        assert secret not in admin.content()
    admin.get_by_test_id("audit-verify").click()
    admin.get_by_test_id("audit-verify-ok").wait_for()
    # … and the province's, where the onboarding itself is recorded
    province.goto(f"{live.url}/t/guangxi/console/audit?q=宜州区")
    log = province.get_by_test_id("audit-entries").inner_text()
    assert "开通地区" in log and "河池市" in log
    # the console's tree shows 宜州区 under 河池
    province.goto(f"{live.url}/t/guangxi/console")
    province.get_by_label("上级").select_option("hechi")
    with province.expect_navigation():
        province.get_by_role("button", name="筛选").click()
    assert "上级 河池市" in province.get_by_test_id("county-yizhou").inner_text()
