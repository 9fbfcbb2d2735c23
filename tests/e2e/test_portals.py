"""In a real browser: the branded portals, a citizen's SMS sign-in, a province onboarding a
county."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, staff_sign_in
from tests.helpers import sms_code
from tests.servers import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_both_portals_show_their_own_branding(page, live: LiveServer) -> None:
    page.goto(f"{live.url}/t/hechi/")
    assert page.get_by_test_id("brand-name").inner_text() == "河池市网上办事大厅"
    hechi_colour = page.locator("header.gh-masthead").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert page.locator("img.gh-logo").evaluate("img => img.naturalWidth") > 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "portal-hechi.png"))

    page.goto(f"{live.url}/t/bozhou/")
    assert page.get_by_test_id("brand-name").inner_text() == "亳州市网上办事大厅"
    bozhou_colour = page.locator("header.gh-masthead").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    page.screenshot(path=str(ARTIFACTS / "portal-bozhou.png"))
    assert hechi_colour == _rgb("#1d5fa8")
    assert bozhou_colour == _rgb("#8c1c13")


def test_a_citizen_signs_in_by_sms_code_on_a_phone(
    phone_page,
    live: LiveServer,
    sms_outbox: Path,
) -> None:
    page = phone_page
    page.goto(f"{live.url}/t/suning/login")
    page.fill("#code-form input[name=phone]", "13512345678")
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_test_id("code-sent").wait_for()
    page.fill("#code-form input[name=code]", sms_code(sms_outbox))
    page.locator("#code-form button[type=submit]").click()
    page.wait_for_url(f"{live.url}/t/suning/")
    assert "用户5678" in page.locator("header").inner_text()
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(ARTIFACTS / "phone-suning-signed-in.png"))


def test_a_province_admin_onboards_a_county(page, live: LiveServer) -> None:
    staff_sign_in(page, live, "anhui", "anhui-admin")
    page.goto(f"{live.url}/t/anhui/console")
    page.get_by_test_id("onboard-new").click()
    page.fill("input[name=division_code]", "341622")
    # the standard's name of the code is offered as a hint
    page.get_by_test_id("code-hint").filter(has_text="蒙城县").wait_for()
    assert page.input_value("input[name=name]") == "蒙城县"  # offered while the field was empty
    page.fill("input[name=slug]", "mengcheng")
    page.get_by_role("button", name="创建并继续").click()
    page.wait_for_url("**/console/onboard/mengcheng/branding*")
    page.goto(f"{live.url}/t/anhui/console")
    assert "蒙城县" in page.get_by_test_id("county-mengcheng").inner_text()
    assert "筹备中" in page.get_by_test_id("county-mengcheng").inner_text()
    # A code outside the province is refused beside the field, and nothing is created.
    page.goto(f"{live.url}/t/anhui/console/onboard")
    page.fill("input[name=name]", "越界县")
    page.fill("input[name=slug]", "outside")
    page.fill("input[name=division_code]", "451221")
    page.get_by_role("button", name="创建并继续").click()
    assert "不在" in page.get_by_test_id("error-division_code").inner_text()
    assert page.input_value("input[name=name]") == "越界县"
    page.goto(f"{live.url}/t/anhui/console")
    assert page.locator("[data-testid=county-outside]").count() == 0
    assert page.csp_violations == []


def test_a_citizen_searches_reads_a_guide_and_gets_the_checklist(page, live: LiveServer) -> None:
    page.goto(f"{live.url}/t/hechi/")
    page.fill("input[name=q]", "户口")
    page.get_by_role("button", name="搜索").first.click()
    page.wait_for_url("**/items?q=*")
    results = page.get_by_test_id("results")
    assert "户口迁出" in results.inner_text()
    # Filtering by department narrows the list without a full reload (htmx).
    page.select_option("select[name=department]", "HC-GAJ")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=results]').innerText.includes('社保')"
    )
    page.get_by_role("link", name="户口迁出").click()
    assert page.get_by_test_id("item-name").inner_text() == "户口迁出"
    assert "个工作日" in page.get_by_test_id("promised-days").inner_text()
    with page.expect_download() as download_info:
        page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url;"
            " a.download = 'checklist.pdf'; document.body.appendChild(a); a.click(); }",
            f"{live.url}/t/hechi/items/HC-HJ06/checklist.pdf",
        )
    path = download_info.value.path()
    assert Path(path).read_bytes()[:5] == b"%PDF-"
    page.screenshot(path=str(ARTIFACTS / "item-guide.png"), full_page=True)
