"""Reading roster files: headers people write, encodings, lines as a spreadsheet numbers them,
XLSX cells as text, formulas and duplicates marked on their rows, and the limits."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from enrollment import roster_files
from enrollment.domain import roster as rules
from enrollment.errors import Unprocessable
from enrollment.roster_files import read_roster
from shared.web.spreadsheet import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE


def read(
    body: bytes,
    media: str = CSV_MEDIA_TYPE,
    *,
    org_given: bool = True,
    max_rows: int = 1000,
    default_org: str | None = "hzsteel-rolling",
):
    return read_roster(body, media, org_given=org_given, max_rows=max_rows, default_org=default_org)


def xlsx(*rows: list[object]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Name", "name"),
        ("*姓名", "name"),
        ("姓名\uff08必填\uff09", "name"),  # full-width brackets
        ("Employee Number", "employee_no"),
        ("工号", "employee_no"),
        ("E-mail", "email"),
        ("电子邮箱", "email"),
        ("手机号码", "phone"),
        ("Grassroots Org", "org"),
        ("基层工会", "org"),
        ("入职日期", "joined_on"),
        ("Skill grade", "skill_grade"),
        ("出生日期", "birth_date"),
        ("\uff2c\uff21\uff2e\uff27", "language"),  # full-width LANG
    ],
)
def test_header_cells_are_read_case_insensitively_with_chinese_aliases(header, column) -> None:
    assert (
        rules.read_header([header, "name" if column != "name" else "工号"]).positions[column] == 0
    )


def test_unknown_header_cells_are_ignored_and_reported() -> None:
    parsed = read("序号,姓名,工号,部门\n1,王芳,A1,轧钢\n".encode())

    assert parsed.header.ignored == ["序号", "部门"]
    assert parsed.rows[0].cells == {"name": "王芳", "employee_no": "A1"}


def test_a_title_row_above_the_header_is_skipped_and_lines_keep_their_numbers() -> None:
    body = "杭钢集团轧钢厂工会会员名册,,\n\n姓名,工号,邮箱\n王芳,A1,\n\n,,\nLi Lei,A2,\n"

    parsed = read(body.encode())

    assert [(r.line, r.cells["name"]) for r in parsed.rows] == [(4, "王芳"), (7, "Li Lei")]


def test_utf8_with_a_bom_utf8_and_gb18030_read_alike() -> None:
    text = "姓名,工号\n王芳,A1\n"

    bom, plain, gb = (
        read(b"\xef\xbb\xbf" + text.encode()),
        read(text.encode()),
        read(text.encode("gb18030")),
    )

    assert bom.rows[0].cells == plain.rows[0].cells == gb.rows[0].cells
    assert (bom.encoding, plain.encoding, gb.encoding) == ("utf-8", "utf-8", "gb18030")


def test_a_tab_separated_file_is_read_too() -> None:
    parsed = read("姓名\t工号\n王芳\tA1\n".encode())

    assert parsed.rows[0].cells == {"name": "王芳", "employee_no": "A1"}


def test_a_second_row_with_the_key_of_an_earlier_one_names_the_first_line() -> None:
    body = b"org,name,employee_no\nhzsteel-rolling,A,1\nhzsteel-casting,B,1\nHZSTEEL-ROLLING,C,1\n"

    parsed = read(body, org_given=False, default_org=None)

    assert [r.errors for r in parsed.rows] == [
        [],
        [],
        [("employee_no", "duplicate employee number in this file: first at line 2")],
    ]


def test_rows_without_the_org_count_under_the_imports_org_for_duplicates() -> None:
    body = b"org,name,employee_no\n,A,1\nhzsteel-rolling,B,1\n"

    parsed = read(body)

    assert parsed.rows[1].errors[0][1].endswith("line 2")


def test_more_rows_than_the_limit_are_refused_before_the_rest_is_read() -> None:
    body = b"name,employee_no\n" + b"".join(b"A,%d\n" % i for i in range(11))

    with pytest.raises(Unprocessable) as refused:
        read(body, max_rows=10)

    assert refused.value.extra == {"max_rows": 10}


def test_xlsx_cells_become_text_as_people_see_them() -> None:
    body = xlsx(
        ["姓名", "工号", "手机", "入职日期", "技能等级", "出生日期"],
        ["王芳", 10023, 13800138000, datetime(2015, 3, 1), 3.0, date(1990, 7, 1)],
    )

    parsed = read(body, XLSX_MEDIA_TYPE)

    assert parsed.rows[0].cells == {
        "name": "王芳",
        "employee_no": "10023",
        "phone": "13800138000",
        "joined_on": "2015-03-01",
        "skill_grade": "3",
        "birth_date": "1990-07-01",
    }
    assert parsed.format == "xlsx"


def test_a_formula_cell_is_an_error_of_its_row_and_its_text_is_not_kept() -> None:
    body = xlsx(["姓名", "工号", "备注"], ['=HYPERLINK("x")', "A1", "=1+1"], ["王芳", "A2"])

    parsed = read(body, XLSX_MEDIA_TYPE)

    assert parsed.rows[0].errors == [("name", "formula not allowed")]
    assert parsed.rows[0].cells["name"] == ""
    assert parsed.rows[1].errors == []  # a formula in a column not read is no error


def test_xlsx_rows_are_numbered_as_the_sheet_numbers_them() -> None:
    body = xlsx(["名册"], [], ["姓名", "工号"], ["王芳", "A1"], [], ["Li Lei", "A2"])

    parsed = read(body, XLSX_MEDIA_TYPE)

    assert [r.line for r in parsed.rows] == [4, 6]


def test_a_workbook_that_unpacks_too_far_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(roster_files, "MAX_UNPACKED_BYTES", 1000)

    with pytest.raises(Unprocessable, match="unpacks to more than"):
        read(xlsx(["姓名", "工号"], ["王芳", "A1"]), XLSX_MEDIA_TYPE)


@pytest.mark.parametrize(
    ("written", "read_as"),
    [
        ("2015-03-01", "2015-03-01"),
        ("2015/3/1", "2015-03-01"),
        ("2015.3.1", "2015-03-01"),
        ("2015年3月1日", "2015-03-01"),
        ("\uff11\uff19\uff19\uff10/\uff17/\uff11", "1990-07-01"),  # full-width
        ("March 2015", "March 2015"),  # left for MemberIn to refuse
    ],
)
def test_dates_as_people_write_them(written: str, read_as: str) -> None:
    assert rules.member_fields({"joined_on": written}, None) == {"joined_on": read_as}


def test_languages_as_people_write_them() -> None:
    got = [
        rules.member_fields({"language": v}, None)["language"] for v in ("中文", "English", "EN")
    ]

    assert got == ["zh", "en", "en"]


def test_a_reason_never_quotes_the_value() -> None:
    error = {"loc": ("email",), "type": "value_error", "msg": "bad: secret@x"}

    assert rules.reason_for(error) == ("email", "not a valid e-mail address")
