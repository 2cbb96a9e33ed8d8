"""Eligibility fact ingestion: `events` enrollment completions of the members of a grassroots
org hosted by a bench awards node (their programmes owned by a superior org of another node,
as in production) are put on a fresh 6-partition topic; then the same messages are read

(a) by raw aiokafka: the partitions assigned, polls of 100 committed one by one, no
    processing — the median of three reads of the whole topic (bench/raw.py);
(b) by the awards service's own `enrollment_facts` consumer: the ConsumerSpec that
    `awards.consumers.consumer_specs` builds for the service (taken by name, only its topic
    swapped for the fresh one), wired by `ServiceRuntime.consume` exactly as the service does
    (IdempotentConsumer on a FastStream broker, the service's poll settings), on a migrated
    PostgreSQL awards database holding the org tree and the members. Timed from the first
    committed fact until there is one fact per event.

Events/s of each and their ratio (the table's "ratio" column).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from awards.app import MIGRATIONS, create_app
from awards.consumers import consumer_specs
from awards.models import MESSAGING, ORGS, EligibilityFact, MemberReplica
from awards.settings import AwardsSettings
from bench import raw, seed
from bench.common import CpuUse, Message, Progress, RunEnv, log, message_of, tag, watch
from bench.report import Figure
from shared.contracts.events import EnrollmentCompleted, QualityArea
from shared.db import Database
from shared.migrations import upgrade_to_head
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings

CONSUMER = "enrollment_facts"
MEMBERS = 1_000  # members of the grassroots org; events are dealt round them
PROGRAMMES = 500  # the Kafka key: spreads the events over the partitions
CHUNK = 10_000  # messages built and sent at a time (200,000 at once would hold ~0.5 GB)


async def award_facts(env: RunEnv, events: int) -> Figure:
    owner_node, node = f"bo{tag()}", f"ba{tag()}"
    orgs = seed.tree(owner_node, node)
    url = await env.database("bench_award_facts")
    await upgrade_to_head(MIGRATIONS, url)
    member_ids = await _seed_awards(url, orgs)
    settings = awards_settings(env, node, orgs.home_root, url)
    app = create_app(settings)
    spec = next(s for s in consumer_specs(app.state.context) if s.name == CONSUMER)
    if EnrollmentCompleted not in spec.routes:
        raise RuntimeError(f"the awards {CONSUMER} consumer does not route completions")

    topic = await env.topic("award-facts", raw.PARTITIONS)
    log(f"facts: putting {events} {EnrollmentCompleted.ce_type} events on {topic} …")
    await _fill(env, topic, events, orgs, member_ids)

    log(f"facts: raw aiokafka consume of the {events} messages …")
    within = max(180, events / 50)
    limit, raw_rates = await raw.consume(env.kafka, topic, raw.PARTITIONS, events, within)

    log(f"facts: the awards {CONSUMER} consumer ingesting {events} events …")
    runtime = ServiceRuntime(settings, MESSAGING, MIGRATIONS, app.state.context.clock)
    runtime.consume(dataclasses.replace(spec, topics=[topic]))
    try:
        progress, cpu = await _ingest(env, runtime, url, events, within)
    finally:
        await app.state.runtime.db.dispose()

    rate = progress.steady_rate
    log(f"facts: {rate:,.0f} events/s into facts, raw consume {limit:,.0f} msg/s")
    return Figure(
        f"eligibility facts from {events:,} {EnrollmentCompleted.ce_type} events "
        f"(awards {CONSUMER} consumer), PostgreSQL",
        rate,
        "events/s",
        "msg/s raw aiokafka consume of the same messages (polls of 100, commit each)",
        limit,
        None,
        key="facts",
        details={
            **progress.details(),
            "raw_consume_rates": [round(r) for r in raw_rates],
            **cpu.per_item_ms(events, "event"),
        },
    )


async def _ingest(
    env: RunEnv, runtime: ServiceRuntime, url: str, events: int, within: float
) -> tuple[Progress, CpuUse]:
    """Run `runtime`'s consumer until there is a fact per event; check there is no more."""
    db = Database(url)

    async def facts() -> int:
        async with db.reading() as session:
            stmt = select(func.count()).select_from(EligibilityFact)
            return int((await session.execute(stmt)).scalar_one())

    cpu = CpuUse(env.postgres_pid)
    cpu.start()
    try:
        await runtime.producer.start()  # the dead-letter sender
        await runtime.broker.start()
        # A count of a large table costs the database too: look less often in a long run.
        interval = 0.25 if events > 20_000 else 0.05
        progress = await watch(facts, events, within=within, what="facts", interval=interval)
    finally:
        cpu.stop()
        await runtime.broker.stop()
        await runtime.producer.stop()
        await runtime.db.dispose()
    try:
        if (recorded := await facts()) != events:
            raise RuntimeError(f"{recorded} facts for {events} events")
    finally:
        await db.dispose()
    return progress, cpu


def awards_settings(env: RunEnv, node: str, root_org: str, url: str) -> AwardsSettings:
    """An awards service of bench node `node`: the node settings the bench gives its
    enrollment services (Kafka as the run's principal, keys in the scratch folder)."""
    base = seed.enrollment_settings(env.kafka, node, root_org, url, env.work / node)
    common = set(ServiceSettings.model_fields) - {"service", "http_port"}
    return AwardsSettings(**base.model_dump(include=common))


async def _seed_awards(url: str, orgs: seed.Tree) -> list[str]:
    """The org tree and the grassroots org's members, straight into the awards database (as
    the org-tree and members consumers would have left them); the member ids."""
    now = datetime.now(UTC)
    member_ids = [str(uuid.uuid4()) for _ in range(MEMBERS)]
    db = Database(url)
    try:
        async with db.transaction() as session:
            await session.execute(insert(ORGS), orgs.rows(now))
            await session.execute(
                insert(MemberReplica),
                [
                    {
                        "member_id": m,
                        "home_org": orgs.grassroots,
                        "display_name": f"Worker {m[:8]}",
                        "updated_at": now,
                    }
                    for m in member_ids
                ],
            )
    finally:
        await db.dispose()
    return member_ids


async def _fill(
    env: RunEnv,
    topic: str,
    events: int,
    orgs: seed.Tree,
    member_ids: list[str],
) -> None:
    """Put the events on `topic` as the owner node's relay would (set-up, not measured)."""
    programmes = [str(uuid.uuid4()) for _ in range(PROGRAMMES)]
    source = f"bigschool/{orgs.owner_node}/enrollment"
    producer = raw.producer_for(env.kafka)
    await producer.start()
    try:
        for start in range(0, events, CHUNK):
            messages: list[Message] = [
                message_of(_completion(i, programmes, orgs, member_ids), source)
                for i in range(start, min(start + CHUNK, events))
            ]
            await raw.send_all(producer, topic, messages)
    finally:
        await producer.stop()


def _completion(
    i: int, programmes: list[str], orgs: seed.Tree, member_ids: list[str]
) -> EnrollmentCompleted:
    """The i-th event: a new enrollment of the i-th member (round robin) completed, 8 hours."""
    now = datetime.now(UTC)
    return EnrollmentCompleted(
        enrollment_id=str(uuid.uuid4()),
        programme_id=programmes[i % len(programmes)],
        member_id=member_ids[i % len(member_ids)],
        owner_org=orgs.owner_org,
        home_org=orgs.grassroots,
        completed_at=now,
        hours=8,
        quality_area=QualityArea.safety_health,
        programme_title="Safe operation of rolling mills",
        programme_kind="training_course",
        programme_ends_at=now - timedelta(hours=1),
    )
