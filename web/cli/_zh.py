"""The command line's own words in Chinese: click's headings, help option and refusals.

click asks :func:`gettext.gettext` for each of its messages; its modules import it as ``_``
(and ``ngettext``), so pointing those names at this table makes ``govhall --help``, a missing
option or a bad value read in Chinese. Command and option names stay as typed.
"""

from __future__ import annotations

from typing import Any

import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types
import click.utils

__all__ = ["install"]

MESSAGES = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "Did you mean {possibility}?": "是否想输入 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是否想输入其中之一：{possibilities}？）",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "argument": "参数",
    "option": "选项",
    "parameter": "参数",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值不对：{message}",
    "Invalid value: {message}": "值不对：{message}",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Got unexpected extra argument ({args})": "多出了参数（{args}）",
    "Got unexpected extra arguments ({args})": "多出了参数（{args}）",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "{value!r} is not one of {choices}.": "{value!r} 不是可选的值：{choices}。",
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "integer": "整数",
    "float": "数字",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} 不是是或否的值，可用：{states}"
    ),
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的编号。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 之内。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，应为文件夹。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹，应为文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 无法写入。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 无法执行。",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "default": "默认",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "env var: {var}": "环境变量：{var}",
    "Aborted!": "已取消。",
    "Repeat for confirmation": "再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Error: invalid input": "错误：输入无效",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不再询问，直接确认。",
    "Press any key to continue...": "按任意键继续……",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
}


def zh(message: str) -> str:
    return MESSAGES.get(message, message)


def zh_plural(singular: str, plural: str, n: int) -> str:
    return zh(singular if n == 1 else plural)


_MODULES = (
    click.core,
    click.decorators,
    click.exceptions,
    click.formatting,
    click.parser,
    click.termui,
    click.types,
    click.utils,
)


def install() -> None:
    """Point click's message lookups at :data:`MESSAGES`; usage lines say ``[选项]``."""
    for module in _MODULES:
        if hasattr(module, "_"):
            module._ = zh  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = zh_plural  # type: ignore[attr-defined]
    for cls in (click.core.Command, click.core.Group):
        original = cls.__dict__.get("collect_usage_pieces")
        if original is None or getattr(original, "_govhall", False):
            continue
        cls.collect_usage_pieces = _translated(original)  # type: ignore[method-assign]


_PIECES = {
    "[OPTIONS]": "[选项]",
    "COMMAND [ARGS]...": "命令 [参数]...",
    "SUBCOMMAND [ARGS]...": "命令 [参数]...",
}


def _translated(original: Any) -> Any:
    def collect_usage_pieces(self: click.core.Command, ctx: click.Context) -> list[str]:
        return [_PIECES.get(p, p) for p in original(self, ctx)]

    collect_usage_pieces._govhall = True  # type: ignore[attr-defined]
    return collect_usage_pieces
