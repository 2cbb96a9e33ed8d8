"""Immediate rewards ("timely report, timely reward"): the periods a quota counts in, and the
quota an org's rewards of one period draw on. Pure Python: no fastapi, sqlalchemy or faststream.

A period is a calendar month, quarter or year in the federation's time zone, whatever UTC says:
2025-06-30T17:00Z is already July in Shanghai. Money is integer fen (0.01 yuan).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from shared.contracts.events import OrgLevel
from shared.timezones import zone

Fen = int

# Immediate rewards are granted by the levels that see the worker at work.
GRANTING_LEVELS: frozenset[str] = frozenset({OrgLevel.grassroots, OrgLevel.enterprise})

_LABEL = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])))?$")


class RewardError(Exception):
    """A rule of immediate rewards was broken; `field` names what was wrong."""

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class QuotaExceeded(RewardError):
    """The reward would take more than the period's quota has left (`field`: `count` or
    `amount_fen`, the part of the quota that would be exceeded)."""


class PeriodKind(StrEnum):
    month = "month"
    quarter = "quarter"
    year = "year"


_MONTHS_IN = {PeriodKind.month: 1, PeriodKind.quarter: 3, PeriodKind.year: 12}


@dataclass(frozen=True, order=True)
class Period:
    """One calendar period: `number` is the month (1-12), the quarter (1-4) or 1 (a year)."""

    kind: PeriodKind
    year: int
    number: int = 1

    @property
    def label(self) -> str:
        """`2025-06`, `2025-Q2` or `2025`: how the API names it."""
        if self.kind is PeriodKind.month:
            return f"{self.year:04d}-{self.number:02d}"
        if self.kind is PeriodKind.quarter:
            return f"{self.year:04d}-Q{self.number}"
        return f"{self.year:04d}"

    def bounds(self, zone_name: str) -> tuple[datetime, datetime]:
        """The period as a half-open UTC interval [start, end)."""
        tz = zone(zone_name)
        months = _MONTHS_IN[self.kind]
        first = (self.number - 1) * months  # months since January, 0-based
        start = datetime(self.year, first + 1, 1, tzinfo=tz)
        end_year, end_month = divmod(first + months, 12)
        end = datetime(self.year + end_year, end_month + 1, 1, tzinfo=tz)
        return start.astimezone(UTC), end.astimezone(UTC)


def period_of(instant: datetime, kind: PeriodKind, zone_name: str) -> Period:
    """The period of `kind` that `instant` falls in, in the zone."""
    local = instant.astimezone(zone(zone_name))
    number = (local.month - 1) // _MONTHS_IN[kind] + 1
    return Period(kind, local.year, number)


def parse_period(label: str) -> Period:
    """`2025-06`, `2025-Q2` or `2025` as a Period; RewardError naming `period` otherwise."""
    match = _LABEL.fullmatch(label)
    if match is None or int(match["year"]) < 1900:
        raise RewardError("a period is YYYY, YYYY-Qn or YYYY-MM", field="period")
    year = int(match["year"])
    if match["quarter"]:
        return Period(PeriodKind.quarter, year, int(match["quarter"]))
    if match["month"]:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise RewardError("a month is 01-12", field="period")
        return Period(PeriodKind.month, year, month)
    return Period(PeriodKind.year, year)


@dataclass(frozen=True)
class Quota:
    """How many rewards, and how much money, an org may grant per period. 0 allows none."""

    count: int
    amount_fen: Fen
    period: PeriodKind = PeriodKind.month

    def __post_init__(self) -> None:
        _check_whole("count", self.count)
        _check_whole("amount_fen", self.amount_fen)


@dataclass(frozen=True)
class QuotaUsage:
    """An org's quota for one period and what its rewards have used of it. `take` is the one
    transition: it returns the usage after one more reward, or raises QuotaExceeded."""

    quota: Quota
    period: Period
    used_count: int = 0
    used_fen: Fen = 0

    def __post_init__(self) -> None:
        _check_whole("used_count", self.used_count)
        _check_whole("used_fen", self.used_fen)
        if self.period.kind is not self.quota.period:
            raise RewardError("the usage is counted in the quota's periods", field="period")

    @property
    def left_count(self) -> int:
        # A quota lowered below what was granted already leaves nothing, never a debt.
        return max(self.quota.count - self.used_count, 0)

    @property
    def left_fen(self) -> Fen:
        return max(self.quota.amount_fen - self.used_fen, 0)

    def take(self, amount_fen: Fen) -> QuotaUsage:
        _check_whole("amount_fen", amount_fen)
        if self.left_count < 1:
            raise QuotaExceeded(
                f"count: the quota of {self.quota.count} rewards for {self.period.label} "
                "is used up",
                field="count",
            )
        if amount_fen > self.left_fen:
            raise QuotaExceeded(
                f"amount_fen: {self.left_fen} fen of the quota of {self.quota.amount_fen} fen "
                f"for {self.period.label} is left",
                field="amount_fen",
            )
        return replace(self, used_count=self.used_count + 1, used_fen=self.used_fen + amount_fen)


def _check_whole(field: str, value: int) -> None:
    # bool is an int, and a float or a Decimal is no count of fen.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RewardError(f"{field}: a whole number, not negative", field=field)
