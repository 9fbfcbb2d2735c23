"""The README and docs/architecture.md say what the code does: the plugins listed are the
entry points, the commands listed are the CLI's, the layers drawn are the ones enforced."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_readme_lists_every_in_tree_plugin_and_no_other() -> None:
    row = next(line for line in README.splitlines() if line.startswith("| `plugins/`"))
    listed = set(re.findall(r"`([a-z_]+)` \(", row))
    assert listed == set(PYPROJECT["project"]["entry-points"]["govhall"])


def _cli_commands() -> set[str]:
    from web.cli import main

    out: set[str] = set()

    def walk(command: click.Command, path: list[str]) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
        else:
            out.add(" ".join(path))

    walk(main, [])
    return out


def test_the_readme_lists_every_command_and_no_other() -> None:
    block = README.split("## Commands", 1)[1].split("```", 2)[1]
    listed = set()
    for line in block.splitlines():
        words = line.split("#")[0].split()
        if words[:1] != ["govhall"]:
            continue
        command = [w for w in words[1:3] if re.fullmatch(r"[a-z-]+", w)]
        if command and " ".join(command) not in _cli_commands():
            command = command[:1]
        listed.add(" ".join(command))
    assert listed == _cli_commands()


def test_the_architecture_page_draws_the_enforced_layers() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = page.split("```layers", 1)[1].split("```", 1)[0]
    drawn = [line.strip() for line in block.splitlines() if line.strip()]
    contract = next(
        c for c in PYPROJECT["tool"]["importlinter"]["contracts"] if c.get("containers") == ["core"]
    )
    assert drawn == contract["layers"]
