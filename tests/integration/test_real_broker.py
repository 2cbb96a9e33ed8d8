"""aiokafka 0.14 against the real Kafka 4.x broker: the client features the services rely on."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition

from shared.kafka.connection import KafkaConnection

pytestmark = pytest.mark.integration

PARTITIONS = 3


async def _create_topic(kafka: KafkaConnection, partitions: int = PARTITIONS) -> str:
    topic = f"it-{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(**kafka.aiokafka())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, replication_factor=1)])
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    assert len(described[0]["partitions"]) == partitions
    return topic


async def _produce(
    kafka: KafkaConnection, topic: str, items: list[tuple[str, str]]
) -> dict[str, int]:
    """Send (key, value) pairs idempotently; return the partition each key landed in."""
    producer = AIOKafkaProducer(**kafka.aiokafka(), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        # Pipelined sends (not one send_and_wait each): ordering must hold under batching too.
        futures = [
            await producer.send(topic, value.encode(), key=key.encode()) for key, value in items
        ]
        metadata = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    key_partitions: dict[str, set[int]] = defaultdict(set)
    for (key, _), md in zip(items, metadata, strict=True):
        key_partitions[key].add(md.partition)
    assert all(len(p) == 1 for p in key_partitions.values()), key_partitions
    return {key: p.pop() for key, p in key_partitions.items()}


async def _consume(consumer: AIOKafkaConsumer, count: int, seconds: float) -> list[ConsumerRecord]:
    """Poll until ``count`` records arrived or ``seconds`` passed; return what arrived."""
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + seconds
    while len(records) < count and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        for batch in batches.values():
            records.extend(batch)
    return records


def _group_consumer(kafka: KafkaConnection, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        **kafka.aiokafka(),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


async def test_keyed_messages_arrive_complete_and_in_per_key_order(
    kafka_admin: KafkaConnection,
) -> None:
    topic = await _create_topic(kafka_admin)
    keys = [f"member-{i}" for i in range(10)]
    items = [(keys[seq % len(keys)], f"{keys[seq % len(keys)]}:{seq}") for seq in range(300)]
    key_partition = await _produce(kafka_admin, topic, items)
    # Ten keys over three partitions: the test must exercise more than one partition.
    assert len(set(key_partition.values())) > 1

    consumer = _group_consumer(kafka_admin, topic, f"g-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    try:
        records = await _consume(consumer, 300, seconds=30)
        # Nothing beyond the 300 may show up (no duplicates from idempotent retries).
        records += await _consume(consumer, 1, seconds=1)
    finally:
        await consumer.stop()

    assert len(records) == 300
    assert {r.value.decode() for r in records if r.value} == {v for _, v in items}
    by_key: dict[str, list[int]] = defaultdict(list)
    for r in records:
        assert r.key is not None and r.value is not None
        key = r.key.decode()
        assert r.partition == key_partition[key]
        by_key[key].append(int(r.value.decode().rsplit(":", 1)[1]))
    for key, seqs in by_key.items():
        expected = [seq for seq in range(300) if keys[seq % len(keys)] == key]
        assert seqs == expected, f"{key} out of order"


async def test_committed_offsets_are_not_redelivered_to_the_group(
    kafka_admin: KafkaConnection,
) -> None:
    topic = await _create_topic(kafka_admin)
    group = f"g-{uuid.uuid4().hex[:8]}"
    await _produce(kafka_admin, topic, [(f"k{i % 7}", f"old-{i}") for i in range(30)])

    first = _group_consumer(kafka_admin, topic, group)
    await first.start()
    try:
        old = await _consume(first, 30, seconds=30)
        assert len(old) == 30
        await first.commit()
        committed = {p: await first.committed(TopicPartition(topic, p)) for p in range(PARTITIONS)}
    finally:
        await first.stop()  # leaves the group, so the next member is assigned at once
    # Each partition's committed offset is its end: 30 messages in total.
    assert sum(offset or 0 for offset in committed.values()) == 30

    await _produce(kafka_admin, topic, [(f"k{i % 7}", f"new-{i}") for i in range(5)])
    second = _group_consumer(kafka_admin, topic, group)
    await second.start()
    try:
        fresh = await _consume(second, 5, seconds=30)
        fresh += await _consume(second, 1, seconds=2)  # anything old would show up here too
    finally:
        await second.stop()
    assert sorted(r.value.decode() for r in fresh if r.value) == [f"new-{i}" for i in range(5)]
