"""Proposal figures of an org's subtree per month of a year: proposals per member,
participation rate and adoption rate — figures, never rows, and never about a group small
enough to point at a person (SPEC §1 rule 4, as in `awards.domain.rollups`).

A month is a calendar month in the federation's time zone. Submissions count in the month
they were made; evaluations (adopted or rejected) in the month of the decision. The members
are those the subtree has at this node now (the replica keeps no history).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from awards.domain.rollups import MIN_GROUP_SIZE

MONTHS = range(1, 13)


def month_starts(year: int, zone: str) -> list[datetime]:
    """The 13 UTC instants that start each month of `year` and the next year, in `zone`."""
    tz = ZoneInfo(zone)
    starts = [datetime(year, month, 1, tzinfo=tz) for month in MONTHS]
    starts.append(datetime(year + 1, 1, 1, tzinfo=tz))
    return [start.astimezone(UTC) for start in starts]


def month_bounds(year: int, month: int, zone: str) -> tuple[datetime, datetime]:
    """Month `month` of `year` in `zone` as a half-open UTC interval [start, end)."""
    starts = month_starts(year, zone)
    return starts[month - 1], starts[month]


@dataclass(frozen=True)
class Counts:
    """What the database counts for one month (or the year): submissions and their distinct
    authors; evaluations, their distinct authors and how many were adopted."""

    submitted: int = 0
    authors: int = 0
    evaluated: int = 0
    evaluated_authors: int = 0
    adopted: int = 0


@dataclass(frozen=True)
class Participation:
    submitted: int
    authors: int
    per_member: float
    rate: float


@dataclass(frozen=True)
class Adoption:
    evaluated: int
    adopted: int
    rate: float


@dataclass(frozen=True)
class Figures:
    """None: that part is suppressed (fewer than MIN_GROUP_SIZE people behind it)."""

    participation: Participation | None
    adoption: Adoption | None


@dataclass(frozen=True)
class ProposalStats:
    """`members` is None when the subtree itself is too small: then every figure is too."""

    org: str
    year: int
    members: int | None
    total: Figures
    months: dict[int, Figures]


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def figures(counts: Counts, members: int) -> Figures:
    participation = None
    if members >= MIN_GROUP_SIZE and counts.authors >= MIN_GROUP_SIZE:
        participation = Participation(
            submitted=counts.submitted,
            authors=counts.authors,
            per_member=_ratio(counts.submitted, members),
            rate=_ratio(counts.authors, members),
        )
    adoption = None
    if members >= MIN_GROUP_SIZE and counts.evaluated_authors >= MIN_GROUP_SIZE:
        adoption = Adoption(
            evaluated=counts.evaluated,
            adopted=counts.adopted,
            rate=_ratio(counts.adopted, counts.evaluated),
        )
    return Figures(participation, adoption)


def build_stats(
    org: str, year: int, members: int, total: Counts, months: Mapping[int, Counts]
) -> ProposalStats:
    """Every month 1-12 (a month without proposals has zero counts, hence suppressed)."""
    return ProposalStats(
        org=org,
        year=year,
        members=members if members >= MIN_GROUP_SIZE else None,
        total=figures(total, members),
        months={month: figures(months.get(month, Counts()), members) for month in MONTHS},
    )
