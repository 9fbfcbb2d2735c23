"""The ``govhall`` group, shared helpers and the ``db`` commands."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from core.config import get_settings
from core.errors import GovhallError

log = logging.getLogger("govhall")


def _fail(message: str) -> None:
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
