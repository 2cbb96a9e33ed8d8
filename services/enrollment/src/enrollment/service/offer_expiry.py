"""The owner's clock-driven work: offers whose time is up pass to the next in line. The state
is in the database (seats with `offer_expires_at`), so it survives restarts; the clock is the
service's injectable one, so tests move time instead of waiting."""

from __future__ import annotations

from enrollment.service.context import Context
from enrollment.service.seats import expire_due_offers
from shared.db import Database
from shared.periodic import run_periodically


class OfferExpiry:
    def __init__(self, db: Database, ctx: Context) -> None:
        self.db = db
        self.ctx = ctx
        self.every_seconds = ctx.settings.offer_check_seconds

    async def run_once(self) -> int:
        """Expire what is due now; returns how many offers expired."""
        total = 0
        while (expired := await expire_due_offers(self.db, self.ctx)) > 0:
            total += expired
        return total

    async def run(self) -> None:
        await run_periodically(self.run_once, self.every_seconds, "offers expired")
