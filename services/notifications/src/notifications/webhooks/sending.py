"""The sender's use cases: claim due webhook deliveries (a lease, as for the dispatcher) and
record a batch of attempts in one transaction — each delivery's state, its line in the log,
and the subscription's health: a subscription failing for `webhook_disable_after_hours` is
disabled and the admin who created it is told (an in-app and e-mail notice)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository as notices
from notifications.domain.deliveries import Channel, new_delivery
from notifications.domain.staff import staff_recipient_id
from notifications.metrics import DELIVERY_ATTEMPTS
from notifications.models import Delivery, WebhookDelivery, WebhookSubscription
from notifications.service.context import Context
from notifications.service.staff import staff_with_duty
from notifications.webhooks import repository
from notifications.webhooks.domain import (
    NAMESPACE,
    WEBHOOK_DISABLED,
    SubscriptionStatus,
    WebhookStatus,
    retry_delay,
)

ADMIN_CHANNELS = (Channel.inapp, Channel.email)
ADMINS_TOLD = 50  # staff on `admin` duty told of a disabled subscription, at most


@dataclass(frozen=True)
class Job:
    """One claimed delivery with what sending it needs (read in the claim's transaction)."""

    delivery_id: str
    url: str
    body: str
    secrets: tuple[str, ...]  # the current secret, then the previous one during an overlap
    ce_id: str | None = None  # the event it tells of
    traceparent: str | None = None  # that event's trace: the delivery span joins it


@dataclass(frozen=True)
class Attempted:
    delivery_id: str
    status_code: int | None  # the receiver's answer; None when there was none
    error_type: str | None  # an exception's class name, never its message
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def secrets_in_use(subscription: WebhookSubscription, now: datetime) -> tuple[str, ...]:
    previous, until = subscription.previous_secret, subscription.previous_secret_until
    if previous and until is not None and now < until:
        return (subscription.secret, previous)
    return (subscription.secret,)


async def claim(session: AsyncSession, ctx: Context, limit: int) -> list[Job]:
    """Up to `limit` due deliveries of active subscriptions, leased to this sender."""
    now = ctx.clock.now()
    batch = await repository.due_deliveries(session, now=now, limit=limit)
    if not batch:
        return []
    lease = timedelta(seconds=ctx.settings.webhook_lease_seconds)
    await repository.postpone(session, [d.delivery_id for d in batch], now + lease)
    subs = await repository.subscriptions_by_id(session, {d.subscription_id for d in batch})
    return [
        Job(
            d.delivery_id,
            subs[d.subscription_id].url,
            d.body,
            secrets_in_use(subs[d.subscription_id], now),
            d.ce_id,
            d.traceparent,
        )
        for d in batch
    ]


async def record(session: AsyncSession, ctx: Context, attempts: Sequence[Attempted]) -> int:
    """Settle a batch of attempts; returns how many subscriptions were disabled. A delivery
    no longer pending (replayed or settled by another sender after our lease) is skipped."""
    now = ctx.clock.now()
    rows = await repository.lock_pending(session, {a.delivery_id for a in attempts})
    subs: dict[str, WebhookSubscription] = {}
    for sub_id in sorted({r.subscription_id for r in rows.values()}):
        sub = await repository.get_subscription(session, sub_id, for_update=True)
        if sub is not None:
            subs[sub_id] = sub
    log: list[dict[str, Any]] = []
    disabled = 0
    for done in attempts:
        row = rows.get(done.delivery_id)
        sub = subs.get(row.subscription_id) if row is not None else None
        if row is None or sub is None or row.status != WebhookStatus.pending:
            continue
        log.append(_settle(ctx, row, done, now))
        # Counted here, with the other channels' attempts (a rolled-back round recounts).
        DELIVERY_ATTEMPTS.labels("webhook", log[-1]["outcome"]).inc()
        if done.ok:
            sub.failing_since = None
        else:
            sub.failing_since = sub.failing_since or now
            if _failing_too_long(ctx, sub, now):
                await disable(session, ctx, sub, now)
                disabled += 1
    await session.flush()
    await repository.add_attempts(session, log)
    return disabled


def _settle(ctx: Context, row: WebhookDelivery, done: Attempted, now: datetime) -> dict[str, Any]:
    settings = ctx.settings
    row.attempts += 1
    row.last_status_code = done.status_code
    if done.ok:
        row.status, row.sent_at, outcome = WebhookStatus.sent.value, now, "sent"
    else:
        row.last_error = done.error_type or f"HTTP {done.status_code}"
        wait = retry_delay(
            now - row.queued_at,
            base=settings.webhook_backoff_base_seconds,
            cap=settings.webhook_backoff_cap_seconds,
        )
        # The last attempt falls at the end of the retry window, not short of it: a receiver
        # down for the whole window is seen failing for all of it (and so disabled).
        window_ends = row.queued_at + timedelta(hours=settings.webhook_retry_hours)
        if now >= window_ends:
            row.status, outcome = WebhookStatus.failed.value, "failed"
        else:
            row.next_attempt_at, outcome = min(now + wait, window_ends), "deferred"
    return {
        "delivery_id": row.delivery_id,
        "attempt": row.attempts,
        "at": now,
        "outcome": outcome,
        "status_code": done.status_code,
        "error_type": done.error_type,
        "duration_ms": done.duration_ms,
    }


def _failing_too_long(ctx: Context, sub: WebhookSubscription, now: datetime) -> bool:
    limit = timedelta(hours=ctx.settings.webhook_disable_after_hours)
    return (
        sub.status == SubscriptionStatus.active
        and sub.failing_since is not None
        and now - sub.failing_since >= limit
    )


async def disable(
    session: AsyncSession, ctx: Context, sub: WebhookSubscription, now: datetime
) -> None:
    """Stop sending to `sub` (its pending deliveries wait for it to be enabled again) and tell
    the admin who created it and the node's staff on `admin` duty (the staff directory), like
    members: one delivery per recipient and channel, exactly once."""
    sub.status, sub.disabled_at, sub.updated_at = SubscriptionStatus.disabled.value, now, now
    creator = staff_recipient_id(sub.created_by_org, sub.created_by_sub)
    on_duty = await staff_with_duty(
        session, ctx.settings.root_org, "admin", after=None, limit=ADMINS_TOLD
    )
    recipients = dict.fromkeys([creator, *(recipient for _, recipient in on_duty)])
    ce_id = str(uuid.uuid5(NAMESPACE, f"disabled:{sub.subscription_id}:{now.isoformat()}"))
    data = {
        "subscription_id": sub.subscription_id,
        "url": sub.url,
        "description": sub.description,
        "failing_since": sub.failing_since.isoformat() if sub.failing_since else None,
        "hours": ctx.settings.webhook_disable_after_hours,
        "home_org": sub.created_by_org,
    }
    rows = [
        new_delivery(
            ce_id=ce_id,
            event_type=WEBHOOK_DISABLED,
            member_id=recipient,
            channel=channel,
            data=data,
            home_org=sub.created_by_org,
            now=now,
        )
        for recipient in recipients
        for channel in ADMIN_CHANNELS
    ]
    await notices.insert_ignoring_duplicates(session, Delivery, rows)
