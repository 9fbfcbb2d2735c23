"""One template row (field → cell text) as item content, and item content as template cells.

Shared by imports and the editor, whose form has the template's fields. Only the columns a
row has become content: what a sheet leaves out, an existing item keeps (:func:`keep_unsaid`).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.catalog.codes import check_code
from core.catalog.content import LICENSE_TYPES
from core.catalog.service import categories, departments
from core.errors import InvalidInput
from core.tenancy import Tenant
from core.workflow import known_codes

__all__ = ["Lookups", "content_to_cells", "keep_unsaid", "read_json", "row_to_content"]

KIND = {"行政权力": "power", "公共服务": "public_service"}
LEVEL = {"县级": "county", "乡镇": "township", "村级": "village"}
CHANNEL = {"网上": "online", "窗口": "counter", "代办": "agent"}
DELIVERY = {"自取": "pickup", "快递": "courier"}
#: 服务对象 as power lists write it: 自然人 / 个人, 法人 / 企业 (其他组织 counts as 法人)
AUDIENCE = {
    "个人": "person",
    "自然人": "person",
    "法人": "enterprise",
    "企业": "enterprise",
    "企业法人": "enterprise",
    "其他组织": "enterprise",
}
PROCESS = {"五环节": "five_post", "三环节": "short", "即办": "instant"}
REQUIRED = {"必要": "required", "视情况": "conditional"}
FORM = {
    "原件": "original",
    "复印件": "copy",
    "原件及复印件": "original_and_copy",
    "电子": "electronic",
}
#: 办理结果 written for an approval decision that issues no e-license.
NO_LICENSE = {"", "无", "审批决定", "批准决定", "决定书"}

_LIST_SEPARATORS = re.compile(r"[,，、;；\s]+")
_KEYWORD_SEPARATORS = re.compile(r"[,，、;；]+")
_DAYS = re.compile(r"(\d+)\s*(?:个?工作日)?")


def _inverse(mapping: dict[str, str]) -> dict[str, str]:
    return {v: k for k, v in mapping.items()}


@dataclass
class Lookups:
    """What a row's names are checked against, read once per import."""

    category_by_name: dict[str, str]
    category_kind: dict[str, str]
    departments: dict[str, str]  # code → name
    processes: set[str]

    @classmethod
    def load(cls, session: Session, tenant: Tenant) -> Lookups:
        cats = categories(session)
        return cls(
            category_by_name={c.name: code for code, c in cats.items()},
            category_kind={code: c.kind for code, c in cats.items()},
            departments={code: u.name for code, u in departments(session, tenant).items()},
            processes=known_codes(session, tenant),
        )

    def category(self, text: str) -> str:
        if not text:
            raise InvalidInput("事项类别不能为空", field="category")
        if text in self.category_kind:
            return text
        if text in self.category_by_name:
            return self.category_by_name[text]
        names = "、".join(self.category_by_name)
        raise InvalidInput(f"事项类别「{text}」不存在，应为以下之一：{names}", field="category")

    def department(self, text: str) -> str:
        """A department by its code or its exact name; otherwise the close names as a hint."""
        if not text:
            raise InvalidInput("实施部门不能为空", field="department")
        if text in self.departments:
            return text
        codes = [code for code, name in self.departments.items() if name == text]
        if len(codes) == 1:
            return codes[0]
        if len(codes) > 1:
            raise InvalidInput(
                f"有 {len(codes)} 个部门都叫「{text}」，请填写部门编码：{'、'.join(codes)}",
                field="department",
            )
        hint = self._close_departments(text)
        raise InvalidInput(
            f"实施部门「{text}」不存在（可填部门编码或全称）"
            + (f"；相近的部门：{hint}" if hint else ""),
            field="department",
        )

    def _close_departments(self, text: str) -> str:
        by_name = {name: code for code, name in self.departments.items()}
        close = [n for n in by_name if text and (text in n or n in text)]
        close += difflib.get_close_matches(text, list(by_name), n=3, cutoff=0.5)
        close += [
            by_name.get(c) or self.departments[c]
            for c in difflib.get_close_matches(text, list(self.departments), n=2, cutoff=0.6)
        ]
        shown = list(dict.fromkeys(n for n in close if n))[:3]
        return "、".join(f"{n}（{by_name[n]}）" for n in shown)


