"""The `webhooks` consumer's use case: an event becomes one pending webhook delivery per
active subscription whose type and org filters it matches, committed with the consumer's
record of the event — so exactly one per (event, subscription), whatever is redelivered."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import WebhookSubscription
from notifications.service.context import Context
from notifications.service.planning import is_stale
from notifications.webhooks import repository
from notifications.webhooks.domain import WebhookStatus, matches_any, webhook_id
from shared.contracts.base import REGISTRY, Event
from shared.contracts.envelope import Envelope
from shared.tracing import current_traceparent

# The families of event types that travel on the shared enrollment and awards topics (what
# the `webhooks` consumer reads). Member records and roll-up snapshots have their own topics.
SHARED_FAMILIES = (
    "bigschool.enrollment.",
    "bigschool.certificate.",
    "bigschool.programme.",
    "bigschool.member.transferred.",
    "bigschool.awards.",
)


def webhook_event_types() -> list[type[Event]]:
    """Every registered event type an integrator can subscribe to."""
    return [
        model
        for ce_type, model in sorted(REGISTRY.items())
        if ce_type.startswith(SHARED_FAMILIES) and not model.signed
    ]


def payload(event: Event, envelope: Envelope) -> str:
    """The body sent: the event with its envelope essentials, as compact JSON. Written once,
    so every retry and replay signs and sends the very same bytes."""
    body: dict[str, Any] = {
        "id": envelope.id,
        "type": envelope.type,
        "source": envelope.source,
        "time": envelope.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "subject": envelope.subject,
        "data": event.model_dump(mode="json"),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


async def plan_webhooks(
    session: AsyncSession, ctx: Context, event: Event, envelope: Envelope
) -> int:
    """Plan the event's webhook deliveries; returns how many rows are new."""
    if is_stale(ctx, envelope):
        return 0
    subscriptions = await repository.active_subscriptions(
        session, ctx.settings.webhook_max_subscriptions
    )
    wanted = [
        s
        for s in subscriptions
        if matches_any(s.event_types, envelope.type)
        and await _in_filter(session, ctx, s, envelope.orgs)
    ]
    if not wanted:
        return 0
    body, now = payload(event, envelope), ctx.clock.now()
    rows = [
        {
            "delivery_id": webhook_id(envelope.id, s.subscription_id),
            "subscription_id": s.subscription_id,
            "ce_id": envelope.id,
            "event_type": envelope.type,
            "body": body,
            "status": WebhookStatus.pending.value,
            "attempts": 0,
            "next_attempt_at": now,
            "queued_at": now,
            "last_status_code": None,
            "last_error": None,
            "created_at": now,
            "sent_at": None,
            "traceparent": current_traceparent(),  # the consumer's `process` span
        }
        for s in wanted
    ]
    return await repository.insert_deliveries(session, rows)


async def _in_filter(
    session: AsyncSession, ctx: Context, subscription: WebhookSubscription, orgs: Sequence[str]
) -> bool:
    """No org filter: every event this node keeps. Otherwise an org the event involves must lie
    in one of the filter's subtrees (UnknownOrg for a gap in its chain: the event is held)."""
    if not subscription.orgs:
        return True
    for org in orgs:
        chain = {org, *await ctx.orgs.ancestors(org, session)}
        if chain.intersection(subscription.orgs):
            return True
    return False
