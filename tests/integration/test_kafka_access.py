"""Each node is its own Kafka principal and reaches only what is its own (the real broker,
SASL/SCRAM-SHA-512, the standard KRaft authorizer, ACLs from `shared.kafka.provision`)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from shared.contracts import topics
from shared.contracts.topics import TopicSpec
from shared.kafka.connection import KafkaConnection
from shared.kafka.provision import provision
from shared.kafka.topics import MissingTopics, ensure_topics, require_topics

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def two_nodes(
    kafka_admin: KafkaConnection, tmp_path_factory: pytest.TempPathFactory
) -> tuple[KafkaConnection, KafkaConnection, Path]:
    """Nodes A and B of one federation, provisioned; unique names keep tests apart."""
    tag = uuid.uuid4().hex[:6]
    secrets_dir = tmp_path_factory.mktemp("kafka-secrets")
    conns = await provision(kafka_admin, [f"na{tag}", f"nb{tag}"], secrets_dir, partitions=2)
    return conns[f"na{tag}"], conns[f"nb{tag}"], secrets_dir


def node_of(conn: KafkaConnection) -> str:
    assert conn.username
    return conn.username


async def send(conn: KafkaConnection, topic: str) -> None:
    producer = AIOKafkaProducer(**conn.aiokafka(), enable_idempotence=True)
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"{}", key=b"k")
    finally:
        await producer.stop()


async def poll(conn: KafkaConnection, topic: str, group: str) -> int:
    consumer = AIOKafkaConsumer(
        topic, **conn.aiokafka(), group_id=group, auto_offset_reset="earliest"
    )
    try:
        await consumer.start()
        batches = await consumer.getmany(timeout_ms=3000)
        return sum(len(records) for records in batches.values())
    finally:
        await consumer.stop()


async def refused(action: Callable[[], Awaitable[object]], error: type[KafkaError]) -> None:
    with pytest.raises(error):
        await action()


async def test_a_node_reads_and_writes_the_federation_topics_and_its_own_inbox(
    two_nodes: tuple[KafkaConnection, KafkaConnection, Path],
) -> None:
    a, _, _ = two_nodes
    await send(a, topics.ENROLLMENT)
    await send(a, topics.inbox(node_of(a)))
    assert await poll(a, topics.inbox(node_of(a)), f"bigschool.{node_of(a)}.enrollment.t") >= 1
    assert await poll(a, topics.ENROLLMENT, f"bigschool.{node_of(a)}.enrollment.u") >= 1


async def test_a_node_writes_another_nodes_inbox_but_cannot_read_it(
    two_nodes: tuple[KafkaConnection, KafkaConnection, Path],
) -> None:
    a, b, _ = two_nodes
    await send(a, topics.inbox(node_of(b)))  # a request addressed to B
    group = f"bigschool.{node_of(a)}.enrollment.spy"
    await refused(lambda: poll(a, topics.inbox(node_of(b)), group), TopicAuthorizationFailedError)


async def test_a_node_can_neither_read_nor_write_another_nodes_members_topic(
    two_nodes: tuple[KafkaConnection, KafkaConnection, Path],
) -> None:
    a, b, _ = two_nodes
    members_of_b = topics.members(node_of(b))
    group = f"bigschool.{node_of(a)}.notifications.spy"
    await refused(lambda: poll(a, members_of_b, group), TopicAuthorizationFailedError)
    await refused(lambda: send(a, members_of_b), TopicAuthorizationFailedError)
    await refused(lambda: send(a, topics.dlq(members_of_b)), TopicAuthorizationFailedError)


async def test_a_node_cannot_use_another_nodes_consumer_groups(
    two_nodes: tuple[KafkaConnection, KafkaConnection, Path],
) -> None:
    a, b, _ = two_nodes
    group = f"bigschool.{node_of(b)}.enrollment.catalogue"
    await refused(lambda: poll(a, topics.ENROLLMENT, group), GroupAuthorizationFailedError)


async def test_a_node_cannot_create_topics(
    two_nodes: tuple[KafkaConnection, KafkaConnection, Path],
) -> None:
    a, _, _ = two_nodes
    spec = TopicSpec(f"bigschool.node.{node_of(a)}.rogue.v1", 1)
    with pytest.raises(KafkaError):
        await ensure_topics(a, [spec])
    with pytest.raises(MissingTopics, match="rogue"):
        await require_topics(a, [spec.name])


async def test_an_unauthenticated_client_is_refused(kafka_admin: KafkaConnection) -> None:
    anonymous = kafka_admin.anonymous()
    await refused(lambda: send(anonymous, topics.FEDERATION), KafkaConnectionError)
    admin = AIOKafkaAdminClient(**anonymous.aiokafka())
    await refused(admin.start, KafkaConnectionError)
    await admin.close()


async def test_a_wrong_password_is_refused(
    two_nodes: tuple[KafkaConnection, KafkaConnection, Path],
) -> None:
    a, _, _ = two_nodes
    impostor = a.as_user(node_of(a), "not-the-password")
    await refused(lambda: send(impostor, topics.FEDERATION), KafkaConnectionError)


async def test_provisioning_again_keeps_every_password_and_permission(
    kafka_admin: KafkaConnection, two_nodes: tuple[KafkaConnection, KafkaConnection, Path]
) -> None:
    a, b, secrets_dir = two_nodes
    again = await provision(kafka_admin, [node_of(a), node_of(b)], secrets_dir, partitions=2)
    assert again[node_of(a)] == a and again[node_of(b)] == b
    await send(a, topics.inbox(node_of(b)))
    await require_topics(a, [t.name for t in topics.node_topics(node_of(a), partitions=1)])
