"""The idempotent consumer on PostgreSQL: `events` enrollment requests on a 6-partition topic,
read by `IdempotentConsumer` registered with `subscribe` on a FastStream `KafkaBroker` (the
production wiring, as in tests/integration/test_idempotent_consumer.py) whose handler writes
one row; each event also records its id in `processed_events`. Timed from the first effect
committed until every effect is there. Limit: raw aiokafka consume of a filled topic.
"""

from __future__ import annotations

import logging

from faststream.kafka import KafkaBroker
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench import raw
from bench.common import (
    ENROLLMENT_MIGRATIONS,
    RunEnv,
    log,
    message_of,
    sample_events,
    tag,
    watch,
)
from bench.report import Figure
from enrollment.models import MESSAGING
from shared.contracts.envelope import Envelope
from shared.contracts.events import EnrollmentRequested
from shared.contracts.topics import TopicSpec, dlq
from shared.db import Database
from shared.kafka.topics import ensure_topics
from shared.messaging.consumer import ConsumerSpec, IdempotentConsumer
from shared.messaging.dead_letters import DeadLetters
from shared.messaging.outbox import Producer
from shared.messaging.subscription import subscribe
from shared.migrations import upgrade_to_head

EFFECTS = Table(
    "bench_effects",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ce_id", String(36), nullable=False),
    Column("enrollment_id", String(36), nullable=False),
)


async def write_effect(session: AsyncSession, event: EnrollmentRequested, env: Envelope) -> None:
    await session.execute(insert(EFFECTS).values(ce_id=env.id, enrollment_id=event.enrollment_id))


async def consumer(env: RunEnv, events: int, raw_count: int) -> Figure:
    limits = await raw.limits(env, raw_count)
    url = await env.database("bench_consumer")
    await upgrade_to_head(ENROLLMENT_MIGRATIONS, url)
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(EFFECTS.metadata.create_all)
    topic = await env.topic("consumer")
    await ensure_topics(env.kafka, [TopicSpec(dlq(topic), 1)])
    log(f"consumer: putting {events} events on {topic} …")
    await raw.fill(env.kafka, topic, [message_of(e) for e in sample_events(events)])

    group = f"bench.consumer.{tag()}"
    producer = Producer(env.kafka, f"{group}-dlq")
    await producer.start()
    spec = ConsumerSpec(
        name="bench", topics=[topic], group_id=group, routes={EnrollmentRequested: write_effect}
    )
    idempotent = IdempotentConsumer(spec, db, MESSAGING, DeadLetters(producer, group))
    broker = KafkaBroker(
        env.kafka.bootstrap_servers,
        security=env.kafka.faststream_security(),
        enable_idempotence=True,
        graceful_timeout=5.0,
        # As ServiceRuntime does: one line per message only at DEBUG.
        logger=logging.getLogger("bigschool.kafka"),
        log_level=logging.DEBUG,
    )
    subscribe(broker, idempotent, session_timeout_ms=10_000, heartbeat_interval_ms=3_000)

    async def effects() -> int:
        async with db.reading() as session:
            return int(
                (await session.execute(select(func.count()).select_from(EFFECTS))).scalar_one()
            )

    log(f"consumer: consuming {events} events …")
    try:
        await broker.start()
        progress = await watch(effects, events, within=max(120, events / 10), what="consumer")
    finally:
        await broker.stop()
        await producer.stop()
    async with db.reading() as session:
        distinct = (
            await session.execute(select(func.count(func.distinct(EFFECTS.c.ce_id))))
        ).scalar_one()
    await db.dispose()
    if distinct != events:
        raise RuntimeError(f"{distinct} distinct effects for {events} events")
    rate = progress.steady_rate
    log(f"consumer: {rate:,.0f} events/s")
    return Figure(
        "idempotent consumer (processed id + one row), PostgreSQL",
        rate,
        "events/s",
        "msg/s raw aiokafka consume (polls of 100, commit each)",
        limits["consume"],
        0.25,
        key="consumer",
        details=progress.details(),
    )
