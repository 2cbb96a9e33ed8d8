"""A polled batch is handled in one transaction when all is well, and partition by partition,
record by record when any record needs special treatment — with the same results either way;
a message held back on one partition never holds up another."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import MESSAGING, ORGS
from shared.contracts.envelope import Envelope, envelope_for
from shared.contracts.events import EnrollmentRefused, OrgLevel, OrgRegistered
from shared.contracts.topics import ENROLLMENT, FEDERATION
from shared.db import Database
from shared.messaging.consumer import ConsumerSpec, Handler, IdempotentConsumer, Outcome, Transient
from shared.orgs.authority import Org
from shared.orgs.directory import OrgDirectory
from shared.orgs.signing import FederationKeys
from shared.testing import FakeDeadLetters, FakeRecord, NodeKeys, migrated, node_keys, record_for

MIGRATIONS = Path(__file__).resolve().parents[2] / "services/enrollment/migrations"
AT = datetime(2026, 11, 25, tzinfo=UTC)
P0, P1 = TopicPartition(FEDERATION, 0), TopicPartition(FEDERATION, 1)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> NodeKeys:
    return node_keys(tmp_path_factory.mktemp("keys"), ["n"])


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'batch.db'}"
    await migrated(MIGRATIONS, url)
    database = Database(url)
    async with database.transaction() as session:  # the top org, hosted by node n
        await OrgDirectory(database, ORGS, "n", "top").apply(
            session, Org("top", "TOP", None, "superior", "n")
        )
    yield database
    await database.dispose()


def org_record(
    keys: NodeKeys, org_id: str, offset: int, *, value: bytes | None = None, partition: int = 0
) -> FakeRecord:
    event = OrgRegistered(
        org_id=org_id, name=org_id, parent_id="top", level=OrgLevel.superior, hosted_by="n"
    )
    envelope = envelope_for(event, source="bigschool/n/enrollment", at=AT)
    return record_for(
        event,
        envelope,
        topic=FEDERATION,
        offset=offset,
        value=value,
        signer=keys.signer("n"),
        partition=partition,
    )


def consumer_for(
    db: Database, dead: FakeDeadLetters, keys: NodeKeys, handler: Handler | None = None
) -> IdempotentConsumer:
    directory = OrgDirectory(db, ORGS, "n", "top")
    spec = ConsumerSpec(
        "org_tree", [FEDERATION], "g", {OrgRegistered: handler or directory.on_org_registered}
    )
    signatures = FederationKeys.from_file(keys.jwks_path)
    return IdempotentConsumer(spec, db, MESSAGING, dead, signatures=signatures, hold_seconds=0.2)


async def org_ids(db: Database) -> list[str]:
    async with db.reading() as session:
        found = (await session.execute(select(ORGS.c.org_id))).scalars()
        return sorted(o for o in found if o != "top")


async def processed(db: Database) -> int:
    async with db.reading() as session:
        return (
            await session.execute(select(func.count()).select_from(MESSAGING.processed))
        ).scalar_one()


async def test_a_clean_batch_is_handled_whole_and_redelivery_changes_nothing(
    db: Database, keys: NodeKeys
) -> None:
    dead = FakeDeadLetters()
    consumer = consumer_for(db, dead, keys)
    batch = [org_record(keys, f"org-{i}", i) for i in range(5)]

    first = await consumer.process_batch(batch)
    again = await consumer.process_batch(batch)  # the same batch again, after a crash

    assert (first.done, first.complete, first.commit) == (5, True, {P0: 5})
    assert (again.done, again.complete) == (5, True)
    assert await org_ids(db) == [f"org-{i}" for i in range(5)]
    assert await processed(db) == 5
    assert dead.sent == []


async def test_one_invalid_record_is_dead_lettered_and_the_others_are_handled(
    db: Database, keys: NodeKeys
) -> None:
    dead = FakeDeadLetters()
    consumer = consumer_for(db, dead, keys)
    batch = [
        org_record(keys, "a", 0),
        org_record(keys, "b", 1, value=b'{"org_id": "b"}'),
        org_record(keys, "c", 2),
    ]

    result = await consumer.process_batch(batch)

    assert (result.done, result.commit) == (3, {P0: 3})
    assert await org_ids(db) == ["a", "c"]
    assert [(d.record.offset, d.reason) for d in dead.sent] == [(1, "invalid_body")]


async def test_a_transient_fault_stops_the_batch_after_the_records_already_done(
    db: Database, keys: NodeKeys
) -> None:
    dead = FakeDeadLetters()
    directory = OrgDirectory(db, ORGS, "n", "top")

    async def flaky(session: AsyncSession, event: OrgRegistered, envelope: Envelope) -> None:
        if event.org_id == "down":
            raise Transient("the database is away")
        await directory.on_org_registered(session, event, envelope)

    consumer = consumer_for(db, dead, keys, flaky)
    batch = [org_record(keys, o, i) for i, o in enumerate(["a", "b", "down", "d"])]

    result = await consumer.process_batch(batch)  # commit a and b; fetch the rest again

    assert (result.done, result.commit, result.rewind) == (2, {P0: 2}, {P0: 2})
    assert await org_ids(db) == ["a", "b"]
    assert dead.sent == []


def refusal(offset: int, org: str, partition: int) -> FakeRecord:
    """An enrollment decision whose `bigschool_orgs` header names only `org`."""
    event = EnrollmentRefused(
        enrollment_id=f"e-{offset}",
        programme_id="p",
        member_id="m",
        owner_org=org,
        home_org=org,
        decided_at=AT,
        reason="closed",
    )
    envelope = envelope_for(event, source="bigschool/n/enrollment", at=AT)
    return record_for(event, envelope, topic=ENROLLMENT, offset=offset, partition=partition)


def catalogue(
    db: Database, dead: FakeDeadLetters, seen: list[str], limit: float
) -> IdempotentConsumer:
    directory = OrgDirectory(db, ORGS, "n", "top")

    async def record(session: AsyncSession, event: EnrollmentRefused, envelope: Envelope) -> None:
        seen.append(event.enrollment_id)

    spec = ConsumerSpec(
        "catalogue", [ENROLLMENT], "g", {EnrollmentRefused: record}, relevant=directory.relevant
    )
    return IdempotentConsumer(spec, db, MESSAGING, dead, held_limit_seconds=limit)


async def test_an_unknown_org_holds_its_partition_while_other_partitions_go_on(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    dead, seen = FakeDeadLetters(), list[str]()
    consumer = catalogue(db, dead, seen, limit=600)
    e0, e1 = TopicPartition(ENROLLMENT, 0), TopicPartition(ENROLLMENT, 1)
    batch = [
        refusal(0, "top", 0),
        refusal(1, "nobody-knows", 0),  # held: the tree may be catching up
        refusal(2, "top", 0),  # waits behind it: order per partition
        refusal(7, "top", 1),
        refusal(8, "top", 1),
    ]

    with caplog.at_level(logging.WARNING):
        result = await consumer.process_batch(batch)

    assert seen == ["e-0", "e-7", "e-8"]
    assert result.commit == {e0: 1, e1: 9}
    assert result.rewind == {e0: 1}
    assert result.pause[e0] > 0
    assert dead.sent == []
    [line] = [r.getMessage() for r in caplog.records if "holding" in r.getMessage()]
    assert f"{ENROLLMENT}[0]@1" in line and "unknown_org" in line and "ce_id=" in line
    assert "nobody-knows" not in line  # where and why, never the body


async def test_a_message_held_past_the_limit_is_dead_lettered_and_the_partition_goes_on(
    db: Database,
) -> None:
    dead, seen = FakeDeadLetters(), list[str]()
    consumer = catalogue(db, dead, seen, limit=0)  # held no time at all
    batch = [refusal(0, "nobody-knows", 0), refusal(1, "top", 0)]

    result = await consumer.process_batch(batch)

    assert (result.done, result.complete, seen) == (2, True, ["e-1"])
    assert [(d.record.offset, d.reason, d.fields) for d in dead.sent] == [
        (0, "unknown_org", ["bigschool_orgs"])
    ]


async def test_a_held_message_is_handled_once_its_org_arrives(db: Database) -> None:
    dead, seen = FakeDeadLetters(), list[str]()
    consumer = catalogue(db, dead, seen, limit=600)
    record = refusal(0, "late", 0)
    assert await consumer.process(record) is Outcome.held

    async with db.transaction() as session:
        await OrgDirectory(db, ORGS, "n", "top").apply(
            session, Org("late", "LATE", "top", "superior", "n")
        )
    fresh = catalogue(db, dead, seen, limit=600)  # a new directory cache, as after a poll

    assert await fresh.process(record) is Outcome.handled
    assert seen == ["e-0"] and dead.sent == []
