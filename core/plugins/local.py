"""Local procedures from plugins: a county's own items (written into its catalog when the
plugin is enabled, cancelled when it is disabled), its own process definitions, and its own
form rules."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import GovhallError, InvalidInput
from core.tenancy import Tenant

__all__ = [
    "check_form",
    "plugin_definition",
    "plugin_process_codes",
    "sync_items",
    "withdraw_items",
]

log = logging.getLogger("govhall.plugins")


def _hooks(session: Session, tenant: Tenant) -> Any:
    from core.plugins import get_plugin_manager

    return get_plugin_manager().for_tenant(session, tenant)


def _items_of(session: Session, tenant: Tenant, name: str) -> list[dict[str, Any]]:
    """The items of one plugin (whether or not it is enabled now)."""
    from core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    impls = [i for i in manager.pm.hook.register_items.get_hookimpls() if i.plugin_name == name]
    if not impls:
        return []
    args = {"tenant": tenant, "config": manager.states(session, tenant)[name].config}
    impl = impls[0]
    return list(impl.function(*[args[a] for a in impl.argnames]) or [])


def sync_items(session: Session, tenant: Tenant, name: str) -> int:
    """Write the plugin's items into the catalog (new ones published, changed ones given a new
    version, cancelled ones restored). A bad item refuses the change, naming it."""
    from core.catalog import Item
    from core.catalog.codes import check_code
    from core.catalog.models import ItemStatus
    from core.catalog.service import change_status
    from core.packs.catalog import sync_catalog
    from core.packs.schema import CatalogFile

    items = _items_of(session, tenant, name)
    if not items:
        return 0
    try:
        for item in items:  # the same code rule as every other door into the catalog
            check_code(str(item.get("code", "")))
        changed = sync_catalog(session, tenant, CatalogFile(items=items), Path(f"plugin {name}"))
    except GovhallError as exc:
        raise InvalidInput(f"插件 {name} 的事项有误：{exc.detail}", field="config") from exc
    codes = [str(i.get("code")) for i in items]
    for item in session.scalars(select(Item).where(Item.code.in_(codes))):
        if item.status is ItemStatus.cancelled:
            change_status(session, tenant, item, "restore", reason=f"插件 {name} 重新启用")
    return changed


def withdraw_items(session: Session, tenant: Tenant, name: str) -> int:
    """The plugin is disabled: its items stop taking applications (cancelled, with the reason,
    in the public change log); cases already filed go on."""
    from core.catalog import Item
    from core.catalog.models import ItemStatus
    from core.catalog.service import change_status

    codes = [str(i.get("code")) for i in _items_of(session, tenant, name)]
    count = 0
    for item in session.scalars(select(Item).where(Item.code.in_(codes))):
        if item.status is ItemStatus.active:
            change_status(session, tenant, item, "cancel", reason=f"插件 {name} 已停用")
            count += 1
    return count


def plugin_definition(session: Session, tenant: Tenant, code: str) -> Any | None:
    """A process definition with this code from the tenant's enabled plugins, validated."""
    from core.workflow.definitions import parse_definition

    for group in _hooks(session, tenant).call("register_processes"):
        for raw in group or []:
            if isinstance(raw, dict) and raw.get("code") == code:
                try:
                    return parse_definition(raw)
                except GovhallError as exc:
                    log.warning("plugin process %s is invalid: %s", code, exc.detail)
    return None


def plugin_process_codes(session: Session, tenant: Tenant) -> set[str]:
    return {
        str(raw.get("code"))
        for group in _hooks(session, tenant).call("register_processes")
        for raw in group or []
        if isinstance(raw, dict)
    }


def check_form(session: Session, tenant: Tenant, item: str, form: dict[str, Any]) -> None:
    """The county's form rules for ``item``; problems are one 422 naming every field."""
    problems = [
        p
        for group in _hooks(session, tenant).call("validate_form", item=item, form=form)
        for p in (group or [])
        if isinstance(p, dict)
    ]
    if problems:
        fields = [f"form.{p.get('field', '')}" for p in problems]
        message = "；".join(str(p.get("message") or "") for p in problems)
        raise InvalidInput(message, field=fields[0], fields=fields)
