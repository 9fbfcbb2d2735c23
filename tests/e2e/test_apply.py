"""Applying in Chromium without dead ends: radio buttons sit beside their labels (desktop and
phone); a file too large or of the wrong type is refused in the browser before anything is
sent, with the limit stated beforehand; a courier application without an address is fixed on
the confirm step and submitted, no raw key on any page; withdrawing asks first — dismissed,
nothing happens; confirmed, the case is withdrawn."""

from __future__ import annotations

import re

import pytest

from core.db import Database
from tests.cases.conftest import Desk
from tests.e2e.conftest import ARTIFACTS, PHONE
from tests.servers import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

LI = "13800000008"  # 李娜, a demo citizen of Guangxi
RAW_KEYS = re.compile(r"materials\[\d+\]|\baddress\b|form\.[a-z_]+")


def _sign_in(page, live: LiveServer) -> None:
    page.goto(f"{live.url}/t/hechi/login")
    page.get_by_text("密码登录").click()
    page.fill("form[action$='/login/password'] input[name=phone]", LI)
    page.fill("form[action$='/login/password'] input[name=password]", "Demo-2026")
    page.locator("form[action$='/login/password'] button").click()
    page.wait_for_url(f"{live.url}/t/hechi/")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_radio_buttons_sit_with_their_labels(live: LiveServer, e2e_pages, phone: bool) -> None:
    page = e2e_pages.open(phone=phone)
    _sign_in(page, live)
    page.goto(f"{live.url}/t/hechi/items/HC-SC03/apply")
    checks = page.locator("main .form-check")
    assert checks.count() >= 4  # 是/否 of a yes-no field, and the two delivery methods
    for n in range(checks.count()):
        box = checks.nth(n).locator("input").bounding_box()
        label = checks.nth(n).locator("label").bounding_box()
        gap = label["x"] - (box["x"] + box["width"])
        assert 0 <= gap <= 16, (n, box, label)  # right beside it, on its right
        centre = box["y"] + box["height"] / 2  # on the label's first line (it may wrap)
        assert label["y"] <= centre <= label["y"] + 28, (n, box, label)
    width = PHONE["viewport"]["width"] if phone else 1280
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_files_are_checked_in_the_browser_before_upload(
    live: LiveServer, db: Database, e2e_pages, tmp_path
) -> None:
    desk = Desk(db, "hechi")
    li = desk.citizen(LI)
    with desk.session() as s:
        from core.cases.service import commit, create_case

        case, _ = create_case(s, desk.tenant, li, "HC-SC03")
        number = case.number
        commit(s)
    page = e2e_pages.open(phone=True)
    _sign_in(page, live)
    page.goto(f"{live.url}/t/hechi/my/cases/{number}")
    assert "不超过 20 MB" in page.get_by_test_id("upload-limit").inner_text()  # said first
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/materials" in r.url else None)

    big = tmp_path / "扫描件.pdf"
    with big.open("wb") as fh:
        fh.write(b"%PDF-1.4\n")
        fh.seek(21 * 1_048_576)
        fh.write(b"\n")
    form = page.get_by_test_id("upload-0")
    form.locator("input[type=file]").set_input_files(str(big))
    status = form.locator(".upload-status")
    assert "超过 20 MB" in status.inner_text()
    assert form.locator("progress").is_hidden()

    text = tmp_path / "说明.txt"
    text.write_text("不是 PDF", encoding="utf-8")
    form.locator("input[type=file]").set_input_files(str(text))
    assert "只能上传 PDF、JPG 或 PNG" in status.inner_text()
    assert sent == []  # nothing left the browser
    page.screenshot(path=str(ARTIFACTS / "phone-upload-refused.png"), full_page=True)

    fine = tmp_path / "申请书.pdf"
    fine.write_bytes(b"%PDF-1.4\n" + b"0" * 20_000)
    with page.expect_navigation():
        form.locator("input[type=file]").set_input_files(str(fine))
    assert len(sent) == 1
    assert page.locator("#material-0 .ok").count() == 1


