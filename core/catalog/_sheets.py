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
from core.spreadsheet import unquoted

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
        for number, record in enumerate(reader, start=1):
            rows.append((number, [unquoted(cell) for cell in record]))  # our own export's '
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
    try:
        book = _open_workbook(data)
    except Exception:
        raise InvalidInput(
            "无法打开这个 XLSX 文件：文件已损坏，或不是 Excel 工作簿"
            "（.xls 格式请先在 Excel 中另存为 .xlsx）",
            field="file",
        ) from None
    try:
        return [_read_sheet(book, name, path) for name, path in book.sheets]
    finally:
        book.archive.close()


@dataclass
class _Workbook:
    archive: zipfile.ZipFile
    strings: list[str]
    epoch: Any
    date_formats: set[int]
    timedelta_formats: set[int]
    sheets: list[tuple[str, str]]  # (name, part in the archive)


def _open_workbook(data: bytes) -> _Workbook:
    """The parts of openpyxl's reader a catalog needs (strings, date styles, the sheet list),
    without its read-only worksheets, which each parse the whole sheet once more just to
    learn its size."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    book = reader.wb
    sheets = [
        (sheet.name, rel.target)
        for sheet, rel in reader.parser.find_sheets()
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type
    ]
    return _Workbook(
        reader.archive,
        reader.shared_strings,
        book.epoch,
        book._date_formats,
        book._timedelta_formats,
        sheets,
    )


def _read_sheet(book: _Workbook, name: str, path: str) -> Grid:
    parser = _parser(book)
    rows: list[tuple[int, list[str]]] = []
    with book.archive.open(path) as source:
        parser.source = source
        try:
            for number, cells in parser.parse():
                rows.append((number, _texts(cells)))
        except _CellError as exc:
            raise InvalidInput(
                f"工作表「{name}」单元格 {exc.coordinate} 无法读取：{exc.problem}", field="file"
            ) from None
        except Exception:
            after = f"第 {rows[-1][0]} 行之后" if rows else "开头"
            raise InvalidInput(
                f"工作表「{name}」{after}无法读取：文件已损坏", field="file"
            ) from None
    return Grid(name, rows)


class _CellError(Exception):
    def __init__(self, coordinate: str, problem: str) -> None:
        super().__init__(coordinate)
        self.coordinate, self.problem = coordinate, problem


def _parser(book: _Workbook) -> Any:
    """openpyxl's own sheet parser, told to keep what its read-only mode drops: which cells
    hold a formula with no saved result, and which cell a value could not be read from."""
    from openpyxl.utils import coordinate_to_tuple
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element: Any) -> dict[str, Any]:
            coordinate = element.get("r") or "?"
            try:
                cell = self._text_cell(element) or super().parse_cell(element)
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

        def _text_cell(self, element: Any) -> dict[str, Any] | None:
            """Text cells — nearly all of a catalog — read directly: openpyxl builds a rich
            text object for each inline string, a third of the reading time of our own
            exports. Anything else goes the library's way."""
            kind = element.get("t")
            if kind not in ("s", "inlineStr") or element.find(FORMULA_TAG) is not None:
                return None
            if kind == "s":
                value = self.shared_strings[int(element.findtext(VALUE_TAG))]
            else:
                value = _inline_text(element.find(INLINE_TAG))
            coordinate = element.get("r")
            if coordinate:
                row, column = coordinate_to_tuple(coordinate)
                self.col_counter = column
            else:
                self.col_counter += 1
                row, column = self.row_counter, self.col_counter
            return {"row": row, "column": column, "value": value, "data_type": "s"}

    def _saved(element: Any) -> bool:
        """Whether a formula cell carries its last result: an empty ``<v/>`` is a result only
        for a formula typed as text (one that returned "")."""
        value = element.find(VALUE_TAG)
        return value is not None and (bool(value.text) or element.get("t") == "str")

    return Parser(
        None,
        book.strings,
        data_only=True,
        epoch=book.epoch,
        date_formats=book.date_formats,
        timedelta_formats=book.timedelta_formats,
    )


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
INLINE_TAG, _T, _R = f"{_MAIN}is", f"{_MAIN}t", f"{_MAIN}r"


def _inline_text(node: Any) -> str:
    """An inline string's text: its plain part and its formatted runs, not phonetic guides."""
    if node is None:
        return ""
    parts = []
    for child in node:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            parts.append(child.findtext(_T) or "")
    return "".join(parts)


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
