"""``make screenshots``: the portal's main pages at two differently branded counties (河池, blue;
亳州, red), at desktop (1366×900) and phone (390×844) width, written to ``docs/screenshots/``.

A fresh demo database (SQLite in a temporary directory) with the demo packs and a few cases in
every state, so that hot items, 我的办件 and a correction have something to show; the real app
under uvicorn; Debian's Chromium driven by Playwright.

    python -m tests.screenshots [OUT_DIR]
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

VAR = Path(tempfile.mkdtemp(prefix="govhall-shots-"))
os.environ.update(
    {
        "GOVHALL_VAR_DIR": str(VAR),
        "GOVHALL_ARGON2_PROFILE": "test",
        "GOVHALL_OUTBOUND_ALLOW_PRIVATE": "1",
        "GOVHALL_DATA_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "GOVHALL_SECRET_KEY": secrets.token_urlsafe(32),
    }
)
for name in ("GOVHALL_DATABASE_URL", "GOVHALL_REDIS_URL", "GOVHALL_STORAGE_URL"):
    os.environ.pop(name, None)

ROOT = Path(__file__).resolve().parent.parent

#: (tenant, citizen's phone, items to apply for, file name → path)
COUNTIES = [
    (
        "hechi",
        "13800000008",
        "HC-SC03",
        {
            "home": "/",
            "items": "/items?audience=person",
            "guide": "/items/HC-SC03",
            "login": "/login",
            "my": "/my",
            "my-cases": "/my/cases",
            "case": "{correction}",
            "apply": "/items/HC-HJ01/apply",
            "consult": "/consult/new?item=HC-SC03",
            "progress": "/progress",
        },
    ),
    (
        "bozhou",
        "13800000029",
        "BZ-SC03",
        {
            "home": "/",
            "items": "/items",
            "guide": "/items/BZ-SC03",
            "my": "/my",
            "case": "{correction}",
        },
    ),
]


def _seed(db, slug: str, phone: str, item: str) -> dict[str, str]:
    """Cases for the citizen: submitted, sent back for correction, issued."""
    from tests.cases.conftest import Desk

    desk = Desk(db, slug)
    who = desk.citizen(phone)
    clerk = desk.staff(f"{slug}-clerk")
    numbers: dict[str, str] = {}
    numbers["submitted"] = desk.apply(who, item)
    numbers["correction"] = desk.apply(who, item)
    desk.act(
        clerk,
        numbers["correction"],
        "request_correction",
        materials=[{"index": 0, "reason": "复印件不清晰，请重新扫描上传"}],
    )
    try:
        done = desk.apply(who, item)
        desk.act(clerk, done, "accept")
        for who_acts, action in (("reviewer", "review"), ("approver", "approve")):
            desk.act(desk.staff(f"{slug}-{who_acts}"), done, action)
        desk.act(desk.staff(f"{slug}-issuer"), done, "issue")
    except Exception as exc:  # a county whose process differs: the other cases still show
        print(f"  {slug}: no issued case ({exc})")
    return numbers


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    from core.db import PLATFORM, Database, reset_database
    from core.db.migrate import upgrade
    from core.effects import install
    from core.packs import apply_packs, load_packs
    from core.storage import reset_storage
    from core.storage.local import LocalStorage
    from tests.servers import LiveServer
    from web.app import create_app

    install()
    url = f"sqlite:///{VAR / 'shots.sqlite3'}"
    upgrade(url)
    db = Database(url)
    reset_database(db)
    reset_storage(LocalStorage(str(VAR / "objects")))
    with db.session(scope=PLATFORM) as session:
        apply_packs(session, load_packs(ROOT / "tenants"))
        session.commit()
    numbers = {slug: _seed(db, slug, phone, item) for slug, phone, item, _ in COUNTIES}
    server = LiveServer(create_app(database=db)).start()
    out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        for slug, phone, _, pages in COUNTIES:
            for width, height, tag in ((1366, 900, "desktop"), (390, 844, "phone")):
                context = browser.new_context(
                    locale="zh-CN", viewport={"width": width, "height": height}
                )
                page = context.new_page()
                page.goto(f"{server.url}/t/{slug}/login?tab=password")
                form = page.locator('form[action$="/login/password"]')
                form.locator("input[name=phone]").fill(phone)
                form.locator("input[name=password]").fill("Demo-2026")
                form.locator("button[type=submit]").click()
                page.wait_for_load_state()
                for name, path in pages.items():
                    if name == "login":
                        context.clear_cookies()
                    if path.startswith("{"):
                        path = f"/my/cases/{numbers[slug][path.strip('{}')]}"
                    page.goto(f"{server.url}/t/{slug}{path}")
                    page.wait_for_load_state("networkidle")
                    target = out / f"{slug}-{name}-{tag}.png"
                    page.screenshot(path=str(target), full_page=False)
                    print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
                    if name == "login":  # sign in again for the pages after it
                        page.goto(f"{server.url}/t/{slug}/login?tab=password")
                        form.locator("input[name=phone]").fill(phone)
                        form.locator("input[name=password]").fill("Demo-2026")
                        form.locator("button[type=submit]").click()
                        page.wait_for_load_state()
                context.close()
        browser.close()
    server.stop()
    shutil.rmtree(VAR, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
