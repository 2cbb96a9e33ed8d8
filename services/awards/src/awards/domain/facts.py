"""What a fact is, which facts count as training hours, and what a year means."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo


class FactKind(StrEnum):
    """What a fact records, each learnt from its own event."""

    enrollment_confirmed = "enrollment_confirmed"  # a seat given: the hours are only offered
    completed = "completed"  # a programme finished: hours, and a score and rank for contests


# Kinds whose hours are the member's training hours. Hours count once, on completion: a
# confirmation of the same enrollment comes first and would count them twice.
CREDITS_HOURS: frozenset[str] = frozenset({FactKind.completed})


@dataclass(frozen=True)
class KindTotal:
    kind: str
    count: int
    hours: float


@dataclass(frozen=True)
class FactSummary:
    """A member's facts in figures: training hours, and count and hours per kind."""

    total_hours: float
    by_kind: dict[str, KindTotal]


def credited_hours(hours_by_kind: Mapping[str, float]) -> float:
    """Training hours: the hours of the kinds that credit them, never of every kind."""
    return round(sum(h for kind, h in hours_by_kind.items() if kind in CREDITS_HOURS), 2)


def summarise(totals: Iterable[KindTotal]) -> FactSummary:
    totals = list(totals)
    return FactSummary(
        total_hours=credited_hours({t.kind: t.hours for t in totals}),
        by_kind={t.kind: KindTotal(t.kind, t.count, round(t.hours, 2)) for t in totals},
    )


def as_utc(instant: datetime) -> datetime:
    """Contracts send UTC; a producer that forgot the offset meant UTC too."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def year_bounds(year: int, zone: str) -> tuple[datetime, datetime]:
    """The federation's calendar year `year` as a half-open UTC interval [start, end)."""
    tz = ZoneInfo(zone)
    start = datetime(year, 1, 1, tzinfo=tz)
    end = datetime(year + 1, 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def year_of(instant: datetime, zone: str) -> int:
    return instant.astimezone(ZoneInfo(zone)).year
