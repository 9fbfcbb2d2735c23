"""The case clock: "now" and "today" in the tenant's time zone, and deadlines counted in
working days with suspension periods skipped.

Rules (documented in docs/cases.md):
- A step's deadline is ``days`` working days after the day it opened (that day not counted).
- The case's promised and legal deadlines run from the day of acceptance.
- A suspension from day S resumed on day R stops the clock on S … R-1: those working days are
  not counted, so every deadline moves by exactly that many working days.
- While a suspension lasts, the deadlines are NULL (nothing can be overdue); they are
  recomputed when it ends. An extension adds working days to the case deadline and the
  current steps'.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.calendar import TZ, Period, WorkCalendar
from core.config import get_settings

__all__ = ["TZ", "deadline", "now", "set_now", "today"]


_frozen: datetime | None = None


def set_now(value: datetime | None) -> None:
    """Pin the clock (tests, rehearsals); ``None`` lets it run again."""
    global _frozen
    _frozen = value


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    pinned = get_settings().test_now
    if pinned and not get_settings().is_production:
        # GOVHALL_TEST_NOW: an ISO date or time to rehearse deadlines (refused in production)
        value = datetime.fromisoformat(pinned)
        return value if value.tzinfo else value.replace(tzinfo=TZ)
    return datetime.now(UTC)


def today() -> date:
    return now().astimezone(TZ).date()


def deadline(
    calendar: WorkCalendar, start: date, days: int, suspensions: list[Period]
) -> date | None:
    """``days`` working days after ``start``, skipping suspended days; None while suspended."""
    if any(p.end is None for p in suspensions):
        return None
    return calendar.add_working_days(start, days, suspensions)


def period(start: date, resumed: date | None) -> Period:
    """The suspended days of a suspension begun on ``start`` and resumed on ``resumed``."""
    if resumed is None:
        return Period(start, None)
    return Period(start, resumed - timedelta(days=1))
