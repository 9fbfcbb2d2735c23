"""Tenants: apply packs, list, onboard."""

from __future__ import annotations

import json
from pathlib import Path

import click

from core.db import PLATFORM, get_database
from core.errors import GovhallError
from web.cli._base import _fail, _tenant, log, main  # noqa: F401

# -- tenants ---------------------------------------------------------------------------------------


@main.group()
def tenants() -> None:
    """Tenants: apply packs, list, onboard."""


@tenants.command("apply")
@click.argument("path", type=click.Path(path_type=Path))
def tenants_apply(path: Path) -> None:
    """Apply the tenant pack at PATH (or every pack below it): idempotent, all or nothing."""
    from core.packs import PackError, apply_packs, load_packs

    try:
        packs = load_packs(path)
        with get_database().session(scope=PLATFORM) as session:
            report = apply_packs(session, packs)
            session.commit()
    except PackError as exc:
        for problem in exc.problems:
            click.echo(click.style("✗ ", fg="red") + problem, err=True)
        _fail(f"{len(exc.problems)} 个问题，未做任何更改")
        return
    click.echo(
        f"已应用 {len(packs)} 个租户包: 新建 {len(report.created)} "
        f"({', '.join(report.created) or '-'}), 更新 {len(report.updated)} "
        f"({', '.join(report.updated) or '-'}), 变更 {report.changes} 处"
    )


@tenants.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def tenants_list(as_json: bool) -> None:
    """Every tenant, provinces first with their cities and counties."""
    from core.tenancy import list_tenants

    with get_database().session(scope=None) as session:
        rows = list_tenants(session)
        by_id = {t.id: t for t in rows}
        data = [
            {
                "slug": t.slug,
                "name": t.name,
                "display_name": t.display_name,
                "kind": t.kind.value,
                "division_code": t.division_code,
                "parent": by_id[t.parent_id].slug if t.parent_id in by_id else None,
                "status": t.status.value,
            }
            for t in rows
        ]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for province in (d for d in data if d["parent"] is None):
        click.echo(f"{province['division_code']}  {province['name']} ({province['slug']})")
        for child in (d for d in data if d["parent"] == province["slug"]):
            click.echo(
                f"  {child['division_code']}  {child['name']} ({child['slug']}) [{child['status']}]"
            )


@tenants.command("onboard")
@click.option("--parent", required=True, help="The province's slug.")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--division-code", required=True)
@click.option(
    "--kind", type=click.Choice(["city", "county", "district"]), default="county", show_default=True
)
@click.option("--activate", is_flag=True, help="Make it active at once.")
def tenants_onboard(
    parent: str, slug: str, name: str, division_code: str, kind: str, activate: bool
) -> None:
    """Onboard a city or county under its province."""
    from core.tenancy import TenantKind, TenantStatus, onboard_tenant, set_tenant_status

    with get_database().session(scope=PLATFORM) as session:
        parent_tenant = _tenant(session, parent)
        try:
            tenant = onboard_tenant(
                session,
                parent=parent_tenant,
                slug=slug,
                name=name,
                division_code=division_code,
                kind=TenantKind(kind),
            )
            if activate:
                set_tenant_status(tenant, TenantStatus.active)
        except GovhallError as exc:
            _fail(f"{exc.field or ''}: {exc.detail}")
        session.commit()
        click.echo(
            f"已创建 {tenant.name} ({tenant.slug}, {tenant.division_code}), "
            f"状态 {tenant.status.value}"
        )
