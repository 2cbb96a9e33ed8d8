"""Channel fallback: a delivery that gave up (failed after its last attempt, or skipped as its
channel cannot reach the member) is followed by one on the next channel the member allows,
in the order of `Channel` (SMS → e-mail). Planned in the transaction that records the
failure, keyed like any delivery: if that channel's delivery exists already (planned with
the event, or by an earlier fallback), nothing is added — still one message per channel."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.domain.deliveries import Channel, Status, new_delivery
from notifications.models import Delivery
from notifications.service.context import Context
from notifications.service.preferences import allowed_channels

if TYPE_CHECKING:  # dispatching imports this module
    from notifications.service.dispatching import Result

ORDER = list(Channel)


@dataclass(frozen=True)
class GaveUp:
    """A delivery whose attempt ended it without sending, with that attempt's log line (which
    is told the delivery it fell back to)."""

    delivery_id: str
    channel: str
    log_line: dict[str, Any]


def gives_up(status: Status, result: Result) -> bool:
    return status is Status.failed or (status is Status.skipped and result.falls_back)


def next_channel(failed: str, allowed: Iterable[Channel]) -> Channel | None:
    """The first channel after `failed` in the fallback order that the member allows."""
    try:
        later = ORDER[ORDER.index(Channel(failed)) + 1 :]
    except ValueError:  # not a member's channel (a webhook, say): nothing to fall back to
        return None
    permitted = set(allowed)
    return next((channel for channel in later if channel in permitted), None)


async def plan_fallbacks(
    session: AsyncSession, ctx: Context, gave_up: Sequence[GaveUp], now: datetime
) -> int:
    """Plan the next channel's delivery for each of `gave_up` (one INSERT ignoring duplicates)
    and note it in the log line; returns how many deliveries are new."""
    if not gave_up:
        return 0
    sources = {
        d.delivery_id: d
        for d in await repository.deliveries_by_id(session, [g.delivery_id for g in gave_up])
    }
    known = await repository.recipients_by_id(session, {d.member_id for d in sources.values()})
    rows: list[dict[str, Any]] = []
    for done in gave_up:
        source = sources.get(done.delivery_id)
        if source is None:
            continue
        recipient = known.get(source.member_id)
        home_org = recipient.home_org if recipient else source.home_org
        if not isinstance(home_org, str):
            continue  # nobody knows where the member belongs: no channel to ask about
        allowed = await allowed_channels(
            session, ctx, source.member_id, home_org, source.event_type
        )
        channel = next_channel(source.channel, allowed)
        if channel is None:
            continue
        row = _fallback_row(source, channel, now)
        done.log_line["fallback_to"] = row["delivery_id"]
        rows.append(row)
    if not rows:
        return 0
    return await repository.insert_ignoring_duplicates(session, Delivery, rows)


def _fallback_row(source: Delivery, channel: Channel, now: datetime) -> dict[str, Any]:
    return new_delivery(
        ce_id=source.ce_id,
        event_type=source.event_type,
        member_id=source.member_id,
        channel=channel,
        data=source.data,
        home_org=source.home_org,
        now=now,
        lane=source.lane,
        fallback_of=source.delivery_id,
        traceparent=source.traceparent,  # the same event's trace
    )
