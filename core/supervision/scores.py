"""The monthly performance score (人机考核) of each staff member and department.

From the month's dashboard counts (:mod:`core.supervision.facts`)::

    T = on time / completed                 (按时办结率; 1 when nothing was completed)
    S = satisfied / rated                   (满意率; 1 when nothing was rated)
    C = corrections / (accepted + corrections)   (补正率; 0 when nothing was pre-reviewed)

    score = 100 × (0.5·T + 0.3·S + 0.2·(1 − C)) − 5 × red cards − 2 × yellow cards

clamped to 0 … 100 and rounded half up to two decimals. Nothing to judge is no fault, hence the
defaults. Each score is stored with every input and the weights, so anyone can recompute it.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import clock
from core.db import utcnow
from core.errors import InvalidInput
from core.supervision.dashboard import Filters, Row, report
from core.supervision.facts import ROLL_BATCH, roll_up
from core.supervision.models import PerformanceScore
from core.supervision.sweep import active_tenants
from core.tenancy import Tenant, scope_for

__all__ = [
    "WEIGHTS",
    "compute_month",
    "month_bounds",
    "run_dashboards",
    "score_of",
    "scores_for",
]

WEIGHTS = {"on_time": "0.5", "satisfaction": "0.3", "correction": "0.2", "red": "5", "yellow": "2"}


def month_bounds(month: str) -> tuple[date, date]:
    try:
        first = date.fromisoformat(month + "-01")
    except ValueError:
        raise InvalidInput("月份格式应为 YYYY-MM", field="month") from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def _ratio(part: int, whole: int, empty: str) -> Decimal:
    return Decimal(part) / Decimal(whole) if whole else Decimal(empty)


def score_of(counts: dict[str, int]) -> tuple[Decimal, dict[str, Any]]:
    """The score and the inputs it came from."""
    t = _ratio(counts["on_time"], counts["completed"], "1")
    s = _ratio(counts["satisfied"], counts["rated"], "1")
    c = _ratio(counts["corrected"], counts["accepted"] + counts["corrected"], "0")
    w = {k: Decimal(v) for k, v in WEIGHTS.items()}
    raw = Decimal(100) * (w["on_time"] * t + w["satisfaction"] * s + w["correction"] * (1 - c))
    raw -= w["red"] * counts["red"] + w["yellow"] * counts["yellow"]
    score = min(Decimal(100), max(Decimal(0), raw)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    inputs = {
        **{
            k: counts[k]
            for k in (
                "completed",
                "on_time",
                "accepted",
                "corrected",
                "rated",
                "satisfied",
                "yellow",
                "red",
            )
        },
        "on_time_rate": str(t.quantize(Decimal("0.0001"), ROUND_HALF_UP)),
        "satisfaction_rate": str(s.quantize(Decimal("0.0001"), ROUND_HALF_UP)),
        "correction_rate": str(c.quantize(Decimal("0.0001"), ROUND_HALF_UP)),
        "weights": dict(WEIGHTS),
    }
    return score, inputs


def _active(row: Row) -> bool:
    c = row.counts
    return any(c[k] for k in ("accepted", "corrected", "completed", "rated", "yellow", "red"))


def compute_month(session: Session, tenant: Tenant, month: str | None = None) -> int:
    """Compute (or recompute) the month's scores; returns how many subjects were scored."""
    month = month or clock.today().strftime("%Y-%m")
    first, last = month_bounds(month)
    f = Filters(first, last)
    existing = {
        (p.subject_kind, p.subject_id): p
        for p in session.scalars(
            select(PerformanceScore).where(
                PerformanceScore.tenant_id == tenant.id, PerformanceScore.month == month
            )
        )
    }
    count = 0
    for kind, by in (("staff", "staff"), ("department", "department")):
        for row in report(session, tenant, f, by).rows:
            if not row.key or not _active(row):
                continue  # nobody's counts (cases received online) are not a subject
            score, inputs = score_of(row.counts)
            record = existing.pop((kind, row.key), None)
            if record is None:
                record = PerformanceScore(
                    tenant_id=tenant.id, month=month, subject_kind=kind, subject_id=row.key
                )
                session.add(record)
            record.subject_name, record.score, record.inputs = row.label, str(score), inputs
            record.computed_at = utcnow()
            count += 1
    for stale in existing.values():  # a subject with nothing left to judge this month
        session.delete(stale)
    session.flush()
    return count


def scores_for(session: Session, tenant: Tenant, month: str, kind: str) -> list[PerformanceScore]:
    if kind not in ("staff", "department"):
        raise InvalidInput("考核对象应为工作人员或部门", field="kind")
    month_bounds(month)
    rows = session.scalars(
        select(PerformanceScore).where(
            PerformanceScore.tenant_id == tenant.id,
            PerformanceScore.month == month,
            PerformanceScore.subject_kind == kind,
        )
    )
    return sorted(rows, key=lambda p: (-Decimal(p.score), p.subject_name))


def run_dashboards(database: Any, today: date | None = None) -> dict[str, int]:
    """For every active tenant: roll closed days up, then (re)compute this month's scores and
    last month's (a late roll-up may still change them). Each step commits on its own."""
    today = today or clock.today()
    months = [today.strftime("%Y-%m"), (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")]
    totals = {"days": 0, "scores": 0}
    for tenant in active_tenants(database):
        while True:
            with database.session(scope=scope_for(tenant)) as session:
                days = roll_up(session, tenant, today)
                session.commit()
            totals["days"] += days
            if days < ROLL_BATCH:
                break
        with database.session(scope=scope_for(tenant)) as session:
            for month in months:
                totals["scores"] += compute_month(session, tenant, month)
            session.commit()
    return totals
