"""The plugin manager: global registration, per-tenant enablement, isolated calls."""

from __future__ import annotations

import asyncio
import inspect
import logging
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy
from sqlalchemy import select
from sqlalchemy.orm import Session

import core.plugins.hookspecs as hookspecs
from core.audit import CHANGED, AuditActor, changed, record
from core.config import get_settings
from core.db import forget_remembered, remembered, watch
from core.errors import InvalidInput, NotFound
from core.plugins import health
from core.plugins.forms import COMMON_LABELS
from core.plugins.meta import PluginMeta
from core.plugins.models import PluginError, TenantPlugin
from core.plugins.outbound import address_fields, url_problem
from core.plugins.query import lookup_for
from core.plugins.secrets import SECRET_MASK, _at, _map, redact, secret_values
from core.tenancy import Tenant

__all__ = [
    "FIRST_RESULT",
    "PluginManager",
    "TenantHooks",
    "await_me_maybe",
    "get_plugin_manager",
    "on_toggle",
]

log = logging.getLogger("govhall.plugins")
ENTRY_POINT_GROUP = "govhall"


def await_me_maybe(value: Any) -> Any:
    """Resolve an async hook's result from synchronous code (services run in threads).

    Where this thread already runs an event loop (synchronous code called from a coroutine),
    the awaitable runs to completion on a private loop in a helper thread instead.
    """
    if not inspect.isawaitable(value):
        return value
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(value))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _await(value)).result()


async def _await(value: Any) -> Any:
    return await value


@dataclass(frozen=True)
class PluginState:
    meta: PluginMeta
    enabled: bool
    config: Any
    raw_config: dict[str, Any]

    @property
    def priority(self) -> int:
        """Its place among first-result answers for this tenant (higher asked first)."""
        return self.meta.priority_for(self.config)


class PluginStates(dict[str, PluginState]):
    """A tenant's plugins by name: only those that apply to it; any other name is a 404."""

    def __missing__(self, name: str) -> PluginState:
        raise NotFound(f"no plugin named '{name}' for this tenant", field="name")


watch(TenantPlugin)

#: hooks whose result is a single decision: asked with :meth:`TenantHooks.first`, in priority
#: order, until one plugin answers (the others are not called); the specifications name them
FIRST_RESULT = hookspecs.FIRST_RESULT


