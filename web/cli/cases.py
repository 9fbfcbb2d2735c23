"""Cases: verify trails, rotate the e-license signing key, sweep objects no row names."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from core.db import get_database
from web.cli._base import _fail, _tenant, main


@main.group()
def cases() -> None:
    """办件：核验留痕链，轮换电子证照签名密钥，清理无人引用的文件。"""


@cases.command("verify")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
@click.argument("numbers", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="每件输出一行 JSON 报告。")
def cases_verify(slug: str, numbers: tuple[str, ...], as_json: bool) -> None:
    """核验办件编号 NUMBERS 的留痕链（不指定则核验该地区的全部办件）。

    有任何一件留痕链不完整时，退出码为 1。"""
    import msgspec

    from core.cases.models import Case
    from core.cases.trail import verify_chain
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    broken = 0
    with get_database().session(scope=scope_for(tenant)) as session:
        stmt = select(Case).order_by(Case.created_at)
        if numbers:
            stmt = stmt.where(Case.number.in_(numbers))
        rows = list(session.scalars(stmt))
        missing = set(numbers) - {c.number for c in rows}
        if missing:
            _fail("办件不存在：" + "、".join(sorted(missing)))
        for case in rows:
            report = verify_chain(session, case)
            broken += not report.intact
            if as_json:
                click.echo(json.dumps(msgspec.to_builtins(report), ensure_ascii=False))
            elif report.intact:
                click.echo(f"{case.number}  完整  {report.events} 条记录")
            else:
                click.echo(f"{case.number}  已被篡改  第 {report.broken_at} 条：{report.problem}")
    if not as_json:
        click.echo(f"共 {len(rows)} 件，{broken} 件留痕链不完整")
    raise SystemExit(1 if broken else 0)


@cases.command("rotate-key")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
def cases_rotate_key(slug: str) -> None:
    """停用该地区的电子证照签名密钥并生成新密钥（已发的证照仍可用停用的密钥验证）。"""
    from core.cases.licenses import rotate_key
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        key = rotate_key(session, tenant)
        session.commit()
        click.echo(f"新签名密钥 {key.key_id}，公钥 {key.public_key}")


@cases.command("sweep-objects")
@click.option(
    "--older-than",
    "minutes",
    type=click.IntRange(min=0),
    default=60,
    show_default=True,
    help="只清理存放超过这么多分钟的对象（请求可能仍在提交，新对象不动）。",
)
@click.option("--dry-run", is_flag=True, help="只列出，不删除。")
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON 报告。")
def cases_sweep_objects(minutes: int, dry_run: bool, as_json: bool) -> None:
    """清理存储中无人引用的办件材料、通知书和电子证照文件（上传后未能提交的残留）。

    只删除超过 --older-than 分钟、且任何地区的任何记录都没有引用的对象；重复运行无害。"""
    from datetime import timedelta

    from core.cases.orphans import sweep

    report = sweep(get_database(), older_than=timedelta(minutes=minutes), dry_run=dry_run)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "scanned": report.scanned,
                    "orphaned": report.orphaned,
                    "deleted": report.deleted,
                    "examples": report.examples,
                },
                ensure_ascii=False,
            )
        )
        return
    for key in report.examples:
        click.echo(f"无人引用：{key}")
    done = "将删除" if dry_run else "已删除"
    click.echo(
        f"检查 {report.scanned} 个对象，{report.orphaned} 个无人引用，{done} "
        f"{report.orphaned if dry_run else report.deleted} 个"
    )
