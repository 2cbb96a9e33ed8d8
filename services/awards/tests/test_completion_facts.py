"""Facts from completions: a completion credits its hours (once: a confirmation of the same
enrollment credits none), a revoked completion is no fact any more, and replaying the same
events — even after the processed-events records are gone — changes nothing."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import delete, select

from awards.models import MESSAGING, EligibilityFact
from shared.contracts import topics
from shared.contracts.events import EnrollmentCompletionRevoked, OrgLevel, OrgRegistered
from shared.messaging.consumer import Outcome

MEMBER = "3c1d9e2a-7b4f-4c1a-9e8d-5f6a7b8c9d01"
OTHER = "3c1d9e2a-7b4f-4c1a-9e8d-5f6a7b8c9d02"


async def facts(app: FastAPI) -> list[EligibilityFact]:
    async with app.state.runtime.db.sessions() as session:
        stmt = select(EligibilityFact).order_by(EligibilityFact.occurred_at)
        return list((await session.execute(stmt)).scalars())


async def forget_processed_events(app: FastAPI) -> None:
    """As if the processed-events records had expired: only the facts' ids stop a replay."""
    async with app.state.runtime.db.transaction() as session:
        await session.execute(delete(MESSAGING.processed))


def revoked(done, *, after: timedelta = timedelta(days=1)) -> EnrollmentCompletionRevoked:
    return EnrollmentCompletionRevoked(
        enrollment_id=done.enrollment_id,
        programme_id=done.programme_id,
        member_id=done.member_id,
        owner_org=done.owner_org,
        home_org=done.home_org,
        revoked_at=done.completed_at + after,
        reason="recorded in error",
    )


async def hours_of(client, auth, member_id: str = MEMBER) -> float:
    headers = auth(org="hzsteel-rolling", roles=["member"], member_id=member_id)
    body = (await client.get(f"/members/{member_id}/facts", headers=headers)).json()
    return body["summary"]["total_hours"]


async def test_a_completion_of_a_hosted_member_becomes_a_fact_with_its_result(
    app, bus, completed
) -> None:
    event = completed(MEMBER, hours=6.5, rank=2, score=91.5, programme_kind="skills_competition")

    outcome, envelope = await bus.publish(event)

    assert outcome is Outcome.handled
    [fact] = await facts(app)
    assert (fact.fact_id, fact.kind, fact.source_type) == (
        envelope.id,
        "completed",
        "bigschool.enrollment.completed.v1",
    )
    assert (fact.hours, fact.quality_area, fact.rank, fact.score) == (
        6.5,
        "safety_health",
        2,
        91.5,
    )
    assert (fact.enrollment_id, fact.programme_kind) == (event.enrollment_id, "skills_competition")
    assert fact.occurred_at == event.completed_at


async def test_hours_count_once_on_completion_not_on_confirmation(
    client, app, bus, confirmed, completed, auth
) -> None:
    seat = confirmed(MEMBER, hours=8)
    await bus.publish(seat)
    assert await hours_of(client, auth) == 0  # a seat is no training yet

    await bus.publish(completed(MEMBER, hours=8, enrollment_id=seat.enrollment_id))

    assert await hours_of(client, auth) == 8
    assert sorted(f.kind for f in await facts(app)) == ["completed", "enrollment_confirmed"]


async def test_a_revoked_completion_takes_its_fact_and_hours_away(
    client, app, bus, completed, auth
) -> None:
    done = completed(MEMBER, hours=8)
    kept = completed(MEMBER, hours=3)
    await bus.publish(done)
    await bus.publish(kept)

    outcome, _ = await bus.publish(revoked(done))

    assert outcome is Outcome.handled
    assert [f.enrollment_id for f in await facts(app)] == [kept.enrollment_id]
    assert await hours_of(client, auth) == 3


async def test_a_revocation_leaves_the_confirmation_of_the_enrollment(
    app, bus, confirmed, completed
) -> None:
    seat = confirmed(MEMBER)
    done = completed(MEMBER, enrollment_id=seat.enrollment_id)
    for event in (seat, done, revoked(done)):
        await bus.publish(event)

    assert [f.kind for f in await facts(app)] == ["enrollment_confirmed"]


