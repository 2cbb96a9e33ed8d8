"""The notifications service's throughput, beside its limits, in one run on one broker, one
PostgreSQL server and one local SMTP sink (deploy/local/smtp.py, in its own process). Not part
of the test suite.

    python -m bench --only notifications [--quick] [--notices 5000] [--fanout-members 20000]

1. Pipeline: `notices` enrollment decisions (EnrollmentConfirmed) of the members of a
   grassroots org hosted by a bench node are put on a fresh 6-partition topic; then
   (a) raw aiokafka reads the same messages (the median of three reads; bench/raw.py);
   (b) the service's own `enrollment_events` consumer (the ConsumerSpec the service builds,
       only its topic swapped) plans the deliveries on a migrated PostgreSQL database and the
       service's Dispatcher sends them (one e-mail, one inbox item per decision). Inbox
       items/s and e-mails/s (marked sent once the sink accepted them) are timed from the
       first item (or e-mail) to the last.
2. Fan-out: a public notice to `fanout_members` members of the grassroots org, recorded as
   the `notices` consumer records it, expanded by the service's FanoutWorker batch after
   batch into bulk-lane deliveries (two per member) — beside a bulk INSERT of as many inbox
   rows into the same database (one executemany, one transaction): the goal is at least 30 %
   of its rate. Then the dispatcher turns the notice into every member's inbox item (their
   e-mail skipped: the members have no address), timed too (no goal).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bench import raw, seed
from bench.common import CpuUse, Message, RunEnv, log, message_of, tag, watch
from bench.hot import SinkProcess
from bench.report import Figure
from notifications.app import MIGRATIONS, create_app
from notifications.consumers import consumer_specs
from notifications.dispatcher import Dispatcher
from notifications.domain.deliveries import Channel, Status
from notifications.mailer import Mailer
from notifications.models import MESSAGING, ORGS, Delivery, FanoutJob, InboxItem, Recipient
from notifications.service.fanout import record_fanout
from notifications.settings import NotificationsSettings
from shared.contracts.envelope import envelope_for
from shared.contracts.events import EnrollmentConfirmed, Nominee, NoticeEntry, NoticePublished
from shared.db import Database
from shared.migrations import upgrade_to_head
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings

CONSUMER = "enrollment_events"
MEMBERS = 1_000  # members the decisions are dealt round
PROGRAMMES = 500  # the Kafka key: spreads the events over the partitions
GOAL = 0.3  # fan-out rate / bulk-insert rate


@dataclass
class NotificationsResult:
    figures: list[Figure]
    notes: list[str] = field(default_factory=list)


async def notifications(env: RunEnv, notices: int, fanout_members: int) -> NotificationsResult:
    sink = SinkProcess(env.work / "notifications-smtp")
    await asyncio.to_thread(sink.start)
    try:
        pipeline = await _pipeline(env, sink, notices)
        fanout = await _fanout(env, sink, fanout_members)
    finally:
        await asyncio.to_thread(sink.stop)
    return NotificationsResult([*pipeline, *fanout])


def notifications_settings(
    env: RunEnv, node: str, root_org: str, url: str, smtp_port: int
) -> NotificationsSettings:
    """A notifications service of bench node `node` (the node settings the bench gives its
    enrollment services), sending to the run's SMTP sink."""
    base = seed.enrollment_settings(env.kafka, node, root_org, url, env.work / node)
    common = set(ServiceSettings.model_fields) - {"service", "http_port"}
    return NotificationsSettings(**base.model_dump(include=common), smtp_port=smtp_port)


async def _database(
    env: RunEnv, prefix: str, orgs: seed.Tree, members: int, email: bool
) -> tuple[str, list[str]]:
    """A migrated notifications database holding the org tree and `members` recipients of the
    grassroots org (as the org-tree and members consumers would have left them)."""
    url = await env.database(prefix)
    await upgrade_to_head(MIGRATIONS, url)
    now = datetime.now(UTC)
    member_ids = [str(uuid.uuid4()) for _ in range(members)]
    rows = [
        {
            "member_id": m,
            "home_org": orgs.grassroots,
            "name": f"Worker {n}",
            "email": f"w{n}@bench.example" if email else None,
            "phone": None,
            "language": "zh" if n % 2 else "en",
            "updated_at": now,
        }
        for n, m in enumerate(member_ids)
    ]
    db = Database(url)
    try:
        async with db.transaction() as session:
            await session.execute(insert(ORGS), orgs.rows(now))
            for start in range(0, len(rows), 5_000):
                await session.execute(insert(Recipient), rows[start : start + 5_000])
    finally:
        await db.dispose()
    return url, member_ids


async def _count(db: Database, model: Any) -> int:
    async with db.reading() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


