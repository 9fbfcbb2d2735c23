"""In Chromium: with Hechi's SMS gateway refusing every message (the console vendor still
sends the codes), the county admin signs in and reads the banner on 系统管理, follows it to
插件状态, where the gateway is 异常 with its failures in a row; the page and the banner pass
axe-core and fit a 390 px phone."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from core.db import Database
from core.identity.models import LoginThrottle
from core.identity.service import request_sign_in_code
from core.notify import routing
from core.plugins import get_plugin_manager
from core.plugins.health import FAILING_AFTER
from tests.cases.conftest import Desk
from tests.e2e.test_accessibility import AUDIT, AXE, _context
from tests.fakes import GenericGateway


@pytest.fixture
def refusing_gateway(db: Database) -> Iterator[Desk]:
    hechi = Desk(db, "hechi")
    fake = GenericGateway().start()
    fake.refuse = True
    manager = get_plugin_manager()
    routing.reset()
    with hechi.session() as s:
        manager.set_enabled(s, hechi.tenant, "sms_gateway", True, {"url": fake.url + "/send"})
        s.commit()
    try:
        for _ in range(FAILING_AFTER):
            with hechi.session() as s:
                request_sign_in_code(s, hechi.tenant, f"137{secrets.randbelow(10**8):08d}")
                s.commit()
        yield hechi
    finally:
        fake.stop()
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "sms_gateway", False, {})
            s.commit()
        with db.session(scope=None) as s:
            s.execute(delete(LoginThrottle).where(LoginThrottle.key.like("otp-%")))
            s.commit()
        routing.reset()


def test_the_admin_sees_the_failing_gateway_and_follows_the_banner(
    live, browser, refusing_gateway: Desk
) -> None:
    for phone in (False, True):
        page = _context(browser, phone=phone)
        page.goto(f"{live.url}/t/hechi/staff/login")
        page.fill("input[name=username]", "hechi-admin")
        page.fill("input[name=password]", "Demo-2026")
        with page.expect_navigation():
            page.get_by_role("button", name="登录").click()
        page.goto(f"{live.url}/t/hechi/admin")
        banner = page.get_by_test_id("plugin-banner")
        assert banner.is_visible()
        said = banner.inner_text()
        assert "短信服务商“gateway”" in said and f"连续失败 {FAILING_AFTER} 次" in said
        with page.expect_navigation():
            banner.get_by_role("link", name="查看插件状态").click()
        assert page.url.endswith("/t/hechi/admin/plugins/")
        row = page.get_by_test_id("health-sms_gateway").inner_text()
        assert "异常" in row and f"连续失败 {FAILING_AFTER} 次" in row
        if phone:
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        else:
            page.add_script_tag(path=str(AXE))
            assert page.evaluate(AUDIT) == []
        page.context.close()
