"""What the portal's home page and footer show, from the database: no figure is typed in.

- 个人办事 / 法人办事: live items by 服务对象 (``Item.audience``), the most applied for first;
- life events (办事专题) with the number of their items on offer;
- hot items (热门事项): items ordered by the applications submitted for them in the last
  :data:`HOT_DAYS` days — none when there were none (nothing is made up);
- the power list by category (晒权) and departments, with their items;
- the footer: departments, items on offer, cases finished this year (counted as the public
  statistics count them, core/supervision/stats.py).

Everything is a handful of aggregates over indexed columns, remembered for a few seconds per
process (core/db/_memo.py), so a busy home page costs next to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.cases import clock
from core.cases.models import Case
from core.catalog.models import Item, ItemStatus
from core.catalog.service import categories, directory
from core.db import remembered
from core.supervision.stats import FINISHED
from core.tenancy import Tenant

__all__ = [
    "HOT_DAYS",
    "CountFact",
    "FooterFacts",
    "HomeFacts",
    "ItemFact",
    "ThemeFact",
    "footer_facts",
    "home_facts",
    "hot_items",
]

#: The window of hot items, in days.
HOT_DAYS = 90
#: Items listed per audience and hot items shown.
LISTED = 12
HOT_LISTED = 8
HOME_SECONDS = 10.0
FOOTER_SECONDS = 30.0


@dataclass(frozen=True)
class ItemFact:
    code: str
    name: str
    applications: int = 0  # submitted in the last HOT_DAYS days


@dataclass(frozen=True)
class ThemeFact:
    code: str
    name: str
    description: str
    items: int  # its items on offer


@dataclass(frozen=True)
class CountFact:
    code: str
    name: str
    items: int


@dataclass(frozen=True)
class FooterFacts:
    departments: int
    items: int
    finished_this_year: int
    year: int


@dataclass(frozen=True)
class HomeFacts:
    person: tuple[ItemFact, ...]
    person_total: int
    enterprise: tuple[ItemFact, ...]
    enterprise_total: int
    themes: tuple[ThemeFact, ...]
    #: hot items; empty when no application was submitted in the window
    hot: tuple[ItemFact, ...]
    hot_days: int
    categories: tuple[CountFact, ...]
    departments: tuple[CountFact, ...]
    footer: FooterFacts


def _on_offer(tenant: Tenant) -> tuple[ColumnElement[bool], ...]:
    return (
        Item.tenant_id == tenant.id,
        Item.status == ItemStatus.active,
        Item.live_version_id.is_not(None),
    )


def _application_counts(
    session: Session, tenant: Tenant, limit: int | None
) -> list[tuple[str, int]]:
    """(item code, applications) of live items over the window, most first."""
    since: datetime = clock.now() - timedelta(days=HOT_DAYS)
    applied = func.count(Case.id)
    stmt = (
        select(Case.item_code, applied)
        .where(Case.tenant_id == tenant.id, Case.submitted_at >= since)
        .group_by(Case.item_code)
        .order_by(applied.desc(), Case.item_code)
    )
    counts = [(code, int(n)) for code, n in session.execute(stmt).all()]
    live = set(
        session.scalars(
            select(Item.code).where(*_on_offer(tenant), Item.code.in_([c for c, _ in counts]))
        )
    )
    kept = [(code, n) for code, n in counts if code in live]
    return kept if limit is None else kept[:limit]


def hot_items(session: Session, tenant: Tenant, limit: int = HOT_LISTED) -> list[ItemFact]:
    """The items most applied for in the last :data:`HOT_DAYS` days; none without cases.
    Remembered like the home page's figures: every search that finds nothing shows them."""
    kept = remembered(
        session,
        ("portal-hot", tenant.id, limit),
        lambda: tuple(_hot_items(session, tenant, limit)),
        ttl=HOME_SECONDS,
    )
    return list(kept)


def _hot_items(session: Session, tenant: Tenant, limit: int) -> list[ItemFact]:
    counts = _application_counts(session, tenant, limit)
    names = dict(
        session.execute(
            select(Item.code, Item.name).where(
                Item.tenant_id == tenant.id, Item.code.in_([c for c, _ in counts])
            )
        ).all()
    )
    return [ItemFact(code, names.get(code, code), n) for code, n in counts]


