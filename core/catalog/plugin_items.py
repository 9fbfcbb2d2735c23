"""A plugin's own items (local procedures, ``register_items``): written into the county's
catalog when the plugin is enabled, cancelled with the reason when it is disabled, restored
when it is enabled again. The plugin manager announces the toggles; ``core.effects`` connects
them to :func:`on_plugin_toggled`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalog.models import Item, ItemStatus
from core.catalog.service import change_status
from core.catalog.sync import ItemProblem, sync_own_items
from core.errors import InvalidInput
from core.plugins import get_plugin_manager
from core.tenancy import Tenant

__all__ = ["on_plugin_toggled", "sync_plugin_items", "withdraw_plugin_items"]


def _items_of(session: Session, tenant: Tenant, name: str) -> list[dict[str, Any]]:
    """The items of one plugin (whether or not it is enabled now)."""
    manager = get_plugin_manager()
    impls = [i for i in manager.pm.hook.register_items.get_hookimpls() if i.plugin_name == name]
    if not impls:
        return []
    args = {"tenant": tenant, "config": manager.states(session, tenant)[name].config}
    impl = impls[0]
    items = impl.function(*[args[a] for a in impl.argnames]) or []
    return [dict(i) for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def sync_plugin_items(session: Session, tenant: Tenant, name: str) -> int:
    """Write the plugin's items into the catalog (new ones published, changed ones given a new
    version, cancelled ones restored). A bad item refuses the change, naming it."""
    items = _items_of(session, tenant, name)
    if not items:
        return 0
    try:
        changed = sync_own_items(session, tenant, items, note=f"插件 {name} 更新")
    except ItemProblem as exc:
        code = items[exc.index].get("code", exc.index)
        raise InvalidInput(f"插件 {name} 的事项 {code} 有误：{exc.detail}", field="config") from exc
    codes = [str(i.get("code")) for i in items]
    for item in session.scalars(select(Item).where(Item.code.in_(codes))):
        if item.status is ItemStatus.cancelled:
            change_status(session, tenant, item, "restore", reason=f"插件 {name} 重新启用")
    return changed


def withdraw_plugin_items(session: Session, tenant: Tenant, name: str) -> int:
    """The plugin is disabled: its items stop taking applications (cancelled, with the reason,
    in the public change log); cases already filed go on."""
    codes = [str(i.get("code")) for i in _items_of(session, tenant, name)]
    count = 0
    for item in session.scalars(select(Item).where(Item.code.in_(codes))):
        if item.status is ItemStatus.active:
            change_status(session, tenant, item, "cancel", reason=f"插件 {name} 已停用")
            count += 1
    return count


def on_plugin_toggled(session: Session, tenant: Tenant, name: str, enabled: bool) -> None:
    if enabled:
        sync_plugin_items(session, tenant, name)
    else:
        withdraw_plugin_items(session, tenant, name)
