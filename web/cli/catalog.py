"""The catalog: import and export."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from core.db import get_database
from core.errors import GovhallError
from web.cli._base import _fail, _tenant, log, main  # noqa: F401

# -- catalog --------------------------------------------------------------------------------------


@main.group()
def catalog() -> None:
    """The catalog: import and export items (CSV or XLSX)."""


@catalog.command("import")
@click.option("--tenant", "slug", required=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def catalog_import(slug: str, file: Path) -> None:
    """Import items from FILE: all or nothing, every bad row named with its line."""
    from core.catalog.transfer import ImportFailed, import_rows, read_rows
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    try:
        rows = read_rows(file.read_bytes(), file.name)
    except GovhallError as exc:
        _fail(exc.detail)
        return
    with get_database().session(scope=scope_for(tenant)) as session:
        with click.progressbar(
            length=len(rows), label="导入事项", file=sys.stderr, show_pos=True
        ) as bar:
            last = [0]

            def progress(done: int, total: int, phase: str) -> None:
                if phase == "check":  # the bar counts rows written; checking is quick
                    return
                bar.update(done - last[0])
                last[0] = done

            try:
                report = import_rows(session, tenant, rows, progress)
            except ImportFailed as exc:
                session.rollback()
                click.echo("", err=True)
                for problem in exc.problems:
                    click.echo(click.style("✗ ", fg="red") + problem, err=True)
                _fail(f"{len(exc.problems)} 处错误，未导入任何事项")
                return
        session.commit()
    click.echo(f"新建 {report.created} 项，更新 {report.updated} 项，未变 {report.unchanged} 项")


@catalog.command("export")
@click.option("--tenant", "slug", required=True)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def catalog_export(slug: str, file: Path) -> None:
    """Export every published item to FILE (.csv or .xlsx), in the import template."""
    from core.catalog.transfer import export_rows, write_csv, write_xlsx
    from core.tenancy import scope_for

    if file.suffix.lower() not in (".csv", ".xlsx"):
        _fail("FILE must end in .csv or .xlsx")
    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session, file.open("wb") as out:
        rows = list(export_rows(session, tenant))
        (write_csv if file.suffix.lower() == ".csv" else write_xlsx)(rows, out)
    click.echo(f"已导出 {len(rows) - 1} 项到 {file}")
