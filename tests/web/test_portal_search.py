"""The portal's search pages (suggestions as one types, a helpful empty result) and
announcements (公告): the county admin writes them, everyone reads the published ones."""

from __future__ import annotations

import re

from litestar.testing import TestClient
from sqlalchemy import select

from core.db import Database
from core.portal import Announcement, create_announcement
from core.tenancy import scope_for
from tests.helpers import csrf_token, tenant


def _staff(app, slug: str, username: str) -> TestClient:
    browser = TestClient(app=app, base_url="http://testserver.local")
    browser.__enter__()
    token = csrf_token(browser, f"/t/{slug}/staff/login")
    signed = browser.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
    )
    assert signed.status_code < 400
    return browser


def test_suggestions_as_one_types(client) -> None:
    page = client.get("/t/hechi/items/suggest", params={"q": "户口"})
    assert page.status_code == 200
    links = re.findall(r'href="/t/hechi/items/([^"?]+)"', page.text)
    assert "HC-HJ01" in links and 0 < len(links) <= 8
    assert "户口迁移（市外迁入）" in page.text
    assert client.get("/t/hechi/items/suggest", params={"q": "医保"}).text.count("HC-YB0") == 2
    assert client.get("/t/hechi/items/suggest", params={"q": " "}).text.strip() == ""
    none = client.get("/t/hechi/items/suggest", params={"q": "量子纠缠"})
    assert "没有找到" in none.text and "/t/hechi/items?q=" in none.text
    # the search boxes ask for them
    items = client.get("/t/hechi/items")
    assert 'hx-get="/t/hechi/items/suggest"' in items.text
    assert 'hx-trigger="input changed delay:250ms, search"' in items.text


def test_an_empty_result_says_what_to_try(client) -> None:
    page = client.get("/t/hechi/items", params={"q": "量子纠缠"})
    assert page.status_code == 200
    assert (
        'data-testid="no-results"' in page.text and "没有找到与「量子纠缠」相关的事项" in page.text
    )
    assert 'href="/t/hechi/consult/new"' in page.text
    assert (
        'data-testid="theme-suggestions"' in page.text and "/t/hechi/themes/shenhoushi" in page.text
    )
    fragment = client.get(
        "/t/hechi/items", params={"q": "量子纠缠"}, headers={"hx-request": "true"}
    )
    assert "<html" not in fragment.text and 'data-testid="no-results"' in fragment.text


def test_search_pages_say_what_they_found_and_how(client) -> None:
    joined = client.get("/t/hechi/items", params={"q": "户口迁移市外"})
    assert "/t/hechi/items/HC-HJ01" in joined.text
    assert 'data-testid="search-segments"' in joined.text and "户口、迁移、市外" in joined.text
    synonym = client.get("/t/hechi/items", params={"q": "医保"})
    assert "/t/hechi/items/HC-YB02" in synonym.text and "医疗保险" in synonym.text
    enterprise = client.get("/t/hechi/items", params={"audience": "enterprise"})
    assert "/t/hechi/items/HC-SC01" in enterprise.text
    assert "/t/hechi/items/HC-HJ01" not in enterprise.text
    person = client.get("/t/hechi/items", params={"audience": "person", "q": "户口"})
    assert "/t/hechi/items/HC-HJ01" in person.text


def test_the_footer_shows_the_database_figures_on_every_page(client, db: Database) -> None:
    from core.db import forget_remembered
    from core.portal import footer_facts

    forget_remembered()
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        facts = footer_facts(s, hechi)
    for path in ("/t/hechi/", "/t/hechi/items", "/t/hechi/announcements"):
        text = client.get(path).text
        assert f"{facts.departments} 个部门" in text and f"{facts.items} 项事项" in text, path
    # the old hard-coded figure from the template is gone (read the footer line only:
    # a random CSRF token elsewhere on the page may well contain the same digits)
    home = client.get("/t/hechi/").text
    footer = home.split('data-testid="footer-facts"', 1)[1].split("</p>", 1)[0]
    assert "3410" not in footer and f"{facts.items} 项事项" in footer


