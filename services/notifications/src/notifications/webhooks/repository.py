"""All SQL of webhooks."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from notifications.repository import insert_ignoring_duplicates
from notifications.webhooks.domain import SubscriptionStatus, WebhookStatus
from shared.db import Position, get_row, newest_first_after


# -- subscriptions ------------------------------------------------------------------------------
async def count_subscriptions(session: AsyncSession) -> int:
    return (
        await session.execute(select(func.count(WebhookSubscription.subscription_id)))
    ).scalar_one()


async def get_subscription(
    session: AsyncSession, subscription_id: str, *, for_update: bool = False
) -> WebhookSubscription | None:
    return await get_row(session, WebhookSubscription, subscription_id, for_update=for_update)


async def active_subscriptions(session: AsyncSession, limit: int) -> list[WebhookSubscription]:
    """Every active subscription (a node keeps few: `webhook_max_subscriptions`)."""
    stmt = (
        select(WebhookSubscription)
        .where(WebhookSubscription.status == SubscriptionStatus.active.value)
        .order_by(WebhookSubscription.subscription_id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def subscriptions_by_id(
    session: AsyncSession, ids: Collection[str]
) -> dict[str, WebhookSubscription]:
    stmt = select(WebhookSubscription).where(WebhookSubscription.subscription_id.in_(ids))
    return {s.subscription_id: s for s in (await session.execute(stmt)).scalars()}


async def subscription_page(
    session: AsyncSession, *, after: Position | None, limit: int
) -> list[WebhookSubscription]:
    stmt = newest_first_after(
        select(WebhookSubscription),
        WebhookSubscription.created_at,
        WebhookSubscription.subscription_id,
        after,
    )
    return list((await session.execute(stmt.limit(limit))).scalars())


async def delete_subscription(session: AsyncSession, subscription_id: str) -> None:
    """The subscription with its deliveries and their log (the foreign keys cascade)."""
    await session.execute(
        delete(WebhookSubscription).where(WebhookSubscription.subscription_id == subscription_id)
    )


# -- deliveries ---------------------------------------------------------------------------------
async def insert_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING: a redelivered event adds nothing."""
    return await insert_ignoring_duplicates(session, WebhookDelivery, rows) if rows else 0


async def due_deliveries(
    session: AsyncSession, *, now: datetime, limit: int
) -> list[WebhookDelivery]:
    """Due pending deliveries of active subscriptions, oldest first, locked against other
    senders (SKIP LOCKED on PostgreSQL; SQLite serialises writers anyway)."""
    active = select(WebhookSubscription.subscription_id).where(
        WebhookSubscription.status == SubscriptionStatus.active.value
    )
    stmt = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.status == WebhookStatus.pending.value,
            WebhookDelivery.next_attempt_at <= now,
            WebhookDelivery.subscription_id.in_(active),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.delivery_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def postpone(session: AsyncSession, delivery_ids: list[str], until: datetime) -> None:
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.delivery_id.in_(delivery_ids))
        .values(next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )


async def lock_pending(
    session: AsyncSession, delivery_ids: Collection[str]
) -> dict[str, WebhookDelivery]:
    """The rows of `delivery_ids` still pending, locked, in id order (no deadlocks)."""
    stmt = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.delivery_id.in_(delivery_ids),
            WebhookDelivery.status == WebhookStatus.pending.value,
        )
        .order_by(WebhookDelivery.delivery_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {d.delivery_id: d for d in (await session.execute(stmt)).scalars()}


async def add_attempts(session: AsyncSession, attempts: list[dict[str, Any]]) -> None:
    if attempts:
        await session.execute(insert(WebhookAttempt), attempts)


async def delivery_page(
    session: AsyncSession,
    subscription_id: str,
    *,
    status: str | None,
    after: Position | None,
    limit: int,
) -> list[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    stmt = newest_first_after(stmt, WebhookDelivery.created_at, WebhookDelivery.delivery_id, after)
    return list((await session.execute(stmt.limit(limit))).scalars())


async def attempts_of(
    session: AsyncSession, delivery_ids: Collection[str]
) -> dict[str, list[WebhookAttempt]]:
    out: dict[str, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
    if delivery_ids:
        stmt = (
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(delivery_ids))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.attempt)
        )
        for attempt in (await session.execute(stmt)).scalars():
            out[attempt.delivery_id].append(attempt)
    return out


async def requeue(
    session: AsyncSession, subscription_id: str, *, since: datetime, until: datetime, now: datetime
) -> int:
    """Make the deliveries logged in [since, until) pending again, due now, with the same ids
    and bodies; one UPDATE (the range is bounded by `webhook_replay_max_hours`)."""
    stmt = (
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.created_at >= since,
            WebhookDelivery.created_at < until,
        )
        .values(status=WebhookStatus.pending.value, next_attempt_at=now, queued_at=now)
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await session.execute(stmt))
    return int(result.rowcount)


async def due_now(session: AsyncSession, subscription_id: str, now: datetime) -> None:
    """A re-enabled subscription's pending deliveries are due at once, their retry window
    starting afresh."""
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == WebhookStatus.pending.value,
        )
        .values(next_attempt_at=now, queued_at=now)
        .execution_options(synchronize_session=False)
    )
