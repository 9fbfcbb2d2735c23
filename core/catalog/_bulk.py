"""Publishing many items at once (an import's write phase): the same rows
:func:`core.catalog.service.publish_item` writes — a published version, the superseded one
closed, the item's live columns, its search terms, a public change-log entry — but a statement
per batch instead of a dozen per item."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from core.catalog.guides import forget_guides
from core.catalog.models import (
    Category,
    Item,
    ItemChange,
    ItemStatus,
    ItemTerm,
    ItemVersion,
    VersionState,
)
from core.catalog.search import posting_columns, terms_of
from core.catalog.service import audience_column, departments, index_texts, live_columns
from core.db import new_id, utcnow
from core.tenancy import Tenant

__all__ = [
    "POSTING_COLUMNS",
    "Existing",
    "Posting",
    "before_bulk_write",
    "publish_batch",
    "reindex_department",
]


@dataclass(frozen=True)
class Existing:
    """What an import needs to know of an item already in the catalog."""

    id: uuid.UUID
    code: str
    live_version_id: uuid.UUID | None
    adopted: bool
    effective: dict[str, Any]
    status: str = "active"


class _Names:
    def __init__(self, session: Session, tenant: Tenant) -> None:
        self.departments = {c: u.name for c, u in departments(session, tenant).items()}
        self.categories = dict(session.execute(select(Category.code, Category.name)).all())

    def terms(
        self, item_id: uuid.UUID, code: str, eff: dict[str, Any], status: str = "active"
    ) -> list[Posting]:
        """The item's postings: each term with the item's listing columns."""
        texts = index_texts(
            code,
            eff,
            self.departments.get(eff["department"], ""),
            self.categories.get(eff["category"], ""),
        )
        columns = posting_columns(code, status, eff, audience_column(eff.get("audience")))
        carried = tuple(columns[c] for c in POSTING_COLUMNS)
        return [(t, item_id, *carried) for t in terms_of(texts)]


#: the listing columns a posting carries, in the order of a :data:`Posting`'s tail
POSTING_COLUMNS = ("code", "status", "department_code", "category", "audience", "levels")
#: (term, item id, code, status, department, category, audience, levels)
Posting = tuple[Any, ...]


#: From this many items on, a write refreshes PostgreSQL's statistics first (below).
ANALYZE_FROM = 1000


def before_bulk_write(session: Session, count: int) -> None:
    """Let PostgreSQL plan a large write on statistics that exist.

    Every version, change and search term written checks its item through the foreign key,
    a cached plan. On a catalog never analysed (a county onboarded this week) the planner may
    take the tenant's prefix of any items index for it, and each check then walked the items
    before it: 5,000 new items took minutes. Statistics, even of a small table, make it take
    the primary key. ANALYZE is allowed inside the transaction and sees its own rows.
    """
    if count >= ANALYZE_FROM and session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE items, item_versions, item_terms"))


def publish_batch(
    session: Session,
    tenant: Tenant,
    new: list[tuple[str, dict[str, Any]]],
    changed: list[tuple[Existing, dict[str, Any]]],
    *,
    reason: str,
) -> None:
    """Create and publish ``new`` items (code, effective content) and publish a new version
    of each ``changed`` one, every change logged with ``reason`` (the caller commits)."""
    names = _Names(session, tenant)
    if new:
        _create(session, tenant, new, names)
    if changed:
        _republish(session, tenant, changed, names, reason)


def _create(
    session: Session, tenant: Tenant, new: list[tuple[str, dict[str, Any]]], names: _Names
) -> None:
    today, now = date.today(), utcnow()
    items, versions, changes, terms = [], [], [], []
    for code, eff in new:
        item_id, version_id = new_id(), new_id()
        items.append(
            {
                "tenant_id": tenant.id,
                "id": item_id,
                "code": code,
                "status": "active",
                "live_version_id": version_id,
                "effective": eff,
                "created_at": now,
                "updated_at": now,
                **live_columns(eff),
            }
        )
        versions.append(_version(tenant.id, version_id, item_id, 1, eff, today, now))
        changes.append(_change(tenant.id, item_id, "发布第 1 版", today, now))
        terms += names.terms(item_id, code, eff)
    session.execute(insert(Item), items)
    session.execute(insert(ItemVersion), versions)
    session.execute(insert(ItemChange), changes)
    _insert_terms(session, tenant, terms)


def _insert_terms(session: Session, tenant: Tenant, terms: list[Posting]) -> None:
    """Search terms are most of an import's rows (forty or so per item). PostgreSQL takes
    them as arrays in one statement: row by row, each insert paid its own round of
    row-level-security and foreign-key checks and the import ran at a few items a second."""
    if not terms:
        return
    names = ", ".join(POSTING_COLUMNS)
    if session.get_bind().dialect.name == "postgresql":
        columns = list(zip(*terms, strict=True))
        arrays = ", ".join(f"CAST(:c{i} AS text[])" for i in range(len(POSTING_COLUMNS)))
        session.execute(
            text(
                f"INSERT INTO item_terms (tenant_id, term, item_id, {names})"
                f" SELECT CAST(:tenant AS uuid), t, i, {names}"
                f" FROM unnest(CAST(:terms AS text[]), CAST(:items AS uuid[]), {arrays})"
                f" AS u(t, i, {names})"
            ),
            {
                "tenant": tenant.id,
                "terms": list(columns[0]),
                "items": list(columns[1]),
                **{f"c{i}": list(c) for i, c in enumerate(columns[2:])},
            },
        )
    else:
        # SQLite: the driver's executemany with the ids as stored, skipping the per-row
        # parameter processing that cost as much as the inserts themselves.
        connection = session.connection()
        as_stored = ItemTerm.__table__.c.item_id.type.bind_processor(connection.dialect)
        tenant_id = as_stored(tenant.id) if as_stored else tenant.id
        marks = ", ".join("?" for _ in POSTING_COLUMNS)
        connection.exec_driver_sql(
            f"INSERT INTO item_terms (tenant_id, term, item_id, {names}) VALUES (?, ?, ?, {marks})",
            [(tenant_id, t, as_stored(i) if as_stored else i, *rest) for t, i, *rest in terms],
        )


def _republish(
    session: Session,
    tenant: Tenant,
    changed: list[tuple[Existing, dict[str, Any]]],
    names: _Names,
    reason: str,
) -> None:
    today, now = date.today(), utcnow()
    ids = [item.id for item, _ in changed]
    drafts, numbers = _drafts_and_numbers(session, tenant, ids)
    live = [item.live_version_id for item, _ in changed if item.live_version_id]
    if live:
        session.execute(
            update(ItemVersion)
            .where(ItemVersion.tenant_id == tenant.id, ItemVersion.id.in_(live))
            .values(state=VersionState.superseded, valid_to=today)
        )
    items, new_versions, promoted, changes, terms = [], [], [], [], []
    for item, eff in changed:
        draft = drafts.get(item.id)
        version_id = draft or new_id()
        row = _version(tenant.id, version_id, item.id, numbers.get(item.id, 0) + 1, eff, today, now)
        if draft:  # a pending draft is replaced by what was imported, as save_draft would
            del row["number"], row["created_at"]
            promoted.append(row)
        else:
            new_versions.append(row)
        items.append(
            {
                "tenant_id": tenant.id,
                "id": item.id,
                "live_version_id": version_id,
                "effective": eff,
                "updated_at": now,
                **live_columns(eff),
            }
        )
        changes.append(_change(tenant.id, item.id, reason, today, now))
        terms += names.terms(item.id, item.code, eff, item.status)
    if new_versions:
        session.execute(insert(ItemVersion), new_versions)
    if promoted:
        session.execute(update(ItemVersion), promoted)
    session.execute(update(Item), items)
    session.execute(
        delete(ItemTerm).where(ItemTerm.tenant_id == tenant.id, ItemTerm.item_id.in_(ids))
    )
    _insert_terms(session, tenant, terms)
    forget_guides(session, tenant, ids)
    session.execute(insert(ItemChange), changes)


def reindex_department(session: Session, tenant: Tenant, code: str, batch: int = 500) -> int:
    """Rewrite the postings of every live item of the department ``code`` (its name, which
    search finds items by, has changed); returns how many items."""
    names = _Names(session, tenant)
    rows = session.execute(
        select(Item.id, Item.code, Item.effective, Item.status).where(
            Item.tenant_id == tenant.id,
            Item.department_code == code,
            Item.live_version_id.is_not(None),
        )
    ).all()
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        session.execute(
            delete(ItemTerm).where(
                ItemTerm.tenant_id == tenant.id, ItemTerm.item_id.in_([r.id for r in part])
            )
        )
        postings: list[Posting] = []
        for r in part:
            postings += names.terms(r.id, r.code, r.effective, ItemStatus(r.status).value)
        _insert_terms(session, tenant, postings)
    return len(rows)


def _drafts_and_numbers(
    session: Session, tenant: Tenant, ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, uuid.UUID], dict[uuid.UUID, int]]:
    drafts = dict(
        session.execute(
            select(ItemVersion.item_id, ItemVersion.id).where(
                ItemVersion.tenant_id == tenant.id,
                ItemVersion.item_id.in_(ids),
                ItemVersion.state == VersionState.draft,
            )
        ).all()
    )
    numbers = dict(
        session.execute(
            select(ItemVersion.item_id, func.max(ItemVersion.number))
            .where(ItemVersion.tenant_id == tenant.id, ItemVersion.item_id.in_(ids))
            .group_by(ItemVersion.item_id)
        ).all()
    )
    return drafts, numbers


def _version(
    tenant_id: uuid.UUID,
    version_id: uuid.UUID,
    item_id: uuid.UUID,
    number: int,
    eff: dict[str, Any],
    today: date,
    now: Any,
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": version_id,
        "item_id": item_id,
        "number": number,
        "state": VersionState.published.value,
        "content": eff,
        "effective": eff,
        "valid_from": today,
        "note": "批量导入",
        "created_at": now,
        "published_at": now,
    }


def _change(
    tenant_id: uuid.UUID, item_id: uuid.UUID, reason: str, today: date, now: Any
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": new_id(),
        "item_id": item_id,
        "action": "publish",
        "reason": reason,
        "effective_on": today,
        "created_at": now,
    }
