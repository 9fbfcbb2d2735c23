"""An application form as JSON Schema (draft 2020-12), for front ends other than our pages (a
mini-program, a county's own app): the standard keywords validate the shapes; ``x-govhall-*``
keywords carry what a renderer needs besides — the field's type as we know it, its order and
group headings (``x-govhall-layout``), English labels, help, personal data, prefill sources
and show-when conditions. The server's validator stays the judge (checksums, county codes)."""

from __future__ import annotations

from typing import Any

from core.forms.model import FIELD_TYPES, FormField

__all__ = ["json_schema"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"

_PATTERNS = {
    "id_number": r"^\d{17}[\dXx]$",
    "mobile": r"^1[3-9]\d{9}$",
    "credit_code": r"^[0-9A-HJ-NPQRTUWXY]{18}$",
    "money": r"^\d+(\.\d{1,2})?$",
}


def _number(text: str | None) -> float | int | None:
    if text is None:
        return None
    value = float(text)
    return int(value) if value.is_integer() else value


def _property(f: FormField) -> dict[str, Any]:
    out: dict[str, Any] = {"title": f.label, "x-govhall-type": f.type}
    if f.label_en:
        out["x-govhall-title-en"] = f.label_en
    if f.help:
        out["description"] = f.help
    if f.personal:
        out["x-govhall-personal"] = True
    if f.prefill:
        out["x-govhall-prefill"] = f.prefill
    if f.show_when:
        out["x-govhall-show-when"] = [
            {k: v for k, v in (("field", c.field), ("equals", c.equals), ("any_of", c.any_of)) if v}
            for c in f.show_when
        ]
    kind = f.type
    if kind in ("text", "textarea"):
        out["type"] = "string"
        for key, value in (
            ("minLength", f.min_length),
            ("maxLength", f.max_length),
            ("pattern", f.pattern),
        ):
            if value is not None:
                out[key] = value
    elif kind == "integer":
        out["type"] = "integer"
        if f.min is not None:
            out["minimum"] = _number(f.min)
        if f.max is not None:
            out["maximum"] = _number(f.max)
    elif kind in _PATTERNS:
        out.update(type="string", pattern=_PATTERNS[kind])
    elif kind == "date":
        out.update(type="string", format="date")
    elif kind == "choice":
        out["oneOf"] = [{"const": o.value, "title": o.label} for o in f.options]
    elif kind == "multichoice":
        out.update(
            type="array",
            uniqueItems=True,
            items={"oneOf": [{"const": o.value, "title": o.label} for o in f.options]},
        )
    elif kind == "yesno":
        out["type"] = "boolean"
    elif kind == "address":
        out.update(
            type="object",
            properties={
                "division": {
                    "type": "string",
                    "pattern": r"^\d{6}$",
                    "title": "所在县（区）的行政区划代码（GB/T 2260）",
                },
                "street": {"type": "string", "maxLength": 200, "title": "详细地址"},
            },
            required=["division", "street"],
        )
    elif kind == "table":
        row = _object(f.columns)
        out.update(type="array", items=row, maxItems=f.max_rows)
        if f.min_rows:
            out["minItems"] = f.min_rows
    return out


def _object(fields: list[FormField]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    conditional: list[dict[str, Any]] = []
    for f in fields:
        if not f.holds_value:
            continue
        properties[f.key] = _property(f)
        if f.required and not f.show_when:
            required.append(f.key)
        elif f.required:
            conditional.append(
                {
                    "if": {
                        "properties": {
                            c.field: ({"enum": c.any_of} if c.any_of else {"const": c.equals})
                            if (c.any_of or c.equals is not None)
                            else {}
                            for c in f.show_when
                        },
                        "required": [c.field for c in f.show_when],
                    },
                    "then": {"required": [f.key]},
                }
            )
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if conditional:
        out["allOf"] = conditional
    return out


def json_schema(fields: list[FormField], *, title: str, schema_id: str = "") -> dict[str, Any]:
    """The form as a JSON Schema object, with the layout a renderer follows."""
    schema: dict[str, Any] = {"$schema": DIALECT, "title": title, **_object(fields)}
    if schema_id:
        schema["$id"] = schema_id
    schema["x-govhall-layout"] = [
        {"heading": f.label, "key": f.key} if not f.holds_value else {"field": f.key}
        for f in fields
    ]
    schema["x-govhall-types"] = FIELD_TYPES
    return schema
