"""Headless Chromium (Debian's package) driven by Playwright through its executable path.
A failing test leaves a screenshot in tests/artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.db import Database
from tests.servers import LiveServer

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


PHONE: dict[str, Any] = {
    "viewport": {"width": 375, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test leaves a screenshot of every page it had open."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        pages = [item.funcargs.get(name) for name in ("page", "phone_page")]
        pages += item.funcargs.get("e2e_pages") or []
        ARTIFACTS.mkdir(exist_ok=True)
        for n, page in enumerate(p for p in pages if p is not None):
            try:
                page.screenshot(path=str(ARTIFACTS / f"{item.name}-{n}.png"), full_page=True)
            except Exception as exc:
                report.sections.append(("screenshot", f"page {n}: {exc}"))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live(db: Database) -> Iterator[LiveServer]:
    from web.app import create_app

    server = LiveServer(create_app(database=db)).start()
    yield server
    server.stop()


def open_page(browser, *, phone: bool = False):
    """A page in a fresh browser context (its own cookies) that records every complaint the
    browser makes about our Content-Security-Policy in ``page.csp_violations``."""
    context = browser.new_context(locale="zh-CN", **(PHONE if phone else {}))
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.csp_violations = []
    page.on(
        "console",
        lambda m: (
            page.csp_violations.append(m.text) if "Content Security Policy" in m.text else None
        ),
    )
    return page


def staff_sign_in(page, live: LiveServer, slug: str, username: str) -> None:
    """Sign a demo staff member in on the page (every demo password is Demo-2026)."""
    page.goto(f"{live.url}/t/{slug}/staff/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "Demo-2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/workbench")


def press(page, button) -> None:
    """Click a form's button and wait for the page it leads to; a button that asks first
    (``data-confirm``: an action that cannot be taken back) is confirmed in the dialog."""
    if button.get_attribute("data-confirm") is None:
        with page.expect_navigation():
            button.click()
        return
    button.click()
    dialog = page.locator("#gh-confirm")
    dialog.wait_for(state="visible")
    with page.expect_navigation():
        dialog.get_by_test_id("confirm-ok").click()


def _close(page) -> None:
    violations = page.csp_violations
    page.context.close()
    assert not violations, violations


@pytest.fixture
def page(browser):
    page = open_page(browser)
    yield page
    _close(page)


@pytest.fixture
def phone_page(browser):
    page = open_page(browser, phone=True)
    yield page
    _close(page)


@pytest.fixture
def e2e_pages(browser):
    """Open pages for one person each with ``e2e_pages.open(phone=...)``: screenshotted on
    failure, checked for CSP complaints and closed afterwards."""
    pages = _Pages(browser)
    yield pages
    for page in pages:
        _close(page)


class _Pages(list):
    def __init__(self, browser) -> None:
        super().__init__()
        self.browser = browser

    def open(self, *, phone: bool = False):
        page = open_page(self.browser, phone=phone)
        self.append(page)
        return page
