"""Eligibility from enrollment events on PostgreSQL: a member whose completions cross 120
hours in the year becomes eligible (the facts cited by the ce_ids they came from) with no call
between services, and replaying every event again — redelivered, or after the processed-events
records are gone — changes nothing. The events arrive as one polled batch, as from Kafka."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy import delete, select

from awards.models import MESSAGING, Base, EligibilityFact
from awards.service.eligibility import evaluate_member
from shared.contracts import topics
from shared.contracts.events import (
    EnrollmentCompleted,
    EnrollmentCompletionRevoked,
    EnrollmentConfirmed,
    QualityArea,
)
from shared.contracts.events.schemes import Criteria

pytestmark = pytest.mark.integration

MEMBER = str(uuid.uuid4())
CRITERIA = Criteria(min_training_hours=120, hours_area=QualityArea.technical_skills)


def enrollment(n: int, hours: float) -> tuple[EnrollmentConfirmed, EnrollmentCompleted]:
    """A seat confirmed in month n and completed a week later, both of hzsteel's member."""
    ids = {
        "enrollment_id": str(uuid.uuid4()),
        "programme_id": str(uuid.uuid4()),
        "member_id": MEMBER,
        "owner_org": "hzsteel",
        "home_org": "hzsteel-rolling",
    }
    at = datetime(2025, n, 3, tzinfo=UTC)
    seat = EnrollmentConfirmed(
        **ids, decided_at=at, sequence=n, programme_title=f"Course {n}", hours=hours
    )
    done = EnrollmentCompleted(
        **ids,
        completed_at=at + timedelta(days=7),
        hours=hours,
        quality_area=QualityArea.technical_skills,
        programme_title=f"Course {n}",
        programme_kind="training_course",
        programme_ends_at=at + timedelta(days=7),
    )
    return seat, done


def revocation(done: EnrollmentCompleted) -> EnrollmentCompletionRevoked:
    return EnrollmentCompletionRevoked(
        **done.model_dump(
            include={"enrollment_id", "programme_id", "member_id", "owner_org", "home_org"}
        ),
        revoked_at=done.completed_at + timedelta(days=1),
    )


async def state(app: FastAPI) -> list[tuple[str, str, float]]:
    async with app.state.runtime.db.reading() as session:
        stmt = select(EligibilityFact.fact_id, EligibilityFact.kind, EligibilityFact.hours)
        return sorted((f, k, h) for f, k, h in await session.execute(stmt))


async def evaluate(app: FastAPI):
    async with app.state.runtime.db.reading() as session:
        return await evaluate_member(session, app.state.context, MEMBER, CRITERIA, 2025)


async def test_completions_crossing_120_hours_make_the_member_eligible_and_a_replay_changes_nothing(
    app, bus, caplog
) -> None:
    assert app.state.runtime.db.dialect == "postgresql"
    caplog.set_level(logging.INFO, logger="shared.messaging.consumer")
    events: list[EnrollmentConfirmed | EnrollmentCompleted | EnrollmentCompletionRevoked] = []
    for month, hours in ((2, 40), (3, 40), (4, 18), (5, 12)):
        events += enrollment(month, hours)
    _, mistaken = enrollment(6, 50)
    events += [mistaken, revocation(mistaken)]  # completed in error, then revoked
    records = [bus.record(e, topics.ENROLLMENT) for e in events]
    consumer = bus.consumers["enrollment_facts"]

    result = await consumer.process_batch([r for r, _ in records])

    assert (result.done, result.complete) == (len(events), True)
    assert "fell back" not in caplog.text
    short = await evaluate(app)
    assert (short.met, short.hours) == (False, 110.0)  # the seats' 110 hours count only once

    late, late_envelope = bus.record(enrollment(7, 10)[1], topics.ENROLLMENT)
    assert (await consumer.process_batch([late])).complete
    met = await evaluate(app)

    completions = [
        env.id
        for e, (_, env) in zip(events, records, strict=True)
        if isinstance(e, EnrollmentCompleted) and e is not mistaken
    ]
    assert (met.met, met.unmet, met.hours) == (True, [], 120.0)
    assert [c.fact_id for c in met.cited] == [*completions, late_envelope.id]

    before = await state(app)
    everything = [r for r, _ in records] + [late]
    assert (await consumer.process_batch(everything)).complete  # redelivered: all duplicates
    async with app.state.runtime.db.transaction() as session:
        await session.execute(delete(MESSAGING.processed))  # as if their records had expired
    assert (await consumer.process_batch(everything)).complete  # replayed: applied again

    assert await state(app) == before
    assert len(before) == 4 + 4 + 1  # seats, completions, the late completion
    assert await evaluate(app) == met


async def test_the_facts_and_honours_tables_match_the_models_on_postgres(app) -> None:
    async with app.state.runtime.db.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )

    # Only these tables: comments on the shared messaging tables differ on PostgreSQL.
    mine = [d for d in diff if "eligibility_facts" in str(d) or "honours" in str(d)]
    assert mine == []
