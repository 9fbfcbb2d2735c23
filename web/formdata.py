"""Application forms on our pages: what a posted HTML form means (``form.name``,
``form.members.0.id_number``, ``form.home.division``, repeated checkboxes), and what a page
needs to draw one (each field with its value, its error, whether it shows, the rows of a
table, the province/city/county choices of an address)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from litestar.datastructures import FormMultiDict

from core import divisions
from core.forms import FormField, visible

__all__ = ["FieldView", "anchor", "extra_rows", "parse_posted", "row_buttons", "summary", "view_of"]

PREFIX = "form."


def _put(target: dict[str, Any], parts: list[str], value: Any) -> None:
    head, rest = parts[0], parts[1:]
    if not rest:
        target[head] = value
        return
    if rest[0].isdigit():
        rows = target.setdefault(head, {})
        if isinstance(rows, dict):
            _put(rows.setdefault(rest[0], {}), rest[1:] or ["value"], value)
        return
    child = target.setdefault(head, {})
    if isinstance(child, dict):
        _put(child, rest, value)


def _rows_to_lists(value: Any) -> Any:
    """``{"0": {...}, "1": {...}}`` (table rows as posted) → a list in row order."""
    if isinstance(value, dict):
        if value and all(k.isdigit() for k in value):
            return [_rows_to_lists(value[k]) for k in sorted(value, key=int)]
        return {k: _rows_to_lists(v) for k, v in value.items()}
    return value


def parse_posted(data: FormMultiDict, fields: list[FormField]) -> dict[str, Any]:
    """The form values in a posted page form (multichoice fields may repeat)."""
    multi = {f.key for f in fields if f.type == "multichoice"}
    for f in fields:
        multi |= {f"{f.key}.{c.key}" for c in f.columns if c.type == "multichoice"}
    out: dict[str, Any] = {}
    for name in data:
        if not name.startswith(PREFIX):
            continue
        path = name[len(PREFIX) :]
        parts = path.split(".")
        plain = ".".join(p for p in parts if not p.isdigit())
        value: Any = data.getall(name) if plain in multi else data.get(name)
        _put(out, parts, value)
    return {k: _rows_to_lists(v) for k, v in out.items()}


def extra_rows(data: FormMultiDict) -> dict[str, int]:
    """The "添加一行" button of a table names the table: one more blank row."""
    key = data.get("_add_row")
    return {str(key): 1} if key else {}


def row_buttons(data: FormMultiDict, raw: dict[str, Any]) -> tuple[bool, dict[str, int]]:
    """A table's 添加一行 or 删除此行 (``members.2``) was pressed: the rows as they are to be
    drawn (a deleted row taken out of ``raw``), and whether that was all the post asked."""
    added = extra_rows(data)
    table, _, index = str(data.get("_del_row") or "").rpartition(".")
    rows = raw.get(table)
    if table and index.isdigit() and isinstance(rows, list) and int(index) < len(rows):
        del rows[int(index)]
        return True, added
    return bool(added), added


_CELL = re.compile(r"^form\.(\w+)\[(\d+)\]\.(\w+)$")


def anchor(path: str) -> str:
    """The id of the input a problem's path names: form.members[1].id_number →
    form-members-1-id_number."""
    return re.sub(r"\[(\d+)\]", r".\1", path).replace(".", "-")


def summary(fields: list[FormField], problems: dict[str, str]) -> list[tuple[str, str]]:
    """Every problem as (the input's id, what to say): a table's cell with its row —
    随迁人员第 2 行：「身份证号」…"""
    labels = {f.key: f.label for f in fields}
    out = []
    for path, message in problems.items():
        cell = _CELL.match(path)
        if cell and cell[1] in labels:
            message = f"{labels[cell[1]]}第 {int(cell[2]) + 1} 行：{message}"
        out.append((anchor(path), message))
    return out


@dataclass
class FieldView:
    field: FormField
    name: str  # the input's name
    id: str  # the input's id (htmx keeps focus on it across a redraw)
    value: Any
    error: str = ""
    shown: bool = True
    rows: list[list[FieldView]] = dc_field(default_factory=list)
    asked: str = ""  # a correction notice's words about this field
    #: the show-when conditions with the inputs they read (forms.js decides in the browser)
    show_when: list[dict[str, Any]] = dc_field(default_factory=list)
    provinces: list[divisions.Division] = dc_field(default_factory=list)
    cities: list[divisions.Division] = dc_field(default_factory=list)
    counties: list[divisions.Division] = dc_field(default_factory=list)
    picked: tuple[str, str, str] = ("", "", "")

    @property
    def f(self) -> FormField:
        return self.field


def _address(view: FieldView, home: str) -> None:
    """The three choices of an address; an empty one starts at the county (or city) whose
    hall this is — most applicants live there."""
    value = view.value if isinstance(view.value, dict) else {}
    if not value and home:
        value = {"division": home} if not home.endswith("00") else {"_city": home}
        value["_province"] = home[:2] + "0000"
    county = str(value.get("division") or "")
    province = str(value.get("_province") or (county[:2] + "0000" if county else ""))
    city = str(value.get("_city") or (county[:4] + "00" if county else ""))
    view.provinces = divisions.children()
    view.cities = divisions.children(province) if province else []
    view.counties = divisions.children(city) if city else []
    view.picked = (province, city, county)


def view_of(
    fields: list[FormField],
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    *,
    asked: dict[str, str] | None = None,
    extra_rows: dict[str, int] | None = None,
    prefix: str = "form",
    home: str = "",
) -> list[FieldView]:
    """Every field of the form as the page draws it (hidden ones too, marked not shown);
    ``home``, the hall's division code, is where an empty address starts."""
    errors, asked, extra_rows = errors or {}, asked or {}, extra_rows or {}
    seen: dict[str, Any] = {}
    out = []
    for f in fields:
        path = f"{prefix}.{f.key}"
        value = values.get(f.key)
        view = FieldView(
            field=f,
            name=path,
            id=path.replace(".", "-"),
            value=value,
            error=errors.get(path, ""),
            shown=visible(f, seen),
            asked=asked.get(f.key, ""),
            show_when=[
                {"name": f"{prefix}.{c.field}", "equals": c.equals, "any_of": c.any_of}
                for c in f.show_when
            ],
        )
        if f.holds_value:
            seen[f.key] = value
        if f.type == "table":
            rows = [r for r in (value if isinstance(value, list) else []) if isinstance(r, dict)]
            blank = max(1, f.min_rows - len(rows)) if not rows else 0
            rows += [{} for _ in range(blank + extra_rows.get(f.key, 0))]
            view.rows = [
                view_of(f.columns, row, errors, prefix=f"{path}.{i}", home=home)
                for i, row in enumerate(rows[: f.max_rows])
            ]
            # errors of a row are reported by its index: form.members[2].id_number
            for i, row_views in enumerate(view.rows):
                for cell in row_views:
                    cell.error = errors.get(f"{path}[{i}].{cell.field.key}", "")
        if f.type == "address":
            _address(view, home)
        out.append(view)
    return out
