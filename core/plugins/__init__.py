"""The plugin system (pluggy): hook specs, plugin metadata, per-tenant manager.

Plugins import only from here: ``from core.plugins import hookimpl, PluginMeta``.
"""

import pluggy

hookimpl = pluggy.HookimplMarker("govhall")

from core.plugins.manager import (  # noqa: E402
    PluginManager,
    TenantHooks,
    await_me_maybe,
    get_plugin_manager,
    set_plugin_manager,
)
from core.plugins.meta import PluginMeta  # noqa: E402
from core.plugins.secrets import SECRET_MASK, Secret, SecretMap  # noqa: E402

__all__ = [
    "SECRET_MASK",
    "PluginManager",
    "PluginMeta",
    "Secret",
    "SecretMap",
    "TenantHooks",
    "await_me_maybe",
    "get_plugin_manager",
    "hookimpl",
    "set_plugin_manager",
]
