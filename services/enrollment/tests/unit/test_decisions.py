"""The owner node's decision (decide_enrollment) and the home node learning it
(record_outcome), on SQLite with a real Context: org directory, outbox, fixed clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from faststream.kafka import TestKafkaBroker
from sqlalchemy import event, func, select

from enrollment.errors import Conflict
from enrollment.models import MESSAGING, Enrollment, Member, Programme, Seat
from enrollment.schemas import MemberIn, ProgrammeIn
from enrollment.service.decisions import decide_enrollment
from enrollment.service.members import register_member
from enrollment.service.outcomes import record_outcome
from enrollment.service.programmes import copy_programme, publish_programme
from enrollment.service.requests import check_request, request_enrollment
from shared.clock import FixedClock
from shared.contracts import topics
from shared.contracts.envelope import envelope_for
from shared.contracts.events import (
    EnrollmentConfirmed,
    EnrollmentRefused,
    EnrollmentRefusedV2,
    EnrollmentRequested,
    EnrollmentWaitlisted,
    ProgrammePublished,
    QualityArea,
)
from shared.testing import record_for

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
CONFIRMED = EnrollmentConfirmed.ce_type
WAITLISTED = EnrollmentWaitlisted.ce_type
REFUSED = EnrollmentRefused.ce_type


@pytest.fixture
async def owner(context_for, database_url, seed_orgs):
    """Node zj's use-case context on its own migrated SQLite database, without a web app."""
    ctx, db = context_for(database_url, FixedClock(NOW))
    await seed_orgs(ctx, db)
    return ctx, db


async def _programme(ctx, db, capacity: int, owner_org: str = "hzsteel") -> str:
    data = ProgrammeIn(
        owner_org=owner_org,
        title="Crane safety",
        kind="training_course",
        quality_area=QualityArea.safety_health,
        capacity=capacity,
        hours=6,
        starts_at=NOW + timedelta(days=30),
        ends_at=NOW + timedelta(days=30, hours=6),
    )
    async with db.transaction() as session:
        programme = await publish_programme(session, ctx, data)
    return programme.programme_id


def _request(programme_id: str, member_id: str | None = None, **kw) -> EnrollmentRequested:
    return EnrollmentRequested(
        enrollment_id=kw.get("enrollment_id", str(uuid.uuid4())),
        programme_id=programme_id,
        member_id=member_id or str(uuid.uuid4()),
        home_org=kw.get("home_org", "hzsteel-rolling"),
        home_node=kw.get("home_node", "zj"),
        requested_at=NOW,
    )


async def _decide(ctx, db, request: EnrollmentRequested) -> None:
    async with db.transaction() as session:
        await decide_enrollment(session, ctx, request)


async def _seats(db, programme_id: str) -> list[Seat]:
    async with db.sessions() as session:
        stmt = select(Seat).where(Seat.programme_id == programme_id).order_by(Seat.sequence)
        return list((await session.execute(stmt)).scalars())


async def _decisions(outbox, db) -> list:
    return [r for r in await outbox(db) if r.type in (CONFIRMED, WAITLISTED, REFUSED)]


async def test_capacity_two_confirms_two_and_waitlists_the_third_in_order(owner, outbox) -> None:
    ctx, db = owner
    programme_id = await _programme(ctx, db, capacity=2)
    requests = [_request(programme_id) for _ in range(3)]

    for request in requests:
        await _decide(ctx, db, request)

    seats = await _seats(db, programme_id)
    assert [(s.enrollment_id, s.status, s.sequence) for s in seats] == [
        (requests[0].enrollment_id, "confirmed", 1),
        (requests[1].enrollment_id, "confirmed", 2),
        (requests[2].enrollment_id, "waitlisted", 3),
    ]
    async with db.sessions() as session:
        programme = await session.get(Programme, programme_id)
    assert (programme.confirmed_count, programme.next_sequence) == (2, 4)


async def test_each_decision_is_announced_on_the_enrollment_topic_keyed_by_programme(
    owner, outbox
) -> None:
    ctx, db = owner
    programme_id = await _programme(ctx, db, capacity=2)
    requests = [_request(programme_id) for _ in range(3)]

    for request in requests:
        await _decide(ctx, db, request)

    rows = await _decisions(outbox, db)
    assert [r.type for r in rows] == [CONFIRMED, CONFIRMED, WAITLISTED]
    assert [r.payload["sequence"] for r in rows] == [1, 2, 3]
    assert [r.headers["ce_subject"] for r in rows] == [q.enrollment_id for q in requests]
    assert {r.topic for r in rows} == {topics.ENROLLMENT}
    assert {r.key for r in rows} == {programme_id}
    assert rows[0].payload["hours"] == 6
    assert rows[0].headers["bigschool_orgs"] == "hzsteel,hzsteel-rolling"


