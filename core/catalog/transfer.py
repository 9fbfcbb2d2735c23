"""Import and export of a tenant's own items as CSV or XLSX, in the documented template
(docs/catalog.md). Imports are validated whole: any bad row names its line and field, and
nothing is written."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalog.content import parse_content
from core.catalog.models import Item
from core.catalog.service import categories, create_item, departments, publish_item, save_draft
from core.errors import GovhallError, InvalidInput
from core.tenancy import Tenant

__all__ = [
    "COLUMNS",
    "ImportFailed",
    "ImportReport",
    "export_rows",
    "import_rows",
    "read_rows",
    "write_csv",
    "write_xlsx",
]

#: (header in the file, content field). The first column is the item code.
COLUMNS = [
    ("编码", "code"),
    ("名称", "name"),
    ("类型", "kind"),
    ("类别", "category"),
    ("实施部门", "department"),
    ("承办机构", "implementing_body"),
    ("设定依据", "legal_basis"),
    ("办理条件", "conditions"),
    ("申报材料", "materials"),
    ("收费", "fees"),
    ("法定时限", "legal_days"),
    ("承诺时限", "promised_days"),
    ("受理层级", "levels"),
    ("办理渠道", "channels"),
    ("送达方式", "delivery"),
    ("办理流程", "process"),
    ("咨询方式", "contacts"),
    ("办公时间", "office_hours"),
    ("关键词", "keywords"),
    ("责任清单", "responsibilities"),
]
HEADERS = [h for h, _ in COLUMNS]

_KIND = {"行政权力": "power", "公共服务": "public_service"}
_LEVEL = {"县级": "county", "乡镇": "township", "村级": "village"}
_CHANNEL = {"网上": "online", "窗口": "counter", "代办": "agent"}
_DELIVERY = {"自取": "pickup", "快递": "courier"}
_PROCESS = {"五环节": "five_post", "三环节": "short", "即办": "instant"}
_REQUIRED = {"必要": "required", "视情况": "conditional"}
_FORM = {
    "原件": "original",
    "复印件": "copy",
    "原件及复印件": "original_and_copy",
    "电子": "electronic",
}


def _inverse(mapping: dict[str, str]) -> dict[str, str]:
    return {v: k for k, v in mapping.items()}


class ImportFailed(GovhallError):
    code = "invalid_import"
    status = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} 处错误，未导入任何事项：" + "；".join(problems[:20]))
        self.problems = problems


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


# -- reading ----------------------------------------------------------------------------------


def read_rows(data: bytes, filename: str) -> list[dict[str, str]]:
    """Rows as header → text, from CSV (UTF-8, with or without BOM) or XLSX."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("CSV 文件须为 UTF-8 编码", field="file") from None
        rows = list(csv.reader(io.StringIO(text)))
    elif suffix == ".xlsx":
        rows = _xlsx_rows(data)
    else:
        raise InvalidInput("请上传 .csv 或 .xlsx 文件", field="file")
    if not rows:
        raise InvalidInput("文件是空的", field="file")
    header = [h.strip() for h in rows[0]]
    missing = [h for h in HEADERS[:5] if h not in header]
    if missing:
        raise InvalidInput(f"缺少列：{'、'.join(missing)}（请使用导出的模板）", field="file")
    return [
        {header[i]: (cell or "").strip() for i, cell in enumerate(row) if i < len(header)}
        for row in rows[1:]
        if any((c or "").strip() for c in row)
    ]


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is bad input
        raise InvalidInput(f"无法读取 XLSX 文件：{exc}", field="file") from None
    sheet = book.worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _choices(text: str, mapping: dict[str, str], field: str) -> list[str]:
    out = []
    for part in (p.strip() for p in text.replace("，", ",").replace("、", ",").split(",")):
        if not part:
            continue
        if part not in mapping:
            raise InvalidInput(f"'{part}' 不是 {'/'.join(mapping)} 之一", field=field)
        out.append(mapping[part])
    return out


