"""The whole journey in Chromium, every person in their own browser context: a citizen signs in
by SMS code on a phone, reads the guide, applies with an upload; the window clerk asks for one
material again; the citizen corrects it; clerk, reviewer, approver and issuer act in the
workbench; the citizen sees the completion, downloads the notice and rates; the supervisor's
dashboard counts the case and drills into it. Then a village agent files for a villager."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, PHONE, press, staff_sign_in
from tests.form_values import id_number
from tests.helpers import sms_code
from tests.servers import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

CITIZEN = "13677770001"


def _staff(live: LiveServer, username: str, pages):
    page = pages.open()
    staff_sign_in(page, live, "hechi", username)
    return page


def _act(page, step: str, button: str) -> None:
    task = page.get_by_test_id(f"task-{step}")
    task.locator("textarea[name=reason]").fill("材料齐全，符合条件")
    press(page, task.get_by_role("button", name=button, exact=True))


def _open(page, number: str) -> None:
    """Find the case in the workbench by its number (the queue is paged, soonest due first:
    other cases may fill the first page) and open it."""
    page.fill("#f-item", number)
    page.locator("#f-item").press("Enter")
    # the filtered queue replaces the list: click its link once the swap is done, and wait
    # for the case page (a click on the old list could be lost in the swap)
    page.wait_for_load_state("networkidle")
    with page.expect_navigation():
        page.get_by_role("link", name=number).first.click()


def _upload(page, index: int, pdf: Path) -> None:
    form = page.locator("form.upload").nth(index)
    with page.expect_navigation():  # the page reloads once the upload is stored
        form.locator("input[type=file]").set_input_files(str(pdf))


def _download(page, url: str) -> bytes:
    with page.expect_download() as info:
        page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url;"
            " a.download = 'notice.pdf'; document.body.appendChild(a); a.click(); }",
            url,
        )
    return Path(info.value.path()).read_bytes()


def test_a_case_from_sms_sign_in_to_the_supervisors_dashboard(
    live: LiveServer, sms_outbox: Path, tmp_path, e2e_pages
) -> None:
    pdf = tmp_path / "材料.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"0" * 50_000)
    citizen = e2e_pages.open(phone=True)

    # 1. SMS sign-in, the guide, the application with its uploads
    citizen.goto(f"{live.url}/t/hechi/login")
    citizen.fill("#code-form input[name=phone]", CITIZEN)
    citizen.get_by_role("button", name="获取验证码").click()
    citizen.get_by_test_id("code-sent").wait_for()
    citizen.fill("#code-form input[name=code]", sms_code(sms_outbox))
    citizen.locator("#code-form button[type=submit]").click()
    citizen.wait_for_url(f"{live.url}/t/hechi/")
    citizen.goto(f"{live.url}/t/hechi/items/HC-SC03")
    assert citizen.get_by_test_id("item-name").inner_text() == "食品经营许可"
    assert "营业执照" in citizen.locator("main").inner_text()  # the guide lists the materials
    citizen.get_by_test_id("apply").click()
    # a first application: her name and ID number first (我的 → 实名确认), then back
    citizen.wait_for_url("**/my/profile/realname?next=**")
    citizen.get_by_label("姓名").fill("赵小红")
    citizen.get_by_label("身份证号码").fill(id_number("451202", "19880506", 7))
    citizen.get_by_test_id("real-name-submit").click()
    citizen.wait_for_url(f"{live.url}/t/hechi/items/HC-SC03/apply")
    citizen.get_by_test_id("apply-next").click()
    citizen.wait_for_url("**/my/cases/**")
    number = citizen.get_by_test_id("case-number").inner_text()
    for index in range(3):
        _upload(citizen, index, pdf)
    citizen.get_by_test_id("review").click()  # the whole application, once more
    citizen.get_by_test_id("submit").click()
    assert citizen.get_by_test_id("case-state").inner_text() == "待受理"

    # 2. the clerk finds it in the queue and asks for the floor plan again, once
    clerk = _staff(live, "hechi-clerk", e2e_pages)
    _open(clerk, number)
    task = clerk.get_by_test_id("task-accept")
    task.locator("summary").click()
    task.locator("input[name=m2]").check()
    task.locator("input[name=r2]").fill("平面图需标注面积")
    task.locator("textarea[name=reason]").fill("请补正经营场所平面图")
    press(clerk, task.get_by_role("button", name="一次性补正"))
    assert clerk.get_by_test_id("case-state").inner_text() == "待补正"

    # 3. the citizen sees which material, uploads it again and hands the correction in
    citizen.reload()
    assert citizen.get_by_test_id("case-state").inner_text() == "待补正"
    rows = citizen.locator("[data-testid=materials] tr")
    assert "需补正" in rows.nth(2).inner_text()
    assert "需补正" not in rows.nth(0).inner_text()
    _upload(citizen, 0, pdf)  # the only upload form left is the rejected material's
    citizen.get_by_test_id("review").click()
    citizen.get_by_role("button", name="确认提交补正").click()
    assert citizen.get_by_test_id("case-state").inner_text() == "待受理"

    # 4. accept → review → approve → issue, each by the person whose step it is
    clerk.reload()
    _act(clerk, "accept", "受理")
    assert clerk.get_by_test_id("case-state").inner_text() == "办理中"
    for username, step, button in (
        ("hechi-reviewer", "review", "审核通过"),
        ("hechi-approver", "approve", "批准"),
        ("hechi-issuer", "issue", "发证"),
    ):
        staff = _staff(live, username, e2e_pages)
        _open(staff, number)
        _act(staff, step, button)
    assert staff.get_by_test_id("case-state").inner_text() == "已办结"

    # 5. the citizen sees the completion, downloads the notice, rates
    citizen.reload()
    assert citizen.get_by_test_id("case-state").inner_text() == "已办结"
    notice = citizen.get_by_role("link", name="办结通知书")
    body = _download(citizen, notice.get_attribute("href"))
    assert body[:5] == b"%PDF-"
    assert citizen.locator("a[href*='/verify/']").count() >= 1  # the e-license it issued
    citizen.select_option("select[name=score]", "100")
    citizen.get_by_role("button", name="提交评价").click()
    assert "感谢您的评价" in citizen.get_by_role("status").inner_text()
    assert citizen.locator("form[action$='/do/rate']").count() == 0
    assert citizen.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    citizen.screenshot(path=str(ARTIFACTS / "phone-case-completed.png"), full_page=True)

    # 6. the supervisor's dashboard counts it, and the number drills down to this case
    supervisor = _staff(live, "hechi-supervisor", e2e_pages)
    supervisor.goto(f"{live.url}/t/hechi/supervision/dashboard?by=item")
    row = supervisor.locator("tr[data-row='HC-SC03']")
    assert int(row.locator("[data-col=completed]").inner_text()) >= 1
    row.locator("[data-col=completed] a").click()
    assert supervisor.locator(f"tr[data-number='{number}']").count() == 1


def test_a_village_agent_files_for_a_villager(
    live: LiveServer, tmp_path, e2e_pages, sms_outbox
) -> None:
    pdf = tmp_path / "申请书.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"0" * 20_000)
    agent = e2e_pages.open(phone=True)
    staff_sign_in(agent, live, "hechi", "hechi-agent")
    agent.goto(f"{live.url}/t/hechi/items/HC-SC03/apply")
    agent.fill("input[name=phone]", "13677770002")
    agent.fill("input[name=name]", "韦村民")
    agent.select_option("select[name=consent]", "sms_code")
    agent.fill("input[name=note]", "村民在场，短信确认")
    # 短信验证授权: the villager's phone gets a code naming the agent; typed fields are kept
    agent.get_by_test_id("send-consent").click()
    agent.get_by_test_id("consent-sent").wait_for()
    assert agent.input_value("input[name=name]") == "韦村民"
    assert agent.input_value("select[name=consent]") == "sms_code"
    agent.fill("input[name=consent_code]", sms_code(sms_outbox))
    agent.get_by_test_id("apply-next").click()
    agent.wait_for_url("**/my/cases/**")
    for index in range(3):
        _upload(agent, index, pdf)
    agent.get_by_test_id("review").click()  # the whole application, once more
    agent.get_by_test_id("submit").click()
    assert agent.get_by_test_id("case-state").inner_text() == "待受理"
    number = agent.get_by_test_id("case-number").inner_text()
    assert "代办人" in agent.locator("main").inner_text()

    # the window clerk sees who filed it and for whom
    clerk = _staff(live, "hechi-clerk", e2e_pages)
    _open(clerk, number)
    applicant = clerk.get_by_test_id("staff-applicant").inner_text()
    assert "韦村民" in applicant and "代办人" in applicant
