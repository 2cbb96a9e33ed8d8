"""The dispatcher's use cases: claim due deliveries, deliver in-app, settle an attempt.

A claim is a lease: the claiming transaction moves the rows' `next_attempt_at` past the
lease, so no other dispatcher takes them while this one sends; if this one dies, the rows
are due again when the lease ends (and an e-mail may be resent with the same Message-ID).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.domain.deliveries import AttemptOutcome, Status, settle
from notifications.models import Delivery, DeliveryAttempt, InboxItem
from notifications.service.context import Context
from notifications.templates import Rendered


@dataclass(frozen=True)
class Result:
    """What one attempt came to. `error_type` is a class name, never a message: messages
    may quote addresses or names."""

    outcome: AttemptOutcome
    error_type: str | None = None
    permanent: bool = False


SENT = Result(AttemptOutcome.sent)
SKIPPED = Result(AttemptOutcome.skipped)


def failed_with(error_type: str, *, permanent: bool = False) -> Result:
    return Result(AttemptOutcome.deferred, error_type[:200], permanent)


async def claim_due(session: AsyncSession, ctx: Context, limit: int) -> list[Delivery]:
    """Take up to `limit` due deliveries, oldest first, for the length of the lease."""
    now = ctx.clock.now()
    batch = await repository.due_deliveries(session, now=now, limit=limit)
    if batch:
        lease = timedelta(seconds=ctx.settings.dispatch_lease_seconds)
        await repository.postpone(session, [d.delivery_id for d in batch], now + lease)
    return batch


async def record_result(
    session: AsyncSession, ctx: Context, delivery_id: str, result: Result
) -> Status | None:
    """Settle the attempt; None when the delivery is no longer pending (another dispatcher
    finished it after our lease ran out)."""
    delivery = await repository.lock_delivery(session, delivery_id)
    if delivery is None or delivery.status != Status.pending:
        return None
    return _settle(session, ctx, delivery, result)


async def deliver_inapp(
    session: AsyncSession, ctx: Context, delivery_id: str, message: Rendered
) -> Status | None:
    """The inbox item and the `sent` mark in one transaction: in-app is exactly once."""
    delivery = await repository.lock_delivery(session, delivery_id)
    if delivery is None or delivery.status != Status.pending:
        return None
    await repository.insert_ignoring_duplicates(
        session,
        InboxItem,
        {
            "item_id": delivery.delivery_id,
            "member_id": delivery.member_id,
            "event_type": delivery.event_type,
            "title": message.title,
            "body": message.body,
            "created_at": ctx.clock.now(),
            "read_at": None,
        },
    )
    return _settle(session, ctx, delivery, SENT)


def _settle(session: AsyncSession, ctx: Context, delivery: Delivery, result: Result) -> Status:
    now = ctx.clock.now()
    attempt = delivery.attempts + 1
    transition = settle(
        result.outcome,
        attempt=attempt,
        max_attempts=ctx.settings.max_attempts,
        now=now,
        permanent=result.permanent,
    )
    delivery.attempts = attempt
    delivery.status = transition.status.value
    delivery.next_attempt_at = transition.next_attempt_at
    if result.error_type:
        delivery.last_error = result.error_type
    if transition.status is Status.sent:
        delivery.sent_at = now
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.delivery_id,
            attempt=attempt,
            at=now,
            outcome=transition.outcome.value,
            error_type=result.error_type,
        )
    )
    return transition.status
