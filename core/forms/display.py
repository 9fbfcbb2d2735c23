"""A filled form as people read it: each field's value in words (an address with its county's
name, 是/否, the chosen options' labels, money in yuan), personal values masked unless shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.forms.model import FormField
from core.forms.validate import visible

__all__ = ["Line", "as_text", "lines", "mask", "masked"]


def mask(text: str) -> str:
    """``450102********0118``: the start and end kept, so a clerk can match a document."""
    if len(text) <= 4:
        return "*" * len(text)
    keep = 3 if len(text) < 11 else 4
    return text[:keep] + "*" * (len(text) - 2 * keep) + text[-keep:]


def as_text(f: FormField, value: Any) -> str:
    if value is None or value == "":
        return ""
    if f.type == "address" and isinstance(value, dict):
        return str(value.get("text") or value.get("street") or "")
    if f.type == "yesno":
        return "是" if value is True else "否" if value is False else str(value)
    if f.type in ("choice", "multichoice"):
        labels = {o.value: o.label for o in f.options}
        chosen = value if isinstance(value, list) else [value]
        return "、".join(labels.get(str(v), str(v)) for v in chosen)
    if f.type == "money":
        return f"{value} 元"
    return str(value)


@dataclass
class Line:
    """One row of the readable form: a heading, a value, or a table with its rows."""

    path: str
    label: str
    text: str = ""
    heading: bool = False
    personal: bool = False
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def lines(
    fields: list[FormField], values: dict[str, Any], *, reveal: bool, prefix: str = "form"
) -> list[Line]:
    """The shown fields in order; personal values masked unless ``reveal``."""
    out: list[Line] = []
    seen: dict[str, Any] = {}
    for f in fields:
        if not visible(f, seen):
            continue
        path = f"{prefix}.{f.key}"
        if not f.holds_value:
            out.append(Line(path, f.label, heading=True))
            continue
        value = values.get(f.key)
        seen[f.key] = value
        if f.type == "table":
            rows = [
                [
                    _shown(c, row.get(c.key) if isinstance(row, dict) else None, reveal)
                    for c in f.columns
                ]
                for row in (value or [])
            ]
            out.append(Line(path, f.label, columns=[c.label for c in f.columns], rows=rows))
            continue
        out.append(Line(path, f.label, _shown(f, value, reveal), personal=f.personal))
    return out


def _shown(f: FormField, value: Any, reveal: bool) -> str:
    text = as_text(f, value)
    return mask(text) if f.personal and text and not reveal else text


def masked(fields: list[FormField], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each personal value replaced by its masked text (tables too)."""
    out = dict(values)
    for f in fields:
        value = out.get(f.key)
        if value in (None, "", []):
            continue
        if f.type == "table" and isinstance(value, list):
            out[f.key] = [masked(f.columns, row) if isinstance(row, dict) else row for row in value]
        elif f.personal:
            out[f.key] = mask(as_text(f, value))
    return out
