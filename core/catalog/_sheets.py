"""Reading a spreadsheet as a clerk's program wrote it: CSV in UTF-8 or in GBK/GB18030 (what
Excel saves on Chinese Windows), or XLSX with every sheet. Rows keep the numbers the
spreadsheet shows, and a cell that cannot be trusted (a formula whose result was never saved,
an error value, text in a cell typed as a number) is marked, never read as empty."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from core.errors import InvalidInput

__all__ = ["Grid", "Unreadable", "read_csv", "read_xlsx"]


class Unreadable(str):
    """A cell whose value cannot be used; its text is empty and ``problem`` says why."""

    problem: str

    def __new__(cls, problem: str) -> Unreadable:
        cell = super().__new__(cls, "")
        cell.problem = problem
        return cell


@dataclass
class Grid:
    """One sheet: its name ("" for CSV) and its rows as (row number, cell texts)."""

    name: str
    rows: list[tuple[int, list[str]]]


# -- CSV --------------------------------------------------------------------------------------


def read_csv(data: bytes) -> Grid:
    text = _decode(data)
    first = text[:4000].split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","  # Excel's "文本文件"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for number, record in enumerate(reader, start=1):  # noqa: B007 - read after the loop
            rows.append((number, record))
    except csv.Error:
        raise InvalidInput(
            f"CSV 文件第 {number + 1} 行无法读取（引号不成对或含有非法字符）", field="file"
        ) from None
    return Grid("", rows)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 — a superset of GBK and
    GB2312, so a file Excel saved as "CSV" on Chinese Windows reads as its author sees it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8-sig", "gb18030"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("无法识别 CSV 文件的编码：请另存为 UTF-8 或 GBK 编码的 CSV", field="file")


# -- XLSX -------------------------------------------------------------------------------------


def read_xlsx(data: bytes) -> list[Grid]:
    """Every worksheet of the workbook, in order."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise InvalidInput(
            "无法打开这个 XLSX 文件：文件已损坏，或不是 Excel 工作簿"
            "（.xls 格式请先在 Excel 中另存为 .xlsx）",
            field="file",
        ) from None
    try:
        return [_read_sheet(book, sheet) for sheet in book.worksheets]
    finally:
        book.close()


def _read_sheet(book: Any, sheet: Any) -> Grid:
    parser = _parser(book, sheet)
    rows: list[tuple[int, list[str]]] = []
    with sheet._get_source() as source:  # noqa: SLF001 - the read-only sheet's own XML stream
        parser.source = source
        try:
            for number, cells in parser.parse():
                rows.append((number, _texts(cells)))
        except _CellError as exc:
            raise InvalidInput(
                f"工作表「{sheet.title}」单元格 {exc.coordinate} 无法读取：{exc.problem}",
                field="file",
            ) from None
        except Exception:  # noqa: BLE001 - a broken sheet of any kind is the file's problem
            after = f"第 {rows[-1][0]} 行之后" if rows else "开头"
            raise InvalidInput(
                f"工作表「{sheet.title}」{after}无法读取：文件已损坏", field="file"
            ) from None
    return Grid(sheet.title, rows)


class _CellError(Exception):
    def __init__(self, coordinate: str, problem: str) -> None:
        super().__init__(coordinate)
        self.coordinate, self.problem = coordinate, problem


def _parser(book: Any, sheet: Any) -> Any:
    """openpyxl's own sheet parser, told to keep what its read-only mode drops: which cells
    hold a formula with no saved result, and which cell a value could not be read from."""
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class Parser(WorkSheetParser):  # type: ignore[misc]
        def parse_cell(self, element: Any) -> dict[str, Any]:
            coordinate = element.get("r") or "?"
            try:
                cell = super().parse_cell(element)
            except (ValueError, TypeError, KeyError, IndexError, OverflowError):
                kind = element.get("t", "n")
                problem = "单元格格式为数字，内容却不是数字" if kind == "n" else "内容已损坏"
                raise _CellError(coordinate, problem) from None
            if element.find(FORMULA_TAG) is not None and not _saved(element):
                cell["value"] = Unreadable(
                    f"单元格 {coordinate} 是公式，文件中没有保存它的计算结果"
                    "（请在 Excel 中打开后保存，或把公式粘贴为数值）"
                )
            elif cell.get("data_type") == "e":
                cell["value"] = Unreadable(f"单元格 {coordinate} 是错误值 {cell['value']}")
            return cell

    def _saved(element: Any) -> bool:
        """Whether a formula cell carries its last result: an empty ``<v/>`` is a result only
        for a formula typed as text (one that returned "")."""
        value = element.find(VALUE_TAG)
        return value is not None and (bool(value.text) or element.get("t") == "str")

    return Parser(
        None,
        sheet._shared_strings,  # noqa: SLF001
        data_only=True,
        epoch=book.epoch,
        date_formats=book._date_formats,  # noqa: SLF001
        timedelta_formats=book._timedelta_formats,  # noqa: SLF001
    )


def _texts(cells: list[dict[str, Any]]) -> list[str]:
    width = max((c["column"] for c in cells), default=0)
    out = [""] * width
    for cell in cells:
        out[cell["column"] - 1] = _text(cell["value"])
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    return str(value)
