"""The import and export template (docs/catalog.md): its columns, and the header cells people
actually write for them — with line breaks, spaces, full-width characters, a unit in brackets or
a synonym (事项名称 for 名称, 实施主体 for 实施部门, 法定办结时限 for 法定时限).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

__all__ = [
    "COLUMNS",
    "HEADERS",
    "IGNORED",
    "REQUIRED",
    "HeaderRow",
    "find_header",
    "header_key",
]

#: (header in the file, content field), in the exported order. The first column is the code.
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
    ("服务对象", "audience"),
    ("办理流程", "process"),
    ("办理结果", "result_license"),
    ("咨询方式", "contacts"),
    ("办公时间", "office_hours"),
    ("关键词", "keywords"),
    ("责任清单", "responsibilities"),
    ("申请表", "form"),
    ("证照内容", "license_fields"),
]
HEADERS = [h for h, _ in COLUMNS]
HEADER_OF = {f: h for h, f in COLUMNS}
#: Columns a sheet must have; every other column may be left out (existing items keep the
#: field, new items take its default).
REQUIRED = ("code", "name", "category", "department")

#: Other names for the template's columns, as county and province lists write them.
_SYNONYMS = {
    "code": ["事项编码", "事项代码", "事项编号", "编号", "代码", "基本编码", "实施编码"],
    "name": ["事项名称", "项目名称", "权力名称", "服务名称", "子项名称"],
    "kind": ["事项类型", "事项性质"],
    "category": ["事项类别", "权力类别", "权力类型", "职权类别", "职权类型", "类别名称"],
    "department": ["实施主体", "实施机关", "实施单位", "责任部门", "主管部门", "办理部门"],
    "implementing_body": ["承办单位", "承办科室", "承办机关", "办理机构"],
    "legal_basis": ["依据", "法律依据", "设定依据及条款"],
    "conditions": ["受理条件", "申请条件", "办理条件及标准"],
    "materials": ["申请材料", "材料", "所需材料", "申请材料目录"],
    "fees": ["收费标准", "收费项目", "收费情况"],
    "legal_days": ["法定办结时限", "法定期限", "法定办理时限"],
    "promised_days": ["承诺办结时限", "承诺期限", "承诺办理时限"],
    "levels": ["行使层级", "层级"],
    "channels": ["办理方式", "办理形式"],
    "delivery": ["结果送达方式", "送达", "结果送达"],
    "audience": ["办理对象", "适用对象", "服务对象类型"],
    "process": ["流程", "审批流程"],
    "result_license": ["结果名称", "审批结果", "办理结果名称", "结果证照", "办结证照"],
    "contacts": ["咨询电话", "联系电话", "咨询途径"],
    "office_hours": ["办理时间", "受理时间", "工作时间"],
    "keywords": ["关键字", "检索词"],
    "responsibilities": ["责任事项清单"],
    "form": ["申请表单", "在线申请表", "表单"],
    "license_fields": ["证照字段", "电子证照内容"],
}
#: Columns that carry nothing the template has; read past, and named in the report.
IGNORED = {"序号", "备注"}

_MARKS = re.compile(r"[*＊※★☆:：]")
_BRACKETED = re.compile(r"[(\[（【][^)\]）】]*[)\]）】]")


def header_key(text: str) -> str:
    """A header cell as compared: full-width forms folded, every space and line break gone,
    required-marks (*) and a bracketed unit or hint — 法定时限（工作日） — dropped."""
    folded = unicodedata.normalize("NFKC", text or "")
    folded = "".join(folded.split())
    folded = _BRACKETED.sub("", _MARKS.sub("", folded))
    return folded.lower()


_KNOWN = {header_key(h): f for h, f in COLUMNS} | {
    header_key(s): f for f, names in _SYNONYMS.items() for s in names
}
_IGNORED = {header_key(h) for h in IGNORED}


@dataclass
class HeaderRow:
    """Where a sheet's header is and what each of its columns holds."""

    index: int  # position of the header row among the sheet's rows
    number: int  # its row number as the spreadsheet shows it
    fields: dict[int, str]  # column position → content field
    unknown: list[tuple[int, str]] = field(default_factory=list)  # (column, header text)
    ignored: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (header, same as)

    @property
    def missing(self) -> list[str]:
        return [HEADER_OF[f] for f in REQUIRED if f not in self.fields.values()]


#: How far down a sheet the header may sit (title rows, notes and merged banners above it).
SCAN_ROWS = 30


def find_header(rows: list[tuple[int, list[str]]]) -> HeaderRow | None:
    """The first row among the sheet's first ones that names every required column; failing
    that, the row naming the most columns (to say which are missing), or None."""
    best: HeaderRow | None = None
    for index, (number, cells) in enumerate(rows[:SCAN_ROWS]):
        row = _read_header(index, number, cells)
        if not row.missing:
            return row
        if len(row.fields) >= 2 and (best is None or len(row.fields) > len(best.fields)):
            best = row
    return best


def _read_header(index: int, number: int, cells: list[str]) -> HeaderRow:
    row = HeaderRow(index=index, number=number, fields={})
    seen: dict[str, str] = {}
    for column, text in enumerate(cells):
        key = header_key(text)
        if not key:
            continue
        if key in _IGNORED:
            row.ignored.append(text.strip())
        elif key in _KNOWN:
            wanted = _KNOWN[key]
            if wanted in seen:
                row.duplicates.append((_shown(text), seen[wanted]))
            else:
                seen[wanted] = _shown(text)
                row.fields[column] = wanted
        else:
            row.unknown.append((column, _shown(text)))
    return row


def _shown(text: str) -> str:
    """A header cell as a message quotes it: its line breaks and runs of spaces as one space."""
    return " ".join(text.split())
