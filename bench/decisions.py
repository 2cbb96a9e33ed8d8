"""Owner decisions on one hot programme: `requests` enrollment requests for one programme of
this node (one Kafka key, so one partition, in order) are queued on the node's inbox topic
first; then the enrollment service's `requests` consumer, as `create_app` wires it (its
FastStream broker with the IdempotentConsumer calling `decide_enrollment`), is started on a
migrated PostgreSQL database and timed from its first committed decision until every request
is decided (a `seats` row each). The relay is not running: decisions only.
Limit: raw aiokafka consume of a filled topic.
"""

from __future__ import annotations

import time

from sqlalchemy import func, select

from bench import raw, seed
from bench.common import (
    ENROLLMENT_MIGRATIONS,
    RunEnv,
    cpu_seconds,
    log,
    message_of,
    request_event,
    tag,
    watch,
)
from bench.report import Figure
from enrollment.app import create_app
from enrollment.models import Seat
from shared.contracts import topics
from shared.contracts.topics import node_topics
from shared.db import Database
from shared.kafka.topics import ensure_topics
from shared.migrations import upgrade_to_head


async def decisions(env: RunEnv, requests: int, raw_count: int) -> Figure:
    limits = await raw.limits(env, raw_count)
    node, home = f"bd{tag()}", f"bh{tag()}"
    url = await env.database("bench_decisions")
    await upgrade_to_head(ENROLLMENT_MIGRATIONS, url)
    orgs = seed.tree(node, home)
    # Half get a seat, half are waitlisted: both outcomes are decided and announced.
    programme_id, _ = await seed.seed(url, orgs, capacity=max(1, requests // 2))
    await ensure_topics(env.kafka, node_topics(node, partitions=6))
    log(f"decisions: queueing {requests} requests for one programme …")
    source = f"bigschool/{home}/enrollment"
    await raw.fill(
        env.kafka,
        topics.inbox(node),
        [
            message_of(request_event(programme_id, orgs.grassroots, home), source)
            for _ in range(requests)
        ],
    )

    settings = seed.enrollment_settings(env.kafka, node, orgs.owner_org, url, env.work / node)
    app = create_app(settings)
    runtime = app.state.runtime
    db = Database(url)

    async def decided() -> int:
        async with db.reading() as session:
            stmt = select(func.count()).select_from(Seat).where(Seat.programme_id == programme_id)
            return int((await session.execute(stmt)).scalar_one())

    log(f"decisions: deciding {requests} requests …")
    pg_before = cpu_seconds({"pg": env.postgres_pid}).get("pg")
    cpu_before = time.process_time()
    try:
        await runtime.producer.start()  # the dead-letter sender
        await runtime.broker.start()
        progress = await watch(
            decided, requests, within=max(180, requests / 5), what="decisions", interval=0.05
        )
    finally:
        cpu = time.process_time() - cpu_before
        pg_after = cpu_seconds({"pg": env.postgres_pid}).get("pg")
        await runtime.broker.stop()
        await runtime.producer.stop()
        await runtime.db.dispose()
    async with db.reading() as session:
        statuses = dict(
            (
                await session.execute(
                    select(Seat.status, func.count())
                    .where(Seat.programme_id == programme_id)
                    .group_by(Seat.status)
                )
            ).all()
        )
    await db.dispose()
    rate = progress.steady_rate
    log(f"decisions: {rate:,.1f} decisions/s ({statuses})")
    details = {
        **progress.details(),
        "statuses": statuses,
        "cpu_ms_per_decision_this_process": round(1000 * cpu / requests, 2),
    }
    if pg_before is not None and pg_after is not None:
        details["cpu_ms_per_decision_postgres"] = round(1000 * (pg_after - pg_before) / requests, 2)
    return Figure(
        f"owner decisions, one hot programme, {requests:,} queued, PostgreSQL",
        rate,
        "decisions/s",
        "msg/s raw aiokafka consume (polls of 100, commit each)",
        limits["consume"],
        0.10,
        key="decisions",
        details=details,
    )
