"""The dispatcher: the background worker that sends what the consumers committed.

A pipeline of three stages, each in its own short transactions:
1. claim a batch of due pending deliveries, oldest first (a lease: see service/dispatching),
   and their recipients in one query. The next batch is claimed while this one is still
   being sent, as soon as fewer than `dispatch_concurrency` deliveries wait for a worker;
2. `dispatch_concurrency` workers each take one delivery at a time: a recipient not known
   yet (the member record travels on another topic) → retried with backoff; in-app → ready
   to record; e-mail → sent over one of the Mailer's pooled SMTP connections, SMS → POSTed
   to the provider over pooled HTTP connections (`channels/`). Nothing is
   started once its claim's budget is spent (well before the lease ends, so no other
   dispatcher can have the row): it is due again when the lease ends;
3. finished deliveries are recorded in groups, one transaction per group: the status
   (backoff, then `failed`), a line per attempt in the log, and for in-app the inbox item
   with the `sent` mark (exactly once). An e-mail is marked only after it was sent; a crash
   in between resends it after the lease with the same Message-ID — at least once,
   recognisably the same.

It wakes when any transaction of this service commits (a consumer added deliveries) and
otherwise looks every `dispatch_poll_seconds`. A fault outside a delivery (the database is
down) is logged and the loop carries on after a pause: it never dies. Cancelled, it stops its
workers, records what they finished and closes its SMTP and HTTP connections.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from contextlib import suppress
from dataclasses import dataclass

from opentelemetry.trace import StatusCode

from notifications.channels import Outgoing, Sender, senders
from notifications.domain.deliveries import Channel
from notifications.mailer import Mailer
from notifications.metrics import DELIVERY_ATTEMPTS, DISPATCH_ERRORS
from notifications.models import Delivery, Recipient
from notifications.service.context import Context
from notifications.service.dispatching import (
    SENT,
    Finished,
    Result,
    claim_due,
    failed_with,
    recipients_of,
    record_results,
)
from notifications.service.template_overrides import OverrideCache
from notifications.templates import Rendered, language_of
from shared.db import CommitSignal, Database
from shared.tasks import cancel_and_wait
from shared.tracing import delivery_span

log = logging.getLogger(__name__)

MAX_PAUSE_SECONDS = 5.0
# On stop, how long recording what was already sent may take; after that it is left to the
# lease (those e-mails go out again later, with the same Message-ID).
STOP_RECORD_SECONDS = 5.0


@dataclass(frozen=True)
class Claimed:
    """A delivery this dispatcher holds the lease of, with its recipient (None: not known yet)."""

    delivery: Delivery
    recipient: Recipient | None
    deadline: float  # time.monotonic(): no work on it starts later (the lease is nearly over)


class Dispatcher:
    def __init__(self, db: Database, ctx: Context, mailer: Mailer) -> None:
        self.db = db
        self.ctx = ctx
        self.mailer = mailer
        self.senders: dict[str, Sender] = senders(ctx.settings, mailer)
        self.templates = OverrideCache(db, ctx)
        settings = ctx.settings
        self.batch_size = settings.dispatch_batch_size
        self.poll_seconds = settings.dispatch_poll_seconds
        self.concurrency = settings.dispatch_concurrency
        self.record_batch = settings.dispatch_record_batch
        self.record_linger = settings.dispatch_record_linger_seconds
        # Stop starting sends well before the lease ends, so no other dispatcher takes a row
        # this one is still working on.
        lease = settings.dispatch_lease_seconds
        send_timeout = max(settings.smtp_timeout_seconds, settings.sms_timeout_seconds)
        self.round_budget = max(lease - 2 * send_timeout, lease / 2)
        self.last_error: str | None = None
        self._wake = CommitSignal(db)
        self._room = asyncio.Event()  # set when fewer than `concurrency` claimed rows wait
        self._stopping = asyncio.Event()  # cuts the recorder's linger short

    # -- the pipeline ----------------------------------------------------------------------
    async def run(self) -> None:
        """Claim, send and record continuously until cancelled."""
        todo: asyncio.Queue[Claimed] = asyncio.Queue()
        done: asyncio.Queue[Finished | None] = asyncio.Queue()
        self._stopping.clear()
        workers = [asyncio.create_task(self._work(todo, done)) for _ in range(self.concurrency)]
        recorder = asyncio.create_task(self._record_continuously(done))
        try:
            await self._feed(todo)
        finally:
            await self._stop(workers, recorder, done)

    async def _feed(self, todo: asyncio.Queue[Claimed]) -> None:
        pause = self.poll_seconds
        while True:
            while todo.qsize() >= self.concurrency:  # enough work queued: claim when it runs low
                self._room.clear()
                await self._room.wait()
            try:
                claimed = await self._claim_to_the_end()
            except Exception as exc:  # CancelledError is not an Exception: stopping still works
                DISPATCH_ERRORS.inc()
                self.last_error = type(exc).__name__
                log.warning("dispatcher: %s; retrying in %.1fs", self.last_error, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE_SECONDS)
                continue
            self.last_error, pause = None, self.poll_seconds
            for item in claimed:
                todo.put_nowait(item)
            if len(claimed) < self.batch_size:
                await self._wake.wait(self.poll_seconds)

    async def _work(
        self, todo: asyncio.Queue[Claimed], done: asyncio.Queue[Finished | None]
    ) -> None:
        while True:
            claimed = await todo.get()
            if todo.qsize() < self.concurrency:
                self._room.set()
            finished = await self._deliver_safely(claimed)
            if finished is not None:
                done.put_nowait(finished)

    async def _record_continuously(self, done: asyncio.Queue[Finished | None]) -> None:
        """Group commit: what finished within `dispatch_record_linger_seconds` of a group's
        first result, or while the previous group's transaction ran (up to
        `dispatch_record_batch`), is one group. Returns at the None `_stop` puts last."""
        while True:
            group: list[Finished] = []
            item = await done.get()
            if item is not None and self.record_linger > 0:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.record_linger)
            while item is not None:
                group.append(item)
                if len(group) >= self.record_batch or done.empty():
                    break
                item = done.get_nowait()
            await self._record(group)
            if item is None:
                return

    async def _stop(
        self,
        workers: list[asyncio.Task[None]],
        recorder: asyncio.Task[None],
        done: asyncio.Queue[Finished | None],
    ) -> None:
        """Sends in flight are abandoned (due again after the lease); what was sent is recorded
        now rather than resent later; the SMTP connections are closed."""
        await cancel_and_wait(workers)
        self._stopping.set()
        done.put_nowait(None)
        try:
            await asyncio.wait_for(recorder, STOP_RECORD_SECONDS)
        except Exception as exc:  # a timeout or a database fault: the lease covers them
            log.warning("dispatcher: stopped without recording (%s)", type(exc).__name__)
        for sender in self.senders.values():
            await sender.close()

    # -- one batch, start to end (tests and tools; `run` overlaps the stages) ---------------
    async def dispatch_once(self) -> int:
        """Claim one batch, send it (`dispatch_concurrency` at once) and record the results;
        returns how many deliveries were claimed."""
        claimed = await self._claim()
        todo, finished = deque(claimed), list[Finished]()

        async def worker() -> None:
            while todo:
                if (result := await self._deliver_safely(todo.popleft())) is not None:
                    finished.append(result)

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(claimed)))))
        for start in range(0, len(finished), self.record_batch):
            await self._record(finished[start : start + self.record_batch])
        return len(claimed)

    # -- the stages' steps -------------------------------------------------------------------
    async def _claim(self) -> list[Claimed]:
        deadline = time.monotonic() + self.round_budget  # counted from before the lease starts
        async with self.db.transaction() as session:
            batch = await claim_due(session, self.ctx, self.batch_size)
            recipients = await recipients_of(session, batch) if batch else {}
        return [Claimed(d, recipients.get(d.member_id), deadline) for d in batch]

    async def _claim_to_the_end(self) -> list[Claimed]:
        """A stop does not cut a claim off halfway: its transaction ends (and its connection
        goes back to the pool) before the cancellation goes on. What it claimed is due again
        when the lease ends."""
        claim = asyncio.ensure_future(self._claim())
        try:
            return await asyncio.shield(claim)
        except asyncio.CancelledError:
            await asyncio.gather(claim, return_exceptions=True)
            raise

    async def _record(self, finished: list[Finished]) -> None:
        """One transaction for the group. If it fails, the rows are due again when their lease
        ends (an e-mail sent meanwhile goes out again, with the same Message-ID)."""
        if not finished:
            return
        try:
            async with self.db.transaction() as session:
                statuses = await record_results(session, self.ctx, finished)
        except Exception as exc:
            DISPATCH_ERRORS.inc()
            self.last_error = type(exc).__name__
            log.warning(
                "dispatcher: recording %d deliveries failed (%s); due again after the lease",
                len(finished),
                self.last_error,
            )
            return
        for result, status in zip(finished, statuses, strict=True):
            DELIVERY_ATTEMPTS.labels(result.channel, status.value if status else "taken").inc()

    async def _deliver_safely(self, claimed: Claimed) -> Finished | None:
        try:
            return await self._deliver(claimed)
        except Exception as exc:  # one delivery's fault must not hold up the others
            DISPATCH_ERRORS.inc()
            self.last_error = type(exc).__name__
            log.warning(
                "delivery %s: %s; due again after the lease",
                claimed.delivery.delivery_id,
                self.last_error,
            )
            return None

    async def _deliver(self, claimed: Claimed) -> Finished | None:
        """One delivery's attempt; None when it is left to its lease (not started in time)."""
        delivery, recipient = claimed.delivery, claimed.recipient
        if time.monotonic() > claimed.deadline:
            return None  # due again when its lease ends
        if recipient is None:
            return _finished(delivery, failed_with("RecipientUnknown"))
        try:  # the override of the recipient's org (or an ancestor's), else the default
            message = await self.templates.render(delivery, recipient)
        except Exception as exc:  # a template fault must not stop the other deliveries
            log.exception("delivery %s: rendering failed", delivery.delivery_id)
            return _finished(delivery, failed_with(type(exc).__name__))
        if delivery.channel == Channel.inapp:
            return _finished(delivery, SENT, inbox=message)
        result = await self._attempt(claimed, recipient, message)
        return None if result is None else _finished(delivery, result)

    async def _attempt(
        self, claimed: Claimed, recipient: Recipient, message: Rendered
    ) -> Result | None:
        delivery = claimed.delivery
        sender = self.senders.get(delivery.channel)
        if sender is None:
            return failed_with("UnsupportedChannel")
        outgoing = Outgoing(
            delivery_id=delivery.delivery_id,
            recipient=recipient,
            message=message,
            language=language_of(recipient.language),
            at=self.ctx.clock.now(),
            deadline=claimed.deadline,
        )
        with delivery_span(
            delivery.channel, delivery.delivery_id, delivery.ce_id, delivery.traceparent
        ) as span:
            result = await sender.send(outgoing)
            if result is not None:
                span.set_attribute("bigschool.delivery.outcome", str(result.outcome))
                if result.error_type:
                    span.set_status(StatusCode.ERROR, result.error_type)
        return result


def _finished(delivery: Delivery, result: Result, inbox: Rendered | None = None) -> Finished:
    return Finished(delivery.delivery_id, delivery.channel, result, inbox)
