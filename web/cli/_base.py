"""The ``govhall`` group, shared helpers and the ``db`` commands."""

from __future__ import annotations

import logging
import sys
from typing import Any, NoReturn

import click

from core.config import get_settings
from core.errors import GovhallError
from web.cli._zh import install as _speak_chinese

log = logging.getLogger("govhall")
_speak_chinese()


def _fail(message: str) -> NoReturn:
    click.echo(click.style("错误：", fg="red") + message, err=True)
    sys.exit(2)


def _tenant(session: Any, slug: str) -> Any:
    from core.tenancy import get_tenant_by_slug

    try:
        return get_tenant_by_slug(session, slug)
    except GovhallError:
        _fail(f"没有标识为 {slug} 的地区（govhall tenants list 列出全部地区）")


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="输出更详细的日志。")
def main(verbose: bool) -> None:
    """govhall：县级网上办事大厅的管理命令。"""
    from core.effects import install

    install()  # the commit-time effects, as in the web app and the workers
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# -- db --------------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """数据库结构：升级、生成迁移、授权。"""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="升级到的版本（默认最新）。")
def db_upgrade(revision: str) -> None:
    """把数据库升级到指定版本（默认最新）。"""
    from core.db.migrate import upgrade

    url = get_settings().resolved_database_url
    upgrade(url, revision)
    click.echo("数据库已升级到最新版本" if revision == "head" else f"数据库已升级到版本 {revision}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="这次迁移做什么（一句话）。")
def db_revision(message: str) -> None:
    """按模型与数据库（最新版本）的差异生成一个新的迁移文件（供开发者使用）。"""
    from alembic import command

    from core.db.migrate import alembic_config

    command.revision(
        alembic_config(get_settings().resolved_database_url), message=message, autogenerate=True
    )


@db.command("grant")
@click.option("--web-role", default=None, help="网站进程连接数据库所用的角色。")
@click.option("--platform-role", default=None, help="后台任务、定时任务和命令行所用的角色。")
def db_grant(web_role: str | None, platform_role: str | None) -> None:
    """为应用的数据库角色授权（以表的所有者身份运行）。

    两个角色都只能读写数据行，不能拥有或修改表；网站角色只能在地区范围内访问：
    行级安全对它不开放平台开关（见 docs/operations.md）。
    """
    from core.db.migrate import grant_roles

    url = get_settings().resolved_database_url
    if not url.startswith("postgresql"):
        _fail("只有 PostgreSQL 需要分角色授权")
    if not web_role and not platform_role:
        _fail("请指定 --web-role 或 --platform-role")
    grant_roles(url, web_role, platform_role)
    click.echo(
        "已授权："
        + "，".join(f"{k} {v}" for k, v in (("网站", web_role), ("平台", platform_role)) if v)
    )
