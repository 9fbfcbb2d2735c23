"""Public statistics (政务服务数据公开), as Hechi publishes them: the items on offer, the cases
received and completed this year, the on-time completion rate, the rating rate and the
satisfaction rate.

Definitions (so anyone can recount them from the database):

- received: cases submitted in the year (Beijing time), whatever became of them;
- completed: cases decided in the year (``completed_at``), approved or denied;
- on time: decided on or before the promised date (``on_time``, set at completion; 即办
  counts as on time);
- rating rate: rated completed cases / completed cases;
- satisfaction rate: ratings of 60 or more / ratings (below 60 is a 差评 and gets a follow-up).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.cases import clock
from core.cases.models import Case, CaseState
from core.catalog.listing import catalog_stats
from core.db import platform_scope
from core.errors import InvalidInput
from core.supervision.ratings import LOW_SCORE
from core.tenancy import Tenant

__all__ = ["PublicStats", "public_stats", "rate"]

FINISHED = (CaseState.completed, CaseState.delivered)


class PublicStats(msgspec.Struct, kw_only=True):
    year: int
    items: int
    received: int
    completed: int
    on_time: int
    rated: int
    satisfied: int
    on_time_rate: str  # percent with one decimal, "" when nothing to divide
    rating_rate: str
    satisfaction_rate: str


def rate(part: int, whole: int) -> str:
    if not whole:
        return ""
    value = Decimal(part * 100) / Decimal(whole)
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=clock.TZ), datetime(year + 1, 1, 1, tzinfo=clock.TZ)


def public_stats(session: Session, tenant: Tenant, year: int | None = None) -> PublicStats:
    year = year or clock.today().year
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份应在 2000 到 2100 之间", field="year")
    start, end = _year_bounds(year)
    if tenant.is_province:  # the whole province: every city's and county's cases
        with platform_scope(session) as s:
            ids = list(s.scalars(select(Tenant.id).where(Tenant.province_id == tenant.id)))
            return _stats(s, tenant, year, Case.tenant_id.in_(ids), start, end)
    return _stats(session, tenant, year, Case.tenant_id == tenant.id, start, end)


def _stats(
    session: Session,
    tenant: Tenant,
    year: int,
    mine: Any,
    start: datetime,
    end: datetime,
) -> PublicStats:
    received = session.scalar(
        select(func.count())
        .select_from(Case)
        .where(mine, Case.submitted_at >= start, Case.submitted_at < end)
    )
    done = and_(
        mine,
        Case.state.in_(FINISHED),
        Case.completed_at >= start,
        Case.completed_at < end,
    )
    row: Any = session.execute(
        select(
            func.count(),
            func.count(Case.rating),
            func.count().filter(Case.rating >= LOW_SCORE),
            func.count().filter(Case.on_time.is_(True)),
        ).where(done)
    ).one()
    completed, rated, satisfied, on_time = (int(x or 0) for x in row)
    items = int(catalog_stats(session, tenant)["items"])
    return PublicStats(
        year=year,
        items=items,
        received=int(received or 0),
        completed=completed,
        on_time=on_time,
        rated=rated,
        satisfied=satisfied,
        on_time_rate=rate(on_time, completed),
        rating_rate=rate(rated, completed),
        satisfaction_rate=rate(satisfied, rated),
    )
