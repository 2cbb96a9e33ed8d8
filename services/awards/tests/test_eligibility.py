"""evaluate_member at the home node: the criteria checked against the facts learnt from
enrollment events and the titles on the member's record — with no call to another service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import FastAPI

from awards.domain.criteria import Evaluation, Unmet
from awards.service.eligibility import evaluate_member
from shared.contracts import topics
from shared.contracts.events import HonourGranted, HonourKind, QualityArea, SchemeKind
from shared.contracts.events.schemes import Criteria

MEMBER = "2d4f6a8c-0e1b-4c3d-9e5f-7a9b1c3d5e01"
MARCH, MAY = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 5, 1, tzinfo=UTC)


async def evaluate(app: FastAPI, criteria: Criteria, year: int = 2025) -> Evaluation:
    async with app.state.runtime.db.reading() as session:
        return await evaluate_member(session, app.state.context, MEMBER, criteria, year)


async def test_completions_crossing_120_hours_make_the_member_eligible_citing_their_ce_ids(
    app, bus, confirmed, completed
) -> None:
    criteria = Criteria(min_training_hours=120)
    await bus.publish(confirmed(MEMBER, hours=200))  # a seat: no hours
    ids = [
        (await bus.publish(completed(MEMBER, hours=h, completed_at=at)))[1].id
        for h, at in ((50, MARCH), (46, MAY))
    ]
    assert (await evaluate(app, criteria)).unmet == [
        Unmet("min_training_hours", "96.0 of 120.0 hours in 2025")
    ]

    _, last = await bus.publish(completed(MEMBER, hours=24))
    result = await evaluate(app, criteria)

    assert (result.met, result.hours) == (True, 120.0)
    assert [c.fact_id for c in result.cited] == [*ids, last.id]
    assert {c.source_type for c in result.cited} == {"bigschool.enrollment.completed.v1"}
    assert {c.member_id for c in result.cited} == {MEMBER}


async def test_only_the_years_completions_and_the_asked_area_count(app, bus, completed) -> None:
    await bus.publish(completed(MEMBER, hours=100, completed_at=datetime(2024, 12, 1, tzinfo=UTC)))
    await bus.publish(completed(MEMBER, hours=30, quality_area=QualityArea.ethics))
    await bus.publish(completed(MEMBER, hours=20))

    result = await evaluate(
        app, Criteria(min_training_hours=25, hours_area=QualityArea.safety_health)
    )

    assert result.hours == 20
    assert result.unmet == [Unmet("min_training_hours", "20.0 of 25.0 safety_health hours in 2025")]


async def test_a_rank_and_a_prerequisite_title_from_the_record(app, bus, completed) -> None:
    criteria = Criteria(best_rank_at_most=3, prerequisite_kinds=[SchemeKind.skilled_craftsman])
    _, ranked = await bus.publish(completed(MEMBER, rank=3, programme_kind="skills_competition"))
    assert [u.criterion for u in (await evaluate(app, criteria)).unmet] == ["prerequisite_kinds"]

    title = HonourGranted(
        honour_id=str(uuid.uuid4()),
        kind=HonourKind.award,
        source_id=str(uuid.uuid4()),
        scheme_kind=SchemeKind.skilled_craftsman,
        title="Skilled craftsman",
        granting_org="hzsteel",
        home_org="hzsteel-rolling",
        member_ids=[MEMBER],
        year=2023,
        granted_at=datetime(2023, 11, 1, tzinfo=UTC),
    )
    record, _ = bus.record(title, topics.AWARDS)
    await bus.deliver("honours", record)
    result = await evaluate(app, criteria)

    assert (result.met, [c.fact_id for c in result.cited]) == (True, [ranked.id])
