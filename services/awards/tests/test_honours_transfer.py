"""Honours follow a member who moves to another node: the old home hands their facts over
on the awards topic and forgets them; the new home keeps them under the same ids."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import select

from awards.models import MESSAGING, EligibilityFact
from shared.contracts import topics
from shared.contracts.events import HonourEntry, HonoursTransferred, MemberTransferred
from shared.messaging.consumer import Outcome
from shared.testing import staged

MEMBER = "5b1f8f0e-3c33-4f0a-8a51-7c1c2d9e1a02"
OTHER = "0a9d2f4e-6b7c-4d8e-9f01-23456789abcd"


async def facts(app: FastAPI) -> list[EligibilityFact]:
    async with app.state.runtime.db.sessions() as session:
        return list((await session.execute(select(EligibilityFact))).scalars())


async def outbox(app: FastAPI) -> list[tuple[str, dict]]:
    return [(m.topic, m.body) for m in await staged(app.state.runtime.db, MESSAGING.outbox)]


def moved(member_id: str, from_org: str, to_org: str, to_node: str) -> MemberTransferred:
    return MemberTransferred(
        member_id=member_id,
        from_org=from_org,
        to_org=to_org,
        to_node=to_node,
        transferred_at=datetime(2025, 7, 1, tzinfo=UTC),
    )


async def test_the_old_home_hands_the_members_facts_over_and_forgets_them(
    app, bus, confirmed
) -> None:
    for member in (MEMBER, MEMBER, OTHER):
        await bus.publish(confirmed(member, "hzsteel-rolling"))

    outcome, _ = await bus.publish(moved(MEMBER, "hzsteel-rolling", "otherco-line", "oc"))

    assert outcome is Outcome.handled
    assert [f.member_id for f in await facts(app)] == [OTHER]
    [(topic, handed)] = await outbox(app)
    assert topic == topics.AWARDS
    assert (handed["member_id"], handed["to_org"]) == (MEMBER, "otherco-line")
    assert len(handed["facts"]) == 2
    assert {f["kind"] for f in handed["facts"]} == {"enrollment_confirmed"}


async def test_the_new_home_keeps_the_facts_under_their_ids(app, bus) -> None:
    entry = HonourEntry(
        fact_id="c0ffee00-0000-4000-8000-000000000001",
        kind="enrollment_confirmed",
        programme_id="p-1",
        programme_title="Welding basics",
        hours=12,
        source_type="bigschool.enrollment.confirmed.v1",
        occurred_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    event = HonoursTransferred(
        member_id=MEMBER,
        from_org="otherco-line",
        to_org="hzsteel-casting",
        transferred_at=datetime(2025, 7, 1, tzinfo=UTC),
        facts=[entry],
    )
    record, _ = bus.record(event, topics.AWARDS)

    first = await bus.deliver("honours", record)
    again, _ = bus.record(event, topics.AWARDS)  # the same facts in a second message
    await bus.deliver("honours", again)

    assert first is Outcome.handled
    [fact] = await facts(app)
    assert (fact.fact_id, fact.member_id, fact.home_org) == (
        entry.fact_id,
        MEMBER,
        "hzsteel-casting",
    )
    assert fact.hours == 12


async def test_a_transfer_between_other_nodes_is_not_ours(app, bus, confirmed) -> None:
    await bus.publish(confirmed(MEMBER, "hzsteel-rolling"))

    outcome, _ = await bus.publish(moved(OTHER, "otherco-line", "zj", "zj"))

    assert outcome is Outcome.handled  # kept (zj is above us), yet not about our member
    assert len(await facts(app)) == 1
    assert await outbox(app) == []
