"""The member's honours record: what identifies one entry, which year it belongs to, and
what a member's record of a year shows (what a nomination would be checked against)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from awards.domain.criteria import FactRecord, best_ranked, training_hours
from awards.domain.facts import year_of
from shared.contracts.events.honours import HonourKind

# Fixed forever: record ids derived from it are stored and travel with moving members.
_RECORD_NAMESPACE = uuid.UUID("6f1c3d5e-2b7a-4e9f-8c41-0d2e5a7b9c13")

# Honours of this kind are titles: what a scheme's prerequisite asks for.
TITLE_KIND = HonourKind.award


def record_id(honour_id: str, member_id: str) -> str:
    """One member's entry of one honour: the same id however often the grant is delivered,
    and at whichever node the member's record is kept."""
    return str(uuid.uuid5(_RECORD_NAMESPACE, f"{honour_id}\n{member_id}"))


def honour_year(year: int | None, granted_at: datetime, zone: str) -> int:
    """The round's or period's year when the grant names one, else the year it was granted
    in the federation's zone."""
    return year if year is not None else year_of(granted_at, zone)


@dataclass(frozen=True)
class Totals:
    """How many honours, and the money paid with them, in fen."""

    count: int
    amount_fen: int


@dataclass(frozen=True)
class YearRecord:
    """A member's record of one year: training hours (all, and per quality area), how many
    completions, the best rank in a contest or competition, and the titles held."""

    year: int
    training_hours: float
    hours_by_quality_area: dict[str, float]
    completions: int
    best_rank: int | None
    titles_held: list[str]


def year_record(
    year: int, completions: Iterable[FactRecord], titles: Collection[str]
) -> YearRecord:
    """`completions`: the member's completion facts of `year`."""
    done = list(completions)
    areas = sorted({f.quality_area for f in done if f.quality_area is not None})
    best = best_ranked(done)
    return YearRecord(
        year=year,
        training_hours=training_hours(done),
        hours_by_quality_area={area: training_hours(done, area) for area in areas},
        completions=len(done),
        best_rank=best.rank if best is not None else None,
        titles_held=sorted(titles),
    )