def _license(text: str, field: str) -> str | None:
    """An e-license by its code or its Chinese name (营业执照, business_license)."""
    if text in LICENSE_TYPES:
        return text
    for code, name in LICENSE_TYPES.items():
        if text == name:
            return code
    raise InvalidInput(f"电子证照「{text}」不在电子证照目录中", field=field)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _parts(line: str) -> list[str]:
    """A material, fee or responsibility line split at its bars (full-width ｜ too)."""
    return [p.strip() for p in line.replace("｜", "|").split("|")]


def _choices(text: str, mapping: dict[str, str], field: str) -> list[str]:
    out = []
    for part in (p for p in _LIST_SEPARATORS.split(text) if p):
        if part not in mapping and part not in mapping.values():
            raise InvalidInput(f"「{part}」应为 {'、'.join(mapping)} 之一", field=field)
        out.append(mapping.get(part, part))
    return out


def _days(text: str, field: str) -> int:
    if text == "即办":
        return 0
    match = _DAYS.fullmatch(text.removesuffix(".0"))
    if match is None:
        raise InvalidInput(f"「{text}」不是工作日天数（应为整数，如 20）", field=field)
    return int(match[1])


def row_to_content(row: dict[str, str], lookups: Lookups) -> tuple[str, dict[str, Any]]:
    """The item code and the content the row states: only the fields of the columns it has."""
    code = check_code(row.get("code", ""))
    content: dict[str, Any] = {}
    for field, text in row.items():
        if field != "code":
            _read_field(content, field, text.strip(), lookups)
    return code, content


def _read_field(content: dict[str, Any], field: str, text: str, lookups: Lookups) -> None:
    if field == "category":
        content[field] = lookups.category(text)
    elif field == "department":
        content[field] = lookups.department(text)
    elif field == "kind":
        if text:
            if text not in KIND and text not in KIND.values():
                raise InvalidInput(f"「{text}」应为 行政权力 或 公共服务", field=field)
            content[field] = KIND.get(text, text)
    elif field in ("legal_days", "promised_days"):
        if text:
            content[field] = _days(text, field)
    elif field in ("levels", "channels", "delivery"):
        if text:
            mapping = {"levels": LEVEL, "channels": CHANNEL, "delivery": DELIVERY}[field]
            content[field] = _choices(text, mapping, field)
    elif field == "audience":
        content[field] = list(dict.fromkeys(_choices(text, AUDIENCE, field))) if text else []
    elif field == "process":
        if text:
            content[field] = PROCESS.get(text, text)
    elif field == "result_license":
        content[field] = None if text in NO_LICENSE else _license(text, field)
    elif field in ("legal_basis",):
        content[field] = _lines(text)
    elif field == "keywords":
        content[field] = [k.strip() for k in _KEYWORD_SEPARATORS.split(text) if k.strip()]
    elif field == "materials":
        content[field] = [_material(line) for line in _lines(text)]
    elif field == "fees":
        content[field] = [_fee(line) for line in _lines(text)]
    elif field == "responsibilities":
        content[field] = [_responsibility(line) for line in _lines(text)]
    elif field == "form":
        content[field] = read_json(text, field, list) if text else []
    elif field == "license_fields":
        content[field] = read_json(text, field, dict) if text else {}
    else:  # name, implementing body, conditions, contacts, office hours: text as written
        content[field] = text


