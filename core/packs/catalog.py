"""The catalog part of a tenant pack (``catalog.toml``): idempotent like the rest."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalog import (
    DepartmentDuty,
    Item,
    Theme,
    adopt_item,
    overrides_of,
    publish_item,
    save_draft,
)
from core.catalog.service import departments
from core.catalog.sync import ItemProblem, sync_own_items
from core.db import new_id
from core.errors import GovhallError
from core.packs.errors import PackError
from core.packs.schema import CatalogFile
from core.tenancy import Tenant

__all__ = ["sync_catalog"]


def _problem(path: Path, where: str, exc: GovhallError) -> GovhallError:
    field = f".{exc.field}" if exc.field else ""
    return PackError([f"{path}: {where}{field}: {exc.detail}"])


def sync_catalog(session: Session, tenant: Tenant, catalog: CatalogFile, path: Path) -> int:
    known_departments = set(departments(session, tenant))
    try:
        changed = sync_own_items(session, tenant, catalog.items, note="租户包更新")
    except ItemProblem as exc:
        raise _problem(path, f"items[{exc.index}]", exc.cause) from exc
    for i, adopt in enumerate(catalog.adopt):
        code = adopt.code or adopt.standard
        try:
            item = session.scalar(
                select(Item).where(Item.tenant_id == tenant.id, Item.code == code)
            )
            if item is None:
                adopt_item(session, tenant, adopt.standard, overrides=adopt.overrides, code=code)
                changed += 1
            elif overrides_of(session, item) != adopt.overrides:
                save_draft(session, tenant, item, adopt.overrides, note="租户包更新")
                publish_item(session, tenant, item)
                changed += 1
        except GovhallError as exc:
            raise _problem(path, f"adopt[{i}]", exc) from exc
    codes = set(session.scalars(select(Item.code).where(Item.tenant_id == tenant.id)))
    for i, theme in enumerate(catalog.themes):
        missing = [c for c in theme.items if c not in codes]
        if missing:
            raise _problem(
                path, f"themes[{i}]", GovhallError(f"unknown items {missing}", field="items")
            )
        row = session.scalar(
            select(Theme).where(Theme.tenant_id == tenant.id, Theme.code == theme.code)
        )
        if row is None:
            row = Theme(tenant_id=tenant.id, id=new_id(), code=theme.code, name=theme.name)
            session.add(row)
            changed += 1
        if (row.name, row.description, row.item_codes) != (
            theme.name,
            theme.description,
            theme.items,
        ):
            row.name, row.description, row.item_codes = theme.name, theme.description, theme.items
            changed += 1
    existing = {
        (d.department_code, d.kind, d.title)
        for d in session.scalars(
            select(DepartmentDuty).where(DepartmentDuty.tenant_id == tenant.id)
        )
    }
    for i, duty in enumerate(catalog.duties):
        if duty.department not in known_departments:
            raise _problem(
                path,
                f"duties[{i}]",
                GovhallError(f"unknown department '{duty.department}'", field="department"),
            )
        if (duty.department, duty.kind, duty.title) not in existing:
            existing.add((duty.department, duty.kind, duty.title))
            session.add(
                DepartmentDuty(
                    tenant_id=tenant.id,
                    id=new_id(),
                    department_code=duty.department,
                    kind=duty.kind,
                    title=duty.title,
                    detail=duty.detail,
                )
            )
            changed += 1
    session.flush()
    return changed
