"""Search reads the postings alone: each carries its item's code, status, department,
category, audience and levels, kept right when an item is published, withdrawn, restored,
imported again or its department renamed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import delete, event, select

from core.catalog import (
    Item,
    ItemStatus,
    change_status,
    create_item,
    get_item_by_code,
    list_items,
    publish_item,
    save_draft,
)
from core.catalog._bulk import Existing, publish_batch
from core.catalog.models import ItemTerm
from core.catalog.search import levels_text
from core.catalog.service import audience_column
from core.db import Database, forget_remembered
from core.tenancy import OrgUnit, Tenant, scope_for
from core.tenancy.units import update_unit
from tests.helpers import tenant


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _postings_disagree(s: Any, t: Tenant) -> list[tuple[str, str]]:
    """(code, column) of every posting whose listing column differs from its item's."""
    items = {i.id: i for i in s.scalars(select(Item).where(Item.tenant_id == t.id))}
    wrong = []
    for p in s.scalars(select(ItemTerm).where(ItemTerm.tenant_id == t.id)):
        item = items[p.item_id]
        want = {
            "code": item.code,
            "status": ItemStatus(item.status).value,
            "department_code": item.department_code,
            "category": item.category,
            "audience": item.audience,
            "levels": levels_text(item.levels),
        }
        wrong += [(item.code, c) for c, v in want.items() if getattr(p, c) != v]
    return wrong


def test_every_posting_carries_its_items_listing_columns(db: Database) -> None:
    # the demo packs publish own items, adopt the province's and add plugins' items
    for slug in ("hechi", "bozhou", "guangxi"):
        t = tenant(db, slug)
        with db.session(scope=scope_for(t)) as s:
            assert s.scalar(select(ItemTerm.code).where(ItemTerm.tenant_id == t.id))
            assert _postings_disagree(s, t) == []


def test_a_search_reads_the_postings_then_only_the_page_rows(db: Database) -> None:
    hechi = tenant(db, "hechi")
    forget_remembered()  # a search remembered from another test would run no statement
    with db.session(scope=scope_for(hechi)) as s, _statements(db) as seen:
        page = list_items(s, hechi, q="社会保险", limit=3)
    assert page.total > 3 and len(page.items) == 3
    assert [i.code for i in page.items] == sorted(i.code for i in page.items)
    matching = [q for q in seen if "item_terms" in q]
    assert matching and all(not re.search(r"\bitems\b", q) for q in matching), matching
    # the items table is read for the page alone: three codes, not every match's row
    rows = [q for q in seen if re.search(r"\bFROM items\b", q)]
    assert len(rows) == 1 and rows[0].count("?") + rows[0].count("%(") <= 3 + 2, rows


def test_filters_on_a_search_agree_with_the_items(db: Database) -> None:
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        every = list_items(s, hechi, q="登记", limit=500).items
        assert len(every) > 5
        rows = {i.code: i for i in s.scalars(select(Item).where(Item.tenant_id == hechi.id))}
        sample = every[0]
        cases: list[tuple[dict[str, Any], Callable[[Item], bool]]] = [
            (
                {"department": sample.department_code},
                lambda i: i.department_code == sample.department_code,
            ),
            ({"category": sample.category}, lambda i: i.category == sample.category),
            ({"level": "village"}, lambda i: "village" in i.levels),
            ({"audience": "enterprise"}, lambda i: "enterprise" in i.audience.split()),
        ]
        for filters, holds in cases:
            found = {i.code for i in list_items(s, hechi, q="登记", limit=500, **filters).items}
            assert found == {i.code for i in every if holds(rows[i.code])}, filters
        themed = {i.code for i in list_items(s, hechi, q="出生", theme="xsecs").items}
        assert "HC-WJ02" in themed


#: an item of the tests' own, made and removed by :func:`made_item` (the demo's stay as they are)
CODE = "HC-CS-SS01"


@pytest.fixture
def made_item(db: Database) -> Iterator[Tenant]:
    """A published item of Hechi's 市公安局, 户籍证明开具（测试）, deleted afterwards."""
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        content = {
            "name": "户籍证明开具（测试）",
            "kind": "public_service",
            "category": "ggfw",
            "department": "HC-GAJ",
            "levels": ["county", "village"],
            "keywords": ["户口"],
        }
        create_item(s, hechi, code=CODE, content=content, publish=True)
        s.commit()
    try:
        yield hechi
    finally:
        with db.session(scope=scope_for(hechi)) as s:
            s.execute(delete(Item).where(Item.tenant_id == hechi.id, Item.code == CODE))
            s.commit()


