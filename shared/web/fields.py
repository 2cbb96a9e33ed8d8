"""Validated input types for HTTP bodies, paths and queries.

Every string that reaches the database goes through one of these: PostgreSQL refuses a NUL
in text (a 500 if it got that far), and a name with a bidirectional override or a zero-width
character displays as something it is not. Each failure is a ``PydanticCustomError``, whose
message the problem handler may show (``shared.web.problems``): messages never quote the
value. Lengths stay with each schema: ``name: DisplayText = Field(max_length=200)``.

``DisplayText``, ``ShortText``: one line of text people read. ``OrgId``, ``Id``: the ids a
request names, in a body, a path or a query. ``UtcInstant``: a time with its offset, in UTC.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

# Org ids are short slugs (`hzsteel-rolling`); other ids are UUIDs or event ids.
ORG_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"

# Control (Cc), format (Cf: bidi controls, zero-width characters, BOM), surrogates (Cs: a
# lone one cannot be stored as UTF-8), and line and paragraph separators (one line only).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

# An instant must have a local date in every time zone (offsets reach ±14 h), or a later
# conversion (a roll-up's year, a consumer on another node) would overflow.
_EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
_LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


def _refuse_unsafe(value: str) -> None:
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in value):
        raise PydanticCustomError(
            "unsafe_character",
            "the text contains a control, bidirectional-override or zero-width character",
        )


def _display_text(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank_text", "the text is blank")
    _refuse_unsafe(value)
    return value


def _paragraphs(value: str) -> str:
    """Like one line of text, but line breaks and tabs are allowed."""
    if not value.strip():
        raise PydanticCustomError("blank_text", "the text is blank")
    _refuse_unsafe(value.replace("\r\n", "").replace("\n", "").replace("\t", ""))
    return value


def _utc_instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise PydanticCustomError("naive_time", "the time needs a UTC offset")
    out_of_range = PydanticCustomError("time_out_of_range", "the time is out of range")
    try:
        instant = value.astimezone(UTC)
    except (OverflowError, ValueError):
        # Year 1 or 9999 with an offset: the UTC time falls outside what a datetime holds.
        raise out_of_range from None
    if not _EARLIEST <= instant <= _LATEST:
        raise out_of_range
    return instant


# One line of text people read: a name, a title. Not blank; no control, bidirectional or
# zero-width characters. Nothing is stripped: what is stored is what was sent.
DisplayText = Annotated[str, AfterValidator(_display_text)]

# Text of several lines people write (reasons, achievements): the same rules per line, line
# breaks and tabs allowed; not blank. A bound added to it in an Annotated (or optional) only
# reports a generic "too long … items"; to put the bound inside the type, as ShortText does:
# `Annotated[str, StringConstraints(max_length=…), PARAGRAPHS]`.
PARAGRAPHS = AfterValidator(_paragraphs)
ParagraphText = Annotated[str, PARAGRAPHS]
# The usual bounds: reasons, answers and notes; achievements and other long accounts.
Reasons = Annotated[str, StringConstraints(max_length=4000), PARAGRAPHS]
LongText = Annotated[str, StringConstraints(max_length=10_000), PARAGRAPHS]

# The same rules for a short code people type (an employee number), at most 64 characters.
# The bound sits inside the type: a `Field(max_length=…)` on an optional field would only
# report a generic "too long … items".
ShortText = Annotated[str, StringConstraints(max_length=64), AfterValidator(_display_text)]

# The id of an org (a slug), wherever a request names one.
OrgId = Annotated[str, StringConstraints(pattern=ORG_ID_PATTERN)]

# Any other id a request names (member, programme, enrollment, delivery, inbox item).
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]

# A point in time with its UTC offset, converted to UTC.
UtcInstant = Annotated[datetime, AfterValidator(_utc_instant)]
