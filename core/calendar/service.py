"""Working days (工作日) in a tenant's calendar: China's public holidays and adjusted working
days (the ``chinesecalendar`` package), the tenant's own overrides on top, and suspensions
(特殊程序, waiting for a correction) as dated periods that the clock skips.

Deadlines follow the administrative-licensing practice: the day a period starts is not
counted; day 1 is the next working day that is not suspended.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditActor, changed, record
from core.calendar.models import CalendarOverride, CalendarYear
from core.db import platform_scope, remembered, watch
from core.errors import InvalidInput, NotFound
from core.tenancy import Tenant

__all__ = [
    "Period",
    "WorkCalendar",
    "cached_calendar",
    "calendar_for",
    "calendar_warnings",
    "confirm_year",
    "confirmed_years",
    "days_entered",
    "delete_override",
    "Inherited",
    "inherited_overrides",
    "national_years",
    "set_override",
]

_NATIONAL = chinese_calendar.constants
_YEARS = sorted({d.year for d in [*_NATIONAL.holidays, *_NATIONAL.workdays]})


def national_years() -> range:
    """The years the installed holiday data covers."""
    return range(_YEARS[0], _YEARS[-1] + 1)


@dataclass(frozen=True)
class Period:
    """A suspension: both ends included; ``end`` None while it lasts."""

    start: date
    end: date | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass
class WorkCalendar:
    overrides: dict[date, bool] = field(default_factory=dict)

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in national_years():
            # chinese_calendar.is_workday, without its scan of every holiday on each call
            return day in _NATIONAL.workdays or (
                day.weekday() < 5 and day not in _NATIONAL.holidays
            )
        return day.weekday() < 5  # beyond the data: weekends only (and a warning to the admin)

    def add_working_days(self, start: date, days: int, suspended: Iterable[Period] = ()) -> date:
        """The date on which ``days`` working days after ``start`` have passed."""
        if days < 0:
            raise ValueError("days must not be negative")
        periods = list(suspended)
        day, counted = start, 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day) and not any(p.covers(day) for p in periods):
                counted += 1
        return day

    def working_days_between(self, start: date, end: date, suspended: Iterable[Period] = ()) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        periods = list(suspended)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_workday(day) and not any(p.covers(day) for p in periods):
                count += 1
        return count


@dataclass(frozen=True)
class Inherited:
    """A day the province (or the city) declared, as a county's calendar takes it."""

    tenant_id: uuid.UUID
    day: date
    workday: bool
    note: str


def inherited_overrides(session: Session, tenant: Tenant) -> list[Inherited]:
    """The province's (and the city's) days, which this tenant's calendar takes unless it
    says otherwise itself; in the order they apply (farthest first), then by day. Remembered
    for a while in this process (a change committed here is seen at once)."""
    above = tenant.above
    if not above:
        return []

    def read() -> list[Inherited]:
        with platform_scope(session) as s:
            rows = [
                Inherited(r.tenant_id, r.day, r.workday, r.note)
                for r in s.scalars(
                    select(CalendarOverride).where(CalendarOverride.tenant_id.in_(above))
                )
            ]
        rows.sort(key=lambda r: (above.index(r.tenant_id), r.day))
        return rows

    return remembered(session, ("calendar-above", tenant.id), read, ttl=CACHE_SECONDS)


def calendar_for(session: Session, tenant: Tenant) -> WorkCalendar:
    """The tenant's working days: the national data, the province's days (a province enters
    a year's holidays once for all its counties), the city's, then the tenant's own — each
    laid over the one before."""
    days = {r.day: r.workday for r in inherited_overrides(session, tenant)}
    rows = session.execute(
        select(CalendarOverride.day, CalendarOverride.workday).where(
            CalendarOverride.tenant_id == tenant.id
        )
    ).all()
    days.update({d: w for d, w in rows})
    return WorkCalendar(days)


watch(CalendarOverride)

CACHE_SECONDS = 300.0


def cached_calendar(
    session: Session, tenant: Tenant, *, ttl: float = CACHE_SECONDS
) -> WorkCalendar:
    """``calendar_for`` remembered in this process (core/db/_memo.py): for up to five minutes
    by the deadline sweep (which runs every minute and must cost next to nothing when nothing
    is due), for ``ttl`` seconds by others. A change committed in this process is seen at once;
    another process sees it within ``ttl``."""
    return remembered(
        session, ("calendar", tenant.id), lambda: calendar_for(session, tenant), ttl=ttl
    )


