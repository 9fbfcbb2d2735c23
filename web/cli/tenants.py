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
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序读取）。")
def tenants_list(as_json: bool) -> None:
    """列出所有地区：省、其下的市、市下的县（区），带状态。"""
    from core.tenancy import list_tenants
    from core.tenancy.service import KIND_LABELS, STATUS_LABELS

    with get_database().session(scope=None) as session:
        rows = list_tenants(session)
        by_id = {t.id: t for t in rows}
        data = [
            {
                "slug": t.slug,
                "name": t.name,
                "display_name": t.display_name,
                "kind": t.kind.value,
                "kind_label": KIND_LABELS[t.kind],
                "division_code": t.division_code,
                "parent": by_id[t.parent_id].slug if t.parent_id in by_id else None,
                "status": t.status.value,
                "status_label": STATUS_LABELS[t.status],
            }
            for t in rows
        ]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return

    def show(parent: str | None, depth: int) -> None:
        for row in (d for d in data if d["parent"] == parent):
            status = "" if depth == 0 else f" [{row['status_label']}]"
            click.echo(
                f"{'  ' * depth}{row['division_code']}  {row['name']} ({row['slug']}){status}"
            )
            show(row["slug"], depth + 1)

    show(None, 0)


@tenants.command("onboard")
@click.option("--parent", required=True, help="上级地区的标识（省，或市——开通市辖区县）。")
@click.option("--slug", required=True, help="新地区的网址标识，如 yizhou。")
@click.option("--name", required=True, help="名称，如 宜州区。")
@click.option("--division-code", required=True, help="行政区划代码（GB/T 2260），如 451203。")
@click.option(
    "--kind",
    type=click.Choice(["city", "county", "district"]),
    default="county",
    show_default=True,
    help="类型：city 市、county 县、district 区。",
)
@click.option("--activate", is_flag=True, help="创建后立即开通。")
def tenants_onboard(
    parent: str, slug: str, name: str, division_code: str, kind: str, activate: bool
) -> None:
    """在省或市之下开通一个地区（筹备中；--activate 则立即开通）。"""
    from core.tenancy import TenantKind, TenantStatus, scope_for
    from core.tenancy import onboarding as ob
    from core.tenancy.service import STATUS_LABELS

    database = get_database()
    with database.session(scope=PLATFORM) as session:
        parent_tenant = _tenant(session, parent)
        try:
            tenant = ob.onboard(
                session,
                actor_tenant=parent_tenant,
                actor=None,
                parent=parent_tenant,
                slug=slug,
                name=name,
                division_code=division_code,
                kind=TenantKind(kind),
            )
        except GovhallError as exc:
            _fail(exc.detail)
        session.commit()
        tenant_id = tenant.id
    if activate:
        with database.session(scope=scope_for(tenant)) as session:
            from core.tenancy.models import Tenant

            fresh = session.get(Tenant, tenant_id)
            assert fresh is not None
            ob.change_status(session, fresh, None, TenantStatus.active, reason="命令行开通")
            session.commit()
            tenant = fresh
    click.echo(
        f"已创建 {tenant.name}（{tenant.slug}，{tenant.division_code}），"
        f"上级 {parent_tenant.name}，状态：{STATUS_LABELS[tenant.status]}"
    )
