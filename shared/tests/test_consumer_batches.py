"""A polled batch is handled in one transaction when all is well, and record by record when
any record needs special treatment — with the same results either way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from enrollment.models import MESSAGING, ORGS
from shared.contracts.envelope import envelope_for
from shared.contracts.events import OrgLevel, OrgRegistered
from shared.contracts.topics import FEDERATION
from shared.db import Database
from shared.messaging.consumer import ConsumerSpec, IdempotentConsumer, Transient
from shared.migrations import upgrade_to_head
from shared.orgs.directory import OrgDirectory
from shared.testing import FakeDeadLetters, FakeRecord, record_for

MIGRATIONS = Path(__file__).resolve().parents[2] / "services/enrollment/migrations"
AT = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'batch.db'}"
    await upgrade_to_head(MIGRATIONS, url)
    database = Database(url)
    yield database
    await database.dispose()


def org_record(org_id: str, offset: int, value: bytes | None = None) -> FakeRecord:
    event = OrgRegistered(org_id=org_id, name=org_id, level=OrgLevel.superior, hosted_by="n")
    envelope = envelope_for(event, source="bigschool/test/test", at=AT)
    return record_for(event, envelope, topic=FEDERATION, offset=offset, value=value)


def consumer_for(db: Database, dead: FakeDeadLetters, handler: object = None) -> IdempotentConsumer:
    directory = OrgDirectory(db, ORGS, "n", "root")
    spec = ConsumerSpec(
        "org_tree", [FEDERATION], "g", {OrgRegistered: handler or directory.on_org_registered}
    )
    return IdempotentConsumer(spec, db, MESSAGING, dead, hold_seconds=0.2)


async def org_ids(db: Database) -> list[str]:
    async with db.reading() as session:
        return sorted((await session.execute(select(ORGS.c.org_id))).scalars())


async def processed(db: Database) -> int:
    async with db.reading() as session:
        return (
            await session.execute(select(func.count()).select_from(MESSAGING.processed))
        ).scalar_one()


async def test_a_clean_batch_is_handled_whole_and_redelivery_changes_nothing(
    db: Database,
) -> None:
    dead = FakeDeadLetters()
    consumer = consumer_for(db, dead)
    batch = [org_record(f"org-{i}", i) for i in range(5)]

    assert await consumer.process_batch(batch) == 5
    assert await consumer.process_batch(batch) == 5  # the same batch again, after a crash

    assert await org_ids(db) == [f"org-{i}" for i in range(5)]
    assert await processed(db) == 5
    assert dead.sent == []


async def test_one_invalid_record_is_dead_lettered_and_the_others_are_handled(
    db: Database,
) -> None:
    dead = FakeDeadLetters()
    consumer = consumer_for(db, dead)
    batch = [org_record("a", 0), org_record("b", 1, value=b'{"org_id": "b"}'), org_record("c", 2)]

    assert await consumer.process_batch(batch) == 3

    assert await org_ids(db) == ["a", "c"]
    assert [(d.record.offset, d.reason) for d in dead.sent] == [(1, "invalid_body")]


async def test_a_transient_fault_stops_the_batch_after_the_records_already_done(
    db: Database,
) -> None:
    dead = FakeDeadLetters()
    directory = OrgDirectory(db, ORGS, "n", "root")

    async def flaky(session, event, envelope):  # type: ignore[no-untyped-def]
        if event.org_id == "down":
            raise Transient("the database is away")
        await directory.on_org_registered(session, event, envelope)

    consumer = consumer_for(db, dead, flaky)
    batch = [org_record("a", 0), org_record("b", 1), org_record("down", 2), org_record("d", 3)]

    assert await consumer.process_batch(batch) == 2  # commit a and b; fetch the rest again

    assert await org_ids(db) == ["a", "b"]
    assert dead.sent == []