async def test_replaying_a_revocation_keeps_the_completion_recorded_again_after_it(
    client, app, bus, completed, auth
) -> None:
    done = completed(MEMBER, hours=8)
    undo = revoked(done)
    again = completed(MEMBER, hours=6, enrollment_id=done.enrollment_id).model_copy(
        update={"completed_at": undo.revoked_at + timedelta(hours=1)}
    )
    undo_record, _ = bus.record(undo, topics.ENROLLMENT)
    await bus.publish(done)
    await bus.deliver("enrollment_facts", undo_record)
    await bus.publish(again)
    await forget_processed_events(app)

    assert await bus.deliver("enrollment_facts", undo_record) is Outcome.handled

    assert await hours_of(client, auth) == 6


async def test_replaying_the_same_events_twice_changes_nothing(
    client, app, bus, confirmed, completed, auth
) -> None:
    seat = confirmed(MEMBER, hours=8)
    done = completed(MEMBER, hours=8, enrollment_id=seat.enrollment_id, rank=1)
    undone = completed(MEMBER, hours=5)
    events = [seat, done, undone, revoked(undone), completed(MEMBER, hours=4)]
    records = [bus.record(e, topics.ENROLLMENT)[0] for e in events]
    for record in records:
        assert await bus.deliver("enrollment_facts", record) is Outcome.handled
    before = [(f.fact_id, f.kind, f.hours, f.rank) for f in await facts(app)]

    for record in records:  # redelivered: the processed-events records drop them
        assert await bus.deliver("enrollment_facts", record) is Outcome.duplicate
    await forget_processed_events(app)
    for record in records:  # replayed later: the facts' ids keep them from counting twice
        assert await bus.deliver("enrollment_facts", record) is Outcome.handled

    assert [(f.fact_id, f.kind, f.hours, f.rank) for f in await facts(app)] == before
    assert len(before) == 3
    assert await hours_of(client, auth) == 12


async def test_a_completion_of_another_nodes_member_is_not_recorded(app, bus, completed) -> None:
    # We own the programme (hzsteel), so the event is relevant here; the member is not ours.
    outcome, _ = await bus.publish(completed(OTHER, "otherco-line", owner_org="hzsteel"))

    assert outcome is Outcome.handled
    assert await facts(app) == []


async def test_a_revocation_of_another_nodes_member_touches_nothing_here(
    app, bus, completed
) -> None:
    mine = completed(MEMBER)
    await bus.publish(mine)
    theirs = revoked(mine).model_copy(update={"home_org": "otherco-line", "member_id": OTHER})

    outcome, _ = await bus.publish(theirs)

    assert outcome is Outcome.handled
    assert len(await facts(app)) == 1


async def test_a_completion_for_a_home_org_not_yet_replicated_waits_for_the_tree(
    app, bus, completed
) -> None:
    record, _ = bus.record(completed(MEMBER, "hzsteel-forge"), topics.ENROLLMENT)

    assert await bus.deliver("enrollment_facts", record) is Outcome.held
    await bus.publish(
        OrgRegistered(
            org_id="hzsteel-forge",
            name="Forge",
            parent_id="hzsteel",
            level=OrgLevel.grassroots,
            hosted_by="hzsteel",
        )
    )

    assert await bus.deliver("enrollment_facts", record) is Outcome.handled
    assert [f.home_org for f in await facts(app)] == ["hzsteel-forge"]


async def test_the_facts_api_shows_a_completions_rank_and_enrollment(
    client, bus, completed, auth
) -> None:
    event = completed(MEMBER, rank=3, score=88.0)
    await bus.publish(event)

    headers = auth(org="hzsteel-rolling", roles=["member"], member_id=MEMBER)
    [item] = (await client.get(f"/members/{MEMBER}/facts", headers=headers)).json()["items"]

    assert (item["kind"], item["rank"], item["score"]) == ("completed", 3, 88.0)
    assert item["enrollment_id"] == event.enrollment_id
