"""A small TOML writer for the files of a pack (the standard library only reads TOML).

Tables and arrays of tables at the top; values inside them as TOML literals: strings in
double quotes (a JSON string is a valid TOML basic string), inline tables on one line, arrays
of tables one per line. ``None`` has no TOML form: a key whose value is None is left out,
which a pack reads as the field's default.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["Document", "value"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def value(v: Any, *, inline: bool = False) -> str:
    """One value as TOML (``None`` never reaches here: :func:`pruned` drops it first); inside
    an inline table everything stays on one line."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        inner = ", ".join(f"{key(k)} = {value(x, inline=True)}" for k, x in v.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(v, list | tuple):
        if not v:
            return "[]"
        parts = [value(x, inline=True) for x in v]
        one_line = "[" + ", ".join(parts) + "]"
        if inline or (len(one_line) <= 80 and not any(isinstance(x, dict) for x in v)):
            return one_line
        return "[\n" + "".join(f"    {p},\n" for p in parts) + "]"
    raise TypeError(f"no TOML form for {type(v).__name__}")


def pruned(v: Any) -> Any:
    """``v`` with every None left out of its tables (and of its lists)."""
    if isinstance(v, dict):
        return {k: pruned(x) for k, x in v.items() if x is not None}
    if isinstance(v, list | tuple):
        return [pruned(x) for x in v if x is not None]
    return v


class Document:
    """A TOML file built top to bottom: comments, tables, arrays of tables."""

    def __init__(self, *comments: str) -> None:
        self.lines: list[str] = [f"# {c}" for c in comments]

    def comment(self, text: str) -> None:
        self.lines.append(f"# {text}")

    def table(self, name: str, values: dict[str, Any], *, array: bool = False) -> None:
        if self.lines:
            self.lines.append("")
        self.lines.append(f"[[{name}]]" if array else f"[{name}]")
        for k, v in pruned(values).items():
            self.lines.append(f"{key(k)} = {value(v)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"