def _courier_draft(live: LiveServer, e2e_pages, tmp_path):
    """李娜 on a phone, a 食品经营许可 draft by courier, on its case page; and a PDF to upload."""
    pdf = tmp_path / "材料.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"0" * 20_000)
    page = e2e_pages.open(phone=True)
    _sign_in(page, live)
    page.goto(f"{live.url}/t/hechi/items/HC-SC03/apply")
    page.get_by_label("快递送达").check()
    page.get_by_test_id("apply-next").click()
    page.wait_for_url("**/my/cases/**")
    return page, pdf


def test_a_courier_application_without_an_address_is_fixed_at_the_confirm_step(
    live: LiveServer, db: Database, e2e_pages, tmp_path
) -> None:
    page, pdf = _courier_draft(live, e2e_pages, tmp_path)
    seen = [page.locator("main").inner_text()]
    for index in range(3):
        with page.expect_navigation():
            page.get_by_test_id(f"upload-{index}").locator("input[type=file]").set_input_files(
                str(pdf)
            )
    page.get_by_test_id("review").click()
    missing = page.get_by_test_id("still-missing")
    assert "请填写寄送地址" in missing.inner_text()
    seen.append(page.locator("main").inner_text())
    page.screenshot(path=str(ARTIFACTS / "phone-confirm-address-missing.png"), full_page=True)
    missing.get_by_role("link", name="在下方填写").click()
    page.get_by_test_id("review-address").fill("广西河池市金城江区新建路 8 号 李娜 13800000008")
    page.get_by_test_id("save-delivery").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("still-missing").count() == 0
    seen.append(page.locator("main").inner_text())
    page.get_by_test_id("submit").click()
    assert page.get_by_test_id("case-state").inner_text() == "待受理"
    seen.append(page.locator("main").inner_text())
    for text in seen:
        assert not RAW_KEYS.search(text), RAW_KEYS.search(text)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def test_an_address_typed_just_before_an_upload_is_kept(
    live: LiveServer, db: Database, e2e_pages, tmp_path
) -> None:
    """Typed, then straight to the file chooser (the field never lost focus long enough to
    save itself): the upload's reload kept it."""
    page, pdf = _courier_draft(live, e2e_pages, tmp_path)
    address = "广西河池市金城江区新建路 99 号 韦秀兰 13800000008"
    page.get_by_test_id("delivery-address").fill(address)
    with page.expect_navigation():
        page.get_by_test_id("upload-0").locator("input[type=file]").set_input_files(str(pdf))
    assert page.get_by_test_id("delivery-address").input_value() == address


def test_withdrawing_asks_first(live: LiveServer, db: Database, e2e_pages) -> None:
    desk = Desk(db, "hechi")
    number = desk.apply(desk.citizen(LI), "HC-SC03")
    page = e2e_pages.open()
    _sign_in(page, live)
    page.goto(f"{live.url}/t/hechi/my/cases/{number}")
    assert page.get_by_test_id("case-state").inner_text() == "待受理"
    dialog = page.locator("#gh-confirm")

    page.get_by_test_id("withdraw").click()
    dialog.wait_for(state="visible")
    assert "确定撤回这份申请吗" in dialog.inner_text()
    page.screenshot(path=str(ARTIFACTS / "desk-withdraw-confirm.png"))
    dialog.locator("[data-role=cancel]").click()
    dialog.wait_for(state="hidden")
    page.reload()
    assert page.get_by_test_id("case-state").inner_text() == "待受理"  # dismissed: nothing

    page.get_by_test_id("withdraw").click()
    dialog.wait_for(state="visible")
    with page.expect_navigation():
        page.get_by_test_id("confirm-ok").click()
    assert page.get_by_test_id("case-state").inner_text() == "已撤回"
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "撤回申请" in timeline and "办结" not in timeline
