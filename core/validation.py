"""msgspec's and the JSON decoder's English, said in Chinese with the field it is about.

``Object missing required field `code` - at `$.departments[0]``` reads
``departments[0].code: 缺少必填项``; a body that is no JSON at all reads :data:`JSON_NOT_VALID`.
The API's error handler, the SMS webhooks and plugin configuration use it, so that nobody is
shown the library's words (the English stays in the log)."""

from __future__ import annotations

import re

__all__ = ["JSON_NOT_VALID", "explain", "plain"]

JSON_NOT_VALID = "请求内容不是有效的 JSON，请检查括号、引号和逗号"

_AT = re.compile(r"\s+-\s+at\s+`\$(?P<path>[^`]*)`\s*$")
_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `(?P<name>[^`]+)`")
_LENGTH = re.compile(r"^Expected `(?P<kind>[a-z]+)[^`]*` of length (?P<op>[<>]=?) (?P<n>\d+)")
_BOUND = re.compile(r"^Expected `(?:int|float)[^`]*` (?P<op>[<>]=?) (?P<n>-?[\d.]+)")

#: what a value of the wrong shape is, by the start of msgspec's message
_SHAPES = (
    ("Object missing required field", "缺少必填项"),
    ("Object contains unknown field", "不是可用的字段"),
    ("Expected `int", "应为整数"),
    ("Expected `float", "应为数字"),
    ("Expected `bool", "应为 true 或 false"),
    ("Expected `str", "应为文字"),
    ("Expected `array", "应为列表"),
    ("Expected `object", "应为对象"),
    ("Expected `null", "应为空"),
    ("Invalid enum value", "不是允许的取值"),
    ("Invalid UUID", "不是有效的编号"),
    ("Invalid RFC3339", "不是有效的日期时间"),
    ("Invalid ISO8601", "不是有效的日期"),
    ("Missing required", "缺少必填项"),
)
_BOUNDS = {">=": "不能小于 {}", "<=": "不能大于 {}", ">": "应大于 {}", "<": "应小于 {}"}


def _words(message: str) -> str:
    if length := _LENGTH.match(message):
        n, op, text = int(length["n"]), length["op"], length["kind"] == "str"
        unit = "个字" if text else "项"
        if op in (">=", ">") and n <= 1:
            return "不能为空"
        return f"{'最多' if op.startswith('<') else '至少'} {n} {unit}"
    if bound := _BOUND.match(message):
        return _BOUNDS[bound["op"]].format(bound["n"])
    if "matching regex" in message:
        return "格式不正确"
    for english, chinese in _SHAPES:
        if message.startswith(english) or english in message:
            return chinese
    return "格式不正确"


def explain(message: str, *, strip: str = "") -> tuple[str, str]:
    """(the field's path, what is wrong with it) from a msgspec validation message; ``strip``
    is a leading part of the path to leave out (``.data``: the handler's body parameter)."""
    path = ""
    if at := _AT.search(message):
        path, message = at["path"], message[: at.start()]
    if strip and (path == strip or path.startswith((strip + ".", strip + "["))):
        path = path[len(strip) :]
    path = path.lstrip(".")
    if named := _FIELD.match(message):
        path = f"{path}.{named['name']}" if path else named["name"]
    return path, _words(message)


def plain(message: str, *, strip: str = "") -> str:
    """``path: what is wrong``, or what is wrong alone when the whole value is."""
    path, words = explain(message, strip=strip)
    return f"{path}: {words}" if path else words