# -- 1. decisions through the pipeline ------------------------------------------------------------
async def _pipeline(env: RunEnv, sink: SinkProcess, events: int) -> list[Figure]:
    owner_node, node = f"no{tag()}", f"nn{tag()}"
    orgs = seed.tree(owner_node, node)
    url, member_ids = await _database(env, "bench_notifications", orgs, MEMBERS, email=True)
    settings = notifications_settings(env, node, orgs.home_root, url, sink.port)
    app = create_app(settings)
    ctx = app.state.context
    spec = next(s for s in consumer_specs(ctx) if s.name == CONSUMER)

    topic = await env.topic("notifications", raw.PARTITIONS)
    log(f"notifications: putting {events} {EnrollmentConfirmed.ce_type} events on {topic} …")
    await _fill(env, topic, events, orgs, member_ids)
    within = max(180, events / 20)
    log(f"notifications: raw aiokafka consume of the {events} messages …")
    limit, raw_rates = await raw.consume(env.kafka, topic, raw.PARTITIONS, events, within)

    log(f"notifications: consumer → deliveries → dispatcher for {events} decisions …")
    runtime = ServiceRuntime(settings, MESSAGING, MIGRATIONS, ctx.clock)
    runtime.consume(dataclasses.replace(spec, topics=[topic]))
    # On the consumer's database: its commits wake the dispatcher at once.
    dispatcher = Dispatcher(runtime.db, ctx, Mailer(settings))
    counter = Database(url)
    cpu = CpuUse(env.postgres_pid)
    cpu.start()
    worker = asyncio.create_task(dispatcher.run())

    def alive() -> None:
        if worker.done():
            worker.result()
            raise RuntimeError("the dispatcher stopped")

    async def mails() -> int:  # accepted by the SMTP sink (marked sent only after that)
        stmt = select(func.count()).where(
            Delivery.channel == Channel.email.value, Delivery.status == Status.sent.value
        )
        async with counter.reading() as session:
            return int((await session.execute(stmt)).scalar_one())

    try:
        await runtime.producer.start()
        await runtime.broker.start()
        inbox, mailed = await asyncio.gather(
            watch(lambda: _count(counter, InboxItem), events, within=within, what="inbox items",
                  interval=0.05, alive=alive),
            watch(mails, events, within=within, what="e-mails", interval=0.05, alive=alive),
        )  # fmt: skip
    finally:
        cpu.stop()
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await runtime.broker.stop()
        await runtime.producer.stop()
        await runtime.db.dispose()
        await app.state.runtime.db.dispose()
        await counter.dispose()
    log(
        f"notifications: {inbox.steady_rate:,.0f} inbox items/s, {mailed.steady_rate:,.0f} "
        f"e-mails/s; raw consume {limit:,.0f} msg/s"
    )
    raw_name = "msg/s raw aiokafka consume of the same messages (polls of 100, commit each)"
    common = {
        "raw_consume_rates": [round(r) for r in raw_rates],
        **cpu.per_item_ms(events, "event"),
    }
    return [
        Figure(
            f"inbox items from {events:,} decisions (notifications consumer → deliveries → "
            "dispatcher), PostgreSQL",
            inbox.steady_rate,
            "items/s",
            raw_name,
            limit,
            None,
            key="notifications_inbox",
            details={**inbox.details(), **common},
        ),
        Figure(
            f"e-mails to a local SMTP sink from {events:,} decisions (same run, same pipeline)",
            mailed.steady_rate,
            "e-mails/s",
            raw_name,
            limit,
            None,
            key="notifications_email",
            details=mailed.details(),
        ),
    ]


async def _fill(
    env: RunEnv, topic: str, events: int, orgs: seed.Tree, member_ids: list[str]
) -> None:
    """The decisions as the owner node's relay would put them (set-up, not measured)."""
    programmes = [str(uuid.uuid4()) for _ in range(PROGRAMMES)]
    source = f"bigschool/{orgs.owner_node}/enrollment"
    now = datetime.now(UTC)
    messages: list[Message] = [
        message_of(
            EnrollmentConfirmed(
                enrollment_id=str(uuid.uuid4()),
                programme_id=programmes[i % PROGRAMMES],
                member_id=member_ids[i % len(member_ids)],
                owner_org=orgs.owner_org,
                home_org=orgs.grassroots,
                decided_at=now,
                sequence=1,
                programme_title="Safe operation of rolling mills",
                hours=8,
            ),
            source,
        )
        for i in range(events)
    ]
    producer = raw.producer_for(env.kafka)
    await producer.start()
    try:
        await raw.send_all(producer, topic, messages)
    finally:
        await producer.stop()


