"""Dashboards (效能监察统计): received, accepted, completed, on time, overdue, average working
days, correction rate, cards, rating rate and satisfaction — per department, item, staff
member, day or month of a period, with drill-down to the cases and a CSV export; and a
province's roll-up of its cities and counties.

Closed days come from ``dashboard_days`` (one row per day, department, item and staff member,
whatever the number of cases); the days after the last roll-up are counted live (see
:mod:`core.supervision.facts` for what each count means and whom it belongs to).

Rates (percent, one decimal; empty when there is nothing to divide):

- on-time rate = on time / completed; overdue = completed after the promised date;
- average working days = working days from acceptance to decision / completed;
- correction rate = corrections / (accepted + corrections): the share of pre-reviews that
  ended in a one-time correction notice;
- rating rate = rated / completed; satisfaction = ratings of 60 or more / rated.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.cases import clock
from core.cases.models import Case
from core.catalog.models import Item
from core.db import platform_scope
from core.errors import InvalidInput
from core.spreadsheet import safe_cell
from core.supervision.facts import COUNTS, FactKey, day_window, live_facts, rolled_through
from core.supervision.models import Card, DashboardDay
from core.supervision.ratings import LOW_SCORE
from core.supervision.stats import rate
from core.tenancy import OrgUnit, Tenant

__all__ = [
    "DIMENSIONS",
    "DRILL_METRICS",
    "Filters",
    "Report",
    "Row",
    "drill",
    "province_report",
    "report",
    "to_csv",
]

DIMENSIONS = {
    "department": "部门",
    "item": "事项",
    "staff": "工作人员",
    "day": "日期",
    "month": "月份",
}
MAX_DAYS = 366 * 3
DRILL_LIMIT = 200


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    department: str = ""
    item: str = ""
    staff: str = ""

    @classmethod
    def parse(cls, params: dict[str, str], today: date | None = None) -> Filters:
        """From query parameters: ``from``/``to`` (YYYY-MM-DD, default this month so far),
        ``department``, ``item``, ``staff``. Bad dates are a 422 naming the field."""
        today = today or clock.today()
        start = _date(params.get("from"), "from", today.replace(day=1))
        end = _date(params.get("to"), "to", today)
        if end < start:
            raise InvalidInput("结束日期不能早于开始日期", field="to")
        if (end - start).days > MAX_DAYS:
            raise InvalidInput("统计期间最长三年", field="from")
        return cls(
            start,
            end,
            (params.get("department") or "").strip()[:40],
            (params.get("item") or "").strip()[:64],
            (params.get("staff") or "").strip()[:40],
        )

    def query(self, **extra: str) -> dict[str, str]:
        out = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        for name in ("department", "item", "staff"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        out.update({k: v for k, v in extra.items() if v})
        return out


def _date(value: str | None, name: str, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("日期格式应为 YYYY-MM-DD", field=name) from None


@dataclass
class Row:
    key: str
    label: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))

    @property
    def on_time_rate(self) -> str:
        return rate(self.counts["on_time"], self.counts["completed"])

    @property
    def avg_work_days(self) -> str:
        done = self.counts["completed"]
        if not done:
            return ""
        value = Decimal(self.counts["work_days"]) / Decimal(done)
        return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))

    @property
    def correction_rate(self) -> str:
        c = self.counts
        return rate(c["corrected"], c["accepted"] + c["corrected"])

    @property
    def rating_rate(self) -> str:
        return rate(self.counts["rated"], self.counts["completed"])

    @property
    def satisfaction_rate(self) -> str:
        return rate(self.counts["satisfied"], self.counts["rated"])

    @property
    def cards(self) -> int:
        return self.counts["yellow"] + self.counts["red"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            **{k: v for k, v in self.counts.items() if k != "score_sum"},
            "overdue": self.counts["late"],
            "on_time_rate": self.on_time_rate,
            "avg_work_days": self.avg_work_days,
            "correction_rate": self.correction_rate,
            "rating_rate": self.rating_rate,
            "satisfaction_rate": self.satisfaction_rate,
        }


@dataclass
class Report:
    by: str
    filters: Filters
    rows: list[Row]
    total: Row
    #: the last rolled-up day; later days were counted live
    rolled_through: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "from": self.filters.start.isoformat(),
            "to": self.filters.end.isoformat(),
            "rows": [r.as_dict() for r in self.rows],
            "total": self.total.as_dict(),
            "rolled_through": self.rolled_through.isoformat() if self.rolled_through else None,
        }


def _key(by: str, day: date, dept: str, item: str, staff: str) -> str:
    return {
        "department": dept,
        "item": item,
        "staff": staff,
        "day": day.isoformat(),
        "month": day.strftime("%Y-%m"),
    }[by]


def _rolled(
    session: Session, tenant: Tenant, f: Filters, by: str, last: date
) -> Iterable[tuple[str, str, dict[str, int]]]:
    """Sums of the rolled-up days, grouped in SQL by the dimension (by day for months)."""
    column = {
        "department": DashboardDay.department_code,
        "item": DashboardDay.item_code,
        "staff": DashboardDay.staff_key,
        "day": DashboardDay.day,
        "month": DashboardDay.day,
    }[by]
    conditions = [
        DashboardDay.tenant_id == tenant.id,
        DashboardDay.day >= f.start,
        DashboardDay.day <= last,
    ]
    for name, col in (
        ("department", DashboardDay.department_code),
        ("item", DashboardDay.item_code),
        ("staff", DashboardDay.staff_key),
    ):
        if getattr(f, name):
            conditions.append(col == getattr(f, name))
    sums = [func.sum(getattr(DashboardDay, c)) for c in COUNTS]
    stmt = (
        select(column, func.max(DashboardDay.staff_name), *sums).where(*conditions).group_by(column)
    )
    for value, staff_name, *counts in session.execute(stmt):
        key = value.isoformat() if isinstance(value, date) else str(value)
        if by == "month":
            key = key[:7]
        yield key, staff_name or "", dict(zip(COUNTS, (int(c or 0) for c in counts), strict=True))


def _matches(f: Filters, key: FactKey) -> bool:
    return (
        (not f.department or key.department == f.department)
        and (not f.item or key.item == f.item)
        and (not f.staff or key.staff == f.staff)
    )


def report(session: Session, tenant: Tenant, f: Filters, by: str = "department") -> Report:
    if by not in DIMENSIONS:
        raise InvalidInput("统计维度应为部门、事项、工作人员、日期或月份", field="by")
    today = clock.today()
    through = rolled_through(session, tenant)
    rows: dict[str, Row] = {}
    names: dict[str, str] = {}

    def row(key: str) -> Row:
        return rows.setdefault(key, Row(key, key))

    if through is not None and through >= f.start:
        for key, staff_name, counts in _rolled(session, tenant, f, by, min(through, f.end)):
            target = row(key)
            for k, v in counts.items():
                target.counts[k] += v
            if by == "staff" and staff_name:
                names[key] = staff_name
    live_first = max(f.start, through + timedelta(days=1)) if through else f.start
    live_last = min(f.end, today)
    if live_first <= live_last:
        for fact, live in live_facts(session, tenant, live_first, live_last).items():
            if not _matches(f, fact):
                continue
            key = _key(by, fact.day, fact.department, fact.item, fact.staff)
            target = row(key)
            for k, v in live.values.items():
                target.counts[k] += v
            if by == "staff" and live.staff_name:
                names[key] = live.staff_name
    _label(session, tenant, by, rows, names)
    ordered = sorted(rows.values(), key=lambda r: r.key if by in ("day", "month") else r.label)
    total = Row("", "合计")
    for r in ordered:
        for k, v in r.counts.items():
            total.counts[k] += v
    return Report(by, f, ordered, total, through)


def _label(
    session: Session, tenant: Tenant, by: str, rows: dict[str, Row], names: dict[str, str]
) -> None:
    if by == "department":
        units = dict(
            session.execute(
                select(OrgUnit.code, OrgUnit.name).where(
                    OrgUnit.tenant_id == tenant.id, OrgUnit.code.in_(list(rows))
                )
            ).all()
        )
        for r in rows.values():
            r.label = units.get(r.key, r.key or "（未指定部门）")
    elif by == "item":
        items = dict(
            session.execute(
                select(Item.code, Item.name).where(
                    Item.tenant_id == tenant.id, Item.code.in_(list(rows))
                )
            ).all()
        )
        for r in rows.values():
            r.label = items.get(r.key) or r.key
    elif by == "staff":
        for r in rows.values():
            r.label = names.get(r.key) or ("（网上申报）" if not r.key else r.key)


# -- drill-down -------------------------------------------------------------------------------

DRILL_METRICS = {
    "received": "收件",
    "accepted": "受理",
    "corrected": "补正",
    "completed": "办结",
    "on_time": "按时办结",
    "late": "逾期办结",
    "rated": "已评价",
    "unsatisfied": "不满意",
    "yellow": "黄牌",
    "red": "红牌",
}


def drill(session: Session, tenant: Tenant, f: Filters, metric: str) -> list[Case]:
    """The cases behind one number of the dashboard (newest first, at most 200)."""
    if metric not in DRILL_METRICS:
        raise InvalidInput("未知的统计项", field="metric")
    span = day_window(f.start, f.end)
    stmt = select(Case).where(Case.tenant_id == tenant.id)
    staff_col: Any = Case.accepted_by
    order: Any  # the column the list is sorted by, newest first
    if metric in ("yellow", "red"):
        cards = select(Card.case_id).where(
            Card.tenant_id == tenant.id,
            Card.colour == metric,
            Card.at >= span[0],
            Card.at < span[1],
        )
        if f.staff:
            cards = cards.where(Card.staff_id == _uuid(f.staff))
        stmt, staff_col, order = stmt.where(Case.id.in_(cards)), None, Case.updated_at
    elif metric == "received":
        order, staff_col = Case.submitted_at, None
        stmt = stmt.where(Case.submitted_at >= span[0], Case.submitted_at < span[1])
    elif metric == "accepted":
        order = Case.accepted_on
        stmt = stmt.where(Case.accepted_on >= f.start, Case.accepted_on <= f.end)
    elif metric == "corrected":
        order, staff_col = Case.corrected_at, Case.corrected_by
        stmt = stmt.where(Case.corrected_at >= span[0], Case.corrected_at < span[1])
    elif metric in ("rated", "unsatisfied"):
        order = Case.rated_at
        stmt = stmt.where(Case.rated_at >= span[0], Case.rated_at < span[1])
        if metric == "unsatisfied":
            stmt = stmt.where(Case.rating < LOW_SCORE)
    else:
        order = Case.completed_at
        stmt = stmt.where(Case.completed_at >= span[0], Case.completed_at < span[1])
        if metric == "on_time":
            stmt = stmt.where(Case.on_time.is_(True))
        elif metric == "late":
            stmt = stmt.where(Case.on_time.is_not(True))
    if f.department:
        stmt = stmt.where(Case.department_code == f.department)
    if f.item:
        stmt = stmt.where(Case.item_code == f.item)
    if f.staff and staff_col is not None:
        stmt = stmt.where(staff_col == _uuid(f.staff))
    elif f.staff and metric == "received":
        return []  # a received case belongs to nobody
    return list(session.scalars(stmt.order_by(order.desc()).limit(DRILL_LIMIT)))


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput("工作人员编号无效", field="staff") from None


# -- CSV and the province -----------------------------------------------------------------------

CSV_HEADER = [
    ("label", "名称"),
    ("received", "收件"),
    ("accepted", "受理"),
    ("completed", "办结"),
    ("on_time", "按时办结"),
    ("overdue", "逾期办结"),
    ("on_time_rate", "按时办结率(%)"),
    ("avg_work_days", "平均用时(工作日)"),
    ("corrected", "补正"),
    ("correction_rate", "补正率(%)"),
    ("yellow", "黄牌"),
    ("red", "红牌"),
    ("rated", "评价数"),
    ("rating_rate", "评价率(%)"),
    ("satisfied", "满意数"),
    ("satisfaction_rate", "满意率(%)"),
]


def to_csv(report: Report) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs open the Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([DIMENSIONS.get(report.by, "名称"), *[h for _, h in CSV_HEADER[1:]]])
    for r in [*report.rows, report.total]:
        d = r.as_dict()
        writer.writerow([safe_cell(str(d[k])) for k, _ in CSV_HEADER])
    return ("\ufeff" + out.getvalue()).encode()


def province_report(session: Session, province: Tenant, f: Filters) -> Report:
    """One row per city and county of the province (a county under a city too), each its own
    total for the period."""
    with platform_scope(session) as s:
        children = list(
            s.scalars(
                select(Tenant)
                .where(Tenant.province_id == province.id, Tenant.id != province.id)
                .order_by(Tenant.division_code)
            )
        )
        rows = []
        for child in children:
            total = report(s, child, Filters(f.start, f.end), "department").total
            rows.append(Row(child.slug, child.display_name, total.counts))
    total = Row("", "全省合计")
    for r in rows:
        for k, v in r.counts.items():
            total.counts[k] += v
    return Report("tenant", f, rows, total, None)
