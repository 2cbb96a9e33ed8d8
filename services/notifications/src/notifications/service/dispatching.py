"""The dispatcher's use cases: claim due deliveries (and load their recipients), settle a
group of finished attempts (in-app items included) in one transaction.

A claim is a lease: the claiming transaction moves the rows' `next_attempt_at` past the
lease, so no other dispatcher takes them while this one sends; if this one dies, the rows
are due again when the lease ends (and an e-mail may be resent with the same Message-ID).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.domain.deliveries import AttemptOutcome, Status, settle
from notifications.models import Delivery, Recipient
from notifications.models.deliveries import LANE_BULK, LANE_SINGLE
from notifications.service.context import Context
from notifications.service.fallback import GaveUp, gives_up, plan_fallbacks
from notifications.service.preferences import preferred_languages, with_preferred_languages
from notifications.templates import Rendered


@dataclass(frozen=True)
class Result:
    """What one attempt came to. `error_type` is a class name, never a message: messages
    may quote addresses or names."""

    outcome: AttemptOutcome
    error_type: str | None = None
    permanent: bool = False
    # Skipped because this channel cannot reach the member: their next channel is tried.
    falls_back: bool = False


SENT = Result(AttemptOutcome.sent)
SKIPPED = Result(AttemptOutcome.skipped)


def unreachable(reason: str) -> Result:
    """Skipped, as this channel cannot reach the member (no phone number, no SMS on this
    node): the notice falls back to the next channel they allow."""
    return Result(AttemptOutcome.skipped, reason, falls_back=True)


def failed_with(error_type: str, *, permanent: bool = False) -> Result:
    return Result(AttemptOutcome.deferred, error_type[:200], permanent)


async def claim_due(session: AsyncSession, ctx: Context, limit: int) -> list[Delivery]:
    """Take up to `limit` due deliveries for the length of the lease, longest due first per
    lane: the single lane (one event's notices: a seat offer) first, the bulk lane (a public
    notice's fan-out) what it leaves. While bulk rows wait, `dispatch_bulk_share` of the batch
    is theirs, so a fan-out keeps moving under a steady stream of single messages; a single
    message planned during a fan-out of any size is taken by the next claim."""
    now = ctx.clock.now()
    lease_end = now + timedelta(seconds=ctx.settings.dispatch_lease_seconds)

    async def take(lane: int, count: int) -> list[Delivery]:
        if count <= 0:
            return []
        rows = await repository.due_deliveries(session, now=now, limit=count, lane=lane)
        if rows:  # leased at once: the next look in this transaction does not see them again
            await repository.postpone(session, [d.delivery_id for d in rows], lease_end)
        return rows

    reserved = min(ceil(limit * ctx.settings.dispatch_bulk_share), limit - 1)
    single = await take(LANE_SINGLE, limit - reserved)
    bulk = await take(LANE_BULK, limit - len(single))
    batch = single + bulk
    if len(single) == limit - reserved:  # more single ones may wait: the unused share is theirs
        batch += await take(LANE_SINGLE, limit - len(batch))
    return batch


@dataclass(frozen=True)
class Finished:
    """One delivery's attempt, done and waiting to be recorded. `inbox` (in-app only) is the
    item's text: the item is created in the transaction that marks the delivery `sent`."""

    delivery_id: str
    channel: str
    result: Result
    inbox: Rendered | None = None


async def recipients_of(
    session: AsyncSession, deliveries: Sequence[Delivery]
) -> dict[str, Recipient]:
    """The recipients of a claimed batch, in one query; a member not known yet is missing.
    A language the member chose in their preferences overrides the member record's."""
    found = await repository.recipients_by_id(session, {d.member_id for d in deliveries})
    return with_preferred_languages(found, await preferred_languages(session, found))


async def record_results(
    session: AsyncSession, ctx: Context, finished: Sequence[Finished]
) -> list[Status | None]:
    """Settle a group of attempts in one transaction: each delivery's status and its line in
    the attempt log, and for in-app the inbox item with its `sent` mark (so exactly once).
    None for a delivery no longer pending (another dispatcher finished it after our lease).
    A handful of statements for the whole group, whatever its size."""
    rows = await repository.lock_pending_state(session, {f.delivery_id for f in finished})
    now = ctx.clock.now()
    changes: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    statuses: list[Status | None] = []
    gave_up: list[GaveUp] = []
    for done in finished:
        row = rows.get(done.delivery_id)
        if row is None or row["status"] != Status.pending:
            statuses.append(None)
            continue
        change, attempt = _settle(ctx, row, done.result, now)
        row.update(change)  # the same delivery twice in a group: the second finds it settled
        changes.append(change)
        attempts.append(attempt)
        if done.inbox is not None and change["status"] == Status.sent:
            items.append(_inbox_item(row, done.inbox, now))
        statuses.append(Status(change["status"]))
        if gives_up(Status(change["status"]), done.result):
            gave_up.append(GaveUp(done.delivery_id, done.channel, attempt))
    await plan_fallbacks(session, ctx, gave_up, now)  # the same transaction as the failure
    await repository.settle_deliveries(session, changes, attempts)
    await repository.insert_inbox_items(session, items)
    return statuses


def _settle(
    ctx: Context, row: dict[str, Any], result: Result, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The delivery's new state and its line in the attempt log."""
    attempt = row["attempts"] + 1
    transition = settle(
        result.outcome,
        attempt=attempt,
        max_attempts=ctx.settings.max_attempts,
        now=now,
        permanent=result.permanent,
    )
    change = {
        "delivery_id": row["delivery_id"],
        "status": transition.status.value,
        "attempts": attempt,
        "next_attempt_at": transition.next_attempt_at,
        "last_error": result.error_type or row["last_error"],
        "sent_at": now if transition.status is Status.sent else row["sent_at"],
    }
    log_line = {
        "delivery_id": row["delivery_id"],
        "attempt": attempt,
        "at": now,
        "outcome": transition.outcome.value,
        "error_type": result.error_type,
        "fallback_to": None,  # set by plan_fallbacks when it gives up
    }
    return change, log_line


def _inbox_item(row: dict[str, Any], message: Rendered, now: datetime) -> dict[str, Any]:
    return {
        "item_id": row["delivery_id"],  # the delivery's id: at most one item per delivery
        "member_id": row["member_id"],
        "event_type": row["event_type"],
        "title": message.title,
        "body": message.body,
        "created_at": now,
        "read_at": None,
    }
