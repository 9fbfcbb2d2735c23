"""The guide of an item (its page's guide section and the 一次性告知单 PDF) is rendered once
per live version and language and kept; publishing, a county's local change and a branding
change make it anew; the page and the PDF answer 304 to a repeat view, never across what
differs per visitor."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any, cast

import pytest
from litestar.testing import TestClient
from sqlalchemy import delete, select, update

from core.catalog import Item, adopt_item, create_item, get_item_by_code, publish_item, save_draft
from core.catalog.guides import forget_memory
from core.catalog.models import ItemGuide
from core.db import Database, forget_remembered
from core.tenancy import OrgUnit, Tenant, scope_for
from core.tenancy.units import update_unit
from tests.helpers import csrf_token, tenant

CODE = "HC-CS-ZN01"
ADOPTED = "HC-CS-ZN02"
PAGE = f"/t/hechi/items/{CODE}"


@pytest.fixture
def hechi(db: Database) -> Iterator[Tenant]:
    """Hechi with an item of the tests' own (数字证书办理（测试）) and a province item adopted
    under a code of their own; both removed afterwards."""
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        content = {
            "name": "数字证书办理（测试）",
            "kind": "public_service",
            "category": "ggfw",
            "department": "HC-GAJ",
            "conditions": "持有效身份证件。",
            "legal_days": 10,
            "promised_days": 5,
            "materials": [{"name": "申请表"}],
        }
        create_item(s, hechi, code=CODE, content=content, publish=True)
        adopt_item(s, hechi, "GX-SB01", overrides={"department": "HC-RSJ"}, code=ADOPTED)
        s.commit()
    forget_memory()
    try:
        yield hechi
    finally:
        with db.session(scope=scope_for(hechi)) as s:
            s.execute(
                delete(Item).where(Item.tenant_id == hechi.id, Item.code.in_([CODE, ADOPTED]))
            )
            s.commit()
        forget_memory()


def _kept(db: Database, t: Tenant, code: str, kind: str = "html") -> list[ItemGuide]:
    with db.session(scope=scope_for(t)) as s:
        item = get_item_by_code(s, t, code)
        return list(
            s.scalars(select(ItemGuide).where(ItemGuide.item_id == item.id, ItemGuide.kind == kind))
        )


def test_the_guide_is_kept_and_a_view_assembles_the_kept_one(
    client, db: Database, hechi: Tenant
) -> None:
    first = client.get(PAGE)
    assert first.status_code == 200 and "持有效身份证件。" in first.text
    (kept,) = _kept(db, hechi, CODE)
    assert kept.lang == "zh" and "持有效身份证件。" in zlib.decompress(kept.body).decode()
    # what the table keeps is what the next view shows: changed behind the page's back, the
    # change shows (a restart or another web process reads the table the same way)
    with db.session(scope=scope_for(hechi)) as s:
        doctored = (
            zlib.decompress(kept.body).decode().replace("持有效身份证件。", "（取自保存的告知）")
        )
        s.execute(
            update(ItemGuide)
            .where(ItemGuide.item_id == kept.item_id, ItemGuide.kind == "html")
            .values(body=zlib.compress(doctored.encode()))
        )
        s.commit()
    forget_memory()
    forget_remembered()  # and the whole page a signed-out visitor got, kept two seconds
    again = client.get(PAGE)
    assert "（取自保存的告知）" in again.text and "持有效身份证件。" not in again.text
    assert [k.rendered_at for k in _kept(db, hechi, CODE)] == [kept.rendered_at]
    # the page around it is the page's own: the header, the answers, the change log
    assert 'data-testid="item-name"' in again.text and 'id="faq"' in again.text
    assert again.text.index('id="basis"') < again.text.index('id="faq"')


def test_each_language_keeps_its_own(client, db: Database, hechi: Tenant) -> None:
    client.get(PAGE)
    client.cookies.set("lang", "en")
    try:
        english = client.get(PAGE)
    finally:
        client.cookies.delete("lang")
    assert "Conditions" in english.text or "Materials" in english.text
    assert sorted(k.lang for k in _kept(db, hechi, CODE)) == ["en", "zh"]


def test_publishing_forgets_the_kept_guide(client, db: Database, hechi: Tenant) -> None:
    client.get(PAGE)
    with db.session(scope=scope_for(hechi)) as s:
        item = get_item_by_code(s, hechi, CODE)
        save_draft(s, hechi, item, {**item.effective, "conditions": "须本人到场办理。"})
        publish_item(s, hechi, item)
        s.commit()
        version = item.live_version_id
    assert _kept(db, hechi, CODE) == []  # gone with the old version, in its transaction
    page = client.get(PAGE).text
    assert "须本人到场办理。" in page and "持有效身份证件。" not in page
    assert [k.version_id for k in _kept(db, hechi, CODE)] == [version]


def test_a_local_change_shows_at_once(client, db: Database, hechi: Tenant) -> None:
    adopted = f"/t/hechi/items/{ADOPTED}"
    assert "承诺时限" in client.get(adopted).text
    with db.session(scope=scope_for(hechi)) as s:
        item = get_item_by_code(s, hechi, ADOPTED)
        save_draft(s, hechi, item, {"department": "HC-RSJ", "promised_days": 3})
        publish_item(s, hechi, item)
        s.commit()
    page = client.get(adopted).text
    assert 'data-testid="promised-days">3 个工作日' in page
    # the hall's address and the department's name are read by the guide too
    with db.session(scope=scope_for(hechi)) as s:
        unit = s.scalar(select(OrgUnit).where(OrgUnit.code == "HC-GAJ"))
        assert unit is not None
        old = unit.name
        update_unit(s, hechi, None, unit, name="河池市公安局（测试改名）")
        s.commit()
    try:
        assert "河池市公安局（测试改名）" in client.get(PAGE).text
    finally:
        with db.session(scope=scope_for(hechi)) as s:
            unit = s.scalar(select(OrgUnit).where(OrgUnit.code == "HC-GAJ"))
            update_unit(s, hechi, None, unit, name=old)
            s.commit()
    assert "河池市公安局（测试改名）" not in client.get(PAGE).text


def test_the_page_answers_304_to_a_repeat_view_only(app, client, db: Database, hechi) -> None:
    first = client.get(PAGE)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["vary"] == "Cookie" and "no-cache" in first.headers["cache-control"]
    again = client.get(PAGE, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(PAGE, headers={"If-Modified-Since": modified}).status_code == 304
    # what differs per visitor is never answered from another's copy
    client.cookies.set("elder", "1")
    try:
        elder = client.get(PAGE, headers={"If-None-Match": etag})
    finally:
        client.cookies.delete("elder")
    assert elder.status_code == 200 and "gh-elder" in elder.text
    client.cookies.set("lang", "en")
    try:
        assert client.get(PAGE, headers={"If-None-Match": etag}).status_code == 200
    finally:
        client.cookies.delete("lang")
    with TestClient(app=app, base_url="http://testserver.local") as clerk:
        token = csrf_token(clerk, "/t/hechi/staff/login")
        signed = clerk.post(
            "/t/hechi/staff/login",
            data={"username": "hechi-clerk", "password": "Demo-2026", "_csrf_token": token},
        )
        assert signed.status_code < 400
        mine = clerk.get(PAGE)
        assert mine.status_code == 200 and mine.headers["etag"] != etag
        assert clerk.get(PAGE, headers={"If-None-Match": mine.headers["etag"]}).status_code == 304
        # signed in, a date alone proves nothing about the page
        dated = clerk.get(PAGE, headers={"If-Modified-Since": mine.headers["last-modified"]})
        assert dated.status_code == 200
    # a new version is a new page
    with db.session(scope=scope_for(hechi)) as s:
        item = get_item_by_code(s, hechi, CODE)
        save_draft(s, hechi, item, {**item.effective, "promised_days": 2})
        publish_item(s, hechi, item)
        s.commit()
    changed = client.get(PAGE, headers={"If-None-Match": etag, "If-Modified-Since": modified})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_the_checklist_pdf_is_kept_and_answers_304(client, db: Database, hechi) -> None:
    pdf = f"{PAGE}/checklist.pdf"
    first = client.get(pdf)
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    (kept,) = _kept(db, hechi, CODE, "pdf")
    assert kept.body == first.content
    assert client.get(pdf).content == first.content  # the same bytes, not made again
    assert client.get(pdf, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(pdf, headers={"If-Modified-Since": modified}).status_code == 304
    with db.session(scope=scope_for(hechi)) as s:
        item = get_item_by_code(s, hechi, CODE)
        save_draft(s, hechi, item, {**item.effective, "promised_days": 4})
        publish_item(s, hechi, item)
        s.commit()
    again = client.get(pdf, headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["etag"] != etag


def test_a_branding_change_makes_the_guides_anew(client, db: Database, hechi: Tenant) -> None:
    pdf = f"{PAGE}/checklist.pdf"
    etag = client.get(pdf).headers["etag"]
    client.get(PAGE)
    (before,) = _kept(db, hechi, CODE)
    from web.deps import forget_tenants

    with db.session(scope=None) as s:
        row = s.get(Tenant, hechi.id)
        assert row is not None
        branding = dict(row.branding or {})
        row.branding = {**branding, "display_name": "河池市网上办事大厅（测试）"}
        s.commit()
    forget_tenants()
    try:
        renamed_pdf = client.get(pdf, headers={"If-None-Match": etag})
        assert renamed_pdf.status_code == 200 and renamed_pdf.headers["etag"] != etag
        page = client.get(PAGE)
        assert "河池市网上办事大厅（测试）" in page.text
        (after,) = _kept(db, hechi, CODE)
        assert after.stamp != before.stamp
    finally:
        with db.session(scope=None) as s:
            row = s.get(Tenant, hechi.id)
            assert row is not None
            row.branding = branding
            s.commit()
        forget_tenants()


def test_a_suspended_items_guide_is_never_kept(app, db: Database, hechi: Tenant) -> None:
    from litestar import Request
    from litestar.types import HTTPScope

    from web.pages._guide import guide_of

    with db.session(scope=scope_for(hechi)) as s:
        item = get_item_by_code(s, hechi, CODE)
        scope = {
            "type": "http",
            "litestar_app": app,
            "path": PAGE,
            "headers": [],
            "query_string": b"",
        }
        names: dict[str, Any] = {"departments": {}, "categories": {}}
        guide = guide_of(
            Request(cast(HTTPScope, scope)),
            s,
            hechi,
            item,
            names=names,
            process=None,
            suspended=True,
            lang="zh",
            free=True,
            visits=1,
        )
    assert guide.rendered_at is None and "持有效身份证件。" in guide.before_faq
    assert _kept(db, hechi, CODE) == []
