"""The working-day calendar every deadline is counted in."""

from zoneinfo import ZoneInfo

from core.calendar.service import (
    Period,
    WorkCalendar,
    cached_calendar,
    calendar_for,
    calendar_warnings,
    confirm_year,
    confirmed_years,
    days_entered,
    delete_override,
    inherited_overrides,
    national_years,
    set_override,
)

#: All of China keeps Beijing time; a working day is a date there.
TZ = ZoneInfo("Asia/Shanghai")

__all__ = [
    "TZ",
    "Period",
    "WorkCalendar",
    "cached_calendar",
    "calendar_for",
    "calendar_warnings",
    "confirm_year",
    "confirmed_years",
    "days_entered",
    "delete_override",
    "inherited_overrides",
    "national_years",
    "set_override",
]
