"""Reading the catalog in bulk: browsing and search, statistics, the province roll-up."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session, defer, load_only

from core.catalog.models import (
    DepartmentDuty,
    Item,
    ItemStatus,
    ItemTerm,
    ItemVersion,
    Theme,
    VersionState,
)
from core.catalog.search import matching_codes, plan_search, search_item_ids
from core.catalog.synonyms import synonyms_for
from core.db import platform_scope, remembered, watch
from core.tenancy import Tenant

__all__ = [
    "AUDIENCES",
    "AdminPage",
    "ItemPage",
    "admin_items",
    "audience_filter",
    "catalog_stats",
    "list_items",
    "province_stats",
]

#: 服务对象: who an item serves. An item that does not say serves persons (个人办事).
AUDIENCES = ("person", "enterprise")

watch(Item, ItemTerm, Theme)


@dataclass
class ItemPage:
    items: list[Item]
    total: int
    #: a search's synonyms tried, (word typed, word also searched)
    synonyms: tuple[tuple[str, str], ...] = ()
    #: a run-together search found through these words (户口 · 迁移 · 市外); empty: as typed
    segments: tuple[str, ...] = field(default=())


def audience_filter(audience: str) -> Any:
    """Items serving ``audience`` (person or enterprise; an item naming none serves persons)."""
    return Item.audience.in_([audience, "person enterprise"])


def list_items(
    session: Session,
    tenant: Tenant,
    *,
    q: str | None = None,
    department: str | None = None,
    category: str | None = None,
    level: str | None = None,
    theme: str | None = None,
    audience: str | None = None,
    status: str | None = "active",
    limit: int = 20,
    offset: int = 0,
) -> ItemPage:
    """Published items, filtered; ``q`` searches names, keywords, departments, categories,
    with the tenant's synonyms, and segmented when as typed it finds nothing.
    Counting and paging happen in the database; a page loads only its own rows."""
    plan = None
    if q is not None:
        plan = plan_search(q, synonyms_for(tenant.settings))
        if plan is None:
            return ItemPage([], 0)
    filters = (department, category, level, theme, audience, status)
    page = _list_page(
        session, tenant, q, plan.alternatives if plan else None, filters, limit, offset
    )
    if plan is not None and page.total == 0 and plan.relaxed:
        relaxed = _list_page(session, tenant, q, plan.relaxed, filters, limit, offset)
        if relaxed.total:
            relaxed.synonyms, relaxed.segments = plan.synonyms, plan.segments
            return relaxed
    if plan is not None:
        page.synonyms = plan.synonyms
    return page


def _list_page(
    session: Session,
    tenant: Tenant,
    q: str | None,
    alternatives: tuple[tuple[str, ...], ...] | None,
    filters: tuple[str | None, ...],
    limit: int,
    offset: int,
) -> ItemPage:
    if alternatives is not None:
        return _search_page(session, tenant, alternatives, filters, limit, offset)
    department, category, level, theme, audience, status = filters
    stmt = select(Item.id).where(Item.tenant_id == tenant.id, Item.live_version_id.is_not(None))
    if status:
        stmt = stmt.where(Item.status == ItemStatus(status))
    if department:
        stmt = stmt.where(Item.department_code == department)
    if category:
        stmt = stmt.where(Item.category == category)
    if level:
        # levels is a short JSON list; its text form is the same on SQLite and PostgreSQL.
        stmt = stmt.where(cast(Item.levels, String).like(f'%"{level}"%'))
    if theme:
        stmt = stmt.where(Item.code.in_(_theme_codes(session, tenant, theme)))
    if audience in AUDIENCES:
        stmt = stmt.where(audience_filter(audience))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    ids = list(session.scalars(stmt.order_by(Item.code).limit(limit).offset(offset)))
    if not ids:
        return ItemPage([], total)
    return ItemPage(_rows(session, tenant, Item.id.in_(ids)), total)


def _search_page(
    session: Session,
    tenant: Tenant,
    alternatives: tuple[tuple[str, ...], ...],
    filters: tuple[str | None, ...],
    limit: int,
    offset: int,
) -> ItemPage:
    """A search, read from the postings alone: each carries its item's code and listing
    columns (status, department, category, audience, levels), so the matches are one range
    read of the search index per term, counted and paged in code order there, and only the
    page's rows are loaded. A search's count and page are remembered for a moment
    (core/db/_memo.py): the popular searches of a busy hour repeat, and any catalog write
    forgets them."""
    department, category, level, theme, audience, status = filters
    where: list[Any] = []
    if status:
        where.append(ItemTerm.status == ItemStatus(status).value)
    if department:
        where.append(ItemTerm.department_code == department)
    if category:
        where.append(ItemTerm.category == category)
    if level:
        where.append(ItemTerm.levels.like(f"% {level} %"))
    if theme:
        where.append(ItemTerm.code.in_(_theme_codes(session, tenant, theme)))
    if audience in AUDIENCES:
        where.append(ItemTerm.audience.in_([audience, "person enterprise"]))

    def load() -> tuple[int, tuple[str, ...]]:
        # Counted and paged in the database: the index hands the codes over in order, and
        # only the page's twenty cross into Python (a few thousand codes as rows cost more
        # than the whole search).
        matches = matching_codes(tenant.id, alternatives, tuple(where))
        in_order = matches.order_by(matches.selected_columns[0])
        total = session.scalar(select(func.count()).select_from(matches.subquery())) or 0
        page = session.scalars(in_order.limit(limit).offset(offset)) if total > offset else ()
        return total, tuple(page)

    key = ("catalog-search", tenant.id, alternatives, *filters, limit, offset)
    total, wanted = remembered(session, key, load)
    if not wanted:
        return ItemPage([], total)
    return ItemPage(_rows(session, tenant, Item.code.in_(wanted)), total)


def _theme_codes(session: Session, tenant: Tenant, theme: str) -> list[str]:
    row = session.scalar(select(Theme).where(Theme.tenant_id == tenant.id, Theme.code == theme))
    return list(row.item_codes) if row else []


def _rows(session: Session, tenant: Tenant, which: Any) -> list[Item]:
    """The page's own rows (twenty at most), by key, in code order. No ORDER BY in SQL: it
    would tempt the planner into walking the code index of the whole catalog to sort them."""
    page = select(Item).where(Item.tenant_id == tenant.id, which).options(_LISTED)
    return sorted(session.scalars(page), key=lambda i: i.code)


#: what a result list, a suggestion and the API's summary show of an item (the rest — its
#: content above all — is loaded only if asked for)
_LISTED = load_only(
    Item.code,
    Item.name,
    Item.kind,
    Item.category,
    Item.department_code,
    Item.status,
    Item.legal_days,
    Item.promised_days,
    Item.levels,
    Item.audience,
    Item.standard_item_id,
    Item.live_version_id,
)


@dataclass
class AdminPage:
    items: list[Item]
    total: int
    drafts: set[uuid.UUID]  # ids of the page's items that have a draft waiting


def admin_items(
    session: Session,
    tenant: Tenant,
    *,
    q: str | None = None,
    department: str | None = None,
    category: str | None = None,
    status: str | None = None,
    drafts_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> AdminPage:
    """The editor's list: every item of the tenant, published or not, one page at a time.
    ``q`` is an item code or search words (published items are indexed)."""
    stmt = select(Item.id).where(Item.tenant_id == tenant.id)
    if q and q.strip():
        matching = search_item_ids(session, tenant.id, q, synonyms_for(tenant.settings))
        by_code = Item.code == q.strip()
        stmt = stmt.where(by_code if matching is None else (by_code | Item.id.in_(matching)))
    if department:
        stmt = stmt.where(Item.department_code == department)
    if category:
        stmt = stmt.where(Item.category == category)
    if status:
        stmt = stmt.where(Item.status == ItemStatus(status))
    drafted = select(ItemVersion.item_id).where(
        ItemVersion.tenant_id == tenant.id, ItemVersion.state == VersionState.draft
    )
    if drafts_only:
        stmt = stmt.where(Item.id.in_(drafted))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    ids = list(session.scalars(stmt.order_by(Item.code).limit(limit).offset(offset)))
    if not ids:
        return AdminPage([], total, set())
    items = sorted(
        session.scalars(
            select(Item)
            .where(Item.tenant_id == tenant.id, Item.id.in_(ids))
            .options(defer(Item.effective))
        ),
        key=lambda i: i.code,
    )
    drafts = set(session.scalars(drafted.where(ItemVersion.item_id.in_(ids))))
    return AdminPage(items, total, drafts)


def catalog_stats(session: Session, tenant: Tenant) -> dict[str, Any]:
    """Counts as the seeds publish them: by department, category and status, plus duties."""

    def grouped(column: Any) -> dict[Any, int]:
        return dict(
            session.execute(
                select(column, func.count())
                .where(Item.tenant_id == tenant.id, Item.live_version_id.is_not(None))
                .group_by(column)
            ).all()
        )

    by_status = {
        str(k.value if hasattr(k, "value") else k): v for k, v in grouped(Item.status).items()
    }
    active = (
        select(Item)
        .where(
            Item.tenant_id == tenant.id,
            Item.status == ItemStatus.active,
            Item.live_version_id.is_not(None),
        )
        .subquery()
    )
    by_department: dict[str, int] = dict(
        session.execute(
            select(active.c.department_code, func.count()).group_by(active.c.department_code)
        ).all()
    )
    by_category: dict[str, int] = dict(
        session.execute(select(active.c.category, func.count()).group_by(active.c.category)).all()
    )
    by_kind: dict[str, int] = dict(
        session.execute(select(active.c.kind, func.count()).group_by(active.c.kind)).all()
    )
    duties = dict(
        session.execute(
            select(DepartmentDuty.kind, func.count())
            .where(DepartmentDuty.tenant_id == tenant.id)
            .group_by(DepartmentDuty.kind)
        ).all()
    )
    return {
        "items": sum(by_department.values()),
        "by_status": by_status,
        "by_department": by_department,
        "by_category": by_category,
        "by_kind": by_kind,
        "duties": duties,
        "changed": sum(v for k, v in by_status.items() if k != "active"),
    }


def province_stats(session: Session, province: Tenant) -> dict[str, Any]:
    """A province's own catalog statistics plus each of its cities' and counties'."""
    with platform_scope(session) as s:
        children = list(  # every city and county, a county under a city too
            s.scalars(
                select(Tenant)
                .where(Tenant.province_id == province.id, Tenant.id != province.id)
                .order_by(Tenant.division_code)
            )
        )
        per_tenant = {t.slug: catalog_stats(s, t) for t in [province, *children]}
    totals: dict[str, Any] = {"items": 0, "changed": 0, "by_category": {}}
    for slug, stats in per_tenant.items():
        if slug == province.slug:
            continue
        totals["items"] += stats["items"]
        totals["changed"] += stats["changed"]
        for k, v in stats["by_category"].items():
            totals["by_category"][k] = totals["by_category"].get(k, 0) + v
    return {
        "tenants": per_tenant,
        "counties_total": totals,
        "names": {t.slug: t.display_name for t in [province, *children]},
    }
