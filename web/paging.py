"""Page numbers, offsets and limits from a query string, kept to what a database accepts.

A number past 2**63 made the database refuse the query (a 500 for ``?page=99999999999999``);
a negative one asked for rows before the first. Each is clamped: a page past the last shows
an empty page, as any page past the end does."""

from __future__ import annotations

__all__ = ["MAX_OFFSET", "MAX_PAGE", "clamp_window", "page_number"]

#: far past any table's rows, far below what SQLite's and PostgreSQL's integers hold
MAX_OFFSET = 1_000_000_000
#: so that (page - 1) * a page's size stays under MAX_OFFSET for any page size up to 1,000
MAX_PAGE = 1_000_000


def page_number(value: object) -> int:
    """A page number from 1 to MAX_PAGE: 1 for a missing, malformed or negative one."""
    try:
        number = int(str(value).strip()) if value not in (None, "") else 1
    except ValueError:
        return 1
    return min(max(1, number), MAX_PAGE)


def clamp_window(limit: int, offset: int, *, most: int) -> tuple[int, int]:
    """``limit`` from 1 to ``most``, ``offset`` from 0 to MAX_OFFSET."""
    return max(1, min(limit, most)), max(0, min(offset, MAX_OFFSET))
