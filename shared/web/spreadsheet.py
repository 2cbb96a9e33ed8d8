"""Spreadsheets this platform hands out (CSV and XLSX): templates, error reports, roll-up
exports. Every cell goes through ``safe_cell`` first.

Formula injection: a spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or
``@`` (and, in some, a tab or carriage return) as a formula — ``=HYPERLINK(...)`` in a name
someone typed becomes a link, a DDE call, an exfiltration. ``safe_cell`` prefixes such text
with a single quote, which every spreadsheet program shows as text. Numbers stay numbers (a
negative number is no formula). In XLSX the cell is also written as a string, never as a
formula, whatever it holds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell as XlsxCell

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What a spreadsheet program may read as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | date | datetime | None


def safe_cell(value: Cell) -> Cell:
    """The value as a spreadsheet may show it: text that would start a formula gets a
    leading single quote; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]], *, bom: bool = True) -> bytes:
    """A CSV file (UTF-8; with a BOM by default, so that Excel reads Chinese text right) with
    every cell made safe."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow(["" if c is None else safe_cell(c) for c in row])
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


Sheet = tuple[str, Sequence[str], Iterable[Sequence[Cell]]]  # title, header, rows


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """An XLSX workbook of `sheets` (title, header, rows): every cell made safe, text cells
    written as strings (never formulas)."""
    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title=title[:31])  # Excel's limit on a sheet title
        sheet.append([_xlsx_cell(sheet, h) for h in header])
        for row in rows:
            sheet.append([_xlsx_cell(sheet, c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: Any, value: Cell) -> XlsxCell:
    safe: Any = safe_cell(value)  # openpyxl takes dates too; its stubs say datetime only
    cell = WriteOnlyCell(sheet, value=safe)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would take a leading '=' for a formula
    return cell
