"""A tenant's own items written from plain dicts — a tenant pack's ``items`` or a plugin's
``register_items`` — idempotently: new ones created and published, changed ones given a new
version, unchanged ones left alone."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalog.codes import check_code
from core.catalog.content import parse_content
from core.catalog.models import Item
from core.catalog.service import categories, create_item, departments, publish_item, save_draft
from core.errors import GovhallError
from core.tenancy import Tenant

__all__ = ["ItemProblem", "sync_own_items"]


class ItemProblem(GovhallError):
    """One item of the list is refused: ``index`` says which, the cause says why."""

    def __init__(self, index: int, cause: GovhallError) -> None:
        super().__init__(cause.detail, field=cause.field)
        self.index = index
        self.cause = cause


def sync_own_items(session: Session, tenant: Tenant, items: list[dict[str, Any]], note: str) -> int:
    """Create or update each item (``code`` plus content); returns how many changed."""
    changed = 0
    known_categories = set(categories(session))
    known_departments = set(departments(session, tenant))
    for i, raw in enumerate(items):
        entry = dict(raw)
        try:
            code = check_code(str(entry.pop("code", "")))
            wanted = parse_content(
                entry, categories=known_categories, departments=known_departments
            )
            item = session.scalar(
                select(Item).where(Item.tenant_id == tenant.id, Item.code == code)
            )
            if item is None:
                create_item(session, tenant, code=code, content=entry, publish=True)
                changed += 1
            elif item.effective != msgspec.to_builtins(wanted):
                save_draft(session, tenant, item, entry, note=note)
                publish_item(session, tenant, item)
                changed += 1
        except GovhallError as exc:
            raise ItemProblem(i, exc) from exc
    return changed
