"""Plausible values for application forms, made from the fields' types: resident ID numbers and
credit codes with the right check characters, mobile numbers, a county of the tenant's own,
each choice's first option — what a careful applicant would type."""

from __future__ import annotations

import re
from typing import Any

from core.forms import FormField

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_number(county: str = "130926", born: str = "19650312", seq: int = 1) -> str:
    """A resident ID number (GB 11643) born in ``county`` on ``born`` (YYYYMMDD)."""
    body = f"{county}{born}{seq % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def credit_code(county: str = "130926", seq: int = 1) -> str:
    """A unified social credit code (GB 32100) of an enterprise (``91``) in ``county``."""
    body = f"91{county}MA{seq % 10_000_000:07d}"
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(body, _CREDIT_WEIGHTS, strict=True))
    return body + _CREDIT_CHARS[(31 - total % 31) % 31]


def example(f: FormField) -> str:
    """The example a field shows (its placeholder, without the 如：)."""
    return re.sub(r"^如[:：]\s*", "", f.placeholder)


def _clip_number(f: FormField, wanted: float) -> float:
    if f.min is not None:
        wanted = max(wanted, float(f.min))
    if f.max is not None:
        wanted = min(wanted, float(f.max))
    return wanted


def _text(f: FormField) -> str:
    if f.pattern:
        return example(f)  # a patterned field's example must pass its pattern
    text = example(f) or f"示例{f.label}"
    if f.type == "textarea":
        text = f"{text}，情况属实。"
    text = text.ljust(f.min_length or 0, "。")
    return text[: f.max_length or 200]


def value_for(f: FormField, county: str, seq: int) -> Any:
    """A value ``f`` accepts; ``seq`` tells one person (or enterprise) from another."""
    kind = f.type
    if kind in ("text", "textarea"):
        return _text(f)
    if kind == "integer":
        return int(_clip_number(f, 2))
    if kind == "money":
        return f"{_clip_number(f, 1000):.2f}"
    if kind == "date":
        return f.min or f.max or "2026-06-01"
    if kind == "choice":
        return f.options[0].value
    if kind == "multichoice":
        return [o.value for o in f.options[: max(1, int(f.min or 1))]]
    if kind == "yesno":
        return True
    if kind == "id_number":
        return id_number(county, "19800101", seq)
    if kind == "mobile":
        return f"139{seq:08d}"
    if kind == "credit_code":
        return credit_code(county, seq)
    if kind == "address":
        return {"division": county, "street": "示范路 8 号"}
    if kind == "table":
        rows = max(f.min_rows, 2)
        return [values_for(f.columns, county, seq * 10 + i) for i in range(1, rows + 1)]
    raise AssertionError(f"no sample for a field of type {kind}")


def values_for(fields: list[FormField], county: str, seq: int = 1) -> dict[str, Any]:
    """A value for every field that holds one (hidden ones too: the validator drops them)."""
    out: dict[str, Any] = {}
    for i, f in enumerate(fields):
        if f.holds_value:
            out[f.key] = value_for(f, county, seq * 100 + i)
    return out


def as_posted(values: dict[str, Any], prefix: str = "form") -> dict[str, Any]:
    """``values`` as a page's HTML form posts them: ``form.home.street``, a table's cells as
    ``form.members.0.name``, a multiple choice repeated, yes/no as yes or no."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict):
            out |= as_posted(value, name)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for i, row in enumerate(value):
                out |= as_posted(row, f"{name}.{i}")
        elif isinstance(value, bool):
            out[name] = "yes" if value else "no"
        else:
            out[name] = value if isinstance(value, list) else str(value)
    return out