def set_override(
    session: Session,
    tenant: Tenant,
    day: date,
    workday: bool,
    note: str = "",
    *,
    actor: AuditActor | None = None,
) -> CalendarOverride:
    """Make ``day`` a workday or a day off for ``tenant`` (recorded in the audit log)."""
    row = session.get(CalendarOverride, (tenant.id, day))
    before = {"workday": row.workday, "note": row.note} if row is not None else None
    if row is None:
        row = CalendarOverride(tenant_id=tenant.id, day=day, workday=workday, note=note)
        session.add(row)
    row.workday, row.note = workday, note.strip()[:120]
    after = {"workday": row.workday, "note": row.note}
    if before != after:
        old, new = changed(before, after) if before is not None else (None, after)
        record(
            session,
            tenant,
            actor,
            "calendar.change",
            target_type="calendar",
            target_id=day.isoformat(),
            target_label=day.isoformat(),
            before=old,
            after=new,
        )
    session.flush()
    return row


def delete_override(
    session: Session, tenant: Tenant, day: date, *, actor: AuditActor | None = None
) -> None:
    """Take back the tenant's own entry for ``day`` (the province's, or the national data,
    applies again); recorded in the audit log. 404 when there is none."""
    row = session.get(CalendarOverride, (tenant.id, day))
    if row is None:
        raise NotFound("本地没有这一天的调整", field="day")
    record(
        session,
        tenant,
        actor,
        "calendar.change",
        target_type="calendar",
        target_id=day.isoformat(),
        target_label=day.isoformat(),
        before={"workday": row.workday, "note": row.note},
        after=None,
    )
    session.delete(row)
    session.flush()


def days_entered(session: Session, tenant: Tenant, year: int) -> tuple[int, int]:
    """(days off, working days) entered for ``year``, the tenant's own and inherited."""
    calendar = calendar_for(session, tenant)
    days = [w for d, w in calendar.overrides.items() if d.year == year]
    return days.count(False), days.count(True)


def confirmed_years(session: Session, tenant: Tenant) -> set[int]:
    """Years whose holidays the tenant — or its province or city, for all of it — confirmed."""
    own = set(session.scalars(select(CalendarYear.year).where(CalendarYear.tenant_id == tenant.id)))
    above = tenant.above
    if above:
        with platform_scope(session) as s:
            own |= set(
                s.scalars(select(CalendarYear.year).where(CalendarYear.tenant_id.in_(above)))
            )
    return own


def confirm_year(
    session: Session, tenant: Tenant, year: int, *, actor: AuditActor | None = None
) -> None:
    """The tenant admin has entered this year's holidays: stop warning. Refused while not one
    day off of that year is entered (here or by the province): a confirmation of nothing
    would count the year's public holidays as working days."""
    if year in national_years():
        raise InvalidInput(f"{year} 年已由国家节假日数据覆盖，无需确认", field="year")
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份应在 2000 到 2100 之间", field="year")
    off, _ = days_entered(session, tenant, year)
    if not off:
        raise InvalidInput(
            f"还没有录入 {year} 年的任何放假日。请先逐日录入该年的法定节假日（元旦、春节、"
            "清明、劳动节、端午、中秋、国庆）和调休上班日，再确认",
            field="year",
        )
    if session.get(CalendarYear, (tenant.id, year)) is None:
        session.add(CalendarYear(tenant_id=tenant.id, year=year))
        record(
            session,
            tenant,
            actor,
            "calendar.change",
            target_type="calendar",
            target_id=str(year),
            target_label=f"{year}年节假日",
            before={"confirmed": False},
            after={"confirmed": True},
        )
        session.flush()


def calendar_warnings(session: Session, tenant: Tenant, today: date | None = None) -> list[str]:
    """Years the clock needs (this one, and the next from December) that neither the national
    data nor the tenant covers: their deadlines count weekends only until entered."""
    today = today or date.today()
    needed = [today.year] + ([today.year + 1] if today.month == 12 else [])
    confirmed = confirmed_years(session, tenant)
    return [
        f"{year} 年的法定节假日尚未录入：办理时限暂按周末计算，请在“工作日历”中录入后确认。"
        for year in needed
        if year not in national_years() and year not in confirmed
    ]
