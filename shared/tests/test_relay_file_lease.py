"""On SQLite, one outbox relay per database file: the second waits until the first lets go."""

from __future__ import annotations

from pathlib import Path

from enrollment.models import MESSAGING
from shared.db import Database
from shared.kafka.connection import KafkaConnection
from shared.messaging.outbox import OutboxRelay, Producer


async def test_a_second_relay_on_the_same_file_waits_for_the_first(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    first_db, second_db = Database(url), Database(url)
    # Never started: no message is sent here.
    producer = Producer(KafkaConnection("127.0.0.1:1"), "unused")
    first = OutboxRelay(first_db, MESSAGING, producer)
    second = OutboxRelay(second_db, MESSAGING, producer)

    assert await first._hold_lease() is True
    assert await second._hold_lease() is False
    await first._release_lease()
    assert await second._hold_lease() is True
    assert await first._hold_lease() is False

    await second._release_lease()
    await first_db.dispose()
    await second_db.dispose()
