"""docs/operations.md's settings table is the whole of ``core.config.Settings``, and the
settings it lists do what it says."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from core.config import Settings, _from_env

DOC = Path(__file__).resolve().parents[1] / "docs" / "operations.md"


def _table_rows() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n### ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if line.startswith("| `GOVHALL_"):
            for name in re.findall(r"`GOVHALL_([A-Z0-9_]+)`", line.split("|")[1]):
                rows[name.lower()] = line
    return rows


def test_the_settings_table_lists_every_setting_and_no_other() -> None:
    fields = {f.name for f in msgspec.structs.fields(Settings)}
    assert set(_table_rows()) == fields


def test_the_table_is_one_table() -> None:
    """A blank line inside it ends a Markdown table: the rows after it read as a paragraph."""
    section = DOC.read_text(encoding="utf-8").split("| variable | default | meaning |", 1)[1]
    table = section.split("\n\n", 1)[0]
    assert table.count("| `GOVHALL_") == len(_table_rows())


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"GOVHALL_DEFAULT_LANG": "fr"}, "GOVHALL_DEFAULT_LANG"),
        ({"GOVHALL_ARGON2_PROFILE": "fast"}, "GOVHALL_ARGON2_PROFILE"),
        ({"GOVHALL_SCHEDULER_INTERVAL": "0"}, "GOVHALL_SCHEDULER_INTERVAL"),
    ],
)
def test_a_value_the_platform_cannot_use_is_named_at_start(env, problem) -> None:
    assert any(problem in p for p in _from_env(env).check())


def test_production_refuses_the_test_password_profile() -> None:
    settings = _from_env({"GOVHALL_ENV": "production", "GOVHALL_ARGON2_PROFILE": "test"})
    assert any("GOVHALL_ARGON2_PROFILE" in p for p in settings.check())
