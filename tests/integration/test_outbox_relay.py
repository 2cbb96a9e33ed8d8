"""The transactional outbox relayed to the real Kafka broker, on PostgreSQL and on SQLite.

Tables come from the enrollment service's own migrations, so the relay is tested against the
schema that ships, not a test copy of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import func, select, text

from enrollment.models import MESSAGING
from shared.contracts.envelope import header_map, parse, schema_uri
from shared.contracts.events import EnrollmentConfirmed
from shared.db import Database
from shared.kafka.connection import KafkaConnection
from shared.messaging.outbox import RELAY_LOCK_ID, Outbox, OutboxRelay, Producer
from shared.testing import migrated
from tests.integration.kafka_tools import eventually, new_topic, read_to_end

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "enrollment" / "migrations"
SOURCE = "bigschool/zj/enrollment"
SPEC_HEADERS = {
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "ce_dataschema",
    "content-type",
    "bigschool_orgs",
    "traceparent",
}
KEYS = [f"prog-{k:02d}" for k in range(10)]

# Other tests' services (other databases on the same server) hold advisory locks too.
THIS_DATABASE = "l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"


class RolledBack(Exception):
    pass


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("fresh_pg_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'enrollment.db'}"


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    await migrated(MIGRATIONS, database_url)
    return database_url


@pytest.fixture
async def db(migrated_url: str) -> AsyncIterator[Database]:
    database = Database(migrated_url)
    yield database
    await database.dispose()


@pytest.fixture
async def producer(kafka_admin: KafkaConnection) -> AsyncIterator[Producer]:
    producer = Producer(kafka_admin, client_id="it-outbox-relay")
    await producer.start()
    yield producer
    await producer.stop()


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(relay.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- helpers -----------------------------------------------------------------------------------


def decision(key: str, sequence: int) -> EnrollmentConfirmed:
    return EnrollmentConfirmed(
        enrollment_id=str(uuid.uuid4()),
        programme_id=key,
        member_id=str(uuid.uuid4()),
        owner_org="zj",
        home_org="zj-hz-depot",
        decided_at=datetime.now(UTC),
        sequence=sequence,
    )


async def stage_in_transactions(
    db: Database, outbox: Outbox, topic: str, transactions: int, per_transaction: int
) -> tuple[dict[str, list[str]], dict[str, EnrollmentConfirmed]]:
    """Stage events for the ten KEYS, interleaved, in several transactions. Returns the
    staging order of ce_ids per key and the staged event per ce_id."""
    order: dict[str, list[str]] = defaultdict(list)
    staged: dict[str, EnrollmentConfirmed] = {}
    counter = 0
    for _ in range(transactions):
        async with db.transaction() as session:
            for _ in range(per_transaction):
                key = KEYS[counter % len(KEYS)]
                event = decision(key, sequence=len(order[key]) + 1)
                env = await outbox.stage(session, event, topic=topic)
                order[key].append(env.id)
                staged[env.id] = event
                counter += 1
        await asyncio.sleep(0)  # let the relay interleave with the writers
    return order, staged


async def stage_and_roll_back(db: Database, outbox: Outbox, topic: str, count: int) -> set[str]:
    ids: set[str] = set()
    with pytest.raises(RolledBack):
        async with db.transaction() as session:
            for n in range(count):
                env = await outbox.stage(session, decision(KEYS[n % len(KEYS)], 999), topic=topic)
                ids.add(env.id)
            raise RolledBack
    return ids


async def outbox_rows(db: Database) -> int:
    async with db.sessions() as session:
        return int(
            (await session.execute(select(func.count()).select_from(MESSAGING.outbox))).scalar_one()
        )


def ce_id(record: ConsumerRecord) -> str:
    return header_map(record.headers)["ce_id"]


# -- the relay -----------------------------------------------------------------------------------


async def test_every_staged_event_arrives_once_in_per_key_order_with_its_envelope(
    db: Database, producer: Producer, kafka_admin: KafkaConnection
) -> None:
    topic = await new_topic(kafka_admin, "outbox")
    outbox = Outbox(MESSAGING, SOURCE)
    relay = OutboxRelay(db, MESSAGING, producer, batch_size=64, poll_seconds=0.05)

    async with running(relay):
        order, staged = await stage_in_transactions(db, outbox, topic, 5, 60)
        ghosts = await stage_and_roll_back(db, outbox, topic, 25)
        more_order, more_staged = await stage_in_transactions(db, outbox, topic, 4, 50)
        await eventually(lambda: _is_empty(db), 30, "the outbox to drain")
    for key, ids in more_order.items():
        order[key].extend(ids)
    staged.update(more_staged)
    assert len(staged) == 500

    records = await read_to_end(kafka_admin, topic)

    ids = [ce_id(r) for r in records]
    assert len(ids) == 500, "events lost or doubled"
    assert set(ids) == set(staged)
    assert not ghosts & set(ids), "a rolled-back transaction's events were published"

    by_key: dict[str, list[str]] = defaultdict(list)
    partitions_of_key: dict[str, set[int]] = defaultdict(set)
    for record in records:
        key = record.key.decode()
        by_key[key].append(ce_id(record))
        partitions_of_key[key].add(record.partition)
    assert by_key == order, "a key's events arrived out of staging order"
    assert all(len(p) == 1 for p in partitions_of_key.values())
    assert len({p for ps in partitions_of_key.values() for p in ps}) > 1  # several partitions

    for record in records:
        headers = header_map(record.headers)
        assert set(headers) == SPEC_HEADERS
        envelope = parse(headers)
        event = staged[envelope.id]
        assert record.key == event.programme_id.encode()  # ordered by programme
        assert envelope.subject == event.enrollment_id  # about the enrollment
        assert envelope.type == EnrollmentConfirmed.ce_type
        assert envelope.source == SOURCE
        assert envelope.orgs == ("zj", "zj-hz-depot")
        assert headers["ce_dataschema"] == schema_uri(EnrollmentConfirmed.ce_type)
        assert headers["content-type"] == "application/json"
        assert EnrollmentConfirmed.model_validate_json(record.value) == event

    assert await outbox_rows(db) == 0


async def _is_empty(db: Database) -> bool:
    return await outbox_rows(db) == 0


async def test_two_relays_on_one_database_publish_each_event_once(
    migrated_url: str, producer: Producer, kafka_admin: KafkaConnection
) -> None:
    topic = await new_topic(kafka_admin, "outbox-pair")
    first, second = Database(migrated_url), Database(migrated_url)
    try:
        relays = [
            OutboxRelay(d, MESSAGING, producer, batch_size=32, poll_seconds=0.05)
            for d in (first, second)
        ]
        async with running(relays[0]), running(relays[1]):
            order, staged = await stage_in_transactions(
                first, Outbox(MESSAGING, SOURCE), topic, 8, 25
            )
            await eventually(lambda: _is_empty(first), 30, "the outbox to drain")
    finally:
        await first.dispose()
        await second.dispose()

    records = await read_to_end(kafka_admin, topic)
    ids = [ce_id(r) for r in records]
    assert sorted(ids) == sorted(staged), "an event was published twice, or not at all"
    by_key: dict[str, list[str]] = defaultdict(list)
    for record in records:
        by_key[record.key.decode()].append(ce_id(record))
    assert by_key == order


# -- the lease (PostgreSQL) ----------------------------------------------------------------------


@pytest.fixture
async def pg_url(fresh_pg_url: str) -> str:
    await migrated(MIGRATIONS, fresh_pg_url)
    return fresh_pg_url


def named_database(url: str, name: str) -> Database:
    """A service database whose connections show `name` in pg_stat_activity."""
    return Database(url, connect_args={"server_settings": {"application_name": name}})


async def lease_holders(db: Database) -> list[str]:
    """application_name of every session holding the relay's advisory lock."""
    return sorted(name for name, _ in await lease_holder_sessions(db))


