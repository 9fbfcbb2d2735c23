"""What a county is told about its plugins beyond their own pages: a plugin enabled but not
installed, or installed in a version this core does not support, or installed after the
server started (installed ≠ enabled), and the plugins failing it now (the admin's banner).

Reported at start (a log warning per tenant, :func:`startup_report`), by ``govhall plugins
check``, on the admin pages (the banner) and on the plugin status page. The items a missing
or incompatible plugin put into the county's catalog, and the items whose process definition
it provided, show as 暂停办理 (:func:`unavailable_codes`; core.catalog.availability).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import core
from core.config import get_settings
from core.db import PLATFORM, Database, remembered, utcnow
from core.errors import InvalidInput
from core.plugins.health import health_of, hook_label
from core.plugins.manager import entry_point_names, get_plugin_manager
from core.plugins.models import TenantPlugin
from core.tenancy import Tenant, scope_for

__all__ = [
    "PROBLEM_LABELS",
    "Alert",
    "PluginProblem",
    "HealthLine",
    "PluginHealthView",
    "alerts",
    "health_by_plugin",
    "problems",
    "record_loaded",
    "restart_needed",
    "startup_report",
    "unavailable_codes",
]

log = logging.getLogger("govhall.plugins")

#: how each kind of problem is named wherever it is shown
PROBLEM_LABELS = {
    "missing": "已启用但未安装",
    "incompatible": "版本不兼容",
    "restart": "需要重启服务后生效",
}


@dataclass(frozen=True)
class PluginProblem:
    """A plugin the tenant counts on that this server cannot run as it stands."""

    name: str
    kind: str  # missing | incompatible | restart
    title: str
    version: str = ""
    core_compat: str = ""
    provides: dict[str, list[str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return PROBLEM_LABELS[self.kind]

    @property
    def items(self) -> list[str]:
        return list(self.provides.get("items") or [])

    @property
    def advice(self) -> str:
        """What to do, in Chinese (the pages word it from the same parts)."""
        if self.kind == "missing":
            return (
                f"本地区启用了插件 {self.name}，但服务器上没有安装它，它提供的事项暂停办理。"
                "请安装该插件的软件包后重启服务；不再使用的，可将它停用。"
            )
        if self.kind == "incompatible":
            return (
                f"插件 {self.title}（{self.name} {self.version}）要求核心版本 "
                f"{self.core_compat}，当前核心版本为 {core.__version__}：它已停止调用，"
                "它提供的事项暂停办理。请安装与当前版本兼容的插件版本后重启服务。"
            )
        return f"插件 {self.name} 的软件包是在服务启动后安装的，重启服务后才能启用。"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "problem": self.kind,
            "label": self.label,
            "title": self.title,
            "version": self.version,
            "core_compat": self.core_compat,
            "items": self.items,
            "advice": self.advice,
        }


def _rows(session: Session, tenant: Tenant) -> list[tuple[str, bool, dict[str, list[str]]]]:
    """The tenant's plugin rows: (name, enabled, what it provides), remembered a moment."""

    def load() -> list[tuple[str, bool, dict[str, list[str]]]]:
        return [
            (row.name, bool(row.enabled), dict(row.provides or {}))
            for row in session.scalars(
                select(TenantPlugin)
                .where(TenantPlugin.tenant_id == tenant.id)
                .order_by(TenantPlugin.name)
            )
        ]

    return remembered(session, ("plugin-provides", tenant.id), load)


def problems(session: Session, tenant: Tenant, *, restart: bool = True) -> list[PluginProblem]:
    """The tenant's plugins enabled but not installed or not compatible, then (``restart``)
    the plugins installed on this server after it started."""
    metas = get_plugin_manager().metas
    found: list[PluginProblem] = []
    for name, enabled, provides in _rows(session, tenant):
        meta = metas.get(name)
        if not enabled:
            continue
        if meta is None:
            found.append(PluginProblem(name, "missing", name, provides=provides))
        elif meta.applies(tenant) and not meta.compatible():
            found.append(
                PluginProblem(
                    name, "incompatible", meta.title, meta.version, meta.core_compat, provides
                )
            )
    if restart:
        found += [
            PluginProblem(name, "restart", name)
            for name in get_plugin_manager().installed_since_start()
        ]
    return found


