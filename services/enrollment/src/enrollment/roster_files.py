"""Reading a roster file once, at upload: CSV (UTF-8 with or without a BOM, or GB18030) or
XLSX (the first sheet, read-only; formulas are never evaluated). What can be known about
the file as a whole is answered here, before any job exists: a file that is not text or
not a workbook, an encoding that is neither, a missing header, too many rows. What is wrong
with one row (a formula cell, a duplicate key) is marked on that row, for the job's report.

Lines are the rows as a spreadsheet numbers them: the header's row is counted, blank rows
are counted but skipped.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from openpyxl import load_workbook

from enrollment.domain import roster as rules
from enrollment.errors import Unprocessable
from shared.web.spreadsheet import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE

MEDIA_TYPES = (CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE)
HEADER_SEARCH_ROWS = 10  # a title row or two may stand above the header
# An XLSX is a ZIP: bound what it may unpack to (a small file can expand a thousandfold).
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
FORMULA_NOT_ALLOWED = "formula not allowed"


@dataclass
class RosterRow:
    line: int
    cells: dict[str, str]  # known columns → trimmed text ("" for an empty cell)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "cells": self.cells}
        if self.errors:
            out["errors"] = [list(e) for e in self.errors]
        return out


@dataclass
class ParsedRoster:
    format: str  # "csv" | "xlsx"
    encoding: str | None  # of a CSV
    header: rules.Header
    rows: list[RosterRow]


def file_error(detail: str, **extra: Any) -> Unprocessable:
    return Unprocessable(detail, field="file", **extra)


def read_roster(
    body: bytes, media_type: str, *, org_given: bool, max_rows: int, default_org: str | None
) -> ParsedRoster:
    """The whole file, checked and split into rows; raises a 422 naming what is wrong."""
    if not body:
        raise file_error("the file is empty")
    if media_type == XLSX_MEDIA_TYPE:
        fmt, encoding, records = "xlsx", None, _xlsx_records(body)
    else:
        text, encoding = _decode_csv(body)
        fmt, records = "csv", _csv_records(text)
    parsed = _rows(records, org_given=org_given, max_rows=max_rows)
    _mark_duplicates(parsed, default_org)
    return ParsedRoster(fmt, encoding, parsed.header, parsed.rows)


# -- CSV --------------------------------------------------------------------------------------

_MAGIC = {
    b"PK\x03\x04": "this is an XLSX workbook (or another ZIP file), not CSV: send an XLSX as "
    f"{XLSX_MEDIA_TYPE}",
    b"\xd0\xcf\x11\xe0": "this is an old Excel (.xls) file: save it as .xlsx or as CSV",
    b"%PDF": "this is a PDF file, not CSV",
}


def _decode_csv(body: bytes) -> tuple[str, str]:
    for magic, detail in _MAGIC.items():
        if body.startswith(magic):
            raise file_error(detail)
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise file_error("the file is UTF-16 text: save it as CSV in UTF-8 or GB18030")
    if b"\x00" in body:
        raise file_error("the file is binary, not CSV text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = body.decode(encoding, errors="strict")
        except UnicodeDecodeError:
            continue
        return text, ("utf-8" if encoding == "utf-8-sig" else encoding)
    raise file_error("the file is not UTF-8 or GB18030 text")


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 0
    try:
        for record in reader:
            line += 1
            yield line, record
    except csv.Error:
        raise file_error(f"the CSV cannot be read after line {line}", line=line + 1) from None


# -- XLSX -------------------------------------------------------------------------------------

_FORMULA = object()  # a cell that holds a formula: its row is an error


def _xlsx_records(body: bytes) -> Iterator[tuple[int, list[Any]]]:
    buffer = io.BytesIO(body)
    try:
        with zipfile.ZipFile(buffer) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise file_error("the file is not an XLSX workbook") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise file_error(f"the workbook unpacks to more than {MAX_UNPACKED_BYTES} bytes")
    try:
        book = load_workbook(buffer, read_only=True, data_only=False)
    except Exception:  # openpyxl raises what its XML and ZIP readers raise
        raise file_error("the file is not a readable XLSX workbook") from None
    try:
        if not book.worksheets:
            raise file_error("the workbook has no sheet")
        sheet: Any = book.worksheets[0]
        sheet.reset_dimensions()  # read every row, whatever the file claims its size is
        for line, row in enumerate(sheet.iter_rows(), start=1):
            yield line, [_xlsx_value(cell) for cell in row]
    except Unprocessable:
        raise
    except Exception:
        raise file_error("the workbook's first sheet cannot be read") from None
    finally:
        book.close()


def _xlsx_value(cell: Any) -> Any:
    value = cell.value
    if getattr(cell, "data_type", None) == "f":
        return _FORMULA
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- rows -------------------------------------------------------------------------------------


@dataclass
class _Parsed:
    header: rules.Header
    rows: list[RosterRow]


def _text(cells: Sequence[Any]) -> list[str]:
    return ["" if c is _FORMULA else str(c) for c in cells]


def _blank(cells: Sequence[Any]) -> bool:
    return not any(c is _FORMULA for c in cells) and rules.is_blank(_text(cells))


def _rows(records: Iterator[tuple[int, list[Any]]], *, org_given: bool, max_rows: int) -> _Parsed:
    required = rules.required_columns(org_given)
    header, first = _find_header(records)
    if header is None:
        missing = rules.read_header(_text(first)).missing(required) if first else required
        raise file_error(
            f"no header row: the first row must name the columns (missing: {', '.join(missing)})",
            missing_columns=missing,
        )
    if missing := header.missing(required):
        raise file_error(f"missing columns: {', '.join(missing)}", missing_columns=missing)
    if header.repeated:
        raise file_error(
            f"columns named twice: {', '.join(header.repeated)}", repeated_columns=header.repeated
        )
    rows: list[RosterRow] = []
    for line, cells in records:
        if _blank(cells):
            continue
        if len(rows) == max_rows:
            raise file_error(f"the file has more than {max_rows} rows: split it", max_rows=max_rows)
        row = RosterRow(line, rules.row_cells(header, _text(cells)))
        for column, index in header.positions.items():
            if index < len(cells) and cells[index] is _FORMULA:
                row.errors.append((column, FORMULA_NOT_ALLOWED))
        rows.append(row)
    if not rows:
        raise file_error("the file has no rows under its header")
    return _Parsed(header, rows)


def _find_header(
    records: Iterator[tuple[int, list[Any]]],
) -> tuple[rules.Header | None, list[Any] | None]:
    """The first row naming two known columns, among the first non-blank rows; else None
    and the first non-blank row (to say what it lacks)."""
    first: list[Any] | None = None
    seen = 0
    for _line, cells in records:
        text = _text(cells)
        if rules.is_blank(text):
            continue
        first = first if first is not None else cells
        if rules.looks_like_header(text):
            return rules.read_header(text), first
        seen += 1
        if seen == HEADER_SEARCH_ROWS:
            break
    return None, first


def _mark_duplicates(parsed: _Parsed, default_org: str | None) -> None:
    firsts = rules.FirstLines(default_org)
    for row in parsed.rows:
        first = firsts.duplicate_of(row.line, row.cells)
        if first is not None:
            row.errors.append(("employee_no", rules.duplicate_reason(first)))
