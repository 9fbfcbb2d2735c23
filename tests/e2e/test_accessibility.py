"""Accessibility (无障碍) and phones: every portal page a visitor and a signed-in citizen reach
by following links at two differently branded counties passes axe-core (from npm, run in
Chromium) with no serious or critical violation, and fits a 390 px phone without sideways
scrolling; 长辈版 is kept across pages."""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.web.test_plain_words import SKIP, _key

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AUDIT = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): ${v.help} — ` +
      v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
}"""


def _context(browser, *, phone: bool = False):
    # The audit script is injected; the pages' own CSP is checked by the other browser tests.
    size = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
    context = browser.new_context(locale="zh-CN", viewport=size, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _sign_in(page, url: str, slug: str, phone: str) -> None:
    page.goto(f"{url}/t/{slug}/login?tab=password")
    form = page.locator('form[action$="/login/password"]')
    form.locator("input[name=phone]").fill(phone)
    form.locator("input[name=password]").fill("Demo-2026")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def _pages(page, url: str, slug: str, starts: list[str], limit: int = 45) -> list[str]:
    """Follow the tenant's links breadth first: one page of each kind."""
    prefix = f"/t/{slug}/"
    seen_kinds: set[str] = set()
    queue: deque[str] = deque(starts)
    found: list[str] = []
    while queue and len(found) < limit:
        href = queue.popleft()
        if _key(href) in seen_kinds:
            continue
        seen_kinds.add(_key(href))
        response = page.goto(url + href)
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        found.append(href)
        for link in page.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.getAttribute('href'))"
        ):
            link = (link or "").split("#")[0]
            if link.startswith(prefix) and not SKIP.search(link) and _key(link) not in seen_kinds:
                queue.append(link)
    return found


PEOPLE = [("hechi", None), ("hechi", "13800000008"), ("hebei", None), ("hebei", "13800000071")]


@pytest.mark.parametrize(
    ("slug", "phone"), PEOPLE, ids=[f"{s}-{p or 'visitor'}" for s, p in PEOPLE]
)
def test_every_portal_page_passes_axe_and_fits_a_phone(
    live, browser, cases_in_every_state: None, slug: str, phone: str | None
) -> None:
    base = f"/t/{slug}"
    starts = [f"{base}/", f"{base}/items", f"{base}/login", f"{base}/progress", f"{base}/nowhere"]
    desk = _context(browser)
    if phone:
        _sign_in(desk, live.url, slug, phone)
        starts = [f"{base}/my", f"{base}/my/cases", f"{base}/my/licenses", *starts]
    pages = _pages(desk, live.url, slug, starts)
    assert len(pages) >= 8, pages
    problems: dict[str, list[str]] = {}
    for href in pages:
        desk.goto(live.url + href)
        desk.add_script_tag(path=str(AXE))
        found = desk.evaluate(AUDIT)
        if found:
            problems[href] = found
    hand = _context(browser, phone=True)
    if phone:
        _sign_in(hand, live.url, slug, phone)
    for href in pages:
        hand.goto(live.url + href)
        width = hand.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            problems.setdefault(href, []).append(f"{width} px wide on a 390 px phone")
    desk.context.close()
    hand.context.close()
    assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in problems.items())


def test_elder_mode_is_kept_and_makes_the_type_larger(live, browser) -> None:
    page = _context(browser, phone=True)
    page.goto(f"{live.url}/t/hechi/")
    normal = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.get_by_test_id("elder-on").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path.rstrip("/") == "/t/hechi"
    page.goto(f"{live.url}/t/hechi/items")
    larger = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert larger >= normal * 1.2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_test_id("elder-off").click()
    page.wait_for_load_state()
    assert (
        page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)") == normal
    )
    page.context.close()


def test_the_skip_link_is_the_first_stop_and_lands_on_the_content(live, browser) -> None:
    page = _context(browser)
    page.goto(f"{live.url}/t/hebei/items")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert re.search("跳到主要内容", focused)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.context.close()


#: the administration pages of issue 21, per person: (tenant, username, pages)
ADMIN_PAGES = [
    (
        "guangxi",
        "guangxi-admin",
        [
            "/t/guangxi/console",
            "/t/guangxi/console/onboard",
            "/t/guangxi/console/onboard/hechi/branding",
            "/t/guangxi/console/onboard/hechi/admin",
            "/t/guangxi/console/onboard/hechi/catalog",
            "/t/guangxi/console/onboard/hechi/plugins",
            "/t/guangxi/console/onboard/hechi/activate",
            "/t/guangxi/console/audit",
            "/t/guangxi/console/bulk",
        ],
    ),
    (
        "hechi",
        "hechi-admin",
        [
            "/t/hechi/admin",
            "/t/hechi/admin/units",
            "/t/hechi/admin/units/new",
            "/t/hechi/admin/staff",
            "/t/hechi/admin/staff/new",
            "/t/hechi/admin/catalog/adopt",
            "/t/hechi/admin/audit",
            "/t/hechi/workbench",
        ],
    ),
]


@pytest.mark.parametrize(
    ("slug", "username", "hrefs"), ADMIN_PAGES, ids=[a[1] for a in ADMIN_PAGES]
)
def test_the_administration_pages_pass_axe_and_fit_a_phone(
    live, browser, slug: str, username: str, hrefs: list[str]
) -> None:
    problems: dict[str, list[str]] = {}
    for phone in (False, True):
        page = _context(browser, phone=phone)
        page.goto(f"{live.url}/t/{slug}/staff/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "Demo-2026")
        with page.expect_navigation():
            page.get_by_role("button", name="登录").click()
        for href in hrefs:
            response = page.goto(live.url + href)
            assert response is not None and response.status == 200, href
            if phone:
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > 390:
                    problems.setdefault(href, []).append(f"{width} px wide on a 390 px phone")
            else:
                page.add_script_tag(path=str(AXE))
                if found := page.evaluate(AUDIT):
                    problems[href] = found
        page.context.close()
    assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in problems.items())
