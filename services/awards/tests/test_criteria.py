"""Pure criteria evaluation: hours of the year's completions (of one quality area, when
asked), a rank at most N, prerequisite titles; what is unmet, in figures; what is cited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from awards.domain.criteria import Evaluation, FactRecord, Unmet, evaluate
from awards.domain.facts import year_bounds
from awards.domain.honours import year_record
from shared.contracts.events import QualityArea, SchemeKind
from shared.contracts.events.schemes import Criteria

ZONE = "Asia/Shanghai"
START, END = year_bounds(2026, ZONE)
MID_YEAR = datetime(2026, 6, 1, tzinfo=UTC)
_counter = iter(range(1, 10_000))


def fact(
    hours: float = 8.0,
    *,
    kind: str = "completed",
    area: str | None = "safety_health",
    rank: int | None = None,
    at: datetime | None = None,
) -> FactRecord:
    """A fact at `at`; by default mid-year, each a minute after the one made before."""
    n = next(_counter)
    return FactRecord(
        fact_id=f"ce-{n:04d}",
        member_id="m-1",
        kind=kind,
        programme_id=f"p-{n}",
        programme_title=f"Programme {n}",
        quality_area=area,
        hours=hours,
        rank=rank,
        occurred_at=at or MID_YEAR + timedelta(minutes=n),
        source_type="bigschool.enrollment.completed.v1",
    )


def check(
    criteria: Criteria, facts: list[FactRecord], titles: frozenset[str] = frozenset()
) -> Evaluation:
    return evaluate(criteria, facts, titles, START, END)


def test_hours_crossing_120_in_the_year_meet_the_criterion_and_cite_the_completions():
    hours = Criteria(min_training_hours=120)
    facts = [fact(40), fact(40), fact(32)]
    last = fact(8)

    short = check(hours, facts)
    crossing = check(hours, [last, *facts])

    assert not short.met
    assert short.unmet == [Unmet("min_training_hours", "112.0 of 120.0 hours in 2026")]
    assert short.cited == []
    assert (crossing.met, crossing.unmet, crossing.hours) == (True, [], 120.0)
    # In time order, whatever order the facts came in.
    assert [c.fact_id for c in crossing.cited] == [f.fact_id for f in [*facts, last]]


def test_confirmations_and_other_years_do_not_count():
    seat = fact(100, kind="enrollment_confirmed")
    last_year = fact(100, at=START - timedelta(seconds=1))
    next_year = fact(100, at=END)
    first_instant = fact(10, at=START)

    result = check(Criteria(min_training_hours=10), [seat, last_year, next_year, first_instant])

    assert result.met
    assert result.hours == 10
    assert [c.fact_id for c in result.cited] == [first_instant.fact_id]


def test_an_area_restriction_counts_only_that_areas_hours():
    safety = [fact(60, area="safety_health"), fact(50, area="safety_health")]
    ethics = fact(40, area="ethics")
    criteria = Criteria(min_training_hours=100, hours_area=QualityArea.safety_health)

    met = check(criteria, [*safety, ethics])
    unmet = check(criteria.model_copy(update={"min_training_hours": 120}), [*safety, ethics])

    assert (met.met, met.hours) == (True, 110)
    assert {c.fact_id for c in met.cited} == {f.fact_id for f in safety}
    assert unmet.unmet == [
        Unmet("min_training_hours", "110.0 of 120.0 safety_health hours in 2026")
    ]


def test_a_rank_at_most_n_in_the_year_is_met_and_the_best_is_cited():
    third = fact(rank=3)
    fifth = fact(rank=5)
    criteria = Criteria(best_rank_at_most=3)

    met = check(criteria, [fifth, third, fact()])
    unmet = check(criteria, [fifth])
    none = check(criteria, [fact(), fact(rank=1, at=END)])

    assert met.met
    assert [c.fact_id for c in met.cited] == [third.fact_id]
    assert met.cited[0].rank == 3
    assert unmet.unmet == [
        Unmet("best_rank_at_most", "best rank 5 in 2026; a rank of 3 or better is required")
    ]
    assert none.unmet == [
        Unmet(
            "best_rank_at_most",
            "no ranked completion in 2026; a rank of 3 or better is required",
        )
    ]


def test_a_prerequisite_title_must_already_be_held():
    criteria = Criteria(prerequisite_kinds=[SchemeKind.skilled_craftsman, SchemeKind.model_worker])

    held = check(criteria, [], frozenset({"skilled_craftsman", "model_worker", "star_team"}))
    missing = check(criteria, [], frozenset({"skilled_craftsman"}))

    assert (held.met, held.unmet) == (True, [])
    assert missing.unmet == [Unmet("prerequisite_kinds", "no model_worker title held")]


def test_every_unmet_criterion_is_reported_and_met_ones_still_cite():
    ranked = fact(10, rank=2)
    criteria = Criteria(
        min_training_hours=120, best_rank_at_most=3, prerequisite_kinds=[SchemeKind.model_worker]
    )

    result = check(criteria, [ranked])

    assert not result.met
    assert [u.criterion for u in result.unmet] == ["min_training_hours", "prerequisite_kinds"]
    assert [c.fact_id for c in result.cited] == [ranked.fact_id]


def test_a_fact_proving_two_criteria_is_cited_once():
    both = fact(120, rank=1)

    result = check(Criteria(min_training_hours=120, best_rank_at_most=1), [both])

    assert result.met
    assert [c.fact_id for c in result.cited] == [both.fact_id]
    assert result.cited[0].source_type == "bigschool.enrollment.completed.v1"


def test_empty_criteria_are_met_and_still_report_the_years_hours():
    result = check(Criteria(), [fact(7.25), fact(1.5)])

    assert (result.met, result.unmet, result.cited, result.hours) == (True, [], [], 8.75)


def test_a_years_record_sums_hours_by_area_and_keeps_the_best_rank():
    facts = [fact(10, area="ethics", rank=4), fact(5.5, rank=2), fact(2)]

    record = year_record(2026, facts, {"model_worker"})

    assert record.training_hours == 17.5
    assert record.hours_by_quality_area == {"ethics": 10, "safety_health": 7.5}
    assert (record.completions, record.best_rank, record.titles_held) == (3, 2, ["model_worker"])
