"""No overbooking under concurrent requests: many transactions decide requests for one
programme at the same time, on several connections; the programme's row lock (FOR UPDATE on
PostgreSQL, BEGIN IMMEDIATE on SQLite) serialises them. No retries are needed or made: a
transaction that waits for the lock reads the committed counters once it holds it."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from enrollment.models import Programme, Seat
from enrollment.schemas import ProgrammeIn
from enrollment.service.decisions import decide_enrollment
from enrollment.service.programmes import publish_programme
from shared.contracts.events import (
    EnrollmentConfirmed,
    EnrollmentRequested,
    EnrollmentWaitlisted,
    QualityArea,
)

pytestmark = pytest.mark.integration

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
REQUESTS, CAPACITY = 200, 150


async def _programme(ctx, db, capacity: int) -> str:
    data = ProgrammeIn(
        owner_org="hzsteel",
        title="Crane safety",
        kind="training_course",
        quality_area=QualityArea.safety_health,
        capacity=capacity,
        hours=6,
        starts_at=NOW + timedelta(days=30),
        ends_at=NOW + timedelta(days=30, hours=6),
    )
    async with db.transaction() as session:
        return (await publish_programme(session, ctx, data)).programme_id


def _request(programme_id: str, enrollment_id: str | None = None) -> EnrollmentRequested:
    return EnrollmentRequested(
        enrollment_id=enrollment_id or str(uuid.uuid4()),
        programme_id=programme_id,
        member_id=str(uuid.uuid4()),
        home_org="hzsteel-rolling",
        home_node="zj",
        requested_at=NOW,
    )


async def _decide_all(ctx, db, requests: list[EnrollmentRequested]) -> None:
    async def decide(request: EnrollmentRequested) -> None:
        async with db.transaction() as session:
            await decide_enrollment(session, ctx, request)

    await asyncio.gather(*(decide(r) for r in requests))


async def _seats(db, programme_id: str) -> list[Seat]:
    async with db.sessions() as session:
        stmt = select(Seat).where(Seat.programme_id == programme_id).order_by(Seat.sequence)
        return list((await session.execute(stmt)).scalars())


async def test_concurrent_requests_never_overbook_and_number_the_waitlist_without_gaps(
    owner, outbox, connection_gauge
) -> None:
    ctx, db = owner
    programme_id = await _programme(ctx, db, CAPACITY)
    gauge = connection_gauge(db)
    requests = [_request(programme_id) for _ in range(REQUESTS)]

    await _decide_all(ctx, db, requests)

    assert gauge.peak > 1, "the transactions must really overlap"
    seats = await _seats(db, programme_id)
    assert Counter(s.status for s in seats) == {"confirmed": CAPACITY, "waitlisted": 50}
    assert [s.sequence for s in seats] == list(range(1, REQUESTS + 1))
    assert {s.enrollment_id for s in seats} == {r.enrollment_id for r in requests}
    # Seats go in sequence order: the first CAPACITY decisions are the confirmed ones.
    assert all((s.status == "confirmed") == (s.sequence <= CAPACITY) for s in seats)
    async with db.sessions() as session:
        programme = await session.get(Programme, programme_id)
    assert programme.confirmed_count == CAPACITY
    assert programme.next_sequence == REQUESTS + 1

    events = [r for r in await outbox(db) if r.key == programme_id and "enrollment." in r.type]
    assert Counter(r.type for r in events) == {
        EnrollmentConfirmed.ce_type: CAPACITY,
        EnrollmentWaitlisted.ce_type: REQUESTS - CAPACITY,
    }
    by_id = {s.enrollment_id: s.sequence for s in seats}
    assert all(by_id[r.payload["enrollment_id"]] == r.payload["sequence"] for r in events)


async def test_concurrent_twins_of_one_request_are_decided_once(owner, outbox) -> None:
    """The home node may re-send a request (a new ce_id, the same enrollment id) while the
    first copy is being decided: each enrollment still gets exactly one seat and one event."""
    ctx, db = owner
    programme_id = await _programme(ctx, db, capacity=10)
    originals = [_request(programme_id) for _ in range(20)]
    twins = [r.model_copy() for r in originals for _ in range(3)]

    await _decide_all(ctx, db, twins)

    seats = await _seats(db, programme_id)
    assert sorted(s.enrollment_id for s in seats) == sorted(r.enrollment_id for r in originals)
    assert [s.sequence for s in seats] == list(range(1, 21))
    events = [r for r in await outbox(db) if r.key == programme_id and "enrollment." in r.type]
    assert len(events) == 20
    assert {r.type for r in events} == {EnrollmentConfirmed.ce_type, EnrollmentWaitlisted.ce_type}
