"""The working-day calendar every deadline is counted in."""

from core.calendar.service import (
    Period,
    WorkCalendar,
    cached_calendar,
    calendar_for,
    calendar_warnings,
    confirm_year,
    national_years,
    set_override,
)

__all__ = [
    "Period",
    "WorkCalendar",
    "cached_calendar",
    "calendar_for",
    "calendar_warnings",
    "confirm_year",
    "national_years",
    "set_override",
]
