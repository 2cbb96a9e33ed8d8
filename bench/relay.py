"""The outbox relay: `events` rows staged with `Outbox.stage` in a migrated PostgreSQL database
of the enrollment service (100 per transaction, as a busy consumer would), then one
`OutboxRelay` running as in a service, timed from its start until the table is empty (a row
is deleted once the broker acknowledged it). Limit: raw batched produce of the same messages.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bench import raw
from bench.common import ENROLLMENT_MIGRATIONS, RunEnv, log, sample_events, watch
from bench.report import Figure
from enrollment.models import MESSAGING
from shared.db import Database
from shared.messaging.outbox import Outbox, OutboxRelay, Producer
from shared.migrations import upgrade_to_head

PER_TRANSACTION = 100


async def relay(env: RunEnv, events: int, raw_count: int) -> Figure:
    limits = await raw.limits(env, raw_count)
    url = await env.database("bench_relay")
    await upgrade_to_head(ENROLLMENT_MIGRATIONS, url)
    db = Database(url)
    topic = await env.topic("relay")
    outbox = Outbox(MESSAGING, "bigschool/bench/enrollment")
    log(f"relay: staging {events} outbox rows …")
    staged = sample_events(events)
    for start in range(0, events, PER_TRANSACTION):
        async with db.transaction() as session:
            for event in staged[start : start + PER_TRANSACTION]:
                await outbox.stage(session, event, topic=topic)

    async def sent() -> int:
        async with db.reading() as session:
            left = (
                await session.execute(select(func.count()).select_from(MESSAGING.outbox))
            ).scalar_one()
        return events - int(left)

    if await sent() != 0:
        raise RuntimeError("the outbox is not full before the relay starts")
    producer = Producer(env.kafka, "bench-relay")
    await producer.start()
    await producer.kafka.partitions_for(topic)  # metadata in hand, as in a running service
    worker = OutboxRelay(db, MESSAGING, producer)
    log(f"relay: relaying {events} rows …")
    task = asyncio.create_task(worker.run())

    def alive() -> None:
        if task.done():
            task.result()
            raise RuntimeError("the relay stopped")

    try:
        progress = await watch(
            sent, events, within=max(120, events / 20), what="relay", alive=alive
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
        await db.dispose()
    # The relay's clock starts with the relay: it includes taking the lease and the first
    # read, as a service's relay does when a backlog is waiting.
    rate = events / progress.seconds
    log(f"relay: {rate:,.0f} events/s")
    return Figure(
        "outbox relay, PostgreSQL",
        rate,
        "events/s",
        "msg/s raw aiokafka batched produce (acks=all, idempotent)",
        limits["produce"],
        0.5,
        key="relay",
        details={**progress.details(), "raw_count": limits["count"]},
    )