def _by_audience(
    session: Session, tenant: Tenant, counts: dict[str, int]
) -> tuple[dict[str, list[ItemFact]], dict[str, int]]:
    totals = {"person": 0, "enterprise": 0}
    for value, n in session.execute(
        select(Item.audience, func.count()).where(*_on_offer(tenant)).group_by(Item.audience)
    ).all():
        for audience in str(value).split():
            totals[audience] = totals.get(audience, 0) + int(n)
    lists: dict[str, list[ItemFact]] = {"person": [], "enterprise": []}
    # the most applied for first, then the rest in code order, up to LISTED of each
    hot_rows = list(
        session.execute(
            select(Item.code, Item.name, Item.audience).where(
                *_on_offer(tenant), Item.code.in_(list(counts))
            )
        ).all()
    )
    hot_rows.sort(key=lambda r: (-counts.get(r[0], 0), r[0]))
    rest = session.execute(
        select(Item.code, Item.name, Item.audience)
        .where(*_on_offer(tenant))
        .order_by(Item.code)
        .limit(LISTED * 4)
    ).all()
    seen: set[str] = set()
    for code, name, audience in [*hot_rows, *rest]:
        if code in seen:
            continue
        seen.add(code)
        for a in str(audience).split():
            if a in lists and len(lists[a]) < LISTED:
                lists[a].append(ItemFact(code, name, counts.get(code, 0)))
    # with many enterprise items far down the code order, fill that list on its own
    for audience, listed in lists.items():
        if len(listed) < min(LISTED, totals.get(audience, 0)):
            more = session.execute(
                select(Item.code, Item.name)
                .where(
                    *_on_offer(tenant),
                    Item.audience.in_([audience, "person enterprise"]),
                    Item.code.not_in([f.code for f in listed]),
                )
                .order_by(Item.code)
                .limit(LISTED - len(listed))
            ).all()
            listed.extend(ItemFact(code, name, counts.get(code, 0)) for code, name in more)
    return lists, totals


def _home(session: Session, tenant: Tenant) -> HomeFacts:
    around = directory(session, tenant)
    counts = dict(_application_counts(session, tenant, None))
    hot_codes = list(counts)[:HOT_LISTED]
    lists, totals = _by_audience(session, tenant, counts)
    names = {f.code: f.name for group in lists.values() for f in group}
    missing = [c for c in hot_codes if c not in names]
    if missing:
        names.update(
            session.execute(
                select(Item.code, Item.name).where(
                    Item.tenant_id == tenant.id, Item.code.in_(missing)
                )
            ).all()
        )
    hot = tuple(ItemFact(code, names.get(code, code), counts[code]) for code in hot_codes)

    theme_codes = {c for t in around["themes"] for c in t.item_codes}
    offered = set(
        session.scalars(select(Item.code).where(*_on_offer(tenant), Item.code.in_(theme_codes)))
    )
    themes = tuple(
        ThemeFact(t.code, t.name, t.description, sum(1 for c in t.item_codes if c in offered))
        for t in around["themes"]
    )

    by_category = dict(
        session.execute(
            select(Item.category, func.count()).where(*_on_offer(tenant)).group_by(Item.category)
        ).all()
    )
    category_rows = tuple(
        CountFact(code, c.name, int(by_category[code]))
        for code, c in sorted(categories(session).items(), key=lambda kv: kv[1].sort)
        if by_category.get(code)
    )
    by_department = dict(
        session.execute(
            select(Item.department_code, func.count())
            .where(*_on_offer(tenant))
            .group_by(Item.department_code)
        ).all()
    )
    department_rows = tuple(
        sorted(
            (
                CountFact(code, unit.name, int(by_department.get(code, 0)))
                for code, unit in around["departments"].items()
            ),
            key=lambda d: (-d.items, d.code),
        )
    )
    return HomeFacts(
        person=tuple(lists["person"]),
        person_total=totals.get("person", 0),
        enterprise=tuple(lists["enterprise"]),
        enterprise_total=totals.get("enterprise", 0),
        themes=themes,
        hot=hot,
        hot_days=HOT_DAYS,
        categories=category_rows,
        departments=department_rows,
        footer=footer_facts(session, tenant),
    )


def home_facts(session: Session, tenant: Tenant) -> HomeFacts:
    """Everything the home page shows about the tenant's catalog and cases."""
    return remembered(
        session, ("portal-home", tenant.id), lambda: _home(session, tenant), ttl=HOME_SECONDS
    )


def _year_start(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=clock.TZ)


def _footer(session: Session, tenant: Tenant) -> FooterFacts:
    year = clock.today().year
    items = session.scalar(select(func.count()).select_from(Item).where(*_on_offer(tenant)))
    finished = session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.tenant_id == tenant.id,
            Case.state.in_(FINISHED),
            Case.completed_at >= _year_start(year),
            Case.completed_at < _year_start(year + 1),
        )
    )
    return FooterFacts(
        departments=len(directory(session, tenant)["departments"]),
        items=int(items or 0),
        finished_this_year=int(finished or 0),
        year=year,
    )


def footer_facts(session: Session, tenant: Tenant) -> FooterFacts:
    """The footer's figures: departments, items on offer, cases finished this year."""
    return remembered(
        session, ("portal-footer", tenant.id), lambda: _footer(session, tenant), ttl=FOOTER_SECONDS
    )