def unavailable_codes(session: Session, tenant: Tenant) -> dict[str, PluginProblem]:
    """``"item:CODE"`` and ``"process:CODE"`` → the problem of the plugin that provided it,
    for every item and process definition a missing or incompatible plugin put into the
    tenant's catalog (暂停办理 until it is back)."""
    metas = get_plugin_manager().metas
    out: dict[str, PluginProblem] = {}
    for name, enabled, provides in _rows(session, tenant):
        meta = metas.get(name)
        if meta is None:
            problem = PluginProblem(name, "missing", name, provides=provides)
        elif enabled and meta.applies(tenant) and not meta.compatible():
            problem = PluginProblem(
                name, "incompatible", meta.title, meta.version, meta.core_compat, provides
            )
        else:
            continue
        for kind, key in (("item", "items"), ("process", "processes")):
            for code in provides.get(key) or []:
                out[f"{kind}:{code}"] = problem
    return out


# -- each plugin's health, as its pages show it ----------------------------------------------


@dataclass(frozen=True)
class HealthLine:
    """One thing a plugin does for the tenant (a hook, or sending through one vendor)."""

    hook: str
    vendor: str
    label: str
    failures: int
    failing: bool
    since: datetime | None
    last_error_at: datetime | None
    last_ok_at: datetime | None


@dataclass(frozen=True)
class PluginHealthView:
    """A plugin's health: 异常 while anything it does is failing, else 正常."""

    lines: tuple[HealthLine, ...] = ()

    @property
    def failing(self) -> bool:
        return any(line.failing for line in self.lines)

    @property
    def failures(self) -> int:
        return max((line.failures for line in self.lines if line.failing), default=0)

    @property
    def since(self) -> datetime | None:
        times = [line.since for line in self.lines if line.failing and line.since]
        return min(times) if times else None

    @property
    def last_error_at(self) -> datetime | None:
        times = [line.last_error_at for line in self.lines if line.last_error_at]
        return max(times) if times else None


def health_by_plugin(session: Session, tenant: Tenant) -> dict[str, PluginHealthView]:
    """Every plugin with anything on record, its lines worst first."""
    lines: dict[str, list[HealthLine]] = {}
    for h in health_of(session, tenant):
        lines.setdefault(h.plugin, []).append(
            HealthLine(
                hook=h.hook,
                vendor=h.vendor,
                label=hook_label(h.hook),
                failures=h.failures,
                failing=h.failing,
                since=h.failing_since,
                last_error_at=h.last_error_at,
                last_ok_at=h.last_ok_at,
            )
        )
    return {
        plugin: PluginHealthView(tuple(sorted(found, key=lambda line: -line.failures)))
        for plugin, found in lines.items()
    }


# -- the admin's banner -----------------------------------------------------------------------

#: what stops working when a plugin fails at a hook, by the kind of the hook
KIND_OF_HOOK = {
    "send_sms": "sms",
    "sms_receipt": "sms",
    "register_sms_vendors": "sms",
    "create_shipment": "courier",
    "track_shipment": "courier",
    "create_payment": "payment",
    "confirm_payment": "payment",
}


@dataclass(frozen=True)
class Alert:
    """One line of the county admin's banner: a plugin failing now, or one missing."""

    kind: str  # sms | courier | payment | other | missing | incompatible
    plugin: str
    title: str
    vendor: str = ""
    failures: int = 0
    since: datetime | None = None
    last: datetime | None = None


