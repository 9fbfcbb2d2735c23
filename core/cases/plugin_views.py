"""How ``core.plugins.Lookup`` reads items and cases: frozen copies, never ORM objects.

The plugin machinery stands below the catalog and the cases, so these readers are handed to
it at start-up (:func:`install`, called by ``core.effects.install``)."""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.models import Case
from core.catalog.models import Item, ItemStatus
from core.plugins.query import CaseView, ItemView, provide_readers
from core.tenancy import Tenant

__all__ = ["case_view", "install", "item_view"]


def item_view(session: Session, tenant: Tenant, code: str) -> ItemView | None:
    item = session.scalar(select(Item).where(Item.tenant_id == tenant.id, Item.code == code))
    if item is None:
        return None
    content: dict[str, Any] = copy.deepcopy(item.effective or {})
    return ItemView(
        code=item.code,
        name=item.name,
        status=str(item.status.value),
        live=item.status is ItemStatus.active and item.live_version_id is not None,
        department=item.department_code,
        category=item.category,
        process=str(content.get("process") or ""),
        promised_days=item.promised_days,
        legal_days=item.legal_days,
        form=tuple(MappingProxyType(f) for f in content.get("form") or [] if isinstance(f, dict)),
        content=MappingProxyType(content),
    )


def case_view(session: Session, tenant: Tenant, number: str) -> CaseView | None:
    case = session.scalar(select(Case).where(Case.tenant_id == tenant.id, Case.number == number))
    if case is None:
        return None
    waybill = (case.tracking or {}).get("tracking_number")
    return CaseView(
        number=case.number,
        item=case.item_code,
        item_name=case.item_name,
        state=str(case.state.value),
        department=case.department_code,
        bundle=case.bundle_code,
        delivery=case.delivery_method,
        tracking_number=str(waybill) if waybill else None,
        submitted_at=case.submitted_at,
        due_on=case.due_on,
        completed_at=case.completed_at,
        delivered_at=case.delivered_at,
        decision=case.decision,
    )


def install() -> None:
    """Hand the readers to ``core.plugins.query`` (idempotent)."""
    provide_readers(item=item_view, case=case_view)
