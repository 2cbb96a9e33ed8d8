"""After a broker restart the idempotent producer's sends can fail for good
(OutOfOrderSequenceNumber): the relay then starts a new producer, and the rows go through."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import errors
from sqlalchemy import func, select

from enrollment.models import MESSAGING
from shared.contracts.events import MemberLeft
from shared.db import Database
from shared.kafka.connection import KafkaConnection
from shared.messaging.outbox import Outbox, OutboxRelay, Producer
from shared.testing import migrated

NOW = datetime(2026, 1, 5, tzinfo=UTC)
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "enrollment" / "migrations"


class BrokenThenFine:
    """A stand-in for AIOKafkaProducer: every send fails with `error` until replaced."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.sent: list[tuple[str, bytes]] = []

    async def send(self, topic: str, *, value: bytes, key: bytes, headers: Any) -> Any:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.error is not None:
            future.set_exception(self.error)
        else:
            self.sent.append((topic, key))
            future.set_result(None)
        return future


class FakeProducer(Producer):
    def __init__(self) -> None:
        super().__init__(KafkaConnection("127.0.0.1:1"), "test")
        self.started = 0
        self._producer = BrokenThenFine(errors.OutOfOrderSequenceNumber())

    async def start(self) -> None:
        self.started += 1
        self._producer = BrokenThenFine(None)

    async def stop(self) -> None:
        self._producer = None


async def test_a_lost_producer_state_starts_a_new_producer_and_the_rows_go_through(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    await migrated(MIGRATIONS, url)
    db = Database(url)
    outbox = Outbox(MESSAGING, source="bigschool/zj/enrollment")
    async with db.transaction() as session:
        left = MemberLeft(member_id="m-1", home_org="zj", left_at=NOW, reason="left")
        await outbox.stage(session, left, topic="bigschool.node.zj.members.v1")
    producer = FakeProducer()
    relay = OutboxRelay(db, MESSAGING, producer)

    assert await relay.relay_once() == 0  # refused for good by the broker: kept
    assert producer.started == 1  # … and a new producer started
    assert await relay.relay_once() == 1
    async with db.reading() as session:
        pending = (
            await session.execute(select(func.count()).select_from(MESSAGING.outbox))
        ).scalar()
    assert pending == 0
    await db.dispose()
