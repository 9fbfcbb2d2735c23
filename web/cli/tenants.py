"""Tenants: apply and export packs, list, onboard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.db import PLATFORM, get_database
from core.errors import GovhallError
from web.cli._base import _fail, _tenant, log, main  # noqa: F401

if TYPE_CHECKING:
    from core.packs import ApplyReport

# -- tenants ---------------------------------------------------------------------------------------


@main.group()
def tenants() -> None:
    """地区：应用、导出租户包，列出、开通地区。"""


@tenants.command("apply")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="只显示与线上的差异，不做任何更改。")
def tenants_apply(path: Path, dry_run: bool) -> None:
    """应用 PATH 处的租户包（或其下各子文件夹中的包）：列出与线上的差异并应用，有问题则不改。"""
    from core.packs import PackError, apply_packs, load_packs

    try:
        packs = load_packs(path)
        with get_database().session(scope=PLATFORM) as session:
            report = apply_packs(session, packs, dry_run=dry_run)
            if not dry_run:
                session.commit()
    except PackError as exc:
        for problem in exc.problems:
            click.echo(click.style("✗ ", fg="red") + problem, err=True)
        _fail(f"{len(exc.problems)} 个问题，未做任何更改")
        return
    _print_diff(report)
    if dry_run:
        click.echo(f"仅预览：{len(packs)} 个租户包共 {report.changes} 处差异，未做任何更改")
        return
    click.echo(
        f"已应用 {len(packs)} 个租户包：新建 {len(report.created)} 个"
        f"（{'、'.join(report.created) or '无'}），更新 {len(report.updated)} 个"
        f"（{'、'.join(report.updated) or '无'}），共 {report.changes} 处变更"
    )


def _print_diff(report: ApplyReport) -> None:
    """Each tenant's lines; a tenant being created is summed up rather than listed."""
    for diff in report.tenants:
        if not diff.changes and not diff.notes:
            continue
        click.echo(click.style(f"{diff.name}（{diff.slug}）", bold=True))
        if diff.created:
            click.echo(f"  {diff.changes[0]}，连同机构、人员、事项等共 {len(diff.changes)} 处")
            continue
        colours = {"+": "green", "~": "yellow", "-": "red", "=": None}
        for change in (*diff.changes, *diff.notes):
            click.echo("  " + click.style(str(change), fg=colours[change.sign]))


@tenants.command("export")
@click.argument("slug")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
def tenants_export(slug: str, folder: Path) -> None:
    """把地区 SLUG 的线上状态写成租户包，放在文件夹 FOLDER 中（不含密码）。"""
    from core.packs import export_pack

    with get_database().session(scope=PLATFORM) as session:
        tenant = _tenant(session, slug)
        try:
            written = export_pack(session, tenant, folder)
        except GovhallError as exc:
            _fail(exc.detail)
    click.echo(f"已导出 {tenant.name} 的租户包到 {folder}：{'、'.join(written)}")


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
