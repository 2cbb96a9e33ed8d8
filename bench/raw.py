"""The limits: bare aiokafka clients on the run's broker, with the same messages the services
send (an enrollment request's key, JSON body and CloudEvents headers, 6-partition topics).

- produce: one idempotent producer (acks=all, linger 5 ms: the relay's settings) sends every
  message without waiting, then waits for all acknowledgements;
- consume: one consumer reads a filled topic from the start in polls of at most 100 records
  (the services' batch), committing a group's offsets after each poll, its partitions
  assigned (no group join); the median of three reads. Unbounded polls are reported too;
- produce+consume: both at once, until the consumer has seen every message (the end-to-end
  flow's limit, as in the old bench/throughput.py).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.common import Message, RunEnv, log, message_of, sample_events, tag
from shared.kafka.connection import KafkaConnection

PARTITIONS = 6
# Records per poll of the consume limit: what shared.messaging.subscription.subscribe polls
# (batch_size=100) when this bench was written. Fixed here, so that the limit does not move
# with the code it measures; a read with unbounded polls is reported beside it.
POLL_RECORDS = 100


def producer_for(kafka: KafkaConnection) -> AIOKafkaProducer:
    # The settings of shared.messaging.outbox.Producer: what the relay produces with.
    return AIOKafkaProducer(
        **kafka.aiokafka(),
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=15_000,
    )


async def send_all(producer: AIOKafkaProducer, topic: str, messages: list[Message]) -> None:
    futures = [
        await producer.send(topic, value=value, key=key, headers=headers)
        for key, value, headers in messages
    ]
    await asyncio.gather(*futures)


async def fill(kafka: KafkaConnection, topic: str, messages: list[Message]) -> None:
    """Put `messages` on `topic` (set-up, not measured)."""
    producer = producer_for(kafka)
    await producer.start()
    try:
        await send_all(producer, topic, messages)
    finally:
        await producer.stop()


async def produce(kafka: KafkaConnection, topic: str, messages: list[Message]) -> float:
    """Messages/s acknowledged by the broker."""
    producer = producer_for(kafka)
    await producer.start()
    try:
        await producer.partitions_for(topic)  # metadata in hand, as in a running service
        started = time.perf_counter()
        await send_all(producer, topic, messages)
        return len(messages) / (time.perf_counter() - started)
    finally:
        await producer.stop()


def consumer_for(kafka: KafkaConnection, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        **kafka.aiokafka(),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )


async def consume_once(
    kafka: KafkaConnection,
    topic: str,
    partitions: int,
    count: int,
    within: float,
    max_records: int | None = None,
) -> float:
    """Read `count` messages of a filled topic from its beginning, committing the offsets of
    a group after each poll; messages/s from the moment the partitions are in hand. The
    partitions are assigned, not subscribed: the group's join is startup, not reading."""
    consumer = AIOKafkaConsumer(
        **kafka.aiokafka(),
        group_id=f"bench.raw.{tag()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        await consumer.seek_to_beginning()
        seen = 0
        started = time.perf_counter()
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=max_records)
            got = sum(len(records) for records in batch.values())
            if got:
                await consumer.commit()
                seen += got
            if time.perf_counter() - started > within:
                raise TimeoutError(f"raw consume: {seen} of {count} after {within:.0f} s")
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def consume(
    kafka: KafkaConnection,
    topic: str,
    partitions: int,
    count: int,
    within: float,
    max_records: int | None = POLL_RECORDS,
) -> tuple[float, list[float]]:
    """The median of three reads of the whole topic (a fast read lasts a fraction of a
    second, so one alone says little), and all three."""
    rates = [
        await consume_once(kafka, topic, partitions, count, within, max_records) for _ in range(3)
    ]
    return sorted(rates)[1], rates


async def produce_consume(kafka: KafkaConnection, topic: str, messages: list[Message]) -> float:
    """Messages/s through the broker: produced and consumed at once, until all were read."""
    consumer = consumer_for(kafka, topic, f"bench.raw.{tag()}")
    await consumer.start()
    producer = producer_for(kafka)
    await producer.start()
    try:
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            await consumer.getmany(timeout_ms=100)  # joins the group
        count = len(messages)

        async def read() -> None:
            seen = 0
            while seen < count:
                batch = await consumer.getmany(timeout_ms=500)
                got = sum(len(records) for records in batch.values())
                if got:
                    await consumer.commit()
                    seen += got

        started = time.perf_counter()
        reader = asyncio.create_task(read())
        await send_all(producer, topic, messages)
        await asyncio.wait_for(reader, timeout=max(60, count / 100))
        return count / (time.perf_counter() - started)
    finally:
        await producer.stop()
        await consumer.stop()


async def limits(env: RunEnv, count: int) -> dict[str, Any]:
    """The three raw rates, measured once per run (cached on `env`)."""
    if env.limits:
        return env.limits
    messages = [message_of(e) for e in sample_events(count)]
    topic = await env.topic("raw", PARTITIONS)
    log(f"raw aiokafka: producing {count} messages …")
    produced = await produce(env.kafka, topic, messages)
    log(f"raw aiokafka: consuming {count} messages …")
    consumed, consume_rates = await consume(
        env.kafka, topic, PARTITIONS, count, within=max(120, count / 50)
    )
    unbounded, _ = await consume(
        env.kafka, topic, PARTITIONS, count, within=max(120, count / 50), max_records=None
    )
    log(f"raw aiokafka: producing and consuming {count} messages at once …")
    both = await produce_consume(env.kafka, await env.topic("raw-pc"), messages)
    env.limits.update(
        produce=produced,
        consume=consumed,
        consume_rates=[round(r) for r in consume_rates],
        consume_poll_records=POLL_RECORDS,
        consume_unbounded_polls=unbounded,
        produce_consume=both,
        count=count,
        message_bytes=round(sum(len(v) for _, v, _ in messages) / count),
        header_bytes=round(sum(sum(len(k) + len(x) for k, x in h) for _, _, h in messages) / count),
    )
    log(
        f"raw aiokafka: produce {produced:,.0f}/s, consume {consumed:,.0f}/s "
        f"({unbounded:,.0f}/s unbounded polls), "
        f"produce+consume {both:,.0f}/s"
    )
    return env.limits
