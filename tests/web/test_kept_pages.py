"""A signed-out visitor's item guide is rendered once and kept for a few seconds: every
visitor still gets their own CSRF token (and can post with it), a signed-in visitor gets
their own page, and a change the guide shows is seen on the next view."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import delete, event

from core.consult import answer, ask
from core.consult.models import Consultation
from core.db import Database, forget_remembered
from tests.cases.conftest import Desk
from tests.helpers import csrf_token

ITEM = "/t/hechi/items/HC-SB01"


def _token(page: str) -> str:
    found = re.search(r'"x-csrftoken": "([^"]+)"', page)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def _counting(db: Database) -> tuple[list[str], Any]:
    """A list the statements sent from now on are added to, and the listener adding them."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    return seen, count


def test_visitors_share_the_kept_guide_but_not_their_tokens(app: Any, db: Database) -> None:
    forget_remembered()
    base = "http://testserver.local"
    with TestClient(app=app, base_url=base) as first, TestClient(app=app, base_url=base) as other:
        one = first.get(ITEM)
        assert one.status_code == 200
        statements, listener = _counting(db)
        try:
            two = other.get(ITEM)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert two.status_code == 200
        mine, theirs = _token(one.text), _token(two.text)
        assert mine != theirs
        # the same page around the token, and the second view asked the database nothing
        assert one.text.replace(mine, "") == two.text.replace(theirs, "")
        assert statements == [], statements
        # each visitor's token is their own: accepted from its visitor, refused from another
        form = {"phone": "13800000008", "password": "wrong-one"}
        own = other.post("/t/hechi/login/password", data={**form, "_csrf_token": theirs})
        assert own.status_code != 403 and "密码" in own.text
        borrowed = other.post("/t/hechi/login/password", data={**form, "_csrf_token": mine})
        assert borrowed.status_code == 403


def test_a_search_many_run_is_rendered_once_with_each_visitors_token(app: Any) -> None:
    forget_remembered()
    base = "http://testserver.local"
    with TestClient(app=app, base_url=base) as first, TestClient(app=app, base_url=base) as other:
        one = first.get("/t/hechi/items", params={"q": "社保"})
        two = other.get("/t/hechi/items", params={"q": "社保"})
        mine, theirs = _token(one.text), _token(two.text)
        assert mine != theirs and "/t/hechi/items/HC-SB01" in two.text
        assert one.text.replace(mine, "") == two.text.replace(theirs, "")
        # another search, another page; htmx's fragment is not the whole page
        assert "/t/hechi/items/HC-HJ01" in other.get("/t/hechi/items", params={"q": "户口"}).text
        fragment = other.get(
            "/t/hechi/items", params={"q": "社保"}, headers={"hx-request": "true"}
        ).text
        assert "/t/hechi/items/HC-SB01" in fragment and "<html" not in fragment
        # a signed message in the query is never kept nor served from what was kept
        signed = other.get("/t/hechi/items", params={"q": "社保", "msg": "已收藏", "sig": "x"})
        assert signed.status_code == 200


def test_a_signed_in_visitor_gets_their_own_page(app: Any) -> None:
    forget_remembered()
    with TestClient(app=app, base_url="http://testserver.local") as visitor:
        anonymous = visitor.get(ITEM).text
        assert "退出登录" not in anonymous
        token = csrf_token(visitor, "/t/hechi/login")
        signed = visitor.post(
            "/t/hechi/login/password",
            data={"phone": "13800000008", "password": "Demo-2026", "_csrf_token": token},
            follow_redirects=False,
        )
        assert signed.status_code in (302, 303)
        page = visitor.get(ITEM).text
        assert "退出登录" in page and page != anonymous


def test_a_new_public_answer_is_on_the_next_view(app: Any, db: Database) -> None:
    hechi = Desk(db, "hechi")
    forget_remembered()
    with TestClient(app=app, base_url="http://testserver.local") as visitor:
        assert "能否在周末到窗口办理？" not in visitor.get(ITEM).text  # now kept
        with hechi.session() as s:
            row = ask(
                s, hechi.tenant, hechi.citizen("13800000008"), "HC-SB01", "周末", "周末能办吗？"
            )
            s.commit()
            number = row.number
        try:
            with hechi.session() as s:
                answer(
                    s,
                    hechi.tenant,
                    hechi.staff("hechi-reviewer"),
                    number,
                    "周六上午窗口照常办理。",
                    public=True,
                    public_question="能否在周末到窗口办理？",
                )
                s.commit()
            page = visitor.get(ITEM).text
            assert "能否在周末到窗口办理？" in page and "周六上午窗口照常办理。" in page
        finally:
            with hechi.session() as s:
                s.execute(delete(Consultation).where(Consultation.number == number))
                s.commit()
            forget_remembered()


def test_a_published_item_is_found_at_once_by_the_page_and_the_api(app: Any, db: Database) -> None:
    from core.catalog import Item, create_item

    hechi = Desk(db, "hechi")
    forget_remembered()
    content = {
        "name": "犬只登记证办理",
        "kind": "public_service",
        "category": "ggfw",
        "department": "HC-RSJ",
        "legal_days": 10,
        "promised_days": 5,
    }
    with TestClient(app=app, base_url="http://testserver.local") as visitor:
        api, page = "/api/v1/t/hechi/items", "/t/hechi/items"
        assert visitor.get(api, params={"q": "犬只"}).json()["total"] == 0  # now remembered
        assert "犬只登记证办理" not in visitor.get(page, params={"q": "犬只"}).text  # and kept
        with hechi.session() as s:
            create_item(s, hechi.tenant, code="HC-TEST01", content=content, publish=True)
            s.commit()
        try:
            found = visitor.get(api, params={"q": "犬只"}).json()
            assert [i["code"] for i in found["items"]] == ["HC-TEST01"]
            assert "犬只登记证办理" in visitor.get(page, params={"q": "犬只"}).text
        finally:
            with hechi.session() as s:
                s.execute(delete(Item).where(Item.code == "HC-TEST01"))
                s.commit()
            forget_remembered()