def read_json(text: str, field: str, kind: type) -> Any:
    """A JSON cell (申请表, 证照内容): its problems named with where they are."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）", field=field
        ) from None
    if not isinstance(value, kind):
        shape = "字段的列表 [...]" if kind is list else "对象 {...}"
        raise InvalidInput(f"应为 JSON {shape}", field=field)
    return value


def _split(line: str, most: int, field: str, shape: str) -> list[str]:
    parts = _parts(line)
    if len(parts) > most:
        raise InvalidInput(f"「{line}」的竖线太多，应写作 {shape}", field=field)
    return parts + [""] * (most - len(parts))


def _material(line: str) -> dict[str, Any]:
    shape = "名称|必要或视情况|形式|份数|电子证照|条件"
    parts = _split(line, 6, "materials", shape)
    name, required, form, copies, license_type, condition = parts[:6]
    material: dict[str, Any] = {"name": name}
    if required:
        if required not in REQUIRED:
            raise InvalidInput(
                f"材料「{name}」的要求「{required}」应为 必要 或 视情况", field="materials"
            )
        material["required"] = REQUIRED[required]
    if form:
        if form not in FORM:
            raise InvalidInput(
                f"材料「{name}」的形式「{form}」应为 {'、'.join(FORM)} 之一", field="materials"
            )
        material["form"] = FORM[form]
    if copies:
        if not copies.isdigit():
            raise InvalidInput(f"材料「{name}」的份数「{copies}」应为数字", field="materials")
        material["copies"] = int(copies)
    if license_type:
        material["license_type"] = _license(license_type, "materials")
    if condition:
        material["condition"] = condition
    return material


def _responsibility(line: str) -> dict[str, Any]:
    parts = _split(line, 5, "responsibilities", "责任事项|追责情形|追责主体|追责依据|应负责任")
    return dict(zip(("duty", "cases", "body", "basis", "liability"), parts[:5], strict=True))


def _fee(line: str) -> dict[str, Any]:
    parts = _parts(line)
    if not 2 <= len(parts) <= 3:
        raise InvalidInput(f"收费「{line}」应写作 名称|金额|依据", field="fees")
    return {"name": parts[0], "amount": parts[1], "basis": parts[2] if len(parts) > 2 else ""}


def keep_unsaid(content: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """An existing item's content with what the row says laid over it: fields the row has no
    column for, and what the template cannot carry (a material's form template and note,
    matched by name; the e-license a case issues, in a sheet without 办理结果), stay."""
    merged = {**current, **content}
    old = {m["name"]: m for m in current.get("materials", [])}
    for material in merged.get("materials", []):
        before = old.get(material["name"], {})
        for key in ("template_key", "note"):
            if before.get(key) and not material.get(key):
                material[key] = before[key]
    return merged


# -- writing ----------------------------------------------------------------------------------


def _json_cell(value: Any) -> str:
    """A form or its license particulars as one cell: compact JSON, Chinese as written."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if value else ""


def content_to_cells(code: str, c: dict[str, Any], category_names: dict[str, str]) -> list[str]:
    """One item's effective content in the template's cells, in column order."""
    kind, level, channel = _inverse(KIND), _inverse(LEVEL), _inverse(CHANNEL)
    delivery, process = _inverse(DELIVERY), _inverse(PROCESS)
    required, form = _inverse(REQUIRED), _inverse(FORM)
    materials = [
        "|".join(
            [
                m["name"],
                required[m["required"]],
                form[m["form"]],
                str(m["copies"]),
                m.get("license_type") or "",
                m.get("condition", ""),
            ]
        ).rstrip("|")
        for m in c.get("materials", [])
    ]
    return [
        code,
        c["name"],
        kind[c["kind"]],
        category_names.get(c["category"], c["category"]),
        c["department"],
        c.get("implementing_body", ""),
        "\n".join(c.get("legal_basis", [])),
        c.get("conditions", ""),
        "\n".join(materials),
        "\n".join(f"{f['name']}|{f['amount']}|{f['basis']}" for f in c.get("fees", [])),
        str(c["legal_days"]),
        str(c["promised_days"]),
        ",".join(level[v] for v in c.get("levels", [])),
        ",".join(channel[v] for v in c.get("channels", [])),
        ",".join(delivery[v] for v in c.get("delivery", [])),
        ",".join({"person": "个人", "enterprise": "法人"}[v] for v in c.get("audience", [])),
        process.get(c.get("process", "short"), c.get("process", "short")),
        LICENSE_TYPES.get(c.get("result_license") or "", ""),
        c.get("contacts", ""),
        c.get("office_hours", ""),
        ",".join(c.get("keywords", [])),
        "\n".join(
            "|".join([r["duty"], r["cases"], r["body"], r["basis"], r["liability"]])
            for r in c.get("responsibilities", [])
        ),
        _json_cell(c.get("form")),
        _json_cell(c.get("license_fields")),
    ]
