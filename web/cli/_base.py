"""The ``govhall`` group, shared helpers and the ``db`` commands."""

from __future__ import annotations

import logging
import sys
from typing import Any, NoReturn

import click

from core.config import get_settings
from core.errors import GovhallError

log = logging.getLogger("govhall")


def _fail(message: str) -> NoReturn:
    click.echo(click.style("错误: ", fg="red") + message, err=True)
    sys.exit(2)


def _tenant(session: Any, slug: str) -> Any:
    from core.tenancy import get_tenant_by_slug

    try:
        return get_tenant_by_slug(session, slug)
    except GovhallError as exc:
        _fail(exc.detail)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="More log output.")
def main(verbose: bool) -> None:
    """govhall — county-level online government service halls."""
    from core.effects import install

    install()  # the commit-time effects, as in the web app and the workers
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# -- db --------------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from core.db.migrate import upgrade

    url = get_settings().resolved_database_url
    upgrade(url, revision)
    click.echo(f"数据库已升级到 {revision}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
def db_revision(message: str) -> None:
    """Write a new migration from the models' difference to the database (at head)."""
    from alembic import command

    from core.db.migrate import alembic_config

    command.revision(
        alembic_config(get_settings().resolved_database_url), message=message, autogenerate=True
    )


@db.command("grant")
@click.option("--web-role", default=None, help="The role web processes connect as.")
@click.option("--platform-role", default=None, help="The role of workers, scheduler, CLI.")
def db_grant(web_role: str | None, platform_role: str | None) -> None:
    """Give the application's roles their privileges (run as the schema owner).

    Both may read and write rows, never own or alter a table; the web role is tenant-only:
    row-level security ignores the platform switch for it (see docs/operations.md).
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
