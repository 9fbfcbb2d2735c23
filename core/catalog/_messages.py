"""Validation messages in Chinese: msgspec's English refusals ("Expected `str` of length <= 200
- at `$.name`") turned into what a county clerk reads, with the field path kept for the API."""

from __future__ import annotations

import re

__all__ = ["explain_validation", "field_phrase", "tidy_name"]

#: Item content fields and the parts of materials, fees and responsibilities, in Chinese.
FIELD_NAMES = {
    "name": "事项名称",
    "kind": "事项类型",
    "category": "事项类别",
    "department": "实施部门",
    "implementing_body": "承办机构",
    "legal_basis": "设定依据",
    "conditions": "办理条件",
    "materials": "申报材料",
    "fees": "收费",
    "legal_days": "法定时限",
    "promised_days": "承诺时限",
    "levels": "受理层级",
    "channels": "办理渠道",
    "delivery": "送达方式",
    "result_license": "办理结果",
    "process": "办理流程",
    "contacts": "咨询方式",
    "office_hours": "办公时间",
    "keywords": "关键词",
    "responsibilities": "责任清单",
    "form": "申请表",
    "license_fields": "证照内容",
}
_PART_NAMES = {
    "name": "名称",
    "required": "要求",
    "condition": "条件",
    "form": "形式",
    "copies": "份数",
    "template_key": "表单模板",
    "license_type": "电子证照",
    "note": "说明",
    "amount": "金额",
    "basis": "依据",
    "duty": "责任事项",
    "cases": "追责情形",
    "body": "追责主体",
    "liability": "应负责任",
}
_TYPES = {
    "str": "文字",
    "int": "整数",
    "float": "数字",
    "bool": "是或否",
    "array": "列表",
    "object": "一组字段",
    "null": "空",
}
_PATH_PART = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")


def field_phrase(path: str | None) -> str:
    """``materials[0].copies`` → 申报材料第 1 条的份数; ``name`` → 事项名称."""
    if not path:
        return ""
    words = []
    for i, part in enumerate(path.split(".")):
        match = _PATH_PART.fullmatch(part)
        if match is None:
            return path
        key, index = match.groups()
        label = (FIELD_NAMES if i == 0 else _PART_NAMES).get(key, key)
        words.append(label + (f"第 {int(index) + 1} 条" if index is not None else ""))
    return "的".join(words)


def explain_validation(message: str) -> tuple[str | None, str]:
    """(field path, Chinese message) for one of msgspec's validation messages."""
    text, _, where = message.partition(" - at `$")
    path = where.rstrip("`").lstrip(".") or None
    if m := re.match(r"Object missing required field `(\w+)`", text):
        path = f"{path}.{m[1]}" if path else m[1]
        return path, f"缺少{field_phrase(path)}"
    if m := re.match(r"Object contains unknown field `(\w+)`", text):
        path = f"{path}.{m[1]}" if path else m[1]
        return path, f"没有「{m[1]}」这一项"
    subject = field_phrase(path) or "内容"
    if m := re.match(r"Expected `\w+` of length <= (\d+)", text):
        return path, f"{subject}最多 {m[1]} 个字"
    if re.match(r"Expected `\w+` of length >= 1", text):
        return path, f"{subject}不能为空"
    if m := re.match(r"Expected `\w+` of length >= (\d+)", text):
        return path, f"{subject}至少 {m[1]} 个字"
    if m := re.match(r"Expected `\w+` >= (-?[\d.]+)", text):
        return path, f"{subject}不能小于 {m[1]}"
    if m := re.match(r"Expected `\w+` <= (-?[\d.]+)", text):
        return path, f"{subject}不能大于 {m[1]}"
    if m := re.match(r"Invalid enum value '(.*)'", text):
        return path, f"{subject}不能是「{m[1]}」"
    if re.match(r"Expected `\w+` matching regex", text):
        return path, f"{subject}的写法不对"
    if m := re.match(r"Expected `([\w | ]+)`, got `(\w+)`", text):
        wanted = "或".join(_TYPES.get(t.strip(), t.strip()) for t in m[1].split("|"))
        return path, f"{subject}应为{wanted}"
    return path, f"{subject}的写法不对"


_CJK = r"\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")


def tidy_name(text: str) -> str:
    """Names as search and people expect them: spaces (full-width ones too) between Chinese
    characters go — 户口　迁移 is 户口迁移 — and any other run of spaces becomes one."""
    return _SPACES.sub(" ", _SPACE_BETWEEN_CJK.sub("", text)).strip()
