"""The citizen sign-in in Chromium on a phone: the tabs switch in place carrying the phone,
获取验证码 counts down and keeps counting after a wrong code, which leaves the code panel
open with the number; without JavaScript the tabs are links and still work."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from playwright.sync_api import expect

from tests.helpers import sms_code
from tests.servers import LiveServer


def test_the_code_button_counts_down_and_a_wrong_code_keeps_the_panel(
    phone_page, live: LiveServer, sms_outbox: Path
) -> None:
    page = phone_page
    phone = f"136{secrets.randbelow(10**8):08d}"
    page.goto(f"{live.url}/t/hechi/login")
    # the password tab opens without a page load and takes the phone along
    page.fill("#code-phone", phone)
    page.get_by_test_id("tab-password").click()
    assert page.get_by_test_id("panel-password").is_visible()
    assert not page.get_by_test_id("panel-code").is_visible()
    assert page.input_value("#password-phone") == phone
    assert page.url.endswith("/login?tab=password")
    page.get_by_test_id("tab-code").click()

    button = page.get_by_test_id("code-request")
    button.click()
    page.get_by_test_id("code-sent").wait_for()
    expect(button).to_be_disabled()
    expect(button).to_have_text(re.compile(r"^\d+ 秒后重新获取$"))
    first = int(button.inner_text().split()[0])
    assert 50 < first <= 60
    expect(button).not_to_have_text(f"{first} 秒后重新获取")  # a second later: counting
    assert int(button.inner_text().split()[0]) < first

    page.fill("#code-code", "000000" if sms_code(sms_outbox) != "000000" else "111111")
    page.get_by_test_id("code-submit").click()
    page.get_by_test_id("login-error").wait_for()
    assert "验证码不正确或已失效" in page.get_by_test_id("login-error").inner_text()
    assert page.get_by_test_id("panel-code").is_visible()
    assert page.input_value("#code-phone") == phone
    # the countdown survived the page load: still waiting, not offering a new code yet
    assert button.is_disabled() and "秒后重新获取" in button.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_wrong_password_keeps_the_password_panel(phone_page, live: LiveServer) -> None:
    page = phone_page
    phone = f"136{secrets.randbelow(10**8):08d}"  # not a demo citizen: nobody's lock-out grows
    page.goto(f"{live.url}/t/hechi/login")
    page.get_by_text("密码登录").click()
    page.fill("#password-phone", phone)
    page.fill("#password-password", "Not-the-one-1")
    page.get_by_test_id("password-submit").click()
    page.get_by_test_id("login-error").wait_for()
    assert page.get_by_test_id("panel-password").is_visible()
    assert not page.get_by_test_id("panel-code").is_visible()
    assert page.input_value("#password-phone") == phone
    assert "用户名" not in page.locator("main").inner_text()
    # typing again takes the mark and the message away (they sat under a corrected value)
    page.fill("#password-password", "Another-try-2")
    expect(page.get_by_test_id("login-error")).to_be_hidden()
    assert page.get_attribute("#password-password", "aria-invalid") is None


def test_the_tabs_work_without_javascript(browser, live: LiveServer) -> None:
    context = browser.new_context(locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live.url}/t/hechi/login?next=/t/hechi/my")
        page.get_by_test_id("tab-password").click()
        page.wait_for_url(lambda url: "tab=password" in url)
        assert page.get_by_test_id("panel-password").is_visible()
        assert not page.get_by_test_id("panel-code").is_visible()
        assert page.locator("#password-form input[name=next]").input_value() == "/t/hechi/my"
    finally:
        context.close()
