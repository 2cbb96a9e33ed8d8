"""The node's roll-up publisher: every BIGSCHOOL_STATS_DEBOUNCE_SECONDS it publishes the
figures of the (org, year) keys marked dirty since the last run — one snapshot per key at the
most, however many changes came in between. The marks are in the database, so a restart
loses nothing; at start (and when a new year begins) it marks every org this node hosts for
the current year, and publishes only what differs from what it published last."""

from __future__ import annotations

from enrollment.service.context import Context
from enrollment.service.stats import mark_current_year, publish_dirty
from shared.db import Database
from shared.periodic import run_periodically
from shared.timezones import year_of


class StatsPublisher:
    def __init__(self, db: Database, ctx: Context) -> None:
        self.db = db
        self.ctx = ctx
        self.every_seconds = ctx.settings.stats_debounce_seconds
        self.batch = ctx.settings.stats_batch_size
        self._year: int | None = None  # the year this process marked every hosted org for

    async def run_once(self) -> int:
        """Publish what is dirty now; returns how many snapshots were staged."""
        await self._mark_new_year()
        staged = 0
        while True:
            async with self.db.transaction() as session:
                run = await publish_dirty(session, self.ctx, self.batch)
            staged += run.staged
            if run.busy or run.keys < self.batch:
                return staged

    async def _mark_new_year(self) -> None:
        if self._year == year_of(self.ctx.clock.now(), self.ctx.settings.federation_timezone):
            return
        async with self.db.transaction() as session:
            self._year = await mark_current_year(session, self.ctx)

    async def run(self) -> None:
        await run_periodically(self.run_once, self.every_seconds, "roll-up snapshots staged")