class PluginManager:
    """Registers every plugin once, globally; filters per tenant at call time."""

    def __init__(self, *, load_entrypoints: bool = True) -> None:
        self.pm = pluggy.PluginManager("govhall")
        self.pm.add_hookspecs(hookspecs)
        self._metas: dict[str, PluginMeta] = {}
        #: the entry points of our group on disk when this manager loaded them
        self._entry_points_seen: set[str] = set()
        #: installed plugins that could not be loaded: name → why (one line)
        self.broken: dict[str, str] = {}
        if load_entrypoints:
            self._entry_points_seen = entry_point_names()
            self._load_entry_points()
        self.pm.check_pending()

    def _load_entry_points(self) -> None:
        """Every plugin installed in our entry-point group, each on its own: one whose package
        fails to import, declares no meta or implements a hook wrongly is logged with its
        traceback and listed in :attr:`broken` (a county that enabled it sees it 缺失, its
        items 暂停办理), and the installation runs on without it."""
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
            if self.pm.get_plugin(ep.name) is not None or self.pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
                self.pm.register(plugin, name=ep.name)
                self.pm.check_pending()  # a hook no specification declares: this plugin's
            except Exception as exc:  # a vendor's package: anything at all
                if self.pm.get_plugin(ep.name) is not None:
                    self.pm.unregister(name=ep.name)
                log.exception("plugin %s (%s) could not be loaded", ep.name, ep.value)
                self.broken[ep.name] = f"{type(exc).__name__}: {exc}"[:300]
                continue
            try:
                self._remember(plugin, ep.name)
            except TypeError as exc:
                self.pm.unregister(name=ep.name)
                log.error("plugin %s (%s) refused: %s", ep.name, ep.value, exc)
                self.broken[ep.name] = str(exc)

    def _remember(self, plugin: object, name: str | None) -> None:
        meta = getattr(plugin, "meta", None)
        if not isinstance(meta, PluginMeta):
            raise TypeError(f"plugin {name!r} declares no `meta = PluginMeta(...)`")
        if meta.name != name:
            raise TypeError(f"plugin registered as {name!r} declares the name {meta.name!r}")
        if not meta.compatible():
            log.warning("plugin %s %s is not compatible with this core", name, meta.version)
        self._metas[meta.name] = meta

    def register(self, plugin: object) -> None:
        """Register a plugin object or module (tests, and vendors loading by hand)."""
        meta = getattr(plugin, "meta", None)
        name = meta.name if isinstance(meta, PluginMeta) else None
        self.pm.register(plugin, name=name)
        self._remember(plugin, name)
        self.pm.check_pending()
        forget_remembered()  # remembered states and definitions knew only the old set

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._metas.pop(name, None)
        forget_remembered()

    @property
    def metas(self) -> dict[str, PluginMeta]:
        return dict(sorted(self._metas.items()))

    def installed_since_start(self) -> list[str]:
        """Plugins whose package was installed after this process loaded its plugins: on
        disk now, not loaded (需要重启服务后生效)."""
        return sorted(entry_point_names() - self._entry_points_seen - set(self._metas))

    def meta(self, name: str) -> PluginMeta:
        try:
            return self._metas[name]
        except KeyError:
            raise NotFound(f"no plugin named '{name}'", field="name") from None

    # -- per-tenant state -----------------------------------------------------------------------

    def states(self, session: Session, tenant: Tenant) -> dict[str, PluginState]:
        # Read on every page: the rows are remembered for a moment (see core/db/_memo.py).
        rows: dict[str, tuple[bool, dict[str, Any]]] = remembered(
            session,
            ("plugin-rows", tenant.id),
            lambda: {
                row.name: (row.enabled, dict(row.config))
                for row in session.scalars(
                    select(TenantPlugin).where(TenantPlugin.tenant_id == tenant.id)
                )
            },
        )
        out = PluginStates()
        production = get_settings().is_production
        for name, meta in self.metas.items():
            if not meta.applies(tenant):
                continue  # another county's own plugin: not listed, not called here
            row = rows.get(name)
            enabled = row[0] if row else meta.default_enabled
            raw = dict(row[1]) if row else {}
            try:
                config = meta.parse_config(raw)
            except InvalidInput:
                # A config saved by an older version that no longer validates: off until fixed.
                enabled, config = False, None
            if meta.development_only and production:
                enabled = False
            if enabled and not meta.compatible():
                enabled = False  # never called: reported instead (core.plugins.installed)
            out[name] = PluginState(meta=meta, enabled=enabled, config=config, raw_config=raw)
        return out

    def set_enabled(
        self,
        session: Session,
        tenant: Tenant,
        name: str,
        enabled: bool,
        config: dict[str, Any] | None = None,
        *,
        actor: AuditActor | None = None,
    ) -> TenantPlugin:
        """Enable or disable ``name`` for ``tenant``; a given config is validated first.

        A change (on/off, or the config) is written to the audit log as ``actor``'s, the
        config with its secrets masked: only that a secret changed, never its value.
        """
        if name not in self._metas and not enabled:
            return self._disable_missing(session, tenant, name, actor)
        meta = self.meta(name)
        if enabled and not meta.applies(tenant):
            raise InvalidInput(f"插件 {meta.title} 不适用于{tenant.name}", field="name")
        if enabled and not meta.compatible():
            raise InvalidInput(f"插件 {name} 需要核心版本 {meta.core_compat}", field="name")
        if enabled and meta.development_only and get_settings().is_production:
            raise InvalidInput(f"插件 {name} 仅供开发使用，生产环境不能启用", field="name")
        row = session.get(TenantPlugin, (tenant.id, name))
        if config is not None:
            parsed = meta.parse_config(config)
        else:
            parsed = meta.parse_config(row.config if row else {}) if enabled else None
        if config is not None or enabled:
            _refuse_internal_addresses(config if config is not None else row.config if row else {})
        if enabled and meta.validate is not None:
            problems = meta.validate(lookup_for(session, tenant), tenant, parsed)
            if problems:
                raise InvalidInput("无法启用：" + "；".join(problems), field="config")
        was_enabled = row.enabled if row is not None else meta.default_enabled
        old_config = dict(row.config) if row is not None else {}
        if was_enabled and not enabled:
            _announce(session, tenant, name, False)  # while it still answers for its items
        if row is None:
            row = TenantPlugin(tenant_id=tenant.id, name=name, enabled=enabled, config={})
            session.add(row)
        row.enabled = enabled
        if config is not None:
            row.config = config
        if enabled:
            row.provides = self.provided_codes(tenant, name, parsed)
        if was_enabled != enabled or config is not None:
            health.forget(session, tenant, name)  # switched, or reconfigured: a fresh start
        _audit(session, tenant, actor, meta, (was_enabled, old_config), (enabled, config))
        session.flush()
        if enabled:
            _announce(session, tenant, name, True)
        return row

    def _disable_missing(
        self, session: Session, tenant: Tenant, name: str, actor: AuditActor | None
    ) -> TenantPlugin:
        """Switch off a plugin the tenant enabled whose package is not installed (its items
        stay 暂停办理: nothing here can withdraw them without it)."""
        row = session.get(TenantPlugin, (tenant.id, name))
        if row is None:
            raise NotFound(f"没有名为 {name} 的插件", field="name")
        if row.enabled:
            row.enabled = False
            record(
                session,
                tenant,
                actor,
                "plugin.disable",
                target_type="plugin",
                target_id=name,
                target_label=name,
                before={"enabled": True},
                after={"enabled": False},
            )
            session.flush()
        return row

    def provided_codes(self, tenant: Tenant, name: str, config: Any) -> dict[str, list[str]]:
        """The codes of the items and process definitions plugin ``name`` puts into the
        tenant's catalog (remembered on its row: should its package go missing, they are
        shown as 暂停办理). A raising hook gives none."""
        out: dict[str, list[str]] = {}
        for hook, key in (("register_items", "items"), ("register_processes", "processes")):
            codes: list[str] = []
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                if impl.plugin_name != name:
                    continue
                args = {"tenant": tenant, "config": config}
                try:
                    found = await_me_maybe(impl.function(*[args[a] for a in impl.argnames]))
                except Exception:
                    log.warning("plugin %s failed in %s while listing its codes", name, hook)
                    continue
                for entry in found or []:  # a dict, or a definition struct
                    code = entry.get("code") if isinstance(entry, dict) else None
                    code = code or getattr(entry, "code", None)
                    if code:
                        codes.append(str(code))
            out[key] = sorted(set(codes))
        return out

    def recent_errors(self, session: Session, tenant: Tenant, limit: int = 20) -> list[PluginError]:
        return list(
            session.scalars(
                select(PluginError)
                .where(PluginError.tenant_id == tenant.id)
                .order_by(PluginError.created_at.desc())
                .limit(limit)
            )
        )

    def self_check(self, session: Session, tenant: Tenant, name: str) -> list[str]:
        """Run the plugin's own check on this tenant's config: a list of problems."""
        state = self.states(session, tenant)[self.meta(name).name]
        if state.meta.check is None:
            return []
        try:
            problems = [str(p) for p in state.meta.check(state.config)]
        except Exception as exc:
            problems = [f"自检出错：{exc}"]
        return [scrub(p, state.meta, state.raw_config) for p in problems]

    def for_tenant(self, session: Session, tenant: Tenant) -> TenantHooks:
        return TenantHooks(self, tenant, self.states(session, tenant), session)


