"""The webhook sender: the background worker that POSTs what the `webhooks` consumer planned.

Rounds of: claim a batch of due deliveries (a lease: `webhook_lease_seconds`); send them,
`webhook_concurrency` at once, over one pooled `httpx.AsyncClient` (redirects are not
followed: a redirect could lead past the SSRF guard); record the batch in one transaction.
Each request carries the Standard Webhooks headers, signed with the subscription's secret
(and the previous one during a rotation's overlap); a 2xx answer is delivered, anything else
is retried with backoff until `webhook_retry_hours` have passed. The URL is checked again
before each request: DNS may have changed since the subscription was saved.

`webhook-timestamp` is the real time of the request, from `wall_clock`: receivers compare it
with their own clocks (five minutes' tolerance), whatever clock schedules the retries.
"""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
from opentelemetry.trace import StatusCode

from notifications.metrics import DISPATCH_ERRORS
from notifications.service.context import Context
from notifications.webhooks.addresses import UnsafeUrl, check_url
from notifications.webhooks.domain import signature_headers
from notifications.webhooks.sending import Attempted, Job, claim, record
from shared.clock import Clock, SystemClock
from shared.db import CommitSignal, Database
from shared.tracing import delivery_span

log = logging.getLogger(__name__)

MAX_PAUSE_SECONDS = 5.0
USER_AGENT = "BigSchool-Webhooks/1"


class WebhookSender:
    def __init__(
        self,
        db: Database,
        ctx: Context,
        *,
        wall_clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.db = db
        self.ctx = ctx
        self.wall_clock = wall_clock or SystemClock()
        self.transport = transport
        self.last_error: str | None = None
        self._client: httpx.AsyncClient | None = None
        self._wake = CommitSignal(db)

    @property
    def client(self) -> httpx.AsyncClient:
        """One client, and so one connection pool, for every request (created on first use)."""
        if self._client is None:
            settings = self.ctx.settings
            n = settings.webhook_concurrency
            self._client = httpx.AsyncClient(
                timeout=settings.webhook_timeout_seconds,
                limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
                follow_redirects=False,
                transport=self.transport,
                headers={"user-agent": USER_AGENT},
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run(self) -> None:
        """Send continuously until cancelled; a fault outside one request (the database is
        down) is logged and the loop carries on after a pause."""
        settings = self.ctx.settings
        pause = settings.dispatch_poll_seconds
        try:
            while True:
                try:
                    sent = await self.send_once()
                except Exception as exc:  # CancelledError is not an Exception: stopping works
                    DISPATCH_ERRORS.inc()
                    self.last_error = type(exc).__name__
                    log.warning("webhooks: %s; retrying in %.1fs", self.last_error, pause)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, MAX_PAUSE_SECONDS)
                    continue
                self.last_error, pause = None, settings.dispatch_poll_seconds
                if sent < settings.webhook_batch_size:
                    await self._wake.wait(settings.dispatch_poll_seconds)
        finally:
            await self.close()

    async def send_once(self) -> int:
        """Claim one batch, send it and record the attempts; returns how many were claimed."""
        settings = self.ctx.settings
        # No request starts after half the lease: none is still running when the lease ends
        # and another sender may take the row (what did not start is due again then).
        deadline = time.monotonic() + settings.webhook_lease_seconds / 2
        async with self.db.transaction() as session:
            jobs = await claim(session, self.ctx, settings.webhook_batch_size)
        if not jobs:
            return 0
        room = asyncio.Semaphore(settings.webhook_concurrency)

        async def send(job: Job) -> Attempted | None:
            async with room:
                return await self.attempt(job) if time.monotonic() < deadline else None

        attempts = [a for a in await asyncio.gather(*(send(job) for job in jobs)) if a]
        async with self.db.transaction() as session:
            await record(session, self.ctx, attempts)
        return len(jobs)

    async def attempt(self, job: Job) -> Attempted:
        """One POST; never raises (whatever went wrong becomes the attempt's error type)."""
        with delivery_span("webhook", job.delivery_id, job.ce_id, job.traceparent) as span:
            attempted = await self._post(job)
            span.set_attribute("http.response.status_code", attempted.status_code or 0)
            if attempted.error_type:
                span.set_status(StatusCode.ERROR, attempted.error_type)
        return attempted

    async def _post(self, job: Job) -> Attempted:
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            await check_url(job.url, allow_private=self.ctx.settings.webhook_allow_private_urls)
            headers = signature_headers(
                job.secrets, job.delivery_id, self.wall_clock.now(), job.body
            )
            headers["content-type"] = "application/json"
            content = job.body.encode()
            # Streamed and closed unread: the receiver's answer is its status, not its body.
            async with self.client.stream(
                "POST", job.url, content=content, headers=headers
            ) as response:
                status = response.status_code
        except UnsafeUrl:
            error = "UnsafeUrl"
        except Exception as exc:  # a timeout, a refused connection: the type, not the message
            error = type(exc).__name__
        duration = int((time.monotonic() - started) * 1000)
        if error is not None:
            log.info("webhook %s: attempt failed (%s)", job.delivery_id, error)
        return Attempted(job.delivery_id, status, error, duration)