def _found(db: Database, t: Tenant, q: str, **filters: Any) -> set[str]:
    with db.session(scope=scope_for(t)) as s:
        return {i.code for i in list_items(s, t, q=q, limit=500, **filters).items}


def test_a_withdrawn_item_drops_out_of_search_and_comes_back_restored(
    db: Database, made_item: Tenant
) -> None:
    hechi = made_item
    assert CODE in _found(db, hechi, "户口") and CODE in _found(db, hechi, "户籍证明")
    with db.session(scope=scope_for(hechi)) as s:
        change_status(s, hechi, get_item_by_code(s, hechi, CODE), "cancel", reason="测试：取消")
        s.commit()
    assert CODE not in _found(db, hechi, "户口") and not _found(db, hechi, "户籍证明")
    assert _found(db, hechi, "户籍证明", status="cancelled") == {CODE}
    with db.session(scope=scope_for(hechi)) as s:
        assert _postings_disagree(s, hechi) == []
        change_status(s, hechi, get_item_by_code(s, hechi, CODE), "restore", reason="测试：恢复")
        s.commit()
    assert _found(db, hechi, "户籍证明") == {CODE}


def test_a_new_version_moving_an_item_moves_its_postings(db: Database, made_item: Tenant) -> None:
    hechi = made_item
    with db.session(scope=scope_for(hechi)) as s:
        item = get_item_by_code(s, hechi, CODE)
        moved = {**item.effective, "department": "HC-MZJ", "category": "xzqr"}
        save_draft(s, hechi, item, moved)
        publish_item(s, hechi, item)
        s.commit()
        assert _postings_disagree(s, hechi) == []
    assert _found(db, hechi, "户籍证明", department="HC-MZJ", category="xzqr") == {CODE}
    assert not _found(db, hechi, "户籍证明", department="HC-GAJ")


def test_an_import_moving_an_item_moves_its_postings_and_keeps_its_status(
    db: Database, made_item: Tenant
) -> None:
    hechi = made_item
    with db.session(scope=scope_for(hechi)) as s:
        item = get_item_by_code(s, hechi, CODE)
        change_status(s, hechi, item, "delegate", reason="测试：下放", target="金城江区")
        moved = {**item.effective, "department": "HC-MZJ", "audience": ["enterprise"]}
        existing = Existing(item.id, CODE, item.live_version_id, False, item.effective, "delegated")
        publish_batch(s, hechi, [], [(existing, moved)], reason="测试：批量导入")
        s.commit()
        assert _postings_disagree(s, hechi) == []
    assert not _found(db, hechi, "户籍证明")  # delegated: not in the active list
    assert _found(db, hechi, "户籍证明", status="delegated", audience="enterprise") == {CODE}
    assert not _found(db, hechi, "户籍证明", status="delegated", audience="person")


def test_a_renamed_department_shows_in_results_and_is_found_by_its_new_name(
    client, db: Database, made_item: Tenant
) -> None:
    hechi = made_item
    with db.session(scope=scope_for(hechi)) as s:
        unit = s.scalar(select(OrgUnit).where(OrgUnit.code == "HC-GAJ"))
        assert unit is not None and "出入境" not in unit.name
        old = unit.name
        update_unit(s, hechi, None, unit, name="河池市公安局出入境管理支队")
        s.commit()
    try:
        page = client.get("/t/hechi/items", params={"q": "户籍证明"}).text
        assert "河池市公安局出入境管理支队" in page and f"/t/hechi/items/{CODE}" in page
        found = _found(db, hechi, "出入境管理")
        assert CODE in found and "HC-HJ01" in found  # the demo's 户口迁移 of 市公安局 too
        with db.session(scope=scope_for(hechi)) as s:
            assert _postings_disagree(s, hechi) == []
    finally:
        with db.session(scope=scope_for(hechi)) as s:
            unit = s.scalar(select(OrgUnit).where(OrgUnit.code == "HC-GAJ"))
            update_unit(s, hechi, None, unit, name=old)
            s.commit()
    assert not _found(db, hechi, "出入境管理")


def test_audience_as_the_postings_keep_it() -> None:
    assert audience_column(None) == "person"
    assert audience_column(["enterprise", "person"]) == "person enterprise"
    assert levels_text(["county", "village"]) == " county village "