# -- 2. a public notice's fan-out ---------------------------------------------------------------
async def _fanout(env: RunEnv, sink: SinkProcess, members: int) -> list[Figure]:
    node = f"nf{tag()}"
    orgs = seed.tree(node, node)  # the owner org and its subtree, all hosted here
    log(f"notifications: {members} recipients for the fan-out …")
    url, _ = await _database(env, "bench_fanout", orgs, members, email=False)
    settings = notifications_settings(env, node, orgs.owner_org, url, sink.port)
    app = create_app(settings)
    ctx, db = app.state.context, app.state.runtime.db
    try:
        bulk = await _bulk_inbox_insert(db, members)
        log(f"notifications: bulk INSERT of {members} inbox rows: {bulk:.3f} s")
        notice = _notice(orgs.owner_org)
        envelope = envelope_for(notice, source=f"bigschool/{node}/awards", at=ctx.clock.now())
        async with db.transaction() as session:
            await record_fanout(session, ctx, notice, envelope)
        worker = app.state.fanout
        started, batches = time.perf_counter(), 0
        while await worker.expand_once() is not None:
            batches += 1
        expanded_in = time.perf_counter() - started
        async with db.reading() as session:
            job = await session.get(FanoutJob, notice.notice_id)
        if job is None or job.recipients != members:
            raise RuntimeError(f"the fan-out planned {job and job.recipients} of {members}")
        log(f"notifications: fan-out of {members} members in {expanded_in:.3f} s")
        told = await _told(db, app.state.dispatcher, members, bulk_items=members)
    finally:
        await app.state.dispatcher.mailer.close()
        await db.dispose()
    bulk_rate = members / bulk
    return [
        Figure(
            f"public notice fanned out to {members:,} members ({batches} batches of "
            f"{settings.fanout_batch_size}, 2 deliveries each), PostgreSQL",
            members / expanded_in,
            "members/s",
            f"rows/s bulk INSERT of {members:,} inbox rows (one executemany)",
            bulk_rate,
            GOAL,
            key="notifications_fanout",
            details={
                "fanout_seconds": round(expanded_in, 3),
                "bulk_insert_seconds": round(bulk, 3),
                "deliveries": job.deliveries,
                "batches": batches,
            },
        ),
        Figure(
            f"public notice to {members:,} inboxes (fan-out, then the dispatcher)",
            members / (expanded_in + told),
            "items/s",
            f"rows/s bulk INSERT of {members:,} inbox rows",
            bulk_rate,
            None,
            key="notifications_fanout_inbox",
            details={"fanout_seconds": round(expanded_in, 3), "dispatch_seconds": round(told, 3)},
        ),
    ]


async def _bulk_inbox_insert(db: Database, rows: int) -> float:
    """The limit: `rows` inbox rows in one INSERT executemany, one transaction; seconds."""
    now = datetime.now(UTC)
    items = [
        {
            "item_id": str(uuid.uuid4()),
            "member_id": str(uuid.uuid4()),
            "event_type": NoticePublished.ce_type,
            "title": "Public notice: Model Worker",
            "body": "Dear member, the shortlist is on public notice until 2025-03-09 00:00.",
            "created_at": now,
            "read_at": None,
            "seq": 1,  # each row its own member's first item
        }
        for _ in range(rows)
    ]
    started = time.perf_counter()
    async with db.transaction() as session:
        await session.execute(insert(InboxItem), items)
    return time.perf_counter() - started


async def _told(db: Database, dispatcher: Dispatcher, members: int, bulk_items: int) -> float:
    """Run the dispatcher until every member has the notice's inbox item; seconds."""
    started = time.perf_counter()
    worker = asyncio.create_task(dispatcher.run())

    def alive() -> None:
        if worker.done():
            worker.result()
            raise RuntimeError("the dispatcher stopped")

    try:
        target = bulk_items + members
        await watch(lambda: _count(db, InboxItem), target, within=max(300, members / 20),
                    what="notice inbox items", interval=0.1, alive=alive)  # fmt: skip
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    return time.perf_counter() - started


def _notice(owner_org: str) -> NoticePublished:
    now = datetime.now(UTC)
    return NoticePublished(
        notice_id=str(uuid.uuid4()),
        round_id=str(uuid.uuid4()),
        scheme_id=str(uuid.uuid4()),
        scheme_title="Model Worker",
        owner_org=owner_org,
        starts_at=now,
        ends_at=now + timedelta(days=7),
        entries=[
            NoticeEntry(
                nomination_id=str(uuid.uuid4()),
                home_org=owner_org,
                nominees=[Nominee(member_id=str(uuid.uuid4()), display_name="Zhao Lei")],
                achievements="Rebuilt the rolling line's safety checks.",
            )
        ],
    )
