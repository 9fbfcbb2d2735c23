"""A filled form as people read it: each field's value in words (an address with its county's
name, 是/否, the chosen options' labels, money in yuan), personal values masked unless shown."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.forms.model import FormField
from core.forms.validate import visible

__all__ = ["Line", "as_text", "lines", "mask", "masked", "printed"]


def mask(text: str) -> str:
    """``450102********0118``: the start and end kept, so a clerk can match a document; a
    mobile number as everywhere else on the platform, ``139****5501``."""
    if len(text) == 11 and text.isdigit() and text.startswith("1"):
        return text[:3] + "****" + text[-4:]
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
        out.append(Line(path, f.label, _shown(f, value, reveal), personal=f.is_personal))
    known = {f.key for f in fields}
    for key, value in values.items():  # an item without a form keeps a free-form object
        if key not in known and value not in (None, "", [], {}):
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            out.append(Line(f"{prefix}.{key}", key, text if reveal else mask(text), personal=True))
    return out


def _shown(f: FormField, value: Any, reveal: bool) -> str:
    text = as_text(f, value)
    return mask(text) if f.is_personal and text and not reveal else text


def masked(fields: list[FormField], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each personal value replaced by its masked text (tables too)."""
    out = dict(values)
    for f in fields:
        value = out.get(f.key)
        if value in (None, "", []):
            continue
        if f.type == "table" and isinstance(value, list):
            out[f.key] = [masked(f.columns, row) if isinstance(row, dict) else row for row in value]
        elif f.is_personal:
            out[f.key] = mask(as_text(f, value))
    return out


def printed(found: list[Line]) -> list[list[str]]:
    """The lines as a two-column table for a printed application (申请表): headings as rows
    of their own, a table's rows one by one ("家庭成员 第 2 行")."""
    out = [["项目", "填写内容"]]
    for line in found:
        if line.heading:
            out.append([f"【{line.label}】", ""])
        elif line.columns:
            if not line.rows:
                out.append([line.label, "（未填写）"])
            for n, row in enumerate(line.rows, 1):
                cells = "；".join(
                    f"{c}：{v or '—'}" for c, v in zip(line.columns, row, strict=False)
                )
                out.append([f"{line.label} 第 {n} 行", cells])
        else:
            out.append([line.label, line.text or "（未填写）"])
    return out
