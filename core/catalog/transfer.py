"""Import and export of a tenant's own items as CSV or XLSX, in the documented template
(docs/catalog.md). An import is checked whole first — any bad row named by its place in the
spreadsheet and its column — and written only when every row is good, in batches."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalog._bulk import Existing, before_bulk_write, publish_batch
from core.catalog._messages import field_phrase
from core.catalog._rows import Lookups, content_to_cells, keep_unsaid, row_to_content
from core.catalog._sheets import Grid, Unreadable, read_csv, read_xlsx
from core.catalog.codes import tidy_code
from core.catalog.content import parse_content
from core.catalog.models import Item, ItemStatus
from core.catalog.service import categories, get_item, propagate
from core.catalog.template import COLUMNS, HEADER_OF, HEADERS, REQUIRED, HeaderRow, find_header
from core.errors import GovhallError, InvalidInput
from core.spreadsheet import safe_row
from core.tenancy import Tenant

__all__ = [
    "COLUMNS",
    "HEADERS",
    "ImportFailed",
    "ImportReport",
    "Progress",
    "Sheet",
    "SheetRow",
    "export_rows",
    "import_rows",
    "read_rows",
    "write_csv",
    "write_xlsx",
]

#: Rows checked or written between two progress reports, and per write batch.
BATCH = 500
#: Problems listed before the rest are only counted.
MAX_PROBLEMS = 200

#: progress(done, total, phase): phase "check" (校验) then "write" (写入).
Progress = Callable[[int, int, str], None]


class ImportFailed(GovhallError):
    code = "invalid_import"
    status = 422

    def __init__(self, problems: list[str], total: int | None = None) -> None:
        count = total if total is not None else len(problems)
        super().__init__(f"{count} 处错误，未导入任何事项：" + "；".join(problems[:20]))
        self.problems = problems
        if count > len(problems):
            self.problems = [*problems, f"……另有 {count - len(problems)} 处错误未列出"]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: what was read past (ignored columns, sheets without a header), said to the clerk
    notes: list[str] = field(default_factory=list)


@dataclass
class SheetRow:
    where: str  # 第 12 行, or 工作表「民政局」第 12 行 in a workbook of several sheets
    values: dict[str, str]  # content field → cell text, for the columns the sheet has


@dataclass
class Sheet:
    """The rows of a file's item table(s), with what was read past."""

    rows: list[SheetRow]
    notes: list[str] = field(default_factory=list)


# -- reading ----------------------------------------------------------------------------------