class TenantHooks:
    """Hook calls restricted to one tenant's enabled plugins, each implementation isolated."""

    def __init__(
        self,
        manager: PluginManager,
        tenant: Tenant,
        states: dict[str, PluginState],
        session: Session | None = None,
    ) -> None:
        self.manager = manager
        self.tenant = tenant
        self.states = states
        #: the caller's session: failures are recorded once its transaction ends
        self.session = session
        #: the plugin whose answer :meth:`first` returned last (None: nobody answered)
        self.answered_by: str | None = None
        # off for this tenant: disabled, or not applying to it (absent from its states)
        self._disabled = [
            plugin
            for plugin in manager.pm.get_plugins()
            if not ((state := states.get(manager.pm.get_name(plugin) or "")) and state.enabled)
        ]

    def enabled_names(self) -> list[str]:
        return [name for name, state in self.states.items() if state.enabled]

    def implements(self, hook_name: str) -> bool:
        """Whether any enabled plugin of the tenant implements ``hook_name``."""
        caller = self.manager.pm.subset_hook_caller(hook_name, remove_plugins=self._disabled)
        return bool(caller.get_hookimpls())

    def call(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call ``hook_name`` on each enabled plugin; a raising one is recorded and skipped.

        For a collecting hook (every plugin adds its part); a single decision is
        :meth:`first`'s."""
        if hook_name in FIRST_RESULT:
            raise TypeError(f"{hook_name} is a first-result hook: use TenantHooks.first()")
        return [value for _, value in self.call_named(hook_name, **kwargs)]

    def call_named(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """:meth:`call`, each answer with the name of the plugin that gave it."""
        if hook_name in FIRST_RESULT:
            raise TypeError(f"{hook_name} is a first-result hook: use TenantHooks.first()")
        results = []
        for impl in self._impls(hook_name):
            value = self._one(impl, hook_name, kwargs)
            if value is not None:
                results.append((impl.plugin_name, value))
        return results

    def first(self, hook_name: str, **kwargs: Any) -> Any:
        """The one answer of a first-result hook: its implementations are asked in the order of
        their priority for this tenant (higher first; ties in pluggy's call order) until one
        answers; a raising one is recorded and the next asked. ``None`` when nobody answers.

        An empty answer (``None``, ``""``, ``{}``, ``[]``) means "not mine" and the next is
        asked; later plugins are not called once one has answered (one booking, one order)."""
        if hook_name not in FIRST_RESULT:
            raise TypeError(f"{hook_name} is a collecting hook: use TenantHooks.call()")
        self.answered_by = None
        for impl in self._impls(hook_name):
            value = self._one(impl, hook_name, kwargs)
            if value is not None and value != "" and value != {} and value != []:
                self.answered_by = impl.plugin_name
                return value
        return None

    def order(self, hook_name: str) -> list[str]:
        """The plugins that would be asked, in the order :meth:`first` asks them."""
        return [impl.plugin_name for impl in self._impls(hook_name)]

    def _impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        caller = self.manager.pm.subset_hook_caller(hook_name, remove_plugins=self._disabled)
        # pluggy keeps implementations in reverse call order (trylast first).
        impls = list(reversed(caller.get_hookimpls()))
        if hook_name in FIRST_RESULT:  # a stable sort: equal priorities keep the call order
            impls.sort(key=lambda impl: -self._priority(impl.plugin_name))
        return impls

    def _priority(self, plugin: str) -> int:
        state = self.states.get(plugin)
        return state.priority if state is not None else 0

    def _one(self, impl: pluggy.HookImpl, hook_name: str, kwargs: dict[str, Any]) -> Any:
        state = self.states.get(impl.plugin_name)
        args = dict(kwargs, tenant=self.tenant, config=state.config if state else None)
        try:
            value = await_me_maybe(impl.function(*[args[a] for a in impl.argnames]))
        except Exception as exc:
            self._record(impl.plugin_name, hook_name, exc)
            return None
        health.succeeded(self.session, self.tenant, impl.plugin_name, hook_name)
        return value

    def _record(self, plugin: str, hook: str, exc: Exception) -> None:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        self.record_failure(plugin, hook, detail)

    def record_failure(
        self, plugin: str, hook: str, detail: str, *, vendor: str = "", counts_as: str = ""
    ) -> None:
        """Record that ``plugin`` failed the tenant (scrubbed of its secrets, logged, and
        written once the caller's transaction ends: see core/plugins/health.py)."""
        state = self.states.get(plugin)
        if state is not None:  # a vendor library may quote its credentials back at us
            detail = scrub(detail, state.meta, state.raw_config)
        who = f"{plugin}/{vendor}" if vendor else plugin
        log.warning("plugin %s failed in %s for %s: %s", who, hook, self.tenant.slug, detail)
        health.failed(
            self.session, self.tenant, plugin, hook, detail, vendor=vendor, counts_as=counts_as
        )

    def record_success(self, plugin: str, hook: str, *, vendor: str = "") -> None:
        """A success of ``plugin`` at ``hook`` (ends a run of failures there)."""
        health.succeeded(self.session, self.tenant, plugin, hook, vendor=vendor)


#: (session, tenant, plugin name, enabled) -> None: told of every enable and disable, inside
#: the caller's transaction (the catalog writes or withdraws the plugin's own items); they
#: are connected in core.effects
ToggleListener = Callable[[Session, Tenant, str, bool], None]
_toggle_listeners: list[ToggleListener] = []


def on_toggle(listener: ToggleListener) -> None:
    if listener not in _toggle_listeners:
        _toggle_listeners.append(listener)


def _announce(session: Session, tenant: Tenant, name: str, enabled: bool) -> None:
    for listener in _toggle_listeners:
        listener(session, tenant, name, enabled)


def _refuse_internal_addresses(config: dict[str, Any]) -> None:
    """A county's config may not point requests at this server or its network: each address
    field (``url``, ``endpoint``, ``…_url``, at any depth) is checked (core/plugins/outbound.py)."""
    for path, url in address_fields(config):
        problem = url_problem(url)
        if problem is not None:
            where = str(path[-1])
            if len(path) > 1:
                where = (
                    f"{path[0]} 第 {int(path[1]) + 1} 项的 {where}"
                    if (len(path) > 2 and isinstance(path[1], int))
                    else ".".join(str(p) for p in path)
                )
            raise InvalidInput(f"{where}：{problem}", field=str(path[0]))


def _config_change(
    meta: PluginMeta, old: dict[str, Any], new: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that changed, named by their labels, secrets as 已更改 and never shown."""
    schema = meta.config_schema()

    def after_leaf(value: Any, path: tuple[Any, ...]) -> Any:
        return CHANGED if _at(old, path) != value else (SECRET_MASK if value else value)

    shown_old = redact(schema, old)
    shown_new = _map(schema, new, schema.get("$defs") or {}, after_leaf)
    before, after = changed(shown_old, shown_new)
    props = schema.get("properties") or {}

    def label(key: str) -> str:
        prop = props.get(key)
        title = prop.get("title") if isinstance(prop, dict) else None
        return str(title or COMMON_LABELS.get(key) or key)

    return {label(k): v for k, v in before.items()}, {label(k): v for k, v in after.items()}


def _audit(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    meta: PluginMeta,
    old: tuple[bool, dict[str, Any]],
    new: tuple[bool, dict[str, Any] | None],
) -> None:
    (was, old_config), (now, new_config) = old, new
    if was != now:
        record(
            session,
            tenant,
            actor,
            "plugin.enable" if now else "plugin.disable",
            target_type="plugin",
            target_id=meta.name,
            target_label=meta.title,
            before={"enabled": was},
            after={"enabled": now},
        )
    if new_config is not None:
        before, after = _config_change(meta, old_config, new_config)
        if before or after:
            record(
                session,
                tenant,
                actor,
                "plugin.config",
                target_type="plugin",
                target_id=meta.name,
                target_label=meta.title,
                before=before,
                after=after,
            )


def scrub(text: str, meta: PluginMeta, raw_config: dict[str, Any]) -> str:
    """``text`` with every secret of the config replaced by the mask."""
    for value in secret_values(meta.config_schema(), raw_config):
        if len(value) >= 4:  # a one-character "secret" would mask half the message
            text = text.replace(value, SECRET_MASK)
    return text


def entry_point_names() -> set[str]:
    """The plugins of our entry-point group installed on disk now."""
    return {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}


_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    global _manager
    if _manager is None:
        _manager = PluginManager()
    return _manager


def set_plugin_manager(manager: PluginManager | None) -> None:
    global _manager
    _manager = manager
