"""Whether a member meets a scheme's criteria, from the facts their home node learnt from
enrollment events and the titles on their record — and which facts prove it, so that a
nomination can cite them with the `ce_id`s they came from."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from awards.domain.facts import CREDITS_HOURS, FactKind, as_utc
from shared.contracts.events.schemes import Criteria


@dataclass(frozen=True)
class FactRecord:
    """A fact as the criteria read it (the service copies it from the stored row)."""

    fact_id: str
    member_id: str
    kind: str
    programme_id: str
    programme_title: str
    quality_area: str | None
    hours: float
    rank: int | None
    occurred_at: datetime
    source_type: str


@dataclass(frozen=True)
class Unmet:
    """A criterion not met: its field name in `Criteria`, and why, in figures."""

    criterion: str
    detail: str


@dataclass(frozen=True)
class CitedFact:
    """A fact that satisfies a criterion; `fact_id` is the `ce_id` of its source event."""

    fact_id: str
    member_id: str
    kind: str
    programme_id: str
    programme_title: str
    hours: float
    rank: int | None
    occurred_at: datetime
    source_type: str


@dataclass(frozen=True)
class Evaluation:
    """`met` when nothing is unmet; `hours` are the year's training hours the criteria count
    (of `hours_area` only, when set); `cited` proves the criteria that are met."""

    met: bool
    unmet: list[Unmet]
    cited: list[CitedFact]
    hours: float


def _cite(fact: FactRecord) -> CitedFact:
    return CitedFact(
        fact_id=fact.fact_id,
        member_id=fact.member_id,
        kind=fact.kind,
        programme_id=fact.programme_id,
        programme_title=fact.programme_title,
        hours=fact.hours,
        rank=fact.rank,
        occurred_at=fact.occurred_at,
        source_type=fact.source_type,
    )


def _label(year_start: datetime, year_end: datetime) -> int:
    """The calendar year [start, end) is, in its own zone: the UTC start of a year east of
    Greenwich falls on 31 December, but its middle is in the year itself."""
    return (year_start + (year_end - year_start) / 2).year


def _completions_of_year(
    facts: Iterable[FactRecord], year_start: datetime, year_end: datetime
) -> list[FactRecord]:
    start, end = as_utc(year_start), as_utc(year_end)
    return sorted(
        (f for f in facts if f.kind == FactKind.completed and start <= f.occurred_at < end),
        key=lambda f: (f.occurred_at, f.fact_id),
    )


def training_hours(completions: Iterable[FactRecord], area: str | None = None) -> float:
    """Hours credited by `completions` (of one quality area, when given)."""
    total = sum(
        f.hours
        for f in completions
        if f.kind in CREDITS_HOURS and (area is None or f.quality_area == area)
    )
    return round(total, 2)


def best_ranked(completions: Iterable[FactRecord]) -> FactRecord | None:
    """The completion with the best (lowest) rank; the earliest of equals."""
    ranked = [f for f in completions if f.rank is not None]
    return min(ranked, key=lambda f: (f.rank or 0, f.occurred_at, f.fact_id), default=None)


def _check_hours(
    criteria: Criteria, counted: Sequence[FactRecord], hours: float, year: int
) -> tuple[list[Unmet], list[FactRecord]]:
    if criteria.min_training_hours is None:
        return [], []
    if hours >= criteria.min_training_hours:
        return [], list(counted)
    area = f" {criteria.hours_area.value}" if criteria.hours_area else ""
    detail = f"{hours:.1f} of {criteria.min_training_hours:.1f}{area} hours in {year}"
    return [Unmet("min_training_hours", detail)], []


def _check_rank(
    criteria: Criteria, completions: Sequence[FactRecord], year: int
) -> tuple[list[Unmet], list[FactRecord]]:
    if criteria.best_rank_at_most is None:
        return [], []
    best = best_ranked(completions)
    if best is not None and best.rank is not None and best.rank <= criteria.best_rank_at_most:
        return [], [best]
    found = f"best rank {best.rank}" if best is not None else "no ranked completion"
    detail = f"{found} in {year}; a rank of {criteria.best_rank_at_most} or better is required"
    return [Unmet("best_rank_at_most", detail)], []


def _check_titles(criteria: Criteria, titles_held: Collection[str]) -> list[Unmet]:
    missing = [k.value for k in criteria.prerequisite_kinds if k.value not in titles_held]
    return [Unmet("prerequisite_kinds", f"no {kind} title held") for kind in missing]


def evaluate(
    criteria: Criteria,
    facts: Iterable[FactRecord],
    titles_held: Collection[str],
    year_start: datetime,
    year_end: datetime,
) -> Evaluation:
    """Check `criteria` against a member's facts and titles for the year [start, end).

    Hours: completions in the year (of `hours_area` only, when set). Rank: a completion in
    the year ranked `best_rank_at_most` or better. Prerequisites: a title (an `award`
    honour) of each listed scheme kind already held."""
    year = _label(year_start, year_end)
    completions = _completions_of_year(facts, year_start, year_end)
    area = criteria.hours_area.value if criteria.hours_area else None
    counted = [f for f in completions if area is None or f.quality_area == area]
    hours = training_hours(counted)
    hours_unmet, hours_cited = _check_hours(criteria, counted, hours, year)
    rank_unmet, rank_cited = _check_rank(criteria, completions, year)
    unmet = hours_unmet + rank_unmet + _check_titles(criteria, titles_held)
    # One citation per fact, in time order, whichever criteria it proves.
    cited = {f.fact_id: f for f in sorted([*hours_cited, *rank_cited], key=_order)}
    return Evaluation(
        met=not unmet, unmet=unmet, cited=[_cite(f) for f in cited.values()], hours=hours
    )


def _order(fact: FactRecord) -> tuple[datetime, str]:
    return fact.occurred_at, fact.fact_id
