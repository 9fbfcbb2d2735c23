"""Cells that a spreadsheet program opens as text, never as a formula.

Excel, WPS and LibreOffice run a CSV cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (``=HYPERLINK("http://…?x="&A1, "点击")`` sends a neighbouring cell away when clicked),
and a leading tab or carriage return does not stop them. Every CSV the project writes passes
its cells through :func:`safe_cell`, which puts a ``'`` in front of such a cell: the program
shows the text as it is. A plain number (``-5``, ``+86``) is left alone; it is no formula.
:func:`unquoted` takes the ``'`` off again where the project reads its own export back."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

__all__ = ["FORMULA_STARTS", "safe_cell", "safe_row", "unquoted"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` with a ``'`` in front when it is text a spreadsheet would read as a formula;
    anything else (numbers, dates, None) as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _number(value):
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    return [safe_cell(v) for v in row]


def unquoted(cell: str) -> str:
    """A cell as :func:`safe_cell` had it before the ``'`` (a cell read back from an export)."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def _number(text: str) -> bool:
    if text.startswith(("\t", "\r")):
        return False
    try:
        Decimal(text)
    except (InvalidOperation, ValueError):
        return False
    return text.strip().lstrip("+-")[:1].isdigit() or text.strip().lstrip("+-")[:1] == "."
