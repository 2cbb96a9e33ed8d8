"""The dispatcher: the background worker that sends what the consumers committed.

Each round, in its own short transactions:
1. claim a batch of due pending deliveries, oldest first (a lease: see service/dispatching);
2. for each, look up the recipient — not known yet (the member record travels on another
   topic) → retried with backoff;
3. in-app: the inbox item and the `sent` mark are one transaction (exactly once);
   e-mail: send over SMTP, then mark `sent` in a new transaction. A crash between the two
   resends the e-mail with the same Message-ID — at least once, recognisably the same;
4. every attempt is logged; failures back off exponentially, then the delivery is `failed`.

It wakes when any transaction of this service commits (a consumer added deliveries) and
otherwise looks every `dispatch_poll_seconds`. A fault outside a delivery (the database is
down) is logged and the loop carries on after a pause: it never dies.
"""

from __future__ import annotations

import asyncio
import logging
import time

from notifications import repository
from notifications.domain.deliveries import Channel, Status
from notifications.mailer import Mailer, is_permanent
from notifications.metrics import DELIVERY_ATTEMPTS, DISPATCH_ERRORS
from notifications.models import Delivery, Recipient
from notifications.service.context import Context
from notifications.service.dispatching import (
    SENT,
    SKIPPED,
    Result,
    claim_due,
    deliver_inapp,
    failed_with,
    record_result,
)
from notifications.templates import Rendered, language_of, render
from shared.db import CommitSignal, Database

log = logging.getLogger(__name__)

MAX_PAUSE_SECONDS = 5.0


class Dispatcher:
    def __init__(self, db: Database, ctx: Context, mailer: Mailer) -> None:
        self.db = db
        self.ctx = ctx
        self.mailer = mailer
        settings = ctx.settings
        self.batch_size = settings.dispatch_batch_size
        self.poll_seconds = settings.dispatch_poll_seconds
        self.concurrency = settings.dispatch_concurrency
        # Stop starting sends well before the lease ends, so no other dispatcher takes a row
        # this one is still working on.
        lease = settings.dispatch_lease_seconds
        self.round_budget = max(lease - 2 * settings.smtp_timeout_seconds, lease / 2)
        self.last_error: str | None = None
        self._wake = CommitSignal(db)

    async def run(self) -> None:
        pause = self.poll_seconds
        while True:
            try:
                claimed = await self.dispatch_once()
            except Exception as exc:  # CancelledError is not an Exception: stopping still works
                DISPATCH_ERRORS.inc()
                self.last_error = type(exc).__name__
                log.warning("dispatcher: %s; retrying in %.1fs", self.last_error, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE_SECONDS)
                continue
            self.last_error, pause = None, self.poll_seconds
            if claimed < self.batch_size:
                await self._wake.wait(self.poll_seconds)

    async def dispatch_once(self) -> int:
        """One round; returns how many deliveries were claimed. Deliveries are independent,
        so several go out at once (`dispatch_concurrency`)."""
        async with self.db.transaction() as session:
            batch = await claim_due(session, self.ctx, self.batch_size)
        deadline = time.monotonic() + self.round_budget
        slots = asyncio.Semaphore(self.concurrency)

        async def one(delivery: Delivery) -> None:
            async with slots:
                if time.monotonic() > deadline:
                    return  # due again when its lease ends
                try:
                    await self._deliver(delivery)
                except Exception as exc:  # one delivery's fault must not hold up the others
                    DISPATCH_ERRORS.inc()
                    self.last_error = type(exc).__name__
                    log.warning(
                        "delivery %s: %s; due again after the lease",
                        delivery.delivery_id,
                        self.last_error,
                    )

        await asyncio.gather(*(one(delivery) for delivery in batch))
        return len(batch)

    async def _deliver(self, delivery: Delivery) -> None:
        async with self.db.reading() as session:
            recipient = await repository.get_recipient(session, delivery.member_id)
        if recipient is None:
            await self._settle(delivery, failed_with("RecipientUnknown"))
            return
        try:
            message = render(delivery.event_type, recipient.language, delivery.data, recipient.name)
        except Exception as exc:  # a template fault must not stop the other deliveries
            log.exception("delivery %s: rendering failed", delivery.delivery_id)
            await self._settle(delivery, failed_with(type(exc).__name__))
            return
        if delivery.channel == Channel.inapp:
            async with self.db.transaction() as session:
                status = await deliver_inapp(session, self.ctx, delivery.delivery_id, message)
            self._count(delivery, status)
            return
        await self._settle(delivery, await self._attempt(delivery, recipient, message))

    async def _settle(self, delivery: Delivery, result: Result) -> None:
        """Record the attempt in a new short transaction (after the e-mail went out)."""
        async with self.db.transaction() as session:
            status = await record_result(session, self.ctx, delivery.delivery_id, result)
        self._count(delivery, status)

    async def _attempt(self, delivery: Delivery, recipient: Recipient, message: Rendered) -> Result:
        if delivery.channel != Channel.email:
            return failed_with("UnsupportedChannel")
        if not recipient.email:
            return SKIPPED
        try:
            mail = self.mailer.compose(
                delivery_id=delivery.delivery_id,
                to=recipient.email,
                message=message,
                language=language_of(recipient.language),
                at=self.ctx.clock.now(),
            )
            await self.mailer.send(mail)
        except Exception as exc:  # whatever SMTP or the address did: log the type, not values
            log.warning("delivery %s: e-mail failed (%s)", delivery.delivery_id, type(exc).__name__)
            return failed_with(type(exc).__name__, permanent=is_permanent(exc))
        return SENT

    @staticmethod
    def _count(delivery: Delivery, status: Status | None) -> None:
        DELIVERY_ATTEMPTS.labels(delivery.channel, status.value if status else "taken").inc()