async def lease_holder_sessions(db: Database) -> list[tuple[str, int]]:
    """(application_name, backend pid) of every session holding the relay's advisory lock."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT a.application_name, a.pid FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted "
                f"AND {THIS_DATABASE} "
                "AND ((l.classid::bigint << 32) | l.objid::bigint) = :lock_id"
            ),
            {"lock_id": RELAY_LOCK_ID},
        )
        return [(row[0], row[1]) for row in rows]


@pytest.fixture
async def two_services(pg_url: str) -> AsyncIterator[tuple[Database, Database, Database]]:
    """Two processes' worth of engines on one database, plus an observer."""
    a, b, observer = (named_database(pg_url, n) for n in ("relay-a", "relay-b", "observer"))
    yield a, b, observer
    for database in (a, b, observer):
        await database.dispose()


async def test_only_one_relay_holds_the_lease_and_the_other_takes_over_when_it_stops(
    two_services: tuple[Database, Database, Database],
    producer: Producer,
    kafka_admin: KafkaConnection,
) -> None:
    a, b, observer = two_services
    topic = await new_topic(kafka_admin, "outbox-lease")
    outbox = Outbox(MESSAGING, SOURCE)
    relay_a = OutboxRelay(a, MESSAGING, producer, poll_seconds=0.05)
    relay_b = OutboxRelay(b, MESSAGING, producer, poll_seconds=0.05)

    async with running(relay_a) as task_a:
        await eventually(lambda: _holders_are(observer, ["relay-a"]), 10, "relay A's lease")
        async with running(relay_b):
            for _ in range(10):  # B keeps trying (every second) and keeps failing
                assert await lease_holders(observer) == ["relay-a"]
                await asyncio.sleep(0.2)
            _, staged = await stage_in_transactions(a, outbox, topic, 2, 20)
            await eventually(lambda: _is_empty(observer), 20, "relay A to drain the outbox")

            # A's relay stops while its process (and its connection pool) lives on, as after
            # a relay restart: its lease must go with it.
            task_a.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task_a
            await eventually(
                lambda: _holders_are(observer, ["relay-b"]), 10, "relay B to take over the lease"
            )
            _, more = await stage_in_transactions(a, outbox, topic, 2, 20)
            await eventually(lambda: _is_empty(observer), 20, "relay B to drain the outbox")

    ids = [ce_id(r) for r in await read_to_end(kafka_admin, topic)]
    assert sorted(ids) == sorted([*staged, *more])


