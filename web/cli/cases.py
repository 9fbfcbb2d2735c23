"""Cases: verify trails, rotate the e-license signing key."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from core.db import get_database
from web.cli._base import _fail, _tenant, main


@main.group()
def cases() -> None:
    """办件：核验留痕链，轮换电子证照签名密钥。"""


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