def alerts(session: Session, tenant: Tenant) -> list[Alert]:
    """What the county admin's banner says: each plugin (each SMS vendor) failing lately,
    then each plugin enabled but not installed or not compatible."""
    metas = get_plugin_manager().metas
    out: list[Alert] = []
    seen: set[tuple[str, str]] = set()
    # read afresh (admin pages only): the banner goes the moment a success is recorded
    for h in [h for h in health_of(session, tenant) if h.alarming()]:
        if (h.plugin, h.vendor) in seen:
            continue
        seen.add((h.plugin, h.vendor))
        meta = metas.get(h.plugin)
        out.append(
            Alert(
                kind=KIND_OF_HOOK.get(h.hook, "other"),
                plugin=h.plugin,
                title=meta.title if meta else h.plugin,
                vendor=h.vendor,
                failures=h.failures,
                since=h.failing_since,
                last=h.last_error_at,
            )
        )
    for problem in problems(session, tenant, restart=False):
        out.append(Alert(kind=problem.kind, plugin=problem.name, title=problem.title))
    return out


# -- at start ----------------------------------------------------------------------------------


#: what the last server started loaded, for ``govhall plugins check`` (another process)
LOADED_FILE = "plugins-loaded.json"


def record_loaded() -> None:
    """Note, under the var directory, which plugins this server loaded as it started."""
    path = Path(get_settings().var_dir) / LOADED_FILE
    data = {
        "pid": os.getpid(),
        "started_at": utcnow().isoformat(timespec="seconds"),
        "plugins": sorted(get_plugin_manager().metas),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        log.warning("could not note the plugins loaded (%s): %s", path, exc)


def restart_needed(*, here: bool = True) -> list[str]:
    """Plugins installed on disk after the server started: compared with this process's own
    start (``here``), else with what the last server started noted (``govhall plugins
    check`` runs in a process of its own); [] when no server has noted anything."""
    if here:
        return get_plugin_manager().installed_since_start()
    path = Path(get_settings().var_dir) / LOADED_FILE
    try:
        loaded = set(json.loads(path.read_text(encoding="utf-8")).get("plugins") or [])
    except (OSError, ValueError):
        return []
    return sorted(entry_point_names() - loaded)


def startup_report(
    database: Database, *, learn: bool = True, warn: bool = True
) -> dict[str, list[PluginProblem]]:
    """Check every tenant's plugins: log (``warn``) a warning per tenant with a plugin enabled
    but not installed or not compatible, and (``learn``, as the server starts) remember what
    each enabled plugin provides where that is not known yet. Returns the problems by slug."""
    report: dict[str, list[PluginProblem]] = {}
    with database.session(scope=PLATFORM) as session:
        tenants = list(session.scalars(select(Tenant).order_by(Tenant.slug)))
        names = {
            tenant_id for (tenant_id,) in session.execute(select(TenantPlugin.tenant_id).distinct())
        }
    for tenant in tenants:
        if tenant.id not in names:
            continue
        with database.session(scope=scope_for(tenant)) as session:
            if learn:
                _learn_provides(session, tenant)
            found = problems(session, tenant, restart=False)
        if found:
            report[tenant.slug] = found
            for problem in found if warn else ():
                log.warning(
                    "%s (%s): plugin %s — %s: %s",
                    tenant.name,
                    tenant.slug,
                    problem.name,
                    problem.label,
                    problem.advice,
                )
    return report


def _learn_provides(session: Session, tenant: Tenant) -> None:
    """What each enabled, installed plugin provides, where not known yet (rows written
    before it was remembered)."""
    manager = get_plugin_manager()
    changed = False
    for row in session.scalars(
        select(TenantPlugin).where(
            TenantPlugin.tenant_id == tenant.id,
            TenantPlugin.enabled.is_(True),
            TenantPlugin.provides.is_(None),
        )
    ):
        meta = manager.metas.get(row.name)
        if meta is None or not meta.applies(tenant):
            continue
        try:
            config = meta.parse_config(dict(row.config or {}))
        except InvalidInput:
            continue
        row.provides = manager.provided_codes(tenant, row.name, config)
        changed = True
    if changed:
        session.commit()
