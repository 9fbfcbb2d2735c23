"""Whether an item can be applied for now, as far as plugins decide it: an item a missing or
incompatible plugin put into the catalog, or whose process definition came from one (or is
found nowhere), is 暂停办理 — listed with that state and a Chinese explanation, refused with
503 ``item_suspended`` — until the plugin is back. Never a missing page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.plugins.status import unavailable_codes
from core.tenancy import Tenant
from core.workflow import ProcessUnavailable, resolve_definition

__all__ = ["SUSPENDED", "ItemSuspended", "check_available", "suspended_items", "suspension"]

#: what a citizen reads of an item suspended so (the pages word it through the catalog)
SUSPENDED = "该事项暂停办理：办理它所需的系统功能暂时不可用。请稍后再试，或到办事窗口咨询。"


class ItemSuspended(ProcessUnavailable):
    """Applying for an item that is 暂停办理 (503, ``item_suspended``)."""


def suspension(session: Session, tenant: Tenant, code: str, content: dict[str, Any]) -> str:
    """Why the item cannot be applied for now ("" when it can): its plugin is missing or not
    compatible, or its process definition is found nowhere."""
    process = str(content.get("process") or "short")
    unavailable = unavailable_codes(session, tenant)
    if f"item:{code}" in unavailable or f"process:{process}" in unavailable:
        return SUSPENDED
    try:
        resolve_definition(session, tenant, process)
    except ProcessUnavailable:
        return SUSPENDED
    return ""


def suspended_items(session: Session, tenant: Tenant) -> frozenset[str]:
    """The codes of the items a missing or incompatible plugin put into the catalog: what a
    result list marks 暂停办理 without resolving each item's process (the guide does that)."""
    return frozenset(
        key.removeprefix("item:")
        for key in unavailable_codes(session, tenant)
        if key.startswith("item:")
    )


def check_available(session: Session, tenant: Tenant, code: str, content: dict[str, Any]) -> None:
    """Refuse (503 :class:`ItemSuspended`) an application for an item that is 暂停办理."""
    reason = suspension(session, tenant, code, content)
    if reason:
        raise ItemSuspended(reason, field="item")