async def test_the_same_enrollment_id_twice_is_decided_once(owner, outbox) -> None:
    ctx, db = owner
    programme_id = await _programme(ctx, db, capacity=2)
    request = _request(programme_id)

    await _decide(ctx, db, request)
    await _decide(ctx, db, request)

    assert len(await _seats(db, programme_id)) == 1
    assert [r.type for r in await _decisions(outbox, db)] == [CONFIRMED]
    async with db.sessions() as session:
        programme = await session.get(Programme, programme_id)
    assert (programme.confirmed_count, programme.next_sequence) == (1, 2)


async def test_the_same_member_twice_is_refused_as_already_enrolled(owner, outbox) -> None:
    ctx, db = owner
    programme_id = await _programme(ctx, db, capacity=2)
    member_id = str(uuid.uuid4())
    first, second = _request(programme_id, member_id), _request(programme_id, member_id)

    await _decide(ctx, db, first)
    await _decide(ctx, db, second)

    [seat] = await _seats(db, programme_id)
    assert seat.enrollment_id == first.enrollment_id
    rows = await _decisions(outbox, db)
    assert [r.type for r in rows] == [CONFIRMED, REFUSED]
    assert rows[1].payload["reason"] == "already_enrolled"
    assert rows[1].payload["enrollment_id"] == second.enrollment_id


async def test_a_programme_owned_by_another_node_is_refused_as_unknown(owner, outbox) -> None:
    ctx, db = owner
    remote = ProgrammePublished(
        programme_id=str(uuid.uuid4()),
        owner_org="cn",
        owner_node="cn",
        title="National lecture",
        kind="lecture",
        quality_area=QualityArea.ethics,
        audience=["cn"],
        capacity=10,
        hours=1,
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=1),
    )
    async with db.transaction() as session:
        await copy_programme(session, ctx, remote)

    await _decide(ctx, db, _request(remote.programme_id))

    assert await _seats(db, remote.programme_id) == []
    [row] = await _decisions(outbox, db)
    assert (row.type, row.payload["reason"]) == (REFUSED, "unknown_programme")
    assert row.payload["owner_org"] == "cn"


async def test_a_programme_nobody_published_is_refused_as_unknown(owner, outbox) -> None:
    ctx, db = owner

    await _decide(ctx, db, _request(str(uuid.uuid4())))

    [row] = await _decisions(outbox, db)
    assert (row.type, row.payload["reason"]) == (REFUSED, "unknown_programme")


async def test_a_member_outside_the_audience_is_refused(owner, outbox) -> None:
    ctx, db = owner
    programme_id = await _programme(ctx, db, capacity=5, owner_org="hzsteel-casting")

    await _decide(ctx, db, _request(programme_id, home_org="hzsteel-rolling"))

    assert await _seats(db, programme_id) == []
    [row] = await _decisions(outbox, db)
    assert (row.type, row.payload["reason"]) == (REFUSED, "not_in_audience")


# -- the home side ---------------------------------------------------------------------------


async def _home_enrollment(ctx, db) -> tuple[str, str]:
    programme_id = await _programme(ctx, db, capacity=1)
    async with db.transaction() as session:
        member = await register_member(
            session, ctx, MemberIn(home_org="hzsteel-rolling", name="Wang")
        )
        programme = await check_request(session, ctx, member, programme_id)
        enrollment = await request_enrollment(session, ctx, member, programme)
    return enrollment.enrollment_id, programme_id


async def _enrollment(db, enrollment_id: str) -> Enrollment:
    async with db.sessions() as session:
        return await session.get(Enrollment, enrollment_id)


def _outcome(model, enrollment: Enrollment, **fields):
    return model(
        enrollment_id=enrollment.enrollment_id,
        programme_id=enrollment.programme_id,
        member_id=enrollment.member_id,
        owner_org="hzsteel",
        home_org=enrollment.home_org,
        decided_at=NOW + timedelta(minutes=1),
        **fields,
    )


@pytest.mark.parametrize(
    ("model", "fields", "expected"),
    [
        (EnrollmentConfirmed, {"sequence": 1}, ("confirmed", 1, None)),
        (EnrollmentWaitlisted, {"sequence": 7}, ("waitlisted", 7, None)),
        (EnrollmentRefusedV2, {"reason": "quota_full"}, ("refused", None, "quota_full")),
    ],
    ids=["confirmed", "waitlisted", "refused"],
)
async def test_record_outcome_updates_the_home_side_enrollment(
    owner, model, fields, expected
) -> None:
    ctx, db = owner
    enrollment_id, _ = await _home_enrollment(ctx, db)
    before = await _enrollment(db, enrollment_id)
    assert before.status == "requested"

    async with db.transaction() as session:
        await record_outcome(session, ctx, _outcome(model, before, **fields))

    after = await _enrollment(db, enrollment_id)
    assert (after.status, after.sequence, after.reason) == expected
    assert after.decided_at == NOW + timedelta(minutes=1)


async def test_record_outcome_ignores_an_enrollment_of_another_node(owner) -> None:
    ctx, db = owner
    stranger = Enrollment(
        enrollment_id=str(uuid.uuid4()),
        programme_id=str(uuid.uuid4()),
        member_id=str(uuid.uuid4()),
        home_org="js-nj",
    )

    async with db.transaction() as session:
        await record_outcome(session, ctx, _outcome(EnrollmentConfirmed, stranger, sequence=1))

    async with db.sessions() as session:
        count = (await session.execute(select(func.count()).select_from(Enrollment))).scalar()
    assert count == 0


