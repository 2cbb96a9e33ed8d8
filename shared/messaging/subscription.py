"""Registering an `IdempotentConsumer` on the FastStream broker: polled batches, manual
commits after the effect, from the earliest offset — and what to do with a batch that was
not finished (commit what is done, fetch the rest again, pause a partition that holds a
message)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol, cast

from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage

from shared.messaging.consumer import BatchResult, IdempotentConsumer, _partition
from shared.messaging.dead_letters import RecordLike

log = logging.getLogger(__name__)


class PartitionControl(Protocol):
    """What `settle` asks of the AIOKafkaConsumer under a batch (aiokafka is untyped)."""

    async def commit(self, offsets: dict[TopicPartition, int]) -> None: ...

    def seek(self, partition: TopicPartition, offset: int) -> None: ...

    def pause(self, *partitions: TopicPartition) -> None: ...

    def resume(self, *partitions: TopicPartition) -> None: ...


async def _raw(msg: StreamMessage[Any]) -> bytes:
    """FastStream decoder that leaves the body as bytes: the consumer decodes it itself."""
    return msg.body


def subscribe(
    broker: KafkaBroker,
    consumer: IdempotentConsumer,
    *,
    session_timeout_ms: int,
    heartbeat_interval_ms: int,
    batch_size: int = 100,
    fetch_max_wait_ms: int = 50,
    fetch_min_bytes: int = 16_384,
    poll_timeout_ms: int = 100,
) -> None:
    """Register `consumer` on the broker: batches, manual commits, from the earliest offset."""
    spec = consumer.spec

    async def on_batch(message: KafkaMessage) -> None:
        records: tuple[RecordLike, ...] = message.raw_message  # batch=True: always a tuple
        try:
            result = await consumer.process_batch(records)
        except Exception as exc:  # the dead-letter send itself failed: broker trouble
            log.warning("%s: %s while dead-lettering; will retry", spec.name, type(exc).__name__)
            result = BatchResult()
            for record in records:
                tp = _partition(record)
                result.rewind[tp] = min(result.rewind.get(tp, record.offset), record.offset)
        if result.complete:
            await message.ack()  # commits every partition's position: all of it is done
        else:
            # FastStream types the consumer as its own two-method protocol; it is aiokafka's.
            await settle(cast(PartitionControl, message.consumer), result)

    broker.subscriber(
        *spec.topics,
        group_id=spec.group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        batch=True,
        max_records=batch_size,
        # The broker gathers up to `fetch_min_bytes` for at most `fetch_max_wait_ms`: under
        # load a poll brings a batch (one transaction, one offset commit) rather than one
        # message; when it is quiet, a message waits that long at most.
        fetch_max_wait_ms=fetch_max_wait_ms,
        fetch_min_bytes=fetch_min_bytes,
        batch_timeout_ms=poll_timeout_ms,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=heartbeat_interval_ms,
        decoder=_raw,
        title=spec.group_id,
        description=" ".join(
            [spec.description, "Consumes:", ", ".join(m.ce_type for m in spec.routes)]
        ),
    )(on_batch)


async def settle(kafka: PartitionControl, result: BatchResult) -> None:
    """Commit what is done; fetch the rest again; leave held partitions alone for a while."""
    if result.commit:
        await kafka.commit(result.commit)
    for tp, offset in result.rewind.items():
        kafka.seek(tp, offset)
    loop = asyncio.get_running_loop()
    for tp, seconds in result.pause.items():
        kafka.pause(tp)
        loop.call_later(seconds, _resume, kafka, tp)


def _resume(kafka: PartitionControl, tp: TopicPartition) -> None:
    try:
        kafka.resume(tp)
    except Exception:  # the partition moved to another consumer meanwhile
        pass
