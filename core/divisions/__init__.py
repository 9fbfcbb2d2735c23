"""Administrative divisions (GB/T 2260): provinces, cities and counties by their six-digit codes.

``gb2260.json`` maps each code to its name; it was generated from the ``china-division`` npm
package (MIT, 2.7.0; ``make divisions`` regenerates it). A province's code ends in ``0000``,
a city's in ``00``; municipalities list their districts under a ``市辖区`` city level, as the
standard does.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

__all__ = ["Division", "children", "division", "is_county", "names", "path_of"]

_DATA = Path(__file__).with_name("gb2260.json")


@lru_cache(maxsize=1)
def _all() -> dict[str, str]:
    loaded: dict[str, str] = json.loads(_DATA.read_text(encoding="utf-8"))
    return loaded


class Division:
    """One division: its code, name and level (province, city or county)."""

    __slots__ = ("code", "name")

    def __init__(self, code: str, name: str) -> None:
        self.code, self.name = code, name

    @property
    def level(self) -> str:
        if self.code.endswith("0000"):
            return "province"
        return "city" if self.code.endswith("00") else "county"

    def __repr__(self) -> str:
        return f"Division({self.code}, {self.name})"


def division(code: str) -> Division | None:
    name = _all().get(code)
    return Division(code, name) if name else None


def children(code: str | None = None) -> list[Division]:
    """The provinces (no code), a province's cities, or a city's counties, in code order."""
    data = _all()
    if not code:
        return [Division(c, n) for c, n in sorted(data.items()) if c.endswith("0000")]
    if code.endswith("0000"):
        head = code[:2]
        return [
            Division(c, n)
            for c, n in sorted(data.items())
            if c.startswith(head) and c.endswith("00") and not c.endswith("0000")
        ]
    if code.endswith("00"):
        head = code[:4]
        return [
            Division(c, n)
            for c, n in sorted(data.items())
            if c.startswith(head) and not c.endswith("00")
        ]
    return []


def is_county(code: str) -> bool:
    found = division(code)
    return found is not None and found.level == "county"


def path_of(code: str) -> list[Division]:
    """Province, city and county of a county's code (what exists of it)."""
    out: list[Division] = []
    for candidate in (code[:2] + "0000", code[:4] + "00", code):
        found = division(candidate)
        if found and (not out or out[-1].code != found.code):
            out.append(found)
    return out


def names(code: str) -> str:
    """``广西壮族自治区 河池市 宜州区`` for 451203 (the city level is left out where it is only
    the ``市辖区`` placeholder of a municipality)."""
    return " ".join(d.name for d in path_of(code) if d.name not in ("市辖区", "县"))
