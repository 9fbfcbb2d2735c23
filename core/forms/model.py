"""An application form (申请表) as data: an ordered list of fields, part of an item's content.

Every field has a ``key`` (its name in the submitted data), a Chinese ``label`` (and an
English one), and a ``type``:

============== ====================================================================
``text``       one line (``min_length``, ``max_length``, ``pattern``)
``textarea``   several lines
``integer``    a whole number (``min``, ``max``)
``money``      yuan with at most two decimals, kept as a string (``min``, ``max``)
``date``       ``YYYY-MM-DD`` (``min``, ``max`` as dates, or ``today``)
``choice``     one of ``options``
``multichoice`` any of ``options`` (``min``/``max`` count them)
``yesno``      是 or 否
``id_number``  resident ID number, check digit verified
``mobile``     mainland mobile number
``credit_code`` unified social credit code, check character verified
``address``    a county (GB/T 2260 code) and the street address within it
``table``      rows of ``columns`` (household members: name, relation, ID number, income)
``heading``    a group heading, holds no value
============== ====================================================================

``show_when`` hides a field unless every condition on earlier fields holds (a hidden field
is neither required nor kept). ``personal`` marks data about a person (masked in staff lists,
revealed on request, each reveal on the trail). ``prefill`` names where a value may come
from: ``person.name``, ``person.id_number``, ``person.phone``, ``enterprise.name``,
``enterprise.credit_code``, ``last_case`` (the same field of the applicant's last case of this
item) or ``license:<type>.<field>`` (a field of one of the applicant's e-licenses).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec

from core.errors import InvalidInput

__all__ = [
    "TODAY",
    "date_bound",
    "FIELD_TYPES",
    "PREFILL_SOURCES",
    "Condition",
    "FormField",
    "Option",
    "form_problems",
    "override_problems",
    "parse_form",
]

FieldType = Literal[
    "text",
    "textarea",
    "integer",
    "money",
    "date",
    "choice",
    "multichoice",
    "yesno",
    "id_number",
    "mobile",
    "credit_code",
    "address",
    "table",
    "heading",
]

#: field types whose values are always personal data (masked for staff until revealed)
PERSONAL_TYPES = frozenset({"id_number", "mobile"})

#: every field type with its name in the designer
FIELD_TYPES: dict[str, str] = {
    "text": "单行文字",
    "textarea": "多行文字",
    "integer": "整数",
    "money": "金额（元）",
    "date": "日期",
    "choice": "单选",
    "multichoice": "多选",
    "yesno": "是/否",
    "id_number": "身份证号",
    "mobile": "手机号码",
    "credit_code": "统一社会信用代码",
    "address": "地址（省市县 + 详细地址）",
    "table": "表格（多行）",
    "heading": "分组标题",
}

#: where a prefilled value may come from, with its name in the designer
PREFILL_SOURCES: dict[str, str] = {
    "person.name": "申请人姓名",
    "person.id_number": "申请人身份证号",
    "person.phone": "申请人手机号",
    "enterprise.name": "企业名称",
    "enterprise.credit_code": "统一社会信用代码",
    "last_case": "上次办理同一事项时填写的内容",
}

Key = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class Option(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    label: Label
    label_en: str = ""


class Condition(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``field`` holds ``equals`` (or any of ``any_of``; or, with neither, anything at all)."""

    field: Key
    equals: str | int | bool | None = None
    any_of: list[str] = []


class FormField(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    key: Key
    type: FieldType = "text"
    label: Label
    label_en: str = ""
    required: bool = False
    help: Annotated[str, msgspec.Meta(max_length=500)] = ""
    placeholder: Annotated[str, msgspec.Meta(max_length=100)] = ""
    min: str | None = None  # a number, or a date for date fields
    max: str | None = None
    min_length: Annotated[int, msgspec.Meta(ge=0, le=4000)] | None = None
    max_length: Annotated[int, msgspec.Meta(ge=1, le=4000)] | None = None
    pattern: str | None = None
    pattern_message: str = ""
    options: list[Option] = []
    show_when: list[Condition] = []
    personal: bool = False
    prefill: str | None = None
    #: a table's columns (no tables or headings inside a table)
    columns: list[FormField] = []
    min_rows: Annotated[int, msgspec.Meta(ge=0, le=200)] = 0
    max_rows: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50

    @property
    def holds_value(self) -> bool:
        return self.type != "heading"

    @property
    def is_personal(self) -> bool:
        """Marked personal, or a kind of value that always is (an ID number, a mobile)."""
        return self.personal or self.type in PERSONAL_TYPES


def form_problems(fields: list[FormField], where: str = "form") -> list[tuple[str, str]]:
    """(path, Chinese message) for each thing wrong with a form definition."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, f in enumerate(fields):
        at = f"{where}[{i}]"
        if f.key in seen:
            problems.append((f"{at}.key", f"字段标识「{f.key}」重复"))
        seen.add(f.key)
        if f.type in ("choice", "multichoice") and not f.options:
            problems.append((f"{at}.options", f"「{f.label}」是选择题，请给出选项"))
        if f.type == "table":
            if not f.columns:
                problems.append((f"{at}.columns", f"表格「{f.label}」没有列"))
            if any(c.type in ("table", "heading") for c in f.columns):
                problems.append((f"{at}.columns", "表格里不能再有表格或分组标题"))
            problems += form_problems(f.columns, f"{at}.columns")
        if f.pattern:
            try:
                re.compile(f.pattern)
            except re.error:
                problems.append((f"{at}.pattern", f"「{f.label}」的格式规则不是有效的正则表达式"))
        if f.prefill and f.prefill not in PREFILL_SOURCES and not f.prefill.startswith("license:"):
            problems.append((f"{at}.prefill", f"「{f.label}」的预填来源「{f.prefill}」不存在"))
        for c in f.show_when:
            if c.field not in seen or c.field == f.key:
                problems.append(
                    (f"{at}.show_when", f"「{f.label}」的显示条件须引用它前面的字段（{c.field}）")
                )
    return problems


def override_problems(standard: list[FormField], local: list[FormField]) -> list[str]:
    """What a county's form drops or loosens of its province's: a county may add fields and
    tighten them (make one required, narrow its limits), never remove one or make it optional."""
    mine = {f.key: f for f in local}
    problems = []
    for f in standard:
        if f.key not in mine:
            problems.append(f"省级标准的字段「{f.label}」不能删除")
        elif f.required and not mine[f.key].required:
            problems.append(f"省级标准要求必填的「{f.label}」不能改为选填")
        elif f.holds_value and mine[f.key].type != f.type:
            problems.append(f"省级标准字段「{f.label}」的类型不能更改")
    return problems


def parse_form(raw: Any) -> list[FormField]:
    """A form definition from plain data; every problem is named (``form[3].options``)."""
    try:
        fields = msgspec.convert(raw or [], list[FormField], strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"申请表定义有误：{exc}", field="form") from None
    problems = form_problems(fields)
    if problems:
        raise InvalidInput(
            "；".join(m for _, m in problems), field=problems[0][0], fields=[p for p, _ in problems]
        )
    return fields


#: the word a date field's ``min`` or ``max`` may say instead of a date: the day it is checked
TODAY = "today"


def date_bound(text: str) -> date:
    """A date field's ``min`` / ``max`` as a date: ``today`` is today in Beijing."""
    if text.strip().lower() == TODAY:
        return datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return date.fromisoformat(text)
