"""What a vendor's own test suite needs from govhall, without a database or a server.

- :func:`registered`: the plugin registered on this process's manager for the ``with`` block,
  in place of any copy of the same name (an installed package's entry point), and the
  manager as it was afterwards;
- :func:`sample_tenant`: a county to pass as ``tenant`` when a test calls the plugin's hooks
  itself — the same object the core passes, never written anywhere;
- :func:`undeclared_secrets` (re-exported from the config rules): the fields of a config
  that are secret only by their names and should be declared ``Secret``.

Everything here is imported from ``core.plugins``, like the rest of the public surface.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from core.plugins.manager import PluginManager, get_plugin_manager
from core.plugins.meta import PluginMeta
from core.plugins.secrets import undeclared_secrets
from core.tenancy import Tenant, TenantKind, TenantStatus

__all__ = ["registered", "sample_tenant", "undeclared_secrets"]


@contextmanager
def registered(plugin: object) -> Iterator[PluginManager]:
    """``plugin`` (a module or an object with ``meta = PluginMeta(...)``) registered on the
    process's plugin manager inside the block; a plugin already registered under its name —
    the installed package's own entry point — steps aside and comes back after."""
    meta = getattr(plugin, "meta", None)
    if not isinstance(meta, PluginMeta):
        raise TypeError("a plugin declares `meta = PluginMeta(...)`")
    manager = get_plugin_manager()
    before = manager.pm.get_plugin(meta.name)
    if before is not None:
        manager.unregister(meta.name)
    manager.register(plugin)
    try:
        yield manager
    finally:
        manager.unregister(meta.name)
        if before is not None:
            manager.register(before)


def sample_tenant(
    slug: str = "sample",
    name: str = "示范县",
    *,
    display_name: str | None = None,
    division_code: str = "450000",
    settings: Mapping[str, Any] | None = None,
) -> Tenant:
    """A county as hooks receive it (``slug``, ``name``, ``display_name``, ``kind``,
    ``division_code``, ``settings``), not stored anywhere."""
    province = uuid.uuid5(uuid.NAMESPACE_URL, f"govhall-sample-province:{division_code[:2]}")
    return Tenant(
        id=uuid.uuid5(uuid.NAMESPACE_URL, f"govhall-sample:{slug}"),
        slug=slug,
        name=name,
        kind=TenantKind.county,
        division_code=division_code,
        parent_id=province,
        province_id=province,
        status=TenantStatus.active,
        branding={"display_name": display_name or name},
        settings=dict(settings or {}),
    )
