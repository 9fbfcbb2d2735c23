"""In Chromium: a county admin uploads a department's seal on the 部门印章 page, and the QR
verification page of a notice that department issued fits a 390 px phone and names it."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.cases.documents import ensure_rendered
from core.cases.models import Notice
from tests.cases.conftest import Desk
from tests.cases.test_seals import MARKET, seal_png
from tests.e2e.conftest import ARTIFACTS, open_page, staff_sign_in
from tests.servers import LiveServer

PHONE_390 = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def test_the_admin_uploads_a_seal_and_the_verify_page_fits_a_phone(
    browser, live: LiveServer, db, tmp_path
) -> None:
    hechi = Desk(db, "hechi")
    png = tmp_path / "市场监管局印章.png"
    png.write_bytes(seal_png())
    admin = open_page(browser)
    try:
        staff_sign_in(admin, live, "hechi", "hechi-admin")
        admin.goto(f"{live.url}/t/hechi/admin/seals/")
        unit = admin.get_by_test_id("seal-unit-HC-SCJ")
        unit.get_by_label("上传印章图片（PNG）").set_input_files(str(png))
        with admin.expect_navigation():
            unit.get_by_role("button", name=re.compile(f"^上传.*{MARKET}")).click()
        unit = admin.get_by_test_id("seal-unit-HC-SCJ")
        assert "已配置印章" in unit.inner_text()
        seal = unit.get_by_role("img", name=f"{MARKET}的印章")
        assert seal.evaluate("img => img.naturalWidth") == 240  # the image loads

        number = hechi.apply(hechi.citizen("13800000008"), "HC-SC03")
        with hechi.session() as s:
            notice = s.scalar(select(Notice).where(Notice.case_id == hechi.case(number).id))
            ensure_rendered(s, notice)
            code = notice.code
            s.commit()

        phone = browser.new_context(locale="zh-CN", **PHONE_390).new_page()
        try:
            phone.goto(f"{live.url}/t/hechi/verify/{code}")
            assert phone.get_by_test_id("verify-department").inner_text() == MARKET
            assert phone.get_by_test_id("verify-verdict").inner_text().strip() == "真实有效"
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            phone.screenshot(path=str(ARTIFACTS / "phone-verify.png"), full_page=True)
            phone.goto(f"{live.url}/t/hechi/verify/NOSUCHCODE00")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        finally:
            phone.context.close()

        with admin.expect_navigation():  # removal asks first (ui.js), then posts
            unit.get_by_role("button", name="移除印章").click()
            admin.get_by_test_id("confirm-ok").click()
        assert "未配置印章" in admin.get_by_test_id("seal-unit-HC-SCJ").inner_text()
    finally:
        admin.context.close()
        with hechi.session() as s:
            from core.cases import seals

            seals.remove_seal(s, hechi.tenant, "HC-SCJ")
            s.commit()
