from __future__ import annotations

import uuid

from pydantic import SecretStr
from sqlalchemy import select

from notifications.domain.deliveries import Channel, delivery_id
from notifications.models import Recipient
from notifications.service.planning import plan_member_notice
from notifications.templates import render
from shared.contracts.envelope import envelope_for
from shared.contracts.events import EnrollmentRefused, EnrollmentWaitlisted
from shared.links import LinkSigner
from shared.messaging.consumer import Outcome


async def test_a_decision_about_a_member_of_this_node_plans_one_pending_email_and_inapp(
    make_node,
) -> None:
    node = await make_node()
    member_id = str(uuid.uuid4())
    ce_id = await node.decide(member_id, EnrollmentWaitlisted)

    rows = await node.deliveries(member_id)
    assert [(d.channel, d.status, d.attempts) for d in rows] == [
        ("email", "pending", 0),
        ("inapp", "pending", 0),
    ]
    assert {d.delivery_id for d in rows} == {
        delivery_id(ce_id, member_id, Channel.email),
        delivery_id(ce_id, member_id, Channel.inapp),
    }
    assert all(d.data["programme_title"] == "Safe crane operation" for d in rows)
    assert all(d.event_type == EnrollmentWaitlisted.ce_type for d in rows)


async def test_a_redelivered_decision_creates_no_second_delivery(make_node) -> None:
    node = await make_node()
    member_id = str(uuid.uuid4())
    event = node.decision(member_id)
    record = node.record("enrollment_events", event, str(uuid.uuid4()))

    assert await node.consumers["enrollment_events"].process(record) is Outcome.handled
    assert await node.consumers["enrollment_events"].process(record) is Outcome.duplicate
    assert len(await node.deliveries(member_id)) == 2


async def test_planning_an_event_again_adds_no_rows_even_without_the_processed_record(
    make_node,
) -> None:
    # The unique key, not only the consumer's record of the event, guarantees one delivery
    # per (event, recipient, channel): e.g. after processed_events were pruned.
    node = await make_node()
    member_id = str(uuid.uuid4())
    event = node.decision(member_id, EnrollmentRefused)
    envelope = envelope_for(event, source="test", at=node.clock.now())
    added = []
    for _ in range(2):
        async with node.db.transaction() as session:
            added.append(await plan_member_notice(session, node.ctx, event, envelope))
    assert added == [2, 0]
    assert len(await node.deliveries(member_id)) == 2


async def test_a_decision_about_a_member_of_another_node_creates_nothing(make_node) -> None:
    # The owner org is ours, so the event is relevant here; the member's node tells them.
    node = await make_node()
    member_id = str(uuid.uuid4())
    event = node.decision(member_id, home_org="mine-shaft")

    assert await node.feed("enrollment_events", event) is Outcome.handled
    assert await node.deliveries() == []


async def test_a_decision_between_orgs_of_other_nodes_is_filtered_out(make_node) -> None:
    node = await make_node()
    event = node.decision(str(uuid.uuid4()), owner_org="mine", home_org="mine-shaft")

    assert await node.feed("enrollment_events", event) is Outcome.filtered
    assert await node.deliveries() == []


async def test_a_decision_naming_a_home_org_not_replicated_yet_is_retried_not_dropped(
    make_node,
) -> None:
    node = await make_node()
    event = node.decision(str(uuid.uuid4()), home_org="steel-new-workshop")

    assert await node.feed("enrollment_events", event) is Outcome.held
    assert await node.deliveries() == []
    assert node.dead_letters.sent == []


async def test_a_member_record_becomes_a_recipient_and_a_newer_record_replaces_it(
    make_node,
) -> None:
    node = await make_node()
    member = await node.add_member(language="en")
    await node.add_member(member_id=member.member_id, email=None, name="Wang F.", language="zh")

    async with node.db.sessions() as session:
        rows = list((await session.execute(select(Recipient))).scalars())
    assert [(r.member_id, r.name, r.email, r.language) for r in rows] == [
        (member.member_id, "Wang F.", None, "zh")
    ]


async def test_a_decision_with_an_invalid_body_is_dead_lettered_with_the_field_name(
    make_node,
) -> None:
    node = await make_node()
    record = node.record("enrollment_events", node.decision(str(uuid.uuid4())))
    record.value = record.value.replace(b'"sequence":1', b'"sequence":0')

    assert await node.consumers["enrollment_events"].process(record) is Outcome.dead_lettered
    assert [(d.record.topic, d.reason, d.fields) for d in node.dead_letters.sent] == [
        ("bigschool.enrollment.v1", "invalid_body", ["sequence"])
    ]
    assert await node.deliveries() == []


SECRET = "notifications-test-link-secret-32-chars!"


async def test_a_confirmation_carries_a_one_click_link_the_enrollment_service_accepts(
    make_node,
) -> None:
    node = await make_node(
        link_secret=SecretStr(SECRET), enrollment_public_url="https://hz.example/enrollment"
    )
    member_id = str(uuid.uuid4())
    await node.decide(member_id)  # confirmed
    [email, _] = await node.deliveries(member_id)

    link = email.data["cancel_link"]
    base, _, token = link.rpartition("/links/")
    assert base == "https://hz.example/enrollment"
    found = LinkSigner(SECRET, max_age_seconds=3600).read(token)  # what enrollment verifies
    assert (found.action, found.subject) == ("cancel-enrollment", email.data["enrollment_id"])
    for language in ("zh", "en"):
        assert link in render(email.event_type, language, email.data, "Wang").body


async def test_no_link_without_a_secret_and_none_after_a_refusal(make_node) -> None:
    plain = await make_node()
    linked = await make_node(
        link_secret=SecretStr(SECRET), enrollment_public_url="https://hz.example/enrollment"
    )
    confirmed, refused = str(uuid.uuid4()), str(uuid.uuid4())
    await plain.decide(confirmed)
    await linked.decide(refused, EnrollmentRefused)

    assert all("cancel_link" not in d.data for d in await plain.deliveries(confirmed))
    assert all("cancel_link" not in d.data for d in await linked.deliveries(refused))
