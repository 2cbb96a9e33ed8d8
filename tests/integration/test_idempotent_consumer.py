"""Idempotent consumers on the real broker and PostgreSQL: effects once, bad input to the DLQ,
unknown types skipped, offsets committed only after the effect, database outages waited out.

The consumer is the production one (`shared.messaging.consumer.subscribe` on a FastStream
KafkaBroker); its tables come from the enrollment service's migrations.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY as METRICS
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from deploy.local.ports import free_port
from deploy.local.postgres import LocalPostgres
from enrollment.models import MESSAGING
from shared.contracts.envelope import Envelope, envelope_for, header_map
from shared.contracts.events import OrgLevel, OrgRegistered
from shared.db import Database
from shared.kafka.connection import KafkaConnection
from shared.messaging.consumer import ConsumerSpec, IdempotentConsumer
from shared.messaging.dead_letters import DeadLetters
from shared.messaging.outbox import Producer
from shared.messaging.subscription import subscribe
from shared.orgs.signing import SIGNATURE_HEADER, FederationKeys
from shared.testing import migrated, node_keys
from tests.integration.kafka_tools import committed_offsets, eventually, new_topic, read_to_end

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "enrollment" / "migrations"
SOURCE = "bigschool/cn/enrollment"
PERSONAL = "zhang.san.1984@example.com"  # a fake e-mail: must never reach DLQ headers
# org.registered is signed by the writing node (cn here); its key, made once per run.
KEYS = node_keys(Path(tempfile.mkdtemp(prefix="it-node-keys-")), ["cn"])

EFFECTS = Table(
    "test_effects",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ce_id", String(36), nullable=False),  # deliberately not unique: doubles would show
    Column("org_id", String(64), nullable=False),
)


# -- fixtures and helpers ------------------------------------------------------------------------


async def prepare(url: str) -> Database:
    await migrated(MIGRATIONS, url)
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(EFFECTS.metadata.create_all)
    return db


@pytest.fixture
async def db(fresh_pg_url: str) -> AsyncIterator[Database]:
    database = await prepare(fresh_pg_url)
    yield database
    await database.dispose()


@pytest.fixture
async def publisher(kafka_admin: KafkaConnection) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(**kafka_admin.aiokafka(), enable_idempotence=True, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


async def record_effect(session: AsyncSession, event: OrgRegistered, envelope: Envelope) -> None:
    await session.execute(insert(EFFECTS).values(ce_id=envelope.id, org_id=event.org_id))


@contextlib.asynccontextmanager
async def consuming(
    kafka: KafkaConnection, db: Database, topic: str, group: str
) -> AsyncIterator[IdempotentConsumer]:
    """The production wiring: FastStream broker, manual commits, DLQ through the Producer."""
    producer = Producer(kafka, client_id=f"{group}-dlq")
    await producer.start()
    spec = ConsumerSpec(
        name=group, topics=[topic], group_id=group, routes={OrgRegistered: record_effect}
    )
    consumer = IdempotentConsumer(
        spec,
        db,
        MESSAGING,
        DeadLetters(producer, group),
        signatures=FederationKeys.from_file(KEYS.jwks_path),
    )
    broker = KafkaBroker(
        kafka.bootstrap_servers,
        security=kafka.faststream_security(),
        enable_idempotence=True,
        graceful_timeout=5.0,
    )
    subscribe(broker, consumer, session_timeout_ms=6000, heartbeat_interval_ms=1000)
    await broker.start()
    try:
        yield consumer
    finally:
        await broker.stop()
        await producer.stop()


def org(org_id: str) -> OrgRegistered:
    return OrgRegistered(
        org_id=org_id,
        name=org_id.upper(),
        parent_id="cn",
        level=OrgLevel.grassroots,
        hosted_by="cn",
    )


async def publish(
    producer: AIOKafkaProducer,
    topic: str,
    value: bytes,
    *,
    key: str,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers or [])


async def publish_event(
    producer: AIOKafkaProducer, topic: str, event: OrgRegistered, envelope: Envelope | None = None
) -> Envelope:
    envelope = envelope or envelope_for(event, source=SOURCE, at=datetime.now(UTC))
    body = event.model_dump_json().encode()
    headers = envelope.headers()
    headers.append((SIGNATURE_HEADER, KEYS.signer("cn").sign(headers, body).encode()))
    await publish(producer, topic, body, key=event.key(), headers=headers)
    return envelope


def outcomes(handler: str) -> dict[str, float]:
    """How many messages the consumer finished with, by outcome (from its Prometheus counter)."""
    found: dict[str, float] = {}
    for outcome in ("handled", "duplicate", "ignored", "unknown_type", "dead_lettered"):
        value = METRICS.get_sample_value(
            "bigschool_events_consumed_total", {"handler": handler, "outcome": outcome}
        )
        if value:
            found[outcome] = value
    return found


def finished(handler: str, count: int) -> Callable[[], Awaitable[bool]]:
    """A check for `eventually`: the consumer finished with `count` messages."""

    async def check() -> bool:
        return sum(outcomes(handler).values()) >= count

    return check


async def effects(db: Database) -> list[tuple[str, str]]:
    async with db.sessions() as session:
        rows = await session.execute(select(EFFECTS.c.ce_id, EFFECTS.c.org_id).order_by("id"))
        return [(r.ce_id, r.org_id) for r in rows]


async def processed_ids(db: Database, handler: str) -> list[str]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(MESSAGING.processed.c.ce_id).where(MESSAGING.processed.c.handler == handler)
        )
        return sorted(rows.scalars())


async def end_offsets(kafka: KafkaConnection, topic: str) -> dict[int, int]:
    records = await read_to_end(kafka, topic)
    ends: dict[int, int] = {}
    for r in records:
        ends[r.partition] = max(ends.get(r.partition, 0), r.offset + 1)
    return ends


async def leftovers(
    kafka: KafkaConnection, topic: str, group: str, seconds: float = 3.0
) -> list[object]:
    """What a fresh member of `group` would still get: nothing, if every offset was committed."""
    consumer = AIOKafkaConsumer(
        topic,
        **kafka.aiokafka(),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    await consumer.start()
    try:
        got: list[object] = []
        batches = await consumer.getmany(timeout_ms=int(seconds * 1000))
        for batch in batches.values():
            got.extend(batch)
        return got
    finally:
        await consumer.stop()


def unique(name: str) -> str:
    return f"it.{name}.{uuid.uuid4().hex[:8]}"


# -- tests ---------------------------------------------------------------------------------------


async def test_each_event_takes_effect_once_even_when_delivered_twice(
    db: Database, publisher: AIOKafkaProducer, kafka_admin: KafkaConnection
) -> None:
    topic = await new_topic(kafka_admin, "consumer", partitions=3, dlq=True)
    group = unique("effects")
    async with consuming(kafka_admin, db, topic, group):
        sent = [await publish_event(publisher, topic, org(f"org-{n}")) for n in range(5)]
        # A redelivery, or a producer retry: the same event (same ce_id) once more.
        await publish_event(publisher, topic, org("org-2"), sent[2])
        await eventually(finished(group, 6), 30, "six messages to be consumed")

    assert outcomes(group) == {"handled": 5, "duplicate": 1}
    done = await effects(db)
    assert sorted(done) == sorted((env.id, f"org-{n}") for n, env in enumerate(sent))
    assert await processed_ids(db, group) == sorted(env.id for env in sent)

    # Offsets were committed after the effects: a new member of the group gets nothing old.
    assert await committed_offsets(kafka_admin, group, topic) == await end_offsets(
        kafka_admin, topic
    )
    assert await leftovers(kafka_admin, topic, group) == []
    assert await read_to_end(kafka_admin, f"{topic}.dlq") == []


async def test_bad_input_goes_to_the_dlq_with_reasons_but_no_values_and_unknown_types_are_skipped(
    db: Database, publisher: AIOKafkaProducer, kafka_admin: KafkaConnection
) -> None:
    topic = await new_topic(kafka_admin, "consumer-dlq", partitions=1, dlq=True)
    group = unique("dlq")
    garbage = b"\x00\xffnot json, but personal: " + PERSONAL.encode()
    invalid_body = json.dumps(
        {"org_id": "bad", "name": PERSONAL, "level": PERSONAL, "parent_id": None}
    ).encode()  # level is not an OrgLevel and hosted_by is missing
    unknown_type = "bigschool.galaxy.exploded.v1"
    good = org("after-the-bad-ones")

    async with consuming(kafka_admin, db, topic, group):
        # 1. no CloudEvents headers at all, a body that is not even JSON
        await publish(publisher, topic, garbage, key="k")
        # 2. headers present but ce_id is not a UUID
        broken = [(k, b"not-a-uuid" if k == "ce_id" else v) for k, v in _headers(good)]
        await publish(publisher, topic, good.model_dump_json().encode(), key="k", headers=broken)
        # 3. a known type whose body fails validation
        env = envelope_for(org("bad"), source=SOURCE, at=datetime.now(UTC))
        await publish(publisher, topic, invalid_body, key="k", headers=env.headers())
        # 4. a type this service does not know (a newer producer)
        stranger = Envelope(str(uuid.uuid4()), SOURCE, unknown_type, datetime.now(UTC), "x", ())
        await publish(publisher, topic, b'{"x": 1}', key="k", headers=stranger.headers())
        # 5. a good event behind all of them: the consumer carried on
        good_env = await publish_event(publisher, topic, good)
        await eventually(finished(group, 5), 30, "five messages to be consumed")

    assert outcomes(group) == {"dead_lettered": 3, "unknown_type": 1, "handled": 1}
    assert await effects(db) == [(good_env.id, "after-the-bad-ones")]
    unknown_count = METRICS.get_sample_value(
        "bigschool_unknown_event_types_total", {"handler": group, "ce_type": unknown_type}
    )
    assert unknown_count == 1

    letters = await read_to_end(kafka_admin, f"{topic}.dlq")
    assert [r.value for r in letters] == [garbage, good.model_dump_json().encode(), invalid_body]
    assert all(r.key == b"k" for r in letters)  # the original message, byte for byte
    why = [
        {k.removeprefix("bigschool_dlq_"): v for k, v in header_map(r.headers).items()}
        for r in letters
    ]
    assert [(w["reason"], w["fields"]) for w in why] == [
        ("invalid_envelope", "ce_specversion"),
        ("invalid_envelope", "ce_id"),
        ("invalid_body", "level,hosted_by"),
    ]
    for offset, w in enumerate(why):
        assert w["consumer"] == group
        assert (w["topic"], w["partition"], w["offset"]) == (topic, "0", str(offset))
    for letter in letters:
        for name, value in letter.headers:
            assert PERSONAL.encode() not in value and PERSONAL not in name

    assert await leftovers(kafka_admin, topic, group) == []


def _headers(event: OrgRegistered) -> list[tuple[str, bytes]]:
    return envelope_for(event, source=SOURCE, at=datetime.now(UTC)).headers()


@pytest.fixture
def own_postgres() -> Iterator[LocalPostgres]:
    """A PostgreSQL server of this test's own, so that the test can take it away."""
    # Under the system temp dir, not pytest's 0700 tmp_path: the server runs as `postgres`.
    data_dir = Path(tempfile.mkdtemp(prefix="bigschool-outage-"))
    server = LocalPostgres(data_dir, free_port())
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def test_a_database_outage_holds_the_partition_and_loses_nothing(
    own_postgres: LocalPostgres, publisher: AIOKafkaProducer, kafka_admin: KafkaConnection
) -> None:
    db = await prepare(own_postgres.create_database("outage"))
    topic = await new_topic(kafka_admin, "consumer-outage", partitions=2, dlq=True)
    group = unique("outage")
    try:
        async with consuming(kafka_admin, db, topic, group):
            first = await publish_event(publisher, topic, org("before"))
            await eventually(finished(group, 1), 30, "the first event")

            own_postgres.stop()
            during = [await publish_event(publisher, topic, org(f"during-{n}")) for n in range(6)]
            retries = _retries(group)
            await eventually(
                lambda: _async(_retries(group) > retries + 3), 20, "retries against the outage"
            )
            # Not bad input: nothing dead-lettered, nothing acknowledged past the first event.
            assert await read_to_end(kafka_admin, f"{topic}.dlq") == []
            assert sum((await committed_offsets(kafka_admin, group, topic)).values()) == 1
            assert outcomes(group) == {"handled": 1}

            own_postgres.start()
            await eventually(finished(group, 7), 40, "every event after the database returned")
            ends = await end_offsets(kafka_admin, topic)
            await eventually(
                lambda: _committed_is(kafka_admin, group, topic, ends), 10, "the commits"
            )

        assert outcomes(group) == {"handled": 7}
        expected = [(first.id, "before")] + [(e.id, f"during-{n}") for n, e in enumerate(during)]
        assert sorted(await effects(db)) == sorted(expected)
        assert await read_to_end(kafka_admin, f"{topic}.dlq") == []
        assert await leftovers(kafka_admin, topic, group) == []
    finally:
        await db.dispose()


def _retries(handler: str) -> float:
    return (
        METRICS.get_sample_value("bigschool_transient_retries_total", {"handler": handler}) or 0.0
    )


async def _async(value: bool) -> bool:
    return value


async def _committed_is(
    kafka: KafkaConnection, group: str, topic: str, ends: dict[int, int]
) -> bool:
    return await committed_offsets(kafka, group, topic) == ends
