"""Consumed event ids are forgotten after the retention, and only then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from enrollment.models import MESSAGING
from shared.clock import FixedClock
from shared.db import Database
from shared.messaging.pruning import ProcessedPruner
from shared.testing import migrated

MIGRATIONS = Path(__file__).resolve().parents[2] / "services/enrollment/migrations"
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


async def test_records_older_than_the_retention_are_deleted_in_batches(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    await migrated(MIGRATIONS, url)
    db = Database(url)
    table = MESSAGING.processed
    ages = [40] * 25 + [34] * 7  # days: 25 beyond a 35-day retention, 7 within it
    async with db.transaction() as session:
        await session.execute(
            insert(table),
            [
                {"handler": "h", "ce_id": f"id-{i}", "processed_at": NOW - timedelta(days=age)}
                for i, age in enumerate(ages)
            ],
        )
    pruner = ProcessedPruner(db, MESSAGING, FixedClock(NOW), timedelta(days=35), batch_size=10)

    assert await pruner.prune_once() == 25
    async with db.sessions() as session:
        left = (await session.execute(select(func.count()).select_from(table))).scalar_one()
    assert left == 7
    assert await pruner.prune_once() == 0
    await db.dispose()
