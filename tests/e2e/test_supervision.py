"""A supervisor on a phone: the dashboard draws its chart, groups by item, drills into the
cases behind a number, and nothing is wider than the screen."""

from __future__ import annotations

from tests.cases.conftest import Desk
from tests.e2e.conftest import ARTIFACTS, staff_sign_in
from tests.servers import LiveServer


def test_a_supervisor_reads_the_dashboard_on_a_phone(phone_page, live: LiveServer, db) -> None:
    hechi = Desk(db, "hechi")
    number = hechi.apply(hechi.citizen("13800000001"), "HC-SB05")
    hechi.act(hechi.staff("hechi-clerk"), number, "decide")  # one case completed today
    page = phone_page
    staff_sign_in(page, live, "hechi", "hechi-supervisor")
    page.get_by_role("link", name="电子监察").click()
    page.get_by_role("link", name="统计分析").click()
    page.locator("#dashboard-chart[data-rendered='1'] canvas").wait_for()
    page.select_option("select[name=by]", "item")
    page.get_by_role("button", name="查询").click()
    row = page.locator("tr[data-row='HC-SB05']")
    assert int(row.locator("[data-col=completed]").inner_text()) >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # the table scrolls
    page.screenshot(path=str(ARTIFACTS / "phone-dashboard.png"), full_page=True)
    row.locator("[data-col=completed] a").click()
    assert page.locator(f"tr[data-number='{number}']").count() == 1