def read_rows(data: bytes, filename: str) -> Sheet:
    """The item rows of a CSV (UTF-8 or GBK/GB18030) or XLSX file: in each sheet the header
    row is looked for below any title rows, and sheets without one (填表说明) are skipped."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        grids = [read_csv(data)]
    elif suffix == ".xlsx":
        grids = read_xlsx(data)
    else:
        raise InvalidInput("请上传 .csv 或 .xlsx 文件", field="file")
    several = len(grids) > 1
    sheet, tables = Sheet([]), 0
    best: tuple[str, HeaderRow] | None = None
    for grid in grids:
        header = find_header(grid.rows)
        label = f"工作表「{grid.name}」" if several else ""
        if header is None or header.missing:
            if several and any(any(c.strip() for c in cells) for _, cells in grid.rows):
                sheet.notes.append(f"已跳过{label}：没有找到表头")
            if header is not None and (best is None or len(header.fields) > len(best[1].fields)):
                best = (label, header)
            continue
        tables += 1
        _check_header(label, header)
        sheet.notes += [f"{label}已忽略列「{name}」" for name in header.ignored]
        sheet.rows += _data_rows(grid, header, label)
    if not tables:
        _no_table(grids, best)
    return sheet


def _no_table(grids: list[Grid], best: tuple[str, HeaderRow] | None) -> None:
    if not any(any(c.strip() for c in cells) for g in grids for _, cells in g.rows):
        raise InvalidInput("文件是空的", field="file")
    required = "、".join(HEADER_OF[f] for f in REQUIRED)
    if best is not None:
        label, header = best
        raise InvalidInput(
            f"缺少列：{'、'.join(header.missing)}（{label}第 {header.number} 行的表头；"
            "请使用导出的模板）",
            field="file",
        )
    raise InvalidInput(f"缺少列：没有找到含有 {required} 的表头（请使用导出的模板）", field="file")


def _check_header(label: str, header: HeaderRow) -> None:
    """A column the template does not know is an error: its content would otherwise be
    silently lost, or the field it meant silently defaulted."""
    problems = [
        f"{label}第 {header.number} 行 {_column_letter(column)} 列的表头「{text}」不是模板中的列"
        for column, text in header.unknown
    ] + [f"{label}表头「{a}」与「{b}」是同一列，请只保留一个" for a, b in header.duplicates]
    if problems:
        problems.append(f"模板中的列：{'、'.join(HEADERS)}（序号、备注两列会被忽略）")
        raise ImportFailed(problems)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index + 1))


def _data_rows(grid: Grid, header: HeaderRow, label: str) -> list[SheetRow]:
    out = []
    for number, cells in grid.rows[header.index + 1 :]:
        values = {f: cells[c] if c < len(cells) else "" for c, f in header.fields.items()}
        if any(v.strip() or isinstance(v, Unreadable) for v in values.values()):
            out.append(SheetRow(f"{label}第 {number} 行", values))
    return out


# -- checking and writing ---------------------------------------------------------------------


def import_rows(
    session: Session, tenant: Tenant, sheet: Sheet, progress: Progress | None = None
) -> ImportReport:
    """Check every row, then write them all in batches (the caller commits). Raises
    :class:`ImportFailed` naming each bad row, having written nothing."""
    report = ImportReport(notes=list(sheet.notes))
    total = len(sheet.rows)
    wanted = _check(session, tenant, sheet.rows, progress)
    new = [(code, eff) for code, eff, item in wanted if item is None]
    changed = [(item, eff) for code, eff, item in wanted if item and item.effective != eff]
    report.created, report.updated = len(new), len(changed)
    report.unchanged = total - len(new) - len(changed)
    writes: list[tuple[str, Any]] = [("new", w) for w in new] + [("changed", w) for w in changed]
    if progress:
        progress(0, len(writes), "write")
    before_bulk_write(session, len(writes))
    for start in range(0, len(writes), BATCH):
        batch = writes[start : start + BATCH]
        publish_batch(
            session,
            tenant,
            [w for kind, w in batch if kind == "new"],
            [w for kind, w in batch if kind == "changed"],
            reason="批量导入更新",
        )
        if progress:
            progress(start + len(batch), len(writes), "write")
    if tenant.is_province:  # counties adopting a changed standard item follow it
        for item, _ in changed:
            propagate(session, get_item(session, tenant, item.id))
    session.flush()
    return report


def _check(
    session: Session, tenant: Tenant, rows: list[SheetRow], progress: Progress | None
) -> list[tuple[str, dict[str, Any], Existing | None]]:
    lookups = Lookups.load(session, tenant)
    existing = _existing(session, tenant, rows)
    problems: list[str] = []
    count = 0
    wanted: list[tuple[str, dict[str, Any], Existing | None]] = []
    seen: dict[str, str] = {}
    for done, row in enumerate(rows, start=1):
        try:
            code, eff = _check_row(row, lookups, existing)
            if code in seen:
                raise InvalidInput(f"编码 {code} 与{seen[code]}重复", field="code")
            seen[code] = row.where
            wanted.append((code, eff, existing.get(code)))
        except GovhallError as exc:
            count += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append(_problem(row.where, exc))
        if progress and (done % BATCH == 0 or done == len(rows)):
            progress(done, len(rows), "check")
    if problems:
        raise ImportFailed(problems, count)
    return wanted


def _check_row(
    row: SheetRow, lookups: Lookups, existing: dict[str, Existing]
) -> tuple[str, dict[str, Any]]:
    for column, text in row.values.items():
        if isinstance(text, Unreadable):
            raise InvalidInput(text.problem, field=column)
    code, content = row_to_content(row.values, lookups)
    item = existing.get(code)
    if item is not None:
        content = keep_unsaid(content, item.effective)
    elif "kind" not in content:
        # a sheet without 类型: the category says whether it is a power or a public service
        content["kind"] = lookups.category_kind[content["category"]]
    eff = msgspec.to_builtins(
        parse_content(
            content,
            categories=set(lookups.category_kind),
            departments=set(lookups.departments),
            processes=lookups.processes,
        )
    )
    if item is not None and item.adopted and eff != item.effective:
        raise InvalidInput(f"{code} 采用省级标准，请在事项页面调整", field="code")
    return code, eff


def _existing(session: Session, tenant: Tenant, rows: list[SheetRow]) -> dict[str, Existing]:
    """The items the rows' codes name, read in slices (a database caps a statement's
    parameters; a province sheet has tens of thousands of codes)."""
    codes = sorted({tidy_code(r.values.get("code", "")) for r in rows} - {""})
    found: dict[str, Existing] = {}
    for start in range(0, len(codes), 1000):
        for row in session.execute(
            select(
                Item.id,
                Item.code,
                Item.live_version_id,
                Item.standard_item_id,
                Item.effective,
                Item.status,
            ).where(Item.tenant_id == tenant.id, Item.code.in_(codes[start : start + 1000]))
        ):
            found[row.code] = Existing(
                row.id,
                row.code,
                row.live_version_id,
                row.standard_item_id is not None,
                row.effective or {},
                ItemStatus(row.status).value,
            )
    return found


def _problem(where: str, exc: GovhallError) -> str:
    column = _column_of(exc.field)
    detail = exc.detail
    return f"{where} {column}：{detail}" if column else f"{where}：{detail}"


def _column_of(path: str | None) -> str:
    """The template column a content field path belongs to (materials[0].name → 申报材料)."""
    if not path:
        return ""
    top = path.split("[")[0].split(".")[0]
    return HEADER_OF.get(top) or field_phrase(path)


# -- writing ----------------------------------------------------------------------------------


def export_rows(session: Session, tenant: Tenant) -> Iterator[list[str]]:
    """The header, then one row per published item (own and adopted), effective content."""
    names = {code: c.name for code, c in categories(session).items()}
    yield HEADERS
    for item in session.scalars(
        select(Item)
        .where(Item.tenant_id == tenant.id, Item.live_version_id.is_not(None))
        .order_by(Item.code)
        .execution_options(yield_per=1000)
    ):
        yield content_to_cells(item.code, item.effective, names)


def write_csv(rows: Iterable[list[str]], out: BinaryIO) -> None:
    text = io.StringIO()
    csv.writer(text).writerows(safe_row(row) for row in rows)  # never a formula (core/spreadsheet)
    out.write(b"\xef\xbb\xbf" + text.getvalue().encode("utf-8"))  # BOM: Excel reads UTF-8


def write_xlsx(rows: Iterable[list[str]], out: BinaryIO) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("事项")
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # text as typed: openpyxl makes "=…" a formula
            cells.append(cell)
        sheet.append(cells)
    book.save(out)
