"""Plugins: list, enable, disable per tenant."""

from __future__ import annotations

import json

import click

from core.db import get_database
from core.errors import GovhallError
from web.cli._base import _fail, _tenant, log, main  # noqa: F401

# -- plugins ---------------------------------------------------------------------------------------


@main.group()
def plugins() -> None:
    """Plugins: list, enable and disable per tenant."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--tenant", "slug", default=None, help="Show this tenant's enabled state too.")
def plugins_list(as_json: bool, slug: str | None) -> None:
    """Every installed plugin (entry-point group 'govhall')."""
    from core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    states = {}
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
            **({"enabled": states[name].enabled} if states else {}),
        }
        for name, meta in manager.metas.items()
    ]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for row in data:
        state = ""
        if "enabled" in row:
            state = " [启用]" if row["enabled"] else " [未启用]"
        click.echo(f"{row['name']:<20} {row['version']:<8} {row['title']}{state}")


def _set_plugin(slug: str, name: str, enabled: bool, config: str | None) -> None:
    from core.plugins import get_plugin_manager
    from core.tenancy import scope_for

    parsed = None
    if config is not None:
        try:
            parsed = json.loads(config)
        except json.JSONDecodeError as exc:
            _fail(f"--config is not valid JSON: {exc}")
        if not isinstance(parsed, dict):
            _fail("--config must be a JSON object")
    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        try:
            get_plugin_manager().set_enabled(session, tenant, name, enabled, parsed)
        except GovhallError as exc:
            _fail(exc.detail)
        session.commit()
    click.echo(f"{name}: {'已启用' if enabled else '已停用'} ({slug})")


@plugins.command("enable")
@click.option("--tenant", "slug", required=True)
@click.option("--config", default=None, help="JSON object, validated against the schema.")
@click.argument("name")
def plugins_enable(slug: str, config: str | None, name: str) -> None:
    """Enable plugin NAME for one tenant."""
    _set_plugin(slug, name, True, config)


@plugins.command("disable")
@click.option("--tenant", "slug", required=True)
@click.option("--config", default=None)
@click.argument("name")
def plugins_disable(slug: str, config: str | None, name: str) -> None:
    """Disable plugin NAME for one tenant."""
    _set_plugin(slug, name, False, config)
