"""The roster import worker, one per process of the service (`runtime.run_in_background`).

It claims a job — queued, or running with a lease that ran out because its worker stopped —
under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's writers queue anyway), then
imports it chunk by chunk (`import_next_chunk`), renewing the lease with every chunk. Each
chunk also locks the job's row and checks the lease is still its own, so two workers never
import the same chunk even if a lease ran out under a slow worker. A chunk that fails is
retried with backoff; after `MAX_FAILURES` the job is `failed` and its rows are deleted.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

from enrollment import roster_repository as repo
from enrollment.service.context import Context
from enrollment.service.roster import Step, import_next_chunk
from shared.db import Database

log = logging.getLogger(__name__)

MAX_FAILURES = 5


class RosterImports:
    def __init__(self, db: Database, ctx: Context, owner: str | None = None) -> None:
        self.db = db
        self.ctx = ctx
        self.owner = owner or f"{ctx.node_id}:{uuid.uuid4()}"
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A job was queued here: look now rather than at the next poll."""
        self._wake.set()

    async def claim(self) -> str | None:
        """Take the oldest job nobody holds; its id, or None."""
        lease = timedelta(seconds=self.ctx.settings.roster_lease_seconds)
        async with self.db.transaction() as session:
            now = self.ctx.clock.now()
            job = await repo.claimable_job(session, now)
            if job is None:
                return None
            job.status, job.lease_owner, job.lease_expires_at = "running", self.owner, now + lease
            job.started_at = job.started_at or now
            return job.job_id

    async def step(self, job_id: str) -> Step:
        """One chunk of a claimed job (tests call this to watch progress between chunks)."""
        try:
            return await import_next_chunk(self.db, self.ctx, job_id, self.owner)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("roster import %s: a chunk failed: %s", job_id, type(exc).__name__)
            await self._failed(job_id, exc)
            return Step.lost

    async def run_job(self, job_id: str) -> None:
        while await self.step(job_id) == Step.imported:
            pass

    async def run_once(self) -> bool:
        """Claim one job and import it to its end (or until it is lost); False when idle."""
        job_id = await self.claim()
        if job_id is None:
            return False
        await self.run_job(job_id)
        return True

    async def run(self) -> None:
        while True:
            try:
                while await self.run_once():
                    pass
            except Exception as exc:  # the database is away: try again later
                log.warning("roster imports: %s", type(exc).__name__)
            self._wake.clear()
            try:
                async with asyncio.timeout(self.ctx.settings.roster_poll_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _failed(self, job_id: str, exc: Exception) -> None:
        """Count the failure and let go of the job for a while (backoff), or end it."""
        try:
            async with self.db.transaction() as session:
                job = await repo.get_job(session, job_id, lock=True)
                if job is None or job.lease_owner != self.owner:
                    return
                now = self.ctx.clock.now()
                job.failures += 1
                job.failure = type(exc).__name__[:200]
                job.lease_owner = None
                if job.failures >= MAX_FAILURES:
                    job.status, job.finished_at, job.lease_expires_at = "failed", now, None
                    await repo.delete_chunks(session, job_id)  # no contact data left behind
                else:
                    job.lease_expires_at = now + timedelta(seconds=2**job.failures)
        except Exception as again:  # the database is away: the lease runs out by itself
            log.warning("roster import %s: %s", job_id, type(again).__name__)
