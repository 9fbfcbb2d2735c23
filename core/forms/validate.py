"""The one validator of application forms: the portal, the API, the counter, agents and the
command line all hand what was typed to :func:`fill`, which keeps what is right (converted:
numbers as numbers, money as exact strings, identifiers normalised) and names everything
that is not, by path (``form.members[2].id_number``), in Chinese — every problem at once."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from core import divisions
from core.errors import InvalidInput
from core.forms.checks import (
    CheckFailed,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
)
from core.forms.model import TODAY, Condition, FormField, date_bound

__all__ = ["Filled", "FormInvalid", "fill", "is_empty", "require_valid", "visible"]

_YES = {"yes", "true", "1", "on", "是", "y"}
_NO = {"no", "false", "0", "off", "否", "n"}


class FormInvalid(InvalidInput):
    """Every problem of a form: ``problems`` maps each field path to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        first = next(iter(problems.values()))
        detail = (
            first if len(problems) == 1 else f"还有 {len(problems)} 处需要填写或修改：{first}等"
        )
        super().__init__(detail, field=next(iter(problems)), fields=list(problems))
        self.problems = problems


@dataclass
class Filled:
    values: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not any(
            not is_empty(v) for v in (value.values() if isinstance(value, dict) else value)
        )
    return False


def _holds(condition: Condition, values: dict[str, Any]) -> bool:
    value = values.get(condition.field)
    if condition.any_of:
        if isinstance(value, list):
            return any(str(v) in condition.any_of for v in value)
        return str(value) in condition.any_of
    if condition.equals is not None:
        if isinstance(value, bool) or isinstance(condition.equals, bool):
            return value is condition.equals or str(value).lower() == str(condition.equals).lower()
        return str(value) == str(condition.equals)
    return not is_empty(value)


def visible(f: FormField, values: dict[str, Any]) -> bool:
    """Whether ``f`` is shown, given the values of the fields before it."""
    return all(_holds(c, values) for c in f.show_when)


