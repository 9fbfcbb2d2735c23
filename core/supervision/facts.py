"""The counts behind the dashboards and the performance scores, per day, department, item and
staff member — counted live from the cases for recent days and rolled up into
``dashboard_days`` once a day has closed.

Every count belongs to the day its event happened (Beijing time), so a closed day never
changes and its roll-up is written once:

=============  ==========================================================  ===============
count          event                                                       staff member
=============  ==========================================================  ===============
received       the case was submitted (``submitted_at``)                   who took it in
accepted       the case was accepted (``accepted_on``; 即办 included)       who accepted
corrected      the one-time correction notice went out (``corrected_at``)  who sent it
completed      the case was decided (``completed_at``)                     who accepted
on_time, late  … by its promised date or after it (``on_time``)            who accepted
work_days      … the working days it took from acceptance (``work_days``)  who accepted
yellow, red    a card was raised on one of its steps (``supervision_cards``) who held the step
rated          the applicant rated it (``rated_at``)                       who accepted
satisfied      … 60 or more (below 60 is a 差评 and opens a follow-up)       who accepted
score_sum      … the sum of the scores (for the average)                   who accepted
=============  ==========================================================  ===============

"Who took it in" is the window clerk or village agent who filed the case for the person
(``agent_id``); a case the person filed online is nobody's (the dashboard's 网上申报 row).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.cases import clock
from core.cases.models import Case
from core.supervision.models import Card, DashboardDay, DashboardMark
from core.supervision.ratings import LOW_SCORE
from core.tenancy import Tenant

__all__ = [
    "COUNTS",
    "Counts",
    "FactKey",
    "day_window",
    "live_facts",
    "roll_up",
    "rolled_through",
]

COUNTS = (
    "received",
    "accepted",
    "corrected",
    "completed",
    "on_time",
    "late",
    "work_days",
    "yellow",
    "red",
    "rated",
    "satisfied",
    "score_sum",
)
#: days rolled up per call, so a first run over years of history commits as it goes
ROLL_BATCH = 31


@dataclass(frozen=True)
class FactKey:
    day: date
    department: str
    item: str
    staff: str  # a staff id, "" for nobody


@dataclass
class Counts:
    staff_name: str = ""
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))

    def add(self, other: Counts) -> None:
        for k, v in other.values.items():
            self.values[k] += v
        self.staff_name = self.staff_name or other.staff_name


def day_window(first: date, last: date) -> tuple[datetime, datetime]:
    """Timestamps from the start of ``first`` to the end of ``last``, Beijing time."""
    start = datetime.combine(first, time(), tzinfo=clock.TZ)
    return start, datetime.combine(last + timedelta(days=1), time(), tzinfo=clock.TZ)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _staff(value: uuid.UUID | None) -> str:
    return str(value) if value else ""


def live_facts(session: Session, tenant: Tenant, first: date, last: date) -> dict[FactKey, Counts]:
    """Count the days ``first`` … ``last`` from the cases and cards (six indexed queries a
    day, each reading only that day's events)."""
    out: dict[FactKey, Counts] = {}

    def put(day: date, dept: str, item: str, staff: Any, name: str | None, **counts: Any) -> None:
        key = FactKey(day, dept, item, _staff(staff))
        row = out.setdefault(key, Counts())
        row.staff_name = row.staff_name or (name or "")
        for k, v in counts.items():
            row.values[k] += int(v or 0)

    mine = Case.tenant_id == tenant.id
    dims = (Case.department_code, Case.item_code)
    accepted_by = (Case.accepted_by, Case.accepted_by_name)
    for day in _days(first, last):
        span = day_window(day, day)
        received = _within(Case.submitted_at, span)
        taken_in_by = (Case.agent_id, Case.agent_name)
        for dept, item, who, name, n in session.execute(
            select(*dims, *taken_in_by, func.count())
            .where(mine, received)
            .group_by(*dims, *taken_in_by)
        ):
            put(day, dept, item, who, name, received=n)
        for dept, item, who, name, n in session.execute(
            select(*dims, *accepted_by, func.count())
            .where(mine, Case.accepted_on == day)
            .group_by(*dims, *accepted_by)
        ):
            put(day, dept, item, who, name, accepted=n)
        by = (Case.corrected_by, Case.corrected_by_name)
        for dept, item, who, name, n in session.execute(
            select(*dims, *by, func.count())
            .where(mine, _within(Case.corrected_at, span))
            .group_by(*dims, *by)
        ):
            put(day, dept, item, who, name, corrected=n)
        for dept, item, who, name, n, ok, days in session.execute(
            select(
                *dims,
                *accepted_by,
                func.count(),
                func.sum(when((Case.on_time.is_(True), 1), else_=0)),
                func.sum(func.coalesce(Case.work_days, 0)),
            )
            .where(mine, _within(Case.completed_at, span))
            .group_by(*dims, *accepted_by)
        ):
            put(day, dept, item, who, name, completed=n, on_time=ok, late=n - (ok or 0))
            put(day, dept, item, who, name, work_days=days)
        for dept, item, who, name, n, good, total in session.execute(
            select(
                *dims,
                *accepted_by,
                func.count(),
                func.sum(when((Case.rating >= LOW_SCORE, 1), else_=0)),
                func.sum(Case.rating),
            )
            .where(mine, _within(Case.rated_at, span), Case.rating.is_not(None))
            .group_by(*dims, *accepted_by)
        ):
            put(day, dept, item, who, name, rated=n, satisfied=good, score_sum=total)
        card_dims = (Card.department_code, Card.item_code, Card.staff_id, Card.staff_name)
        for dept, item, who, name, colour, n in session.execute(
            select(*card_dims, Card.colour, func.count())
            .where(Card.tenant_id == tenant.id, _within(Card.at, span))
            .group_by(*card_dims, Card.colour)
        ):
            if colour in ("yellow", "red"):
                put(day, dept, item, who, name, **{colour: n})
    return out


def _within(column: Any, span: tuple[datetime, datetime]) -> Any:
    return (column >= span[0]) & (column < span[1])


def rolled_through(session: Session, tenant: Tenant) -> date | None:
    """The last day whose counts are in ``dashboard_days`` (None: nothing rolled up yet)."""
    return session.scalar(select(DashboardMark.through).where(DashboardMark.tenant_id == tenant.id))


def _first_day(session: Session, tenant: Tenant) -> date | None:
    first = session.scalar(select(func.min(Case.submitted_at)).where(Case.tenant_id == tenant.id))
    return first.astimezone(clock.TZ).date() if first else None


def roll_up(session: Session, tenant: Tenant, today: date | None = None) -> int:
    """Write up to ``ROLL_BATCH`` closed days (before today) into ``dashboard_days``; returns
    how many days were written (the caller commits, and calls again while that is a full
    batch). Rewriting a day deletes its rows first, so a repeated run changes nothing."""
    today = today or clock.today()
    mark = session.scalar(select(DashboardMark).where(DashboardMark.tenant_id == tenant.id))
    if mark is not None:
        first: date | None = mark.through + timedelta(days=1)
    else:
        first = _first_day(session, tenant)
    yesterday = today - timedelta(days=1)
    if first is None or first > yesterday:
        if mark is None:  # nothing to count yet: start counting from today
            session.add(DashboardMark(tenant_id=tenant.id, through=yesterday))
        return 0
    last = min(yesterday, first + timedelta(days=ROLL_BATCH - 1))
    session.execute(
        delete(DashboardDay).where(
            DashboardDay.tenant_id == tenant.id, DashboardDay.day >= first, DashboardDay.day <= last
        )
    )
    for key, counts in live_facts(session, tenant, first, last).items():
        session.add(
            DashboardDay(
                tenant_id=tenant.id,
                day=key.day,
                department_code=key.department,
                item_code=key.item,
                staff_key=key.staff,
                staff_name=counts.staff_name,
                **counts.values,
            )
        )
    if mark is None:
        session.add(DashboardMark(tenant_id=tenant.id, through=last))
    else:
        mark.through = last
    session.flush()
    return (last - first).days + 1
