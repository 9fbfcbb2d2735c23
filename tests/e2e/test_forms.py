"""An application form in Chromium on a phone: a citizen applies for 户口迁移 — her details
prefilled, the fields her reason needs appearing as she picks it, two family members in the
household table (the second ID number refused beside its cell, everything typed kept), the
addresses from the province/city/county lists; uploads, reviews and submits. The clerk asks
for one field again; she corrects it on the case page (saved as she types) and hands it in;
the clerk sees the change highlighted, reveals the ID numbers (on the trail), and the printed
application carries the corrected address."""

from __future__ import annotations

import io

import pypdf
import pytest

from tests.e2e.conftest import ARTIFACTS, PHONE, press, staff_sign_in
from tests.e2e.test_journey import _download, _upload
from tests.form_values import id_number
from tests.servers import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

CITIZEN = "13800000008"  # 李娜, a demo citizen of Guangxi
HER_ID = "450102199207080224"
SON_ID = id_number("451203", "20150601", 21)


def test_a_form_with_conditions_and_a_table_filled_corrected_and_seen_by_staff(
    live: LiveServer, tmp_path, e2e_pages
) -> None:
    pdf = tmp_path / "材料.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"0" * 20_000)
    page = e2e_pages.open(phone=True)
    page.goto(f"{live.url}/t/hechi/login")
    page.get_by_text("密码登录").click()
    page.fill("form[action$='/login/password'] input[name=phone]", CITIZEN)
    page.fill("form[action$='/login/password'] input[name=password]", "Demo-2026")
    page.locator("form[action$='/login/password'] button").click()
    page.wait_for_url(f"{live.url}/t/hechi/")

    page.goto(f"{live.url}/t/hechi/items/HC-HJ01/apply")
    form = page.get_by_test_id("application-form")
    assert page.input_value("#form-applicant_name") == "李娜"  # prefilled from her account
    assert page.input_value("#form-applicant_id_number") == HER_ID
    host = page.locator("#form-host_name")
    assert not host.is_visible()  # asked only of someone joining relatives
    page.select_option("#form-reason", "family")
    host.wait_for(state="visible")
    host.fill("李大山")
    page.fill("#form-host_id_number", id_number("451202", "19650101", 16))
    assert not page.locator("#form-receiving_unit").is_visible()
    for where, county, street in (
        ("move_from", "451203", "庆远镇中山路 12 号"),
        ("move_to", "451202", "金城江街道新建路 8 号"),
    ):  # the lists start at Hechi: only the county is left to pick
        page.select_option(f"#form-{where}-county", county)
        page.fill(f"#form-{where}-street", street)
    page.fill("#form-head_name", "李大山")
    page.select_option("#form-relation_to_head", "child")
    page.fill("#form-movers-0-name", "王小明")
    page.select_option("#form-movers-0-relation", "child")
    page.fill("#form-movers-0-id_number", SON_ID)
    page.get_by_role("button", name="添加一行").click()
    page.wait_for_load_state()
    assert page.input_value("#form-movers-0-name") == "王小明"  # kept across the round trip
    page.fill("#form-movers-1-name", "李老太")
    page.select_option("#form-movers-1-relation", "grandparent")
    page.fill("#form-movers-1-id_number", "450102194001010011")  # a wrong check digit
    page.get_by_test_id("apply-next").click()
    page.wait_for_load_state()
    cell = page.locator("#form-movers-1-id_number")
    assert cell.get_attribute("aria-invalid") == "true"
    error = page.locator("#form-movers-1-id_number-error")
    assert "校验位" in error.inner_text()
    named = page.get_by_test_id("form-error")
    assert "随迁人员第 2 行" in named.inner_text()  # which of the four ID numbers it is
    assert named.locator("a").first.get_attribute("href") == "#form-movers-1-id_number"
    assert page.input_value("#form-host_name") == "李大山"  # nothing typed was lost
    assert page.input_value("#form-move_to-street") == "金城江街道新建路 8 号"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    page.screenshot(path=str(ARTIFACTS / "phone-form-error.png"), full_page=True)
    page.get_by_role("button", name="添加一行").click()
    page.wait_for_load_state()
    assert page.locator(".gh-table-row").count() == 3
    page.locator(".gh-table-row").nth(2).get_by_role("button", name="删除此行").click()
    page.wait_for_load_state()
    assert page.locator(".gh-table-row").count() == 2  # the spare row is gone, the rest kept
    cell = page.locator("#form-movers-1-id_number")
    cell.fill(id_number("451203", "19400101", 1))
    page.get_by_test_id("apply-next").click()
    page.wait_for_url("**/my/cases/**")
    number = page.get_by_test_id("case-number").inner_text()
    for index in range(3):
        _upload(page, index, pdf)
    page.get_by_test_id("review").click()
    review = page.locator("main").inner_text()
    assert "王小明" in review and "金城江街道新建路 8 号" in review
    page.get_by_test_id("submit").click()
    assert page.get_by_test_id("case-state").inner_text() == "待受理"
    assert form.count() == 0  # submitted: the form is read-only now

    # the clerk asks again for one field of the form
    clerk = e2e_pages.open()
    staff_sign_in(clerk, live, "hechi", "hechi-clerk")
    clerk.goto(f"{live.url}/t/hechi/workbench/cases/{number}")
    task = clerk.get_by_test_id("task-accept")
    task.locator("summary").click()
    task.get_by_test_id("fix-move_to").check()
    task.locator("input[name='fr.move_to']").fill("门牌号与房产证不一致，请核对")
    task.locator("textarea[name=reason]").fill("请核对迁入地址")
    press(clerk, task.get_by_role("button", name="一次性补正"))
    assert clerk.get_by_test_id("case-state").inner_text() == "待补正"

    # she reads the clerk's words beside the field, corrects it; it saves as she types
    page.reload()
    asked = page.locator("#form-move_to-asked")
    assert "门牌号与房产证不一致" in asked.inner_text()
    assert "门牌号与房产证不一致" in page.get_by_test_id("correction-asked").inner_text()
    street = page.locator("#form-move_to-street")
    street.fill("金城江街道新建路 18 号")
    street.dispatch_event("change")
    page.get_by_text("已自动保存").wait_for()
    page.screenshot(path=str(ARTIFACTS / "phone-form-correction.png"), full_page=True)
    page.get_by_test_id("review").click()
    page.get_by_role("button", name="确认提交补正").click()
    assert page.get_by_test_id("case-state").inner_text() == "待受理"

    # the clerk sees what changed, reveals the personal values, prints the application
    clerk.reload()
    staff_form = clerk.get_by_test_id("staff-application")
    assert clerk.get_by_test_id("changed-count").inner_text() == "补正修改了 1 项"
    changed = staff_form.locator("tr.changed")
    assert changed.count() == 1 and "新建路 18 号" in changed.inner_text()
    assert HER_ID not in staff_form.inner_text()  # masked until revealed
    clerk.get_by_test_id("reveal").click()
    clerk.get_by_text("本次查看已记入办理记录").wait_for()
    assert HER_ID in clerk.get_by_test_id("staff-application").inner_text()
    clerk.screenshot(path=str(ARTIFACTS / "desk-staff-form.png"), full_page=True)
    link = clerk.locator("a", has_text="申请表").last
    body = _download(clerk, link.get_attribute("href"))
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(body)).pages)
    assert "补正后" in text and "新建路 18 号" in text and "王小明" in text
    clerk.reload()
    assert "查看完整个人信息" in clerk.locator("main").inner_text()  # on the trail