def row_to_content(row: dict[str, str], category_names: dict[str, str]) -> tuple[str, dict]:
    code = row.get("编码", "")
    if not code:
        raise InvalidInput("编码不能为空", field="编码")
    category = row.get("类别", "")
    content: dict[str, Any] = {
        "name": row.get("名称", ""),
        "kind": _KIND.get(row.get("类型", "行政权力"), row.get("类型", "")),
        "category": category_names.get(category, category),
        "department": row.get("实施部门", ""),
        "implementing_body": row.get("承办机构", ""),
        "legal_basis": _lines(row.get("设定依据", "")),
        "conditions": row.get("办理条件", ""),
        "contacts": row.get("咨询方式", ""),
        "office_hours": row.get("办公时间", ""),
        "keywords": [
            k.strip() for k in row.get("关键词", "").replace("，", ",").split(",") if k.strip()
        ],
    }
    for header, field in (("法定时限", "legal_days"), ("承诺时限", "promised_days")):
        value = row.get(header, "")
        if value:
            try:
                content[field] = int(float(value))
            except ValueError:
                raise InvalidInput(f"'{value}' 不是天数", field=header) from None
    for header, field, mapping in (
        ("受理层级", "levels", _LEVEL),
        ("办理渠道", "channels", _CHANNEL),
        ("送达方式", "delivery", _DELIVERY),
    ):
        if row.get(header):
            content[field] = _choices(row[header], mapping, header)
    if row.get("办理流程"):
        # the three common shapes by their Chinese names, any other definition by its code
        content["process"] = _PROCESS.get(row["办理流程"], row["办理流程"])
    content["materials"] = [_material(line) for line in _lines(row.get("申报材料", ""))]
    content["fees"] = [_fee(line) for line in _lines(row.get("收费", ""))]
    if "责任清单" in row:
        content["responsibilities"] = [_responsibility(x) for x in _lines(row["责任清单"])]
    return code, content


