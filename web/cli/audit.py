"""The audit log from the command line: list a tenant's entries, verify its chain."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from core.db import get_database
from web.cli._base import _tenant, main


@main.group()
def audit() -> None:
    """审计日志：查看和校验管理操作记录。"""


@audit.command("list")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@click.option("--action", default="", help="只看这种操作（如 plugin.enable）。")
@click.option("--limit", default=50, show_default=True, help="最多显示多少条。")
def audit_list(slug: str, as_json: bool, action: str, limit: int) -> None:
    """列出地区 SLUG 的审计日志，最新的在前。"""
    from core.audit import AuditFilter, action_label, describe, entries, local_time
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        f = AuditFilter(tenant_ids=[tenant.id], actions=[action] if action else [])
        page = entries(session, tenant.province_id, f, limit=max(1, limit))
        rows: list[dict[str, Any]] = [
            {
                "seq": e.seq,
                "at": local_time(e.at),
                "actor": e.actor_name,
                "origin": e.origin,
                "action": e.action,
                "action_label": action_label(e.action),
                "target": e.target_label or e.target_id,
                "changes": describe(e),
                "reason": e.reason,
            }
            for e in page.items
        ]
    if as_json:
        click.echo(json.dumps({"total": page.total, "items": rows}, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"{tenant.name}还没有审计记录。")
        return
    click.echo(f"{tenant.name}共 {page.total} 条审计记录，显示最新的 {len(rows)} 条：")
    for row in rows:
        shown = row["origin"] and row["origin"] != row["actor"]
        where = f"（来自 {row['origin']}）" if shown else ""
        head = f"#{row['seq']} {row['at']} {row['actor']}{where}"
        click.echo(f"{head} {row['action_label']}：{row['target']}")
        for line in row["changes"]:
            click.echo(f"    {line}")
        if row["reason"]:
            click.echo(f"    原因或说明：{row['reason']}")


@audit.command("verify")
@click.argument("slug")
def audit_verify(slug: str) -> None:
    """校验地区 SLUG 的审计日志是否完整（前后相连、没有被改动或删除）。"""
    from core.audit import verify_chain
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        report = verify_chain(session, tenant)
    if report.intact:
        click.echo(f"校验通过：{tenant.name}共 {report.entries} 条审计记录，没有被改动或删除。")
        return
    click.echo(
        f"校验未通过：{tenant.name}的审计日志自第 {report.broken_at} 条记录起不符"
        f"（{report.problem}）。",
        err=True,
    )
    sys.exit(1)
