"""Working days: national holidays and adjusted days, tenant overrides, suspensions, and the
fallback (with a warning) for a year the national data does not cover."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete

from core.calendar import (
    Period,
    WorkCalendar,
    calendar_for,
    calendar_warnings,
    confirm_year,
    national_years,
    set_override,
)
from core.db import Database
from core.errors import InvalidInput, NotFound
from core.tenancy import scope_for
from tests.helpers import tenant

NATIONAL = WorkCalendar()


def test_national_day_holiday_and_its_adjusted_working_days() -> None:
    # 2025: 1–8 October off; Sunday 28 September and Saturday 11 October are working days.
    assert not NATIONAL.is_workday(date(2025, 10, 1))
    assert not NATIONAL.is_workday(date(2025, 10, 8))
    assert NATIONAL.is_workday(date(2025, 9, 28))
    assert NATIONAL.is_workday(date(2025, 10, 11))
    # Accepted on Tuesday 30 September, a 5-working-day limit: 9, 10, 11, 13, 14 October.
    assert NATIONAL.add_working_days(date(2025, 9, 30), 5) == date(2025, 10, 14)


def test_a_suspension_moves_the_deadline_by_exactly_the_suspended_working_days() -> None:
    start, limit = date(2025, 11, 3), 10  # a Monday
    plain = NATIONAL.add_working_days(start, limit)
    hearing = Period(date(2025, 11, 6), date(2025, 11, 12))  # Thu–Wed: 5 working days
    assert NATIONAL.working_days_between(date(2025, 11, 5), date(2025, 11, 12)) == 5
    suspended = NATIONAL.add_working_days(start, limit, [hearing])
    assert NATIONAL.working_days_between(plain, suspended) == 5
    assert NATIONAL.working_days_between(start, suspended, [hearing]) == limit


def test_an_open_suspension_stops_the_clock() -> None:
    waiting = Period(date(2025, 11, 4))  # waiting for a correction, no end yet
    # accepted Monday 3 November, correction asked on the 4th: no working day has run since
    assert NATIONAL.working_days_between(date(2025, 11, 3), date(2025, 12, 31), [waiting]) == 0


def test_beyond_the_national_data_weekends_only() -> None:
    from datetime import timedelta

    beyond = national_years().stop  # the first year not covered
    saturday = date(beyond, 3, 1)
    saturday += timedelta(days=(5 - saturday.weekday()) % 7)
    assert not NATIONAL.is_workday(saturday)
    assert NATIONAL.is_workday(saturday + timedelta(days=2))  # the Monday after


def test_tenant_overrides_beat_the_national_calendar(db: Database) -> None:
    cili = tenant(db, "cili")
    with db.session(scope=scope_for(cili)) as s:
        set_override(s, cili, date(2025, 10, 11), False, "县城防汛，调休取消")
        set_override(s, cili, date(2025, 10, 12), True, "集中办公日")
        s.commit()
        calendar = calendar_for(s, cili)
    assert not calendar.is_workday(date(2025, 10, 11))
    assert calendar.is_workday(date(2025, 10, 12))
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        assert calendar_for(s, hechi).is_workday(date(2025, 10, 11))


def test_an_uncovered_year_warns_until_the_tenant_confirms_it(db: Database) -> None:
    beyond = national_years().stop
    suning = tenant(db, "suning")
    with db.session(scope=scope_for(suning)) as s:
        warnings = calendar_warnings(s, suning, today=date(beyond, 1, 10))
        assert len(warnings) == 1 and str(beyond) in warnings[0]
        december = calendar_warnings(s, suning, today=date(beyond - 1, 12, 1))
        assert len(december) == 1 and str(beyond) in december[0]
        assert calendar_warnings(s, suning, today=date(beyond - 1, 6, 1)) == []
        with pytest.raises(InvalidInput):
            confirm_year(s, suning, beyond - 1)
        with pytest.raises(InvalidInput):  # not one day of it entered: nothing to confirm
            confirm_year(s, suning, beyond)
        set_override(s, suning, date(beyond, 1, 1), False, "元旦")
        confirm_year(s, suning, beyond)
        s.commit()
        assert calendar_warnings(s, suning, today=date(beyond, 1, 10)) == []


def test_the_provinces_days_count_in_its_counties_unless_a_county_says_otherwise(
    db: Database,
) -> None:
    """A province enters a year's holidays once; every county's clock counts them, a county's
    own entry for the same day wins, and deleting it gives the province's back. A year the
    province confirmed warns no county."""
    from core.calendar.models import CalendarOverride, CalendarYear
    from core.db import PLATFORM

    beyond = national_years().stop
    hebei, suning = tenant(db, "hebei"), tenant(db, "suning")
    spring, extra = date(beyond, 2, 9), date(beyond, 2, 10)
    with db.session(scope=PLATFORM) as s:
        set_override(s, hebei, spring, False, "春节")
        set_override(s, hebei, extra, False, "春节")
        confirm_year(s, hebei, beyond)
        s.commit()
    try:
        _county_follows(db, suning, spring, extra, beyond)
    finally:  # the province's year and days are not left for other tests
        with db.session(scope=PLATFORM) as s:
            s.execute(delete(CalendarOverride).where(CalendarOverride.tenant_id == hebei.id))
            s.execute(delete(CalendarYear).where(CalendarYear.tenant_id == hebei.id))
            s.commit()


def _county_follows(db: Database, suning: Any, spring: date, extra: date, beyond: int) -> None:
    from core.calendar import calendar_for, delete_override

    with db.session(scope=scope_for(suning)) as s:
        county = calendar_for(s, suning)
        assert not county.is_workday(spring) and not county.is_workday(extra)
        assert calendar_warnings(s, suning, today=date(beyond, 1, 10)) == []
        set_override(s, suning, extra, True, "县里照常上班")
        s.commit()
        assert calendar_for(s, suning).is_workday(extra)
        delete_override(s, suning, extra)
        s.commit()
        assert not calendar_for(s, suning).is_workday(extra)
        with pytest.raises(NotFound):
            delete_override(s, suning, extra)


def test_a_holiday_entered_counts_for_the_next_deadline_at_once(db: Database) -> None:
    """Deadlines read a remembered calendar; a day off entered here must count immediately."""
    from core.cases.engine import calendar_of

    suning = tenant(db, "suning")
    day = date(2029, 9, 18)  # a Tuesday
    with db.session(scope=scope_for(suning)) as s:
        assert calendar_of(s, suning).is_workday(day)
        set_override(s, suning, day, False, "县庆放假")
        assert not calendar_of(s, suning).is_workday(day)  # inside the same transaction
        s.commit()
    with db.session(scope=scope_for(suning)) as s:
        assert not calendar_of(s, suning).is_workday(day)  # the next request
        set_override(s, suning, day, True, "恢复上班")
        s.commit()
    with db.session(scope=scope_for(suning)) as s:
        assert calendar_of(s, suning).is_workday(day)