def _keep_unexported(content: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Fields the template does not carry stay as they are (a material's form template and
    note, matched by name; responsibilities when the column is absent)."""
    old = {m["name"]: m for m in current.get("materials", [])}
    for material in content.get("materials", []):
        before = old.get(material["name"], {})
        for key in ("template_key", "note"):
            if before.get(key) and not material.get(key):
                material[key] = before[key]
    if "responsibilities" not in content and current.get("responsibilities"):
        content["responsibilities"] = current["responsibilities"]
    return content


def _material(line: str) -> dict[str, Any]:
    parts = [p.strip() for p in line.split("|")]
    material: dict[str, Any] = {"name": parts[0]}
    if len(parts) > 1 and parts[1]:
        if parts[1] not in _REQUIRED:
            raise InvalidInput(f"材料要求 '{parts[1]}' 应为 必要/视情况", field="申报材料")
        material["required"] = _REQUIRED[parts[1]]
    if len(parts) > 2 and parts[2]:
        if parts[2] not in _FORM:
            raise InvalidInput(f"材料形式 '{parts[2]}' 应为 {'/'.join(_FORM)}", field="申报材料")
        material["form"] = _FORM[parts[2]]
    if len(parts) > 3 and parts[3]:
        if not parts[3].isdigit():
            raise InvalidInput(f"份数 '{parts[3]}' 应为数字", field="申报材料")
        material["copies"] = int(parts[3])
    if len(parts) > 4 and parts[4]:
        material["license_type"] = parts[4]
    if len(parts) > 5 and parts[5]:
        material["condition"] = parts[5]
    return material


def _responsibility(line: str) -> dict[str, Any]:
    parts = [p.strip() for p in line.split("|")] + [""] * 4
    return dict(zip(("duty", "cases", "body", "basis", "liability"), parts[:5], strict=True))


def _fee(line: str) -> dict[str, Any]:
    parts = [p.strip() for p in line.split("|")]
    if len(parts) < 2:
        raise InvalidInput(f"收费 '{line}' 应写作 名称|金额|依据", field="收费")
    return {"name": parts[0], "amount": parts[1], "basis": parts[2] if len(parts) > 2 else ""}


def import_rows(
    session: Session,
    tenant: Tenant,
    rows: list[dict[str, str]],
    progress: Callable[[int, int, str], None] | None = None,
) -> ImportReport:
    """Validate every row, then write them all (the caller commits). Line numbers count the
    header as line 1, as a spreadsheet shows them."""
    cats = categories(session)
    names = {c.name: code for code, c in cats.items()}
    known = {"categories": set(cats), "departments": set(departments(session, tenant))}
    problems: list[str] = []
    parsed: list[tuple[str, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    codes = [r.get("编码", "") for r in rows]
    existing = {
        i.code: i
        for i in session.scalars(
            select(Item).where(Item.tenant_id == tenant.id, Item.code.in_([c for c in codes if c]))
        )
    }
    for line, row in enumerate(rows, start=2):
        try:
            code, content = row_to_content(row, names)
            if code in existing:
                content = _keep_unexported(content, existing[code].effective or {})
            wanted = msgspec.to_builtins(parse_content(content, **known))
            if code in seen:
                raise InvalidInput(f"编码 {code} 与第 {seen[code]} 行重复", field="编码")
            seen[code] = line
            item = existing.get(code)
            if (
                item is not None
                and item.standard_item_id is not None
                and (item.effective != wanted)
            ):
                raise InvalidInput(f"{code} 采用省级标准，请在事项页面调整", field="编码")
            parsed.append((code, wanted))
        except GovhallError as exc:
            problems.append(f"第 {line} 行 {_header_of(exc.field)}：{exc.detail}")
        if progress:
            progress(line - 1, len(rows), "check")
    if problems:
        raise ImportFailed(problems)
    report = ImportReport()
    for done, (code, wanted) in enumerate(parsed, start=1):
        item = existing.get(code)
        if item is None:
            create_item(session, tenant, code=code, content=wanted, publish=True)
            report.created += 1
        elif item.effective == wanted:
            report.unchanged += 1
        else:
            save_draft(session, tenant, item, wanted, note="批量导入")
            publish_item(session, tenant, item, reason="批量导入更新")
            report.updated += 1
        if progress:
            progress(done, len(parsed), "write")
    return report


def _header_of(field: str | None) -> str:
    if not field:
        return ""
    for header, name in COLUMNS:
        if field.split("[")[0].split(".")[0] in (name, header):
            return header
    return field


# -- writing ----------------------------------------------------------------------------------


def content_to_row(code: str, c: dict[str, Any], category_names: dict[str, str]) -> list[str]:
    """One item's effective content in the template's cells (the editor uses them too)."""
    kind, level, channel = _inverse(_KIND), _inverse(_LEVEL), _inverse(_CHANNEL)
    delivery, process = _inverse(_DELIVERY), _inverse(_PROCESS)
    required, form = _inverse(_REQUIRED), _inverse(_FORM)
    return [
        code,
        c["name"],
        kind[c["kind"]],
        category_names.get(c["category"], c["category"]),
        c["department"],
        c.get("implementing_body", ""),
        "\n".join(c.get("legal_basis", [])),
        c.get("conditions", ""),
        "\n".join(
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
        ),
        "\n".join(f"{f['name']}|{f['amount']}|{f['basis']}" for f in c.get("fees", [])),
        str(c["legal_days"]),
        str(c["promised_days"]),
        ",".join(level[v] for v in c.get("levels", [])),
        ",".join(channel[v] for v in c.get("channels", [])),
        ",".join(delivery[v] for v in c.get("delivery", [])),
        process.get(c.get("process", "short"), c.get("process", "short")),
        c.get("contacts", ""),
        c.get("office_hours", ""),
        ",".join(c.get("keywords", [])),
        "\n".join(
            "|".join([r["duty"], r["cases"], r["body"], r["basis"], r["liability"]])
            for r in c.get("responsibilities", [])
        ),
    ]


def export_rows(session: Session, tenant: Tenant) -> Iterator[list[str]]:
    """The header, then one row per published item (own and adopted), effective content."""
    names = {code: c.name for code, c in categories(session).items()}
    yield HEADERS
    for item in session.scalars(
        select(Item)
        .where(Item.tenant_id == tenant.id, Item.live_version_id.is_not(None))
        .order_by(Item.code)
    ):
        yield content_to_row(item.code, item.effective, names)


def write_csv(rows: Iterable[list[str]], out: BinaryIO) -> None:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    out.write(b"\xef\xbb\xbf" + text.getvalue().encode("utf-8"))  # BOM: Excel reads UTF-8


def write_xlsx(rows: Iterable[list[str]], out: BinaryIO) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("事项")
    for row in rows:
        sheet.append(row)
    book.save(out)
