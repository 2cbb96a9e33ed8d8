"""The enrollment_facts consumer, driven record by record as the Kafka subscriber would."""

from __future__ import annotations

import json

from fastapi import FastAPI
from sqlalchemy import select

from awards.models import EligibilityFact
from shared.contracts import topics
from shared.contracts.events import OrgLevel, OrgRegistered
from shared.messaging.consumer import Outcome

MEMBER = "8d0c7a55-5f3e-4a63-9d2c-0c2b6f3f4a11"


async def facts(app: FastAPI) -> list[EligibilityFact]:
    async with app.state.runtime.db.sessions() as session:
        return list((await session.execute(select(EligibilityFact))).scalars())


async def test_confirmed_enrollment_of_hosted_member_becomes_fact_citing_its_event(
    app, bus, confirmed
):
    event = confirmed(MEMBER, "hzsteel-rolling", hours=12.5)

    outcome, envelope = await bus.publish(event)

    assert outcome is Outcome.handled
    [fact] = await facts(app)
    assert fact.fact_id == envelope.id
    assert (fact.member_id, fact.home_org, fact.kind) == (
        MEMBER,
        "hzsteel-rolling",
        "enrollment_confirmed",
    )
    assert (fact.programme_id, fact.hours) == (event.programme_id, 12.5)
    assert fact.source_type == "bigschool.enrollment.confirmed.v1"
    assert fact.occurred_at == event.decided_at


async def test_redelivered_confirmation_is_recorded_once(app, bus, confirmed):
    record, _ = bus.record(confirmed(MEMBER), topics.ENROLLMENT)

    first = await bus.deliver("enrollment_facts", record)
    again = await bus.deliver("enrollment_facts", record)

    assert (first, again) == (Outcome.handled, Outcome.duplicate)
    assert len(await facts(app)) == 1


async def test_confirmation_seen_by_owner_node_about_another_nodes_member_is_not_recorded(
    app, bus, confirmed
):
    # We own the programme (hzsteel), so the event is relevant here; the member is not ours.
    outcome, _ = await bus.publish(confirmed(MEMBER, "otherco-line", owner_org="hzsteel"))

    assert outcome is Outcome.handled
    assert await facts(app) == []


async def test_confirmation_between_other_nodes_orgs_is_filtered_from_the_header(
    app, bus, confirmed
):
    outcome, _ = await bus.publish(confirmed(MEMBER, "otherco-line", owner_org="otherco"))

    assert outcome is Outcome.filtered
    assert await facts(app) == []


async def test_confirmation_for_a_home_org_not_yet_replicated_waits_for_the_tree(
    app, bus, confirmed
):
    record, _ = bus.record(confirmed(MEMBER, "hzsteel-new"), topics.ENROLLMENT)

    assert await bus.deliver("enrollment_facts", record) is Outcome.held
    assert await facts(app) == []

    new_org = OrgRegistered(
        org_id="hzsteel-new",
        name="New",
        parent_id="hzsteel",
        level=OrgLevel.grassroots,
        hosted_by="hzsteel",
    )
    await bus.publish(new_org)
    assert await bus.deliver("enrollment_facts", record) is Outcome.handled
    assert len(await facts(app)) == 1
    assert bus.dead_letters.sent == []


async def test_invalid_body_is_dead_lettered_with_field_names_but_no_values(app, bus, confirmed):
    event = confirmed(MEMBER)
    body = json.loads(event.model_dump_json())
    body["decided_at"] = "SECRET-not-a-time"
    body["sequence"] = "SECRET-not-a-number"
    del body["member_id"]
    record, _ = bus.record(event, topics.ENROLLMENT, value=json.dumps(body).encode())

    outcome = await bus.deliver("enrollment_facts", record)

    assert outcome is Outcome.dead_lettered
    [letter] = bus.dead_letters.sent
    assert letter.reason == "invalid_body"
    assert sorted(letter.fields) == ["decided_at", "member_id", "sequence"]
    assert "SECRET" not in letter.reason + ",".join(letter.fields)
    assert letter.record is record  # the original message, byte for byte
    assert await facts(app) == []


async def test_undecodable_body_is_dead_lettered(app, bus, confirmed):
    record, _ = bus.record(confirmed(MEMBER), topics.ENROLLMENT, value=b"\xff not json")

    assert await bus.deliver("enrollment_facts", record) is Outcome.dead_lettered
    assert [d.reason for d in bus.dead_letters.sent] == ["invalid_body"]


async def test_unknown_event_type_is_skipped_without_dead_letter(app, bus, confirmed):
    event = confirmed(MEMBER)
    _, envelope = bus.record(event, topics.ENROLLMENT)
    record, _ = bus.record(
        event,
        topics.ENROLLMENT,
        envelope=bus.retyped(envelope, "bigschool.enrollment.confirmed.v9"),
    )

    assert await bus.deliver("enrollment_facts", record) is Outcome.unknown_type
    assert await facts(app) == []
    assert bus.dead_letters.sent == []


async def test_known_type_this_consumer_does_not_handle_is_acknowledged_and_left(
    app, bus, confirmed
):
    event = confirmed(MEMBER)
    _, envelope = bus.record(event, topics.ENROLLMENT)
    record, _ = bus.record(
        event, topics.ENROLLMENT, envelope=bus.retyped(envelope, "bigschool.enrollment.refused.v1")
    )

    assert await bus.deliver("enrollment_facts", record) is Outcome.ignored
    assert await facts(app) == []
