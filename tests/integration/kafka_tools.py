"""Helpers the messaging integration tests share: unique topics, reading a topic to its end."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from shared.contracts.topics import TopicSpec
from shared.kafka.connection import KafkaConnection
from shared.kafka.topics import ensure_topics


async def new_topic(
    kafka: KafkaConnection, prefix: str, partitions: int = 4, *, dlq: bool = False
) -> str:
    """Create a uniquely named topic (and its `.dlq` when asked) through the provisioning code."""
    spec = TopicSpec(f"it.{prefix}.{uuid.uuid4().hex[:10]}", partitions)
    await ensure_topics(kafka, [spec, spec.dead_letters()] if dlq else [spec])
    return spec.name


async def read_to_end(
    kafka: KafkaConnection, topic: str, seconds: float = 30.0
) -> list[ConsumerRecord]:
    """Every record of `topic` from the earliest offset up to its current end, in partition
    order (no consumer group: nothing is committed)."""
    consumer = AIOKafkaConsumer(
        **kafka.aiokafka(), enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if partitions is None:
            await consumer._client.force_metadata_update()  # a topic created a moment ago
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        assert tps, f"topic {topic} has no partitions"
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + seconds
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: read {len(records)} records, end not reached")
            batches = await consumer.getmany(*tps, timeout_ms=500)
            for batch in batches.values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def committed_offsets(kafka: KafkaConnection, group: str, topic: str) -> dict[int, int]:
    """The group's committed offset per partition of `topic` (absent = nothing committed)."""
    admin = AIOKafkaAdminClient(**kafka.aiokafka())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


async def eventually(
    check: Callable[[], Awaitable[bool]], seconds: float, what: str, every: float = 0.1
) -> None:
    """Wait until `check()` is true; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        await asyncio.sleep(every)