def test_the_admin_writes_publishes_and_unpublishes_announcements(app, client) -> None:
    admin = _staff(app, "hechi", "hechi-admin")
    page = admin.get("/t/hechi/admin/announcements/")
    assert page.status_code == 200 and 'data-testid="announcement-form"' in page.text
    assert 'href="/t/hechi/admin/announcements/"' in admin.get("/t/hechi/admin").text
    token = csrf_token(admin, "/t/hechi/admin/announcements/")
    empty = admin.post(
        "/t/hechi/admin/announcements/",
        data={"title": " ", "body": "x", "action": "publish", "_csrf_token": token},
    )
    assert empty.status_code == 422 and "请填写公告标题" in empty.text
    body = "关于元旦假期窗口安排的通知\n1月1日休息。\n\n<script>alert(1)</script>"
    made = admin.post(
        "/t/hechi/admin/announcements/",
        data={
            "title": "元旦假期安排",
            "body": body,
            "action": "publish",
            "pinned": "on",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert made.status_code in (302, 303)
    told = admin.get(made.headers["location"]).text  # the admin is told it was published
    assert 'data-testid="page-msg"' in told
    listing = client.get("/t/hechi/announcements")
    ids = re.findall(r'/t/hechi/announcements/([0-9a-f-]{36})"', listing.text)
    assert ids and "元旦假期安排" in listing.text
    shown = client.get(f"/t/hechi/announcements/{ids[0]}")
    assert shown.status_code == 200
    assert "1月1日休息。" in shown.text and "关于元旦假期窗口安排的通知<br>" in shown.text
    assert "<script>alert(1)</script>" not in shown.text and "&lt;script&gt;" in shown.text
    # edited, then taken down: gone from the portal
    edited = admin.post(
        f"/t/hechi/admin/announcements/{ids[0]}",
        data={"title": "元旦假期窗口安排", "body": "改了", "action": "save", "_csrf_token": token},
        follow_redirects=False,
    )
    assert edited.status_code in (302, 303)
    assert "元旦假期窗口安排" in client.get(f"/t/hechi/announcements/{ids[0]}").text
    down = admin.post(
        f"/t/hechi/admin/announcements/{ids[0]}",
        data={"action": "unpublish", "_csrf_token": token},
        follow_redirects=False,
    )
    assert down.status_code in (302, 303)
    assert client.get(f"/t/hechi/announcements/{ids[0]}").status_code == 404
    assert ids[0] not in client.get("/t/hechi/announcements").text
    admin.__exit__(None, None, None)


def test_announcements_are_the_admins_and_the_tenants_own(app, client, db: Database) -> None:
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        row = create_announcement(s, hechi, title="河池的公告", body="正文", published=True)
        s.commit()
        hechi_id = str(row.id)
    # another tenant's announcement does not exist there
    assert client.get(f"/t/bozhou/announcements/{hechi_id}").status_code == 404
    bozhou_admin = _staff(app, "bozhou", "bozhou-admin")
    assert bozhou_admin.get(f"/t/bozhou/admin/announcements/{hechi_id}").status_code == 404
    token = csrf_token(bozhou_admin, "/t/bozhou/admin/announcements/")
    answer = bozhou_admin.post(
        f"/t/bozhou/admin/announcements/{hechi_id}",
        data={"action": "unpublish", "_csrf_token": token},
    )
    assert answer.status_code == 404
    bozhou_admin.__exit__(None, None, None)
    # only the county admin edits them
    clerk = _staff(app, "hechi", "hechi-clerk")
    assert clerk.get("/t/hechi/admin/announcements/").status_code == 403
    token = csrf_token(clerk, "/t/hechi/workbench")
    refused = clerk.post(
        "/t/hechi/admin/announcements/",
        data={"title": "冒充", "body": "", "action": "publish", "_csrf_token": token},
    )
    assert refused.status_code == 403
    clerk.__exit__(None, None, None)
    signed_out = client.get("/t/hechi/admin/announcements/", follow_redirects=False)
    assert signed_out.status_code in (302, 303, 401, 403)
    # a form without its CSRF token is refused
    admin = _staff(app, "hechi", "hechi-admin")
    assert (
        admin.post(
            "/t/hechi/admin/announcements/", data={"title": "无令牌", "action": "publish"}
        ).status_code
        == 403
    )
    admin.__exit__(None, None, None)
    with db.session(scope=scope_for(hechi)) as s:
        titles = set(s.scalars(select(Announcement.title)))
        assert "冒充" not in titles and "无令牌" not in titles
        s.delete(s.get(Announcement, (hechi.id, row.id)))
        s.commit()
