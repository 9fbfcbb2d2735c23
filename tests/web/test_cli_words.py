"""The command line speaks Chinese: every command's help, click's own words and a few
refusals carry no English sentence (command and option names, metavars, and names such as
JSON, TOML or otpauth:// are allowed)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from core.db import Database

#: three English words in a row make a sentence
_SENTENCE = re.compile(r"[A-Za-z][a-z]+(?:[ ,'’]+[A-Za-z][a-z]+){2,}")
_ALLOWED = re.compile(
    r"--?[a-z][a-z-]*"  # option names
    r"|\b[A-Z][A-Z_]+\b"  # metavars and acronyms
    r"|[a-z0-9_.-]+@[A-Z0-9-]+"  # role@UNIT
    r"|\b[a-z]+:[a-z]+\b|[a-z]+://\S*"  # scopes (cases:read), URIs
    r"|\b[a-z]+_[a-z_]+\b"  # values such as window_clerk, client_credentials
    r"|OpenID Connect|OAuth"
)


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def _english(output: str) -> list[str]:
    names = {w for p in _commands(_main()) for w in p} | {"govhall"}
    bad = []
    for line in output.splitlines():
        if line.lstrip().startswith("用法："):
            continue  # the usage line is the command's syntax
        text = _ALLOWED.sub(" ", line)
        text = " ".join(w for w in text.split() if w not in names)
        bad += _SENTENCE.findall(text)
    return bad


def _main() -> click.Group:
    from web.cli import main

    return main


def test_every_command_explains_itself_in_chinese() -> None:
    runner = CliRunner()
    for path in _commands(_main()):
        result = runner.invoke(_main(), [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "用法：" in result.output and "显示本帮助并退出" in result.output, path
        assert _english(result.output) == [], (path, result.output)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["no-such-command"], "没有命令"),
        (["tenants", "apply"], "缺少参数"),
        (["tenants", "apply", "/no/such/folder"], "没有这个文件夹"),
        (["tenants", "export", "no-such-county", "DIR"], ""),
        (["tenants", "list", "--no-such-option"], "没有选项"),
        (["plugins", "enable", "--tenant", "hechi", "no_such_plugin"], "没有名为"),
        (["plugins", "enable", "--tenant", "hechi", "sms_console", "--config", "{bad"], "JSON"),
        (
            [
                "users",
                "create",
                "--tenant",
                "hechi",
                "--username",
                "X!",
                "--name",
                "张三",
                "--password",
                "Demo-2026",
            ],
            "用户名",
        ),
        (["users", "totp", "--tenant", "hechi", "--username", "nobody"], "没有工作人员"),
        (["cases", "verify", "--tenant", "hechi", "NO-SUCH-CASE"], "办件不存在"),
        (["catalog", "export", "--tenant", "hechi", "items.txt"], ".csv"),
        (["tenants", "onboard", "--parent", "hechi"], "缺少选项"),
        (
            [
                "clients",
                "register",
                "--tenant",
                "hechi",
                "--name",
                "办事",
                "--redirect-uri",
                "http://example.com/cb",
            ],
            "回调地址",
        ),
        (
            [
                "clients",
                "register",
                "--tenant",
                "hechi",
                "--name",
                "办事",
                "--public",
                "--grant",
                "client_credentials",
            ],
            "公开应用",
        ),
    ],
)
def test_refusals_are_in_chinese(
    db: Database, tmp_path: Path, args: list[str], expected: str
) -> None:
    args = [str(tmp_path / "out") if a == "DIR" else a for a in args]
    result = CliRunner().invoke(_main(), args)
    assert result.exit_code != 0, result.output
    assert expected in result.output, result.output
    assert "错误" in result.output or "✗" in result.output, result.output
    assert _english(result.output) == [], result.output