async def test_a_lost_lease_connection_gives_the_lease_to_exactly_one_relay(
    two_services: tuple[Database, Database, Database],
    producer: Producer,
    kafka_admin: KafkaConnection,
) -> None:
    a, b, observer = two_services
    topic = await new_topic(kafka_admin, "outbox-lease-lost")
    outbox = Outbox(MESSAGING, SOURCE)
    relay_a = OutboxRelay(a, MESSAGING, producer, poll_seconds=0.05)
    relay_b = OutboxRelay(b, MESSAGING, producer, poll_seconds=0.05)

    async with running(relay_a):
        await eventually(lambda: _holders_are(observer, ["relay-a"]), 10, "relay A's lease")
        async with running(relay_b):
            # The server drops A's lease connection (failover, network cut, idle killer).
            async with observer.engine.connect() as conn:
                [(_, old_pid)] = await lease_holder_sessions(observer)
                killed = await conn.execute(
                    text("SELECT pg_terminate_backend(:pid)"), {"pid": old_pid}
                )
                assert killed.scalars().all() == [True]

            async def taken_over() -> bool:
                # The killed backend may still be listed for a moment while it exits.
                holders = await lease_holder_sessions(observer)
                return len(holders) == 1 and holders[0][1] != old_pid

            await eventually(taken_over, 10, "one relay to hold the lease again")
            for _ in range(10):
                assert len(await lease_holders(observer)) == 1
                await asyncio.sleep(0.2)
            _, staged = await stage_in_transactions(a, outbox, topic, 3, 20)
            await eventually(lambda: _is_empty(observer), 20, "the outbox to drain")

    ids = [ce_id(r) for r in await read_to_end(kafka_admin, topic)]
    assert sorted(ids) == sorted(staged)


async def test_the_lease_connection_is_not_left_inside_a_transaction(
    pg_url: str, producer: Producer
) -> None:
    relay_db, observer = named_database(pg_url, "relay"), named_database(pg_url, "observer")
    try:
        relay = OutboxRelay(relay_db, MESSAGING, producer, poll_seconds=0.05)
        async with running(relay):
            await eventually(lambda: _holders_are(observer, ["relay"]), 10, "the lease")
            await asyncio.sleep(1.0)  # many relay loops, each checking the lease connection
            async with observer.engine.connect() as conn:
                states = (
                    (
                        await conn.execute(
                            text(
                                "SELECT a.state FROM pg_locks l JOIN pg_stat_activity a "
                                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                                f"AND {THIS_DATABASE}"
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
        # An idle-in-transaction session is killed by idle_in_transaction_session_timeout
        # (usual on managed PostgreSQL) and shows up as a stuck transaction in monitoring.
        assert states == ["idle"]
    finally:
        await relay_db.dispose()
        await observer.dispose()


async def _holders_are(db: Database, expected: list[str]) -> bool:
    return await lease_holders(db) == expected
