"""Forget consumed event ids once no topic can redeliver them: `processed_events` would
otherwise grow with every message a node ever read. Deleted in small batches so that no
transaction is long (a long one holds back PostgreSQL's cleanup)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import delete, select, tuple_

from shared.clock import Clock
from shared.db import Database
from shared.messaging.tables import MessagingTables

log = logging.getLogger(__name__)


class ProcessedPruner:
    def __init__(
        self,
        db: Database,
        tables: MessagingTables,
        clock: Clock,
        retention: timedelta,
        *,
        batch_size: int = 5_000,
        every_seconds: float = 3_600,
    ) -> None:
        self.db = db
        self.table = tables.processed
        self.clock = clock
        self.retention = retention
        self.batch_size = batch_size
        self.every_seconds = every_seconds

    async def prune_once(self) -> int:
        """Delete every record older than the retention; returns how many."""
        cutoff = self.clock.now() - self.retention
        total = 0
        while True:
            async with self.db.transaction() as session:
                keys = (
                    await session.execute(
                        select(self.table.c.handler, self.table.c.ce_id)
                        .where(self.table.c.processed_at < cutoff)
                        .limit(self.batch_size)
                    )
                ).all()
                if keys:
                    await session.execute(
                        delete(self.table).where(
                            tuple_(self.table.c.handler, self.table.c.ce_id).in_(keys)
                        )
                    )
            total += len(keys)
            if len(keys) < self.batch_size:
                return total

    async def run(self) -> None:
        while True:
            try:
                if removed := await self.prune_once():
                    log.info("forgot %d consumed event ids older than %s", removed, self.retention)
            except Exception as exc:
                log.warning("pruning processed events failed: %s", type(exc).__name__)
            await asyncio.sleep(self.every_seconds)
