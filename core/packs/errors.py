"""The one error a tenant pack refuses with: every problem found, nothing applied; and the
TOML reader's and msgspec's English refusals said in Chinese (the field path is kept: it is
what the operator typed in the file)."""

from __future__ import annotations

import re

from core.errors import GovhallError

__all__ = ["PackError", "field_problem", "toml_problem"]


class PackError(GovhallError):
    """Every problem found, each naming its file and field; nothing was applied."""

    code = "invalid_pack"
    status = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


_TYPES = {
    "str": "文字",
    "int": "整数",
    "float": "数字",
    "bool": "true 或 false",
    "array": "列表",
    "object": "表",
    "null": "空",
}


def toml_problem(exc: Exception) -> str:
    """``Expected '=' … (at line 2, column 6)`` → 第 2 行第 6 列附近的写法不是有效的 TOML."""
    where = re.search(r"at line (\d+), column (\d+)", str(exc))
    if where:
        return f"第 {where[1]} 行第 {where[2]} 列附近的写法不是有效的 TOML"
    return "不是有效的 TOML 文件"


def field_problem(message: str) -> str:
    """msgspec's ``Expected `str`, got `int` - at `$.units[0].code``` → units[0].code：应为文字."""
    text, _, where = message.partition(" - at `$")
    path = where.rstrip("`").lstrip(".")
    if m := re.match(r"Object missing required field `(\w+)`", text):
        return f"{path + '.' if path else ''}{m[1]}：缺少这一项"
    if m := re.match(r"Object contains unknown field `(\w+)`", text):
        return f"{path + '.' if path else ''}{m[1]}：没有这一项（请检查拼写）"
    prefix = f"{path}：" if path else ""
    if m := re.match(r"Expected `\w+` of length <= (\d+)", text):
        return f"{prefix}最多 {m[1]} 个字"
    if re.match(r"Expected `\w+` of length >= 1\b", text):
        return f"{prefix}不能为空"
    if m := re.match(r"Expected `\w+` of length >= (\d+)", text):
        return f"{prefix}至少 {m[1]} 个字"
    if m := re.match(r"Invalid enum value '(.*)'", text):
        return f"{prefix}不能是「{m[1]}」"
    if re.match(r"Expected `\w+` matching regex", text):
        return f"{prefix}写法不对"
    if m := re.match(r"Expected `([\w | ]+)`, got `(\w+)`", text):
        wanted = "或".join(_TYPES.get(t.strip(), t.strip()) for t in m[1].split("|"))
        return f"{prefix}应为{wanted}"
    return f"{prefix}写法不对"
