"""Spreadsheets handed out: a cell that a spreadsheet program would run as a formula is shown
as text instead."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from shared.web.spreadsheet import csv_bytes, safe_cell, xlsx_bytes


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK()"])
def test_text_that_would_start_a_formula_gets_a_leading_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["王芳", "a=b", "", None, -3, 2.5, date(2030, 1, 1)])
def test_anything_else_is_left_as_it_is(value: object) -> None:
    assert safe_cell(value) == value  # type: ignore[arg-type]


def test_a_csv_is_utf8_with_a_bom_and_every_cell_is_safe() -> None:
    data = csv_bytes(["=h", "name"], [["=1+1", "王芳"], [-5, None]])

    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["'=h", "name"], ["'=1+1", "王芳"], ["-5", ""]]


def test_an_xlsx_holds_text_never_formulas() -> None:
    data = xlsx_bytes([("report", ["=h"], [["=1+1", -5, "@x", "ok"]])])

    sheet = load_workbook(io.BytesIO(data))["report"]
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert [c.value for c in cells] == ["'=h", "'=1+1", -5, "'@x", "ok"]
    assert all(c.data_type != "f" for c in cells)
