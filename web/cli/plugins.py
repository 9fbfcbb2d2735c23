"""Plugins: list, enable, disable per tenant, and check what the counties enabled is installed."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import select

from core.db import get_database
from core.errors import GovhallError
from web.cli._base import _fail, _tenant, log, main  # noqa: F401

# -- plugins ---------------------------------------------------------------------------------------


@main.group()
def plugins() -> None:
    """插件：列出，按地区启用、停用，检查安装情况。"""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序读取）。")
@click.option("--tenant", "slug", default=None, help="只列出适用于该地区的插件，并显示是否启用。")
def plugins_list(as_json: bool, slug: str | None) -> None:
    """列出已安装的全部插件（指定地区时，只列出适用于该地区的）。"""
    from core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    states: dict[str, Any] | None = None
    if slug:
        from core.tenancy import scope_for

        with get_database().session(scope=None) as s:
            tenant = _tenant(s, slug)
        with get_database().session(scope=scope_for(tenant)) as session:
            states = manager.states(session, tenant)
    data = [
        {
            "name": name,
            "title": meta.title,
            "version": meta.version,
            "core_compat": meta.core_compat,
            "compatible": meta.compatible(),
            "config_schema": meta.config_schema(),
            "applies_to": list(meta.applies_to),
            "priority": meta.priority,
            **(
                {"enabled": states[name].enabled, "priority": states[name].priority}
                if states is not None
                else {}
            ),
        }
        for name, meta in manager.metas.items()
        if states is None or name in states  # another county's own plugin is not listed
    ]
    broken = [{"name": name, "error": why} for name, why in sorted(manager.broken.items())]
    if as_json:
        click.echo(json.dumps(data + broken, ensure_ascii=False, indent=2))
        return
    for row in data:
        state = ""
        if "enabled" in row:
            state = " [启用]" if row["enabled"] else " [未启用]"
        if row["applies_to"]:
            state += f"（仅适用于：{'、'.join(row['applies_to'])}）"
        click.echo(f"{row['name']:<20} {row['version']:<8} {row['title']}{state}")
    for row in broken:
        click.echo(f"{row['name']:<20} {'-':<8} 无法加载：{row['error']}（详见日志）")


def _set_plugin(slug: str, name: str, enabled: bool, config: str | None) -> None:
    from core.plugins import get_plugin_manager
    from core.tenancy import scope_for

    if name not in get_plugin_manager().metas and (enabled or config is not None):
        # one not installed can still be switched off (govhall plugins check names them)
        _fail(f"没有名为 {name} 的插件（govhall plugins list 列出已安装的插件）")
    parsed = None
    if config is not None:
        try:
            parsed = json.loads(config)
        except json.JSONDecodeError as exc:
            _fail(f"--config 不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）")
        if not isinstance(parsed, dict):
            _fail("--config 应为 JSON 对象（{…}）")
    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        try:
            get_plugin_manager().set_enabled(session, tenant, name, enabled, parsed)
        except GovhallError as exc:
            _fail(exc.detail)
        session.commit()
    click.echo(f"{tenant.name}：插件 {name} {'已启用' if enabled else '已停用'}")


@plugins.command("enable")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
@click.option("--config", default=None, help="插件配置，JSON 对象，按插件的配置格式校验。")
@click.argument("name")
def plugins_enable(slug: str, config: str | None, name: str) -> None:
    """为一个地区启用插件 NAME。"""
    _set_plugin(slug, name, True, config)


@plugins.command("disable")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
@click.option("--config", default=None, help="同时保存的插件配置，JSON 对象。")
@click.argument("name")
def plugins_disable(slug: str, config: str | None, name: str) -> None:
    """为一个地区停用插件 NAME。"""
    _set_plugin(slug, name, False, config)


@plugins.command("check")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序读取）。")
@click.option("--tenant", "slug", default=None, help="只检查该地区。")
def plugins_check(as_json: bool, slug: str | None) -> None:
    """检查各地区启用的插件是否已安装、版本是否兼容，以及是否有插件需要重启服务后才生效。

    有问题时退出码为 1（可用于部署脚本和监控）。"""
    from core.plugins.status import restart_needed, startup_report
    from core.tenancy import Tenant

    database = get_database()
    report = startup_report(database, learn=False, warn=False)
    with database.session(scope=None) as s:
        if slug:
            _tenant(s, slug)  # an unknown slug is said plainly
            report = {k: v for k, v in report.items() if k == slug}
        names = {row.slug: row.name for row in s.execute(select(Tenant.slug, Tenant.name))}
    restart = restart_needed(here=False)
    ok = not report and not restart
    if as_json:
        data = {
            "ok": ok,
            "tenants": {k: [p.as_json() for p in v] for k, v in report.items()},
            "restart_needed": restart,
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for tenant_slug, found in report.items():
            click.echo(f"{names.get(tenant_slug, tenant_slug)}（{tenant_slug}）：")
            for problem in found:
                click.echo(f"  {problem.name} {problem.label}：{problem.advice}")
        for name in restart:
            click.echo(f"{name} 需要重启服务后生效：软件包是在服务启动后安装的，请重启服务。")
        if ok:
            click.echo("各地区启用的插件均已安装、版本兼容，无需重启服务。")
    if not ok:
        raise SystemExit(1)
