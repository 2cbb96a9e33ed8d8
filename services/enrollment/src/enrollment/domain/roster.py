"""The roster file's rules, in plain Python: its columns and their names, the header, what a
row's cells become before `MemberIn` validates them, duplicates within a file, and the
reasons an error report gives (reasons only: a value is never echoed).

A row is keyed by (grassroots org, employee number): the member's natural key at the home
node. A later row with the key of an earlier one is an error naming the first line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Header cells are matched after `header_key`: NFKC (full-width brackets become plain ones),
# lower case, no surrounding symbols, no "(…)" note, separators as "_". A required marker
# ("*姓名") or a note ("手机(必填)") is fine.


@dataclass(frozen=True)
class Column:
    name: str  # canonical, what the English template and the error report's key say
    zh: str  # the Chinese template's header
    aliases: tuple[str, ...]
    description: str
    example: str


COLUMNS: tuple[Column, ...] = (
    Column(
        "org",
        "基层工会",
        (
            "org",
            "org_id",
            "home_org",
            "grassroots_org",
            "grassroots_org_id",
            "union",
            "基层工会",
            "基层工会编号",
            "所属工会",
            "工会",
            "组织",
        ),
        "the grassroots org's id; may be left out when the import names a grassroots org",
        "hzsteel-rolling",
    ),
    Column(
        "name",
        "姓名",
        ("name", "full_name", "姓名", "名字"),
        "the member's name (required)",
        "王芳",
    ),
    Column(
        "employee_no",
        "工号",
        (
            "employee_no",
            "employee_number",
            "employee_id",
            "emp_no",
            "staff_no",
            "工号",
            "员工编号",
            "职工编号",
            "员工号",
        ),
        "employee number, unique within the org: the import's key (required)",
        "A10023",
    ),
    Column(
        "email",
        "邮箱",
        ("email", "e_mail", "mail", "邮箱", "电子邮箱", "电子邮件", "邮件"),
        "e-mail address",
        "wang.fang@example.com",
    ),
    Column(
        "phone",
        "手机",
        ("phone", "mobile", "telephone", "tel", "手机", "手机号", "手机号码", "电话", "联系电话"),
        "phone number: digits, spaces, '-', an optional leading '+' (5 to 20)",
        "138 0013 8000",
    ),
    Column(
        "language",
        "语言",
        ("language", "lang", "语言"),
        "zh or en (中文, English); empty: zh",
        "zh",
    ),
    Column(
        "joined_on",
        "入职日期",
        ("joined_on", "joined", "hire_date", "入职日期", "入职时间"),
        "the day the member joined the employer: 2021-03-15, 2021/3/15 or 2021年3月15日",
        "2021-03-15",
    ),
    Column(
        "skill_grade",
        "技能等级",
        ("skill_grade", "grade", "技能等级", "职业技能等级"),
        "vocational grade, 1 to 8",
        "3",
    ),
    Column(
        "birth_date",
        "出生日期",
        ("birth_date", "birthday", "date_of_birth", "dob", "出生日期", "生日"),
        "date of birth, like joined_on",
        "1990-07-01",
    ),
)

COLUMN_NAMES = tuple(c.name for c in COLUMNS)
_BY_ALIAS = {alias: c.name for c in COLUMNS for alias in (c.name, *c.aliases)}

# MemberIn's fields by column (the org column is the member's home_org).
FIELD_OF = {c: c for c in COLUMN_NAMES} | {"org": "home_org"}
COLUMN_OF = {f: c for c, f in FIELD_OF.items()}
# What a member's record reflects of a row (employee_no and org are the key).
UPDATABLE = ("name", "email", "phone", "language", "joined_on", "skill_grade", "birth_date")

_NOTE = re.compile(r"\([^)]*\)")
_SEPARATORS = re.compile(r"[\s_\-./]+")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_LANGUAGES = {
    "zh": "zh",
    "zh_cn": "zh",
    "zh-cn": "zh",
    "chinese": "zh",
    "中文": "zh",
    "汉语": "zh",
    "en": "en",
    "en_us": "en",
    "en-us": "en",
    "en_gb": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}


def header_key(text: str) -> str:
    text = _NOTE.sub("", unicodedata.normalize("NFKC", text)).strip().lower()
    # Surrounding symbols and punctuation: "*姓名", "=name", "邮箱:".
    while text and unicodedata.category(text[0])[0] in "PS":
        text = text[1:]
    while text and unicodedata.category(text[-1])[0] in "PS":
        text = text[:-1]
    return _SEPARATORS.sub("_", text.strip()).strip("_")


@dataclass(frozen=True)
class Header:
    """Where each known column is (cell index), what the file calls it, and what was left."""

    positions: dict[str, int]
    titles: dict[str, str]
    ignored: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)

    def missing(self, required: Iterable[str]) -> list[str]:
        return [c for c in required if c not in self.positions]


def read_header(cells: Sequence[str]) -> Header:
    positions: dict[str, int] = {}
    titles: dict[str, str] = {}
    ignored: list[str] = []
    repeated: list[str] = []
    for index, cell in enumerate(cells):
        name = _BY_ALIAS.get(header_key(cell))
        if name is None:
            if cell.strip():
                ignored.append(cell.strip()[:64])
        elif name in positions:
            repeated.append(name)
        else:
            positions[name] = index
            titles[name] = cell.strip()[:64]
    return Header(positions, titles, ignored, repeated)


def looks_like_header(cells: Sequence[str]) -> bool:
    """A row naming at least two known columns (a title row above it is skipped)."""
    return len(read_header(cells).positions) >= 2


def required_columns(org_given: bool) -> list[str]:
    """The org column may be left out when the import names a grassroots org."""
    return ["name", "employee_no"] if org_given else ["org", "name", "employee_no"]


def row_cells(header: Header, cells: Sequence[str]) -> dict[str, str]:
    """The known columns of one row, trimmed; an empty cell is kept as "" (it clears)."""
    return {
        name: (cells[i].strip() if i < len(cells) else "") for name, i in header.positions.items()
    }


def is_blank(cells: Sequence[str]) -> bool:
    return not any(c.strip() for c in cells)


def member_fields(cells: Mapping[str, str], default_org: str | None) -> dict[str, Any]:
    """MemberIn's input from a row: empty cells left out (MemberIn's defaults apply), dates
    and languages as people write them brought to the one form MemberIn reads."""
    out: dict[str, Any] = {}
    for column, value in cells.items():
        if not value:
            continue
        if column == "org":
            value = value.lower()
        elif column in ("joined_on", "birth_date"):
            value = _iso_date(value)
        elif column == "language":
            value = _LANGUAGES.get(value.lower(), value)
        out[FIELD_OF[column]] = value
    if "home_org" not in out and default_org is not None:
        out["home_org"] = default_org
    return out


def _iso_date(text: str) -> str:
    match = _DATE.match(unicodedata.normalize("NFKC", text))
    if match is None:
        return text  # MemberIn says what is wrong with it
    year, month, day = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def row_key(cells: Mapping[str, str], default_org: str | None) -> tuple[str, str] | None:
    """(org, employee number) of a row, as the import keys it; None without both."""
    org = (cells.get("org") or default_org or "").lower()
    employee_no = cells.get("employee_no", "")
    return (org, employee_no) if org and employee_no else None


class FirstLines:
    """The first line of every key seen so far in a file."""

    def __init__(self, default_org: str | None) -> None:
        self.default_org = default_org
        self._first: dict[tuple[str, str], int] = {}

    def duplicate_of(self, line: int, cells: Mapping[str, str]) -> int | None:
        """The first line with this row's key, if an earlier row had it; else remember it."""
        key = row_key(cells, self.default_org)
        if key is None:
            return None
        first = self._first.setdefault(key, line)
        return None if first == line else first


def duplicate_reason(first_line: int) -> str:
    return f"duplicate employee number in this file: first at line {first_line}"


# -- reasons ---------------------------------------------------------------------------------

_PATTERN_REASONS = {
    "home_org": "not an org id (lowercase letters, digits and '-')",
    "phone": "not a phone number (digits, spaces, '-', an optional leading '+'; 5 to 20)",
}
_VALUE_REASONS = {"email": "not a valid e-mail address"}


def reason_for(error: Mapping[str, Any]) -> tuple[str, str]:
    """(column, reason) of one pydantic error of MemberIn; never the value."""
    loc = error.get("loc") or ("row",)
    field_name = str(loc[0])
    column = COLUMN_OF.get(field_name, field_name)
    kind = error.get("type", "")
    if kind == "missing":
        return column, "required"
    if kind == "string_pattern_mismatch":
        return column, _PATTERN_REASONS.get(field_name, "invalid format")
    if kind in ("value_error", "assertion_error"):
        # Their messages may quote parts of the input (an e-mail's domain).
        return column, _VALUE_REASONS.get(field_name, "invalid value")
    return column, str(error.get("msg", "invalid value"))
