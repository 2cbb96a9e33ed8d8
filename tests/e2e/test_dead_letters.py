"""Bad messages on a federation topic: dead-lettered with the reason (no personal values),
unknown types skipped and counted, and every consumer goes on with the next message."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from deploy.local.federation import ENTERPRISE_NODE, ROOTS
from shared.contracts import topics
from shared.contracts.envelope import Envelope, envelope_for
from shared.contracts.events import EnrollmentRefused
from shared.kafka.connection import KafkaConnection
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import dead_letters, new_members, wait_until
from tests.e2e.test_enrollment_flow import publish

pytestmark = pytest.mark.e2e

LEAK = "leak.canary@dlq.example"


def headers_for(ce_type: str, orgs: tuple[str, ...]) -> list[tuple[str, bytes]]:
    return Envelope(
        id=str(uuid.uuid4()),
        source="bigschool/test/e2e",
        type=ce_type,
        time=datetime.now(UTC),
        subject="x",
        orgs=orgs,
    ).headers()


async def produce_bad_messages(kafka: KafkaConnection) -> None:
    producer = AIOKafkaProducer(**kafka.aiokafka(), enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            topics.ENROLLMENT, b"\x00\xffnot json " + LEAK.encode(), key=b"bad-1"
        )
        await producer.send_and_wait(
            topics.ENROLLMENT,
            b'{"enrollment_id": "e", "member_id": "' + LEAK.encode() + b'"}',
            key=b"bad-2",
            headers=headers_for("bigschool.enrollment.confirmed.v1", ("hzsteel-rolling",)),
        )
        await producer.send_and_wait(
            topics.ENROLLMENT,
            b"{}",
            key=b"bad-3",
            headers=headers_for("bigschool.enrollment.teleported.v1", ("hzsteel-rolling",)),
        )
    finally:
        await producer.stop()


def test_bad_messages_are_dead_lettered_and_consumers_carry_on(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    asyncio.run(produce_bad_messages(fed.kafka))

    def letters_from_home_node() -> list[dict[str, str]]:
        return [
            d
            for d in asyncio.run(dead_letters(fed.kafka, topics.dlq(topics.ENROLLMENT)))
            if d.get("bigschool_dlq_consumer", "").startswith(f"bigschool.{ENTERPRISE_NODE}.")
        ]

    letters = wait_until(
        lambda: (
            (found := letters_from_home_node())
            and {d["bigschool_dlq_reason"] for d in found} >= {"invalid_envelope", "invalid_body"}
            and found
        ),
        what="dead letters from the enterprise node",
    )
    invalid = [d for d in letters if d["bigschool_dlq_reason"] == "invalid_body"]
    assert invalid and "programme_id" in invalid[0]["bigschool_dlq_fields"]
    for letter in letters:
        # The original body travels as it was; the reason headers never echo its values.
        assert all(LEAK not in v for k, v in letter.items() if k.startswith("bigschool_dlq_"))
    assert all(d["bigschool_dlq_reason"] != "handler_error" for d in letters)

    # Every service of the node reads the topic; the enrollment service counts the unknown
    # type once its own consumer reached it (another's dead letters may have come first).
    url = f"{fed.node(ENTERPRISE_NODE).url('enrollment')}/metrics"
    wait_until(
        lambda: 'ce_type="bigschool.enrollment.teleported.v1"' in httpx.get(url).text,
        what="the unknown type counted by the enrollment service",
    )

    # The consumers went on: a new enrollment still goes through end to end.
    [member] = new_members(fed.federation, 1)
    pid = publish(fed, capacity=1)
    client = fed.federation.member_client(ENTERPRISE_NODE, member)
    accepted = client.post("/enrollments", {"programme_id": pid}, expect=202)
    outcome = client.wait_for(
        f"/enrollments/{accepted['id']}", lambda body: body["status"] != "requested"
    )
    assert outcome["status"] == "confirmed"


async def produce_naming_an_unknown_org(kafka: KafkaConnection, programme_id: str) -> str:
    """A valid decision whose `bigschool_orgs` names an org no node knows, keyed like the
    programme's own events: everything of that programme queues behind it."""
    event = EnrollmentRefused(
        enrollment_id=str(uuid.uuid4()),
        programme_id=programme_id,
        member_id=str(uuid.uuid4()),
        owner_org="nobody-knows-this-org",
        home_org="nobody-knows-this-org",
        decided_at=datetime.now(UTC),
        reason="closed",
    )
    envelope = envelope_for(event, source="bigschool/test/e2e", at=datetime.now(UTC))
    producer = AIOKafkaProducer(**kafka.aiokafka(), enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            topics.ENROLLMENT,
            event.model_dump_json().encode(),
            key=programme_id.encode(),
            headers=envelope.headers(),
        )
    finally:
        await producer.stop()
    return envelope.id


def test_a_message_naming_an_unknown_org_is_held_then_parked_and_the_partition_goes_on(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    [member] = new_members(fed.federation, 1)
    pid = publish(fed, capacity=1)
    ce_id = asyncio.run(produce_naming_an_unknown_org(fed.kafka, pid))

    client = fed.federation.member_client(ENTERPRISE_NODE, member)
    accepted = client.post("/enrollments", {"programme_id": pid}, expect=202)
    # The outcome travels behind the held message on the same partition: it arrives once the
    # hold (8 s in these tests, 10 min by default) has run out.
    outcome = client.wait_for(
        f"/enrollments/{accepted['id']}", lambda body: body["status"] != "requested", timeout=90
    )
    client.close()
    assert outcome["status"] == "confirmed"

    def parked() -> list[dict[str, str]]:
        letters = asyncio.run(dead_letters(fed.kafka, topics.dlq(topics.ENROLLMENT)))
        return [d for d in letters if d.get("ce_id") == ce_id]

    def nodes_of(letters: list[dict[str, str]]) -> set[str]:
        return {d["bigschool_dlq_consumer"].split(".")[1] for d in letters}

    # Several consumers of each node read the topic: wait for a letter from every node.
    letters = wait_until(
        lambda: nodes_of(found := parked()) == set(ROOTS) and found, 60, "parked letters"
    )
    assert {d["bigschool_dlq_reason"] for d in letters} == {"unknown_org"}
    assert {d["bigschool_dlq_fields"] for d in letters} == {"bigschool_orgs"}
    assert nodes_of(letters) == set(ROOTS)  # every node's consumers parked it
