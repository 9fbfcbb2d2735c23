"""What applying a pack changes in one tenant, as lines a person reads.

``+ 新增 …`` something the pack adds, ``~ 修改 … ：旧 → 新`` something it overrides, ``- 删除 …``
something it removes (only a tenant's host names: the pack names the whole list), and
``= … （仅线上存在，保留）`` something that exists only in the live state and that applying
leaves alone. Personal data is masked, plugin secrets are never shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Change", "TenantChanges", "masked_phone", "shown"]

Sign = Literal["+", "~", "-", "="]

_VERBS = {"+": "新增", "~": "修改", "-": "删除", "=": ""}
KEPT = "（仅线上存在，保留）"


@dataclass(frozen=True)
class Change:
    sign: Sign
    text: str

    def __str__(self) -> str:
        verb = _VERBS[self.sign]
        return f"{self.sign} {verb} {self.text}" if verb else f"{self.sign} {self.text}"


@dataclass
class TenantChanges:
    """The lines of one tenant's pack: ``changes`` are what applying writes, ``notes`` what
    it leaves alone (live-only objects, a status the lifecycle does not allow going back to)."""

    slug: str
    name: str
    created: bool = False
    changes: list[Change] = field(default_factory=list)
    notes: list[Change] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.changes.append(Change("+", text))

    def modify(self, what: str, old: Any, new: Any) -> None:
        self.changes.append(Change("~", f"{what}：{shown(old)} → {shown(new)}"))

    def modify_text(self, text: str) -> None:
        self.changes.append(Change("~", text))

    def remove(self, text: str) -> None:
        self.changes.append(Change("-", text))

    def keep(self, text: str) -> None:
        self.notes.append(Change("=", text + KEPT))

    def note(self, text: str) -> None:
        self.notes.append(Change("=", text))

    @property
    def lines(self) -> list[str]:
        return [str(c) for c in (*self.changes, *self.notes)]


def shown(value: Any) -> str:
    """A value as a line shows it: 是/否, （空）, lists joined with 、, tables as JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return "（空）"
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= 80 else text[:77] + "…"
    return str(value)


def masked_phone(phone: str | None) -> str:
    """``138****0008``; nothing for no phone."""
    if not phone:
        return "（空）"
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "*" * len(phone)
