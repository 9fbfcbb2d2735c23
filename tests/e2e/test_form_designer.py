"""The form designer in Chromium: a county admin adds fields to an item's application form,
sets a choice's options and a field shown only for one of them, reorders, watches the preview
at desktop and phone width, saves the draft (the diff names the new fields) and publishes —
and the published form is what the API serves."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import staff_sign_in
from tests.servers import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _card(page, n: int):
    return page.locator("#designer > .designer-field").nth(n)


def test_an_admin_designs_a_form_previews_it_and_publishes(live: LiveServer, e2e_pages) -> None:
    page = e2e_pages.open()
    staff_sign_in(page, live, "hechi", "hechi-admin")
    page.goto(f"{live.url}/t/hechi/admin/catalog/items/HC-MZ01")
    preview = page.locator("#form-preview")
    preview.get_by_text("还没有字段").wait_for()

    page.get_by_role("button", name="添加字段").click()
    first = _card(page, 0)
    first.locator("select").first.select_option("id_number")
    first.get_by_label("名称", exact=True).fill("申请人身份证号")
    first.get_by_label("名称", exact=True).dispatch_event("change")
    first.get_by_label("字段标识（英文小写）").fill("applicant_id")
    first.get_by_label("字段标识（英文小写）").dispatch_event("change")
    first.get_by_label("必填").check()
    preview.get_by_text("申请人身份证号").wait_for()

    page.get_by_role("button", name="添加字段").click()
    second = _card(page, 1)
    second.locator("select").first.select_option("choice")
    second = _card(page, 1)  # redrawn for its type
    second.get_by_label("名称", exact=True).fill("申请方式")
    second.get_by_label("名称", exact=True).dispatch_event("change")
    second.get_by_label("字段标识（英文小写）").fill("way")
    second.get_by_label("字段标识（英文小写）").dispatch_event("change")
    options = second.get_by_label("选项（每行：值|显示文字）")
    options.fill("self|本人申请\nagent|委托代理人")
    options.dispatch_event("change")

    page.get_by_role("button", name="添加字段").click()
    third = _card(page, 2)
    third.get_by_label("名称", exact=True).fill("代理人姓名")
    third.get_by_label("名称", exact=True).dispatch_event("change")
    third.get_by_label("字段标识（英文小写）").fill("agent_name")
    third.get_by_label("字段标识（英文小写）").dispatch_event("change")
    third.locator("summary").click()
    third.get_by_label("显示条件：当").select_option("way")
    condition = third.get_by_label("等于（多个值用逗号分隔；留空为已填写）")
    condition.fill("agent")
    condition.dispatch_event("change")

    preview.get_by_text("申请方式").wait_for()
    agent = preview.get_by_label("代理人姓名")
    # shown only to someone applying through an agent (the preview redraws after the
    # condition's change: waited for, not read at once — a busy machine redraws later)
    agent.wait_for(state="hidden")
    preview.get_by_label("申请方式").select_option("agent")
    agent.wait_for(state="visible")

    _card(page, 1).get_by_role("button", name="上移").click()  # 申请方式 first
    stored = json.loads(page.locator("#form-json").input_value())
    assert [f["key"] for f in stored] == ["way", "applicant_id", "agent_name"]
    assert stored[1] == {
        "key": "applicant_id",
        "label": "申请人身份证号",
        "type": "id_number",
        "required": True,
    }
    assert stored[2]["show_when"] == [{"field": "way", "equals": "agent"}]

    page.get_by_role("button", name="手机（390 像素）").click()
    assert preview.evaluate("e => e.getBoundingClientRect().width") <= 390

    page.get_by_role("button", name="保存草稿").click()
    diff = page.get_by_test_id("diff")
    diff.wait_for()
    assert "新增：申请方式、申请人身份证号、代理人姓名" in diff.inner_text()
    page.get_by_role("button", name="发布").click()
    page.wait_for_load_state()
    served = page.request.get(f"{live.url}/api/v1/t/hechi/items/HC-MZ01/form").json()
    assert [e.get("field") for e in served["x-govhall-layout"]] == [
        "way",
        "applicant_id",
        "agent_name",
    ]
    assert served["required"] == ["applicant_id"]