async def test_the_owner_deciding_its_own_members_request_completes_the_round_trip(
    owner,
) -> None:
    ctx, db = owner
    enrollment_id, programme_id = await _home_enrollment(ctx, db)
    requested = await _enrollment(db, enrollment_id)

    await _decide(ctx, db, _request(programme_id, requested.member_id, enrollment_id=enrollment_id))
    async with db.transaction() as session:
        await record_outcome(session, ctx, _outcome(EnrollmentConfirmed, requested, sequence=1))

    assert (await _enrollment(db, enrollment_id)).status == "confirmed"
    [seat] = await _seats(db, programme_id)
    assert seat.enrollment_id == enrollment_id


# -- through the consumer wiring (FastStream's in-memory broker) ------------------------------


def _kafka_message(request: EnrollmentRequested) -> dict:
    envelope = envelope_for(request, source="bigschool/js/enrollment", at=NOW)
    record = record_for(request, envelope, topic=topics.inbox("zj"))
    return {
        "message": record.value,
        "topic": record.topic,
        "key": record.key,
        "headers": {name: value.decode() for name, value in record.headers},
    }


async def test_the_inbox_handler_decides_a_request_once_even_when_redelivered(node, outbox) -> None:
    ctx, db = node.ctx, node.db
    programme_id = await _programme(ctx, db, capacity=1)
    first, second = _request(programme_id), _request(programme_id)
    broker = node.app.state.runtime.broker  # wired by create_app → ServiceRuntime.consume

    async with TestKafkaBroker(broker) as test_broker:
        duplicate = _kafka_message(first)
        await test_broker.publish(**duplicate)
        await test_broker.publish(**duplicate)  # same ce_id: a redelivery
        await test_broker.publish(**_kafka_message(second))

    seats = await _seats(db, programme_id)
    assert [(s.enrollment_id, s.status) for s in seats] == [
        (first.enrollment_id, "confirmed"),
        (second.enrollment_id, "waitlisted"),
    ]
    assert [r.type for r in await _decisions(outbox, db)] == [CONFIRMED, WAITLISTED]
    async with db.sessions() as session:
        processed = MESSAGING.processed
        handlers = (await session.execute(select(processed.c.handler))).scalars().all()
    assert handlers == ["requests", "requests"]


# -- a polled batch at once -------------------------------------------------------------------


def _records(requests: list[EnrollmentRequested]) -> list:
    records = []
    for offset, request in enumerate(requests):
        envelope = envelope_for(request, source="bigschool/js/enrollment", at=NOW)
        records.append(record_for(request, envelope, topic=topics.inbox("zj"), offset=offset))
    return records


async def test_a_batch_of_requests_is_decided_in_order_with_a_few_statements(node, outbox) -> None:
    ctx, db = node.ctx, node.db
    programme_id = await _programme(ctx, db, capacity=5)
    requests = [_request(programme_id) for _ in range(40)]
    again = _request(programme_id, requests[3].member_id)  # the same member asks twice
    records = _records([*requests, again])
    records.append(records[7])  # and one message comes twice in the batch
    consumer = next(c for c in node.app.state.runtime.consumers if c.spec.name == "requests")
    statements: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    result = await consumer.process_batch(records)

    assert (result.done, result.complete) == (42, True)
    seats = await _seats(db, programme_id)
    assert [s.enrollment_id for s in seats] == [r.enrollment_id for r in requests]
    assert [s.sequence for s in seats] == list(range(1, 41))
    assert [s.status for s in seats] == ["confirmed"] * 5 + ["waitlisted"] * 35
    decisions = await _decisions(outbox, db)
    assert [r.payload["enrollment_id"] for r in decisions] == [
        *(r.enrollment_id for r in requests),
        again.enrollment_id,
    ]
    assert decisions[-1].payload["reason"] == "already_enrolled"
    # One transaction for 42 messages: the duplicate check, the processed ids, the lock, the
    # seats already decided, then the writes in bulk — not 8 to 10 statements per message.
    assert len(statements) < 15, statements


async def test_the_database_refuses_a_second_active_enrollment_of_a_member(owner) -> None:
    ctx, db = owner
    enrollment_id, programme_id = await _home_enrollment(ctx, db)
    member = await _member_of(db, enrollment_id)
    async with db.sessions() as session:
        programme = await session.get(Programme, programme_id)

    # Both requests passed the check before either was written (as two racing requests do).
    with pytest.raises(Conflict):
        async with db.transaction() as session:
            await request_enrollment(session, ctx, member, programme)

    async with db.sessions() as session:
        rows = await session.execute(select(func.count()).select_from(Enrollment))
    assert rows.scalar_one() == 1


async def _member_of(db, enrollment_id: str):
    async with db.sessions() as session:
        enrollment = await session.get(Enrollment, enrollment_id)
        return await session.get(Member, enrollment.member_id)
