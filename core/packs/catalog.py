"""The catalog part of a tenant pack (``catalog.toml``): idempotent like the rest, each change
said as a line of the diff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
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
from core.catalog.content import parse_content
from core.catalog.presentation import FIELD_LABELS
from core.catalog.service import categories, departments
from core.catalog.sync import ItemProblem, sync_own_items
from core.db import new_id
from core.errors import GovhallError
from core.packs.changes import TenantChanges
from core.packs.errors import PackError
from core.packs.schema import CatalogFile
from core.tenancy import Tenant

__all__ = ["sync_catalog"]


def _problem(path: Path, where: str, exc: GovhallError) -> GovhallError:
    field = f".{exc.field}" if exc.field else ""
    return PackError([f"{path}：{where}{field}：{exc.detail}"])


def sync_catalog(
    session: Session, tenant: Tenant, catalog: CatalogFile, path: Path, diff: TenantChanges
) -> None:
    """The pack's own items, adopted items, themes and duties; what is only live is kept."""
    known_departments = set(departments(session, tenant))
    live = {i.code: i for i in session.scalars(select(Item).where(Item.tenant_id == tenant.id))}
    _own_item_lines(session, live, catalog.items, known_departments, diff)
    try:
        sync_own_items(session, tenant, catalog.items, note="租户包更新")
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
                named = f"为 {code}" if code != adopt.standard else ""
                diff.add(f"认领省级标准事项 {adopt.standard}{named}")
            else:
                current = overrides_of(session, item)
                if current != adopt.overrides:
                    fields = _fields(current, adopt.overrides)
                    diff.modify_text(f"事项 {code} {item.name} 的本地调整：{fields}改为包中的内容")
                    save_draft(session, tenant, item, adopt.overrides, note="租户包更新")
                    publish_item(session, tenant, item)
        except GovhallError as exc:
            raise _problem(path, f"adopt[{i}]", exc) from exc
    named_codes = {str(raw.get("code", "")) for raw in catalog.items} | {
        a.code or a.standard for a in catalog.adopt
    }
    for code in sorted(live.keys() - named_codes):
        diff.keep(f"事项 {code} {live[code].name}")
    codes = set(session.scalars(select(Item.code).where(Item.tenant_id == tenant.id)))
    themes = {t.code: t for t in session.scalars(select(Theme).where(Theme.tenant_id == tenant.id))}
    for i, theme in enumerate(catalog.themes):
        missing = [c for c in theme.items if c not in codes]
        if missing:
            raise _problem(
                path,
                f"themes[{i}]",
                GovhallError(f"没有这些事项：{'、'.join(missing)}", field="items"),
            )
        row = themes.get(theme.code)
        if row is None:
            row = Theme(tenant_id=tenant.id, id=new_id(), code=theme.code, name=theme.name)
            session.add(row)
            diff.add(f"主题 {theme.code} {theme.name}")
        else:
            for label, old, new in (
                ("名称", row.name, theme.name),
                ("说明", row.description, theme.description),
                ("事项", row.item_codes, theme.items),
            ):
                if old != new:
                    diff.modify(f"主题 {theme.code} 的{label}", old, new)
        row.name, row.description, row.item_codes = theme.name, theme.description, theme.items
    for code in sorted(themes.keys() - {t.code for t in catalog.themes}):
        diff.keep(f"主题 {code} {themes[code].name}")
    rows = list(
        session.scalars(select(DepartmentDuty).where(DepartmentDuty.tenant_id == tenant.id))
    )
    existing = {(d.department_code, d.kind, d.title) for d in rows}
    for i, duty in enumerate(catalog.duties):
        if duty.department not in known_departments:
            raise _problem(
                path,
                f"duties[{i}]",
                GovhallError(f"没有「{duty.department}」这个部门", field="department"),
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
            diff.add(f"部门职责 {duty.department}：{duty.title}")
    named_duties = {(d.department, d.kind, d.title) for d in catalog.duties}
    for duty_row in rows:
        if (duty_row.department_code, duty_row.kind, duty_row.title) not in named_duties:
            diff.keep(f"部门职责 {duty_row.department_code}：{duty_row.title}")
    session.flush()


def _fields(old: dict[str, Any], new: dict[str, Any]) -> str:
    keys = [k for k in {**old, **new} if old.get(k) != new.get(k)]
    return "、".join(FIELD_LABELS.get(k, k) for k in keys) or "内容"


def _own_item_lines(
    session: Session,
    live: dict[str, Item],
    items: list[dict[str, Any]],
    known_departments: set[str],
    diff: TenantChanges,
) -> None:
    """The lines for the pack's own items (a refused one is reported by sync_own_items)."""
    known_categories = set(categories(session))
    for raw in items:
        entry = dict(raw)
        code = str(entry.pop("code", ""))
        try:
            wanted = msgspec.to_builtins(
                parse_content(entry, categories=known_categories, departments=known_departments)
            )
        except GovhallError:
            continue
        item = live.get(code)
        if item is None:
            diff.add(f"事项 {code} {wanted.get('name', '')}")
        elif item.effective != wanted:
            fields = _fields(item.effective or {}, wanted)
            diff.modify_text(f"事项 {code} {item.name}：{fields}改为包中的内容")
