"""The catalog: import and export."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click._termui_impl import ProgressBar

from core.db import get_database
from core.errors import GovhallError
from web.cli._base import _fail, _tenant, log, main

# -- catalog --------------------------------------------------------------------------------------


@main.group()
def catalog() -> None:
    """事项目录：导入、导出事项（CSV 或 XLSX）。"""


@catalog.command("import")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def catalog_import(slug: str, file: Path) -> None:
    """从文件 FILE 导入事项：全部成功才写入，每个有问题的行都指明位置。"""
    from core.catalog.transfer import ImportFailed, import_rows, read_rows
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    try:
        sheet = read_rows(file.read_bytes(), file.name)
    except GovhallError as exc:
        _fail(exc.detail)
        return
    except Exception:
        log.debug("reading %s failed", file, exc_info=True)
        _fail("无法读取文件：文件已损坏或格式不受支持，未导入任何事项")
        return
    with get_database().session(scope=scope_for(tenant)) as session, _Progress() as progress:
        try:
            report = import_rows(session, tenant, sheet, progress)
            session.commit()
        except ImportFailed as exc:
            session.rollback()
            progress.close()
            for problem in exc.problems:
                click.echo(click.style("✗ ", fg="red") + problem, err=True)
            _fail(exc.detail.split("：", 1)[0])
            return
        except GovhallError as exc:
            session.rollback()
            _fail(exc.detail)
            return
        except Exception:
            session.rollback()
            log.debug("importing %s failed", file, exc_info=True)
            _fail("导入中断：系统内部错误，未导入任何事项（加 -v 查看详情）")
            return
    for note in report.notes:
        click.echo(f"· {note}")
    click.echo(f"新建 {report.created} 项，更新 {report.updated} 项，未变 {report.unchanged} 项")


class _Progress:
    """校验 then 写入: a bar per phase on a terminal; elsewhere (a log, a pipe, cron) a line
    every :data:`LINE_EVERY` rows and at each phase's end."""

    LINE_EVERY = 2000

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.phase, self.shown = "", 0
        self.bar: ProgressBar[int] | None = None

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None

    def __call__(self, done: int, total: int, phase: str) -> None:
        label = {"check": "校验", "write": "写入"}[phase]
        if phase != self.phase:
            self.close()
            self.phase, self.shown = phase, 0
            if self.tty:
                self.bar = click.progressbar(
                    length=total, label=label, file=sys.stderr, show_pos=True
                )
                self.bar.render_progress()
        if self.bar is not None:
            self.bar.update(done - self.shown)
        elif done == total or done - self.shown >= self.LINE_EVERY:
            click.echo(f"{label} {done}/{total}", err=True)
        else:
            return
        self.shown = done


@catalog.command("export")
@click.option("--tenant", "slug", required=True, help="地区标识，如 hechi。")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def catalog_export(slug: str, file: Path) -> None:
    """把已发布的全部事项导出到文件 FILE（.csv 或 .xlsx），格式与导入模板相同。"""
    from core.catalog.transfer import export_rows, write_csv, write_xlsx
    from core.tenancy import scope_for

    if file.suffix.lower() not in (".csv", ".xlsx"):
        _fail("文件名须以 .csv 或 .xlsx 结尾")
    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session, file.open("wb") as out:
        rows = list(export_rows(session, tenant))
        (write_csv if file.suffix.lower() == ".csv" else write_xlsx)(rows, out)
    click.echo(f"已导出 {len(rows) - 1} 项到 {file}")