def _text(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip() if value is not None else ""


def _number(f: FormField, text: str, whole: bool) -> Any:
    try:
        number = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise CheckFailed("应为整数" if whole else "应为金额（元）") from None
    if whole and number != number.to_integral_value():
        raise CheckFailed("应为整数")
    exponent = number.as_tuple().exponent
    if not whole and isinstance(exponent, int) and exponent < -2:
        raise CheckFailed("金额最多到分（两位小数）")
    if f.min is not None and number < Decimal(f.min):
        raise CheckFailed(f"不能小于 {f.min}")
    if f.max is not None and number > Decimal(f.max):
        raise CheckFailed(f"不能大于 {f.max}")
    return int(number) if whole else f"{number:.2f}"


#: what a check's message starts with when it stands alone; after the field's label it is
#: said once: 「统一社会信用代码」有误…, not 「统一社会信用代码」统一社会信用代码有误…
_CHECKED_NOUNS = ("身份证号码", "统一社会信用代码", "手机号码")


def _after_label(message: str) -> str:
    for noun in _CHECKED_NOUNS:
        if message.startswith(noun):
            return message[len(noun) :]
    return message


def _date(f: FormField, text: str) -> str:
    try:
        day = date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise CheckFailed("请按 年-月-日 填写日期，如 2026-12-02") from None
    if f.min and day < (earliest := date_bound(f.min)):
        raise CheckFailed("不能早于今天" if f.min.lower() == TODAY else f"不能早于 {earliest}")
    if f.max and day > (latest := date_bound(f.max)):
        raise CheckFailed("不能晚于今天" if f.max.lower() == TODAY else f"不能晚于 {latest}")
    return day.isoformat()


def _choices(f: FormField, value: Any) -> Any:
    allowed = {o.value for o in f.options}
    if f.type == "choice":
        text = _text(value)
        if text not in allowed:
            raise CheckFailed("请从选项中选择")
        return text
    chosen = [value] if isinstance(value, str) else list(value or [])
    chosen = [_text(v) for v in chosen if _text(v)]
    if any(v not in allowed for v in chosen):
        raise CheckFailed("请从选项中选择")
    if f.min is not None and len(chosen) < int(f.min):
        raise CheckFailed(f"至少选择 {f.min} 项")
    if f.max is not None and len(chosen) > int(f.max):
        raise CheckFailed(f"最多选择 {f.max} 项")
    return [o.value for o in f.options if o.value in chosen]  # the form's order


def _yesno(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CheckFailed("请选择“是”或“否”")


def _address(f: FormField, value: Any) -> dict[str, str]:
    data = value if isinstance(value, dict) else {}
    division, street = _text(data.get("division")), _text(data.get("street"))
    if not divisions.is_county(division):
        raise CheckFailed("请选择所在的省、市、县（区）")
    if not street:
        raise CheckFailed("请填写街道、门牌等详细地址")
    if len(street) > 200:
        raise CheckFailed("详细地址不能超过 200 字")
    return {"division": division, "street": street, "text": divisions.names(division) + street}


def _plain_text(f: FormField, value: Any) -> str:
    # as typed: full-width punctuation is how Chinese is written; a patterned field (a
    # number of some kind) is folded to half-width first, as people type it both ways
    text = _text(value) if f.pattern else str(value).strip()
    if f.min_length is not None and len(text) < f.min_length:
        raise CheckFailed(f"至少 {f.min_length} 个字")
    limit = f.max_length or (2000 if f.type == "textarea" else 200)
    if len(text) > limit:
        raise CheckFailed(f"不能超过 {limit} 个字")
    if f.pattern and not re.fullmatch(f.pattern, text):
        raise CheckFailed(f.pattern_message or "格式不正确")
    return text


def _convert(f: FormField, value: Any) -> Any:
    """One non-empty value of a field other than a table: converted, or CheckFailed."""
    if f.type in ("text", "textarea"):
        return _plain_text(f, value)
    if f.type in ("integer", "money"):
        return _number(f, _text(value), whole=f.type == "integer")
    if f.type == "date":
        return _date(f, _text(value))
    if f.type in ("choice", "multichoice"):
        return _choices(f, value)
    if f.type == "yesno":
        return _yesno(value)
    if f.type == "id_number":
        return normalize_id_number(str(value))
    if f.type == "mobile":
        return normalize_mobile(str(value))
    if f.type == "credit_code":
        return normalize_credit_code(str(value))
    if f.type == "address":
        return _address(f, value)
    raise CheckFailed("无法识别的字段类型")


def _rows(f: FormField, value: Any, path: str, complete: bool, out: Filled) -> list[Any]:
    rows = value if isinstance(value, list) else []
    kept: list[dict[str, Any]] = []
    for row in rows:
        if isinstance(row, dict) and not is_empty(row):
            kept.append(_fill(f.columns, row, complete, f"{path}[{len(kept)}]", out))
    if complete and len(kept) < max(f.min_rows, 1 if f.required else 0):
        out.problems[path] = f"「{f.label}」至少填写 {max(f.min_rows, 1)} 行"
    if len(kept) > f.max_rows:
        out.problems[path] = f"「{f.label}」最多 {f.max_rows} 行"
    return kept


def _fill(
    fields: list[FormField], raw: dict[str, Any], complete: bool, prefix: str, out: Filled
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields:
        if not f.holds_value or not visible(f, values):
            continue
        path = f"{prefix}.{f.key}"
        value = raw.get(f.key)
        if f.type == "address" and isinstance(value, dict) and not _text(value.get("street")):
            value = None  # the county lists start at the hall's own: nothing typed yet
        if f.type == "table":
            rows = _rows(f, value, path, complete, out)
            if rows:
                values[f.key] = rows
            continue
        if is_empty(value):
            if complete and f.required:
                out.problems[path] = f"请填写「{f.label}」"
            continue
        try:
            values[f.key] = _convert(f, value)
        except CheckFailed as exc:
            out.problems[path] = f"「{f.label}」{_after_label(exc.args[0])}"
    known = {f.key for f in fields if f.holds_value}
    for key in raw:
        if key not in known:  # named last: the page shows problems in the form's order
            out.problems[f"{prefix}.{key}"] = f"申请表中没有「{key}」这一项"
    return values


def fill(
    fields: list[FormField], raw: dict[str, Any] | None, *, complete: bool, prefix: str = "form"
) -> Filled:
    """What ``raw`` holds of the form: ``complete`` (a submission) also requires every
    required visible field; a draft keeps what is right and names what is wrong. A key the
    form does not have is named too. An item that defines no form keeps what it is sent as
    it is (a free-form object, as before forms were data)."""
    out = Filled()
    if not fields:
        out.values = dict(raw or {})
        return out
    out.values = _fill(fields, dict(raw or {}), complete, prefix, out)
    return out


def require_valid(
    fields: list[FormField], raw: dict[str, Any] | None, *, complete: bool, prefix: str = "form"
) -> dict[str, Any]:
    """The converted values, or :class:`FormInvalid` naming every problem."""
    filled = fill(fields, raw, complete=complete, prefix=prefix)
    if filled.problems:
        raise FormInvalid(filled.problems)
    return filled.values
