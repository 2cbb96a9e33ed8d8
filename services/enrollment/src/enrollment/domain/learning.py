"""A member's learning record and certificates: which year a completion counts in, what a
year adds up to, and what a verification code looks like. Pure Python."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from shared import timezones
from shared.contracts.events import QualityArea

# 24 random bytes: 32 URL-safe characters, 192 bits — not guessable, not enumerable.
CODE_BYTES = 24
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def federation_year(instant: datetime, zone: str) -> int:
    """The calendar year of `instant` in the federation's zone (hours count in that year):
    2026-12-31T23:30Z is 2027-01-01 07:30 in Asia/Shanghai, so it counts in 2027."""
    return local_date(instant, zone).year


def local_date(instant: datetime, zone: str) -> date:
    """The date of `instant` in the federation's zone (what a certificate shows)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: instants are UTC")
    return timezones.local_date(instant, zone)


def new_verification_code() -> str:
    """A fresh verification code for a certificate: printed on it and in its QR code."""
    return secrets.token_urlsafe(CODE_BYTES)


def looks_like_a_code(text: str) -> bool:
    """Whether `text` could be a code at all (anything else is not looked up)."""
    return CODE_PATTERN.fullmatch(text) is not None


@dataclass(frozen=True)
class Credit:
    """What one valid completion adds to a year of the record."""

    quality_area: str
    hours: float


@dataclass(frozen=True)
class YearTotals:
    hours_by_quality_area: dict[str, float]
    total_hours: float
    completions: int


def year_totals(credits: Iterable[Credit]) -> YearTotals:
    """Hours per quality area (every area present, zero if none), their total and the
    number of completions. Revoked completions are not credits: the caller leaves them out."""
    hours = {area.value: 0.0 for area in QualityArea}
    count = 0
    for credit in credits:
        hours[credit.quality_area] = hours.get(credit.quality_area, 0.0) + credit.hours
        count += 1
    # Sums of decimal hours (0.5 + 1.25 …) are shown to two places, not as float noise.
    rounded = {area: round(value, 2) for area, value in hours.items()}
    return YearTotals(rounded, round(sum(hours.values()), 2), count)
