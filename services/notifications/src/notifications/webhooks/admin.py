"""The webhook API's use cases, for the node's admins: subscriptions, secret rotation,
enabling again, replays. Each runs in the route's transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.errors import NotFound, Unprocessable
from notifications.models import WebhookSubscription
from notifications.service.context import Context
from notifications.webhooks import repository
from notifications.webhooks.addresses import UnsafeUrl, check_url
from notifications.webhooks.domain import SubscriptionStatus, new_secret
from notifications.webhooks.schemas import ReplayIn, SubscriptionIn, SubscriptionPatch
from shared.auth import Principal
from shared.web.problems import Conflict


async def check_webhook_url(ctx: Context, url: str) -> None:
    """422 naming `url` unless the node may call it (run before the transaction: DNS)."""
    try:
        await check_url(url, allow_private=ctx.settings.webhook_allow_private_urls)
    except UnsafeUrl as exc:
        raise Unprocessable(str(exc), field="url") from exc


async def _check_orgs(session: AsyncSession, ctx: Context, orgs: list[str]) -> None:
    for org in orgs:
        if await ctx.orgs.get(org, session) is None:
            raise Unprocessable(f"unknown org {org}", field="orgs")


async def subscription(
    session: AsyncSession, subscription_id: str, *, for_update: bool = False
) -> WebhookSubscription:
    found = await repository.get_subscription(session, subscription_id, for_update=for_update)
    if found is None:
        raise NotFound(f"webhook {subscription_id} not found")
    return found


async def create(
    session: AsyncSession, ctx: Context, who: Principal, spec: SubscriptionIn
) -> WebhookSubscription:
    """A new active subscription with a fresh secret (the caller shows it once)."""
    limit = ctx.settings.webhook_max_subscriptions
    if await repository.count_subscriptions(session) >= limit:
        raise Conflict(f"this node keeps at most {limit} webhook subscriptions")
    await _check_orgs(session, ctx, spec.orgs)
    now = ctx.clock.now()
    created = WebhookSubscription(
        subscription_id=str(uuid.uuid4()),
        url=spec.url,
        description=spec.description,
        event_types=list(dict.fromkeys(spec.event_types)),
        orgs=list(dict.fromkeys(spec.orgs)),
        secret=new_secret(),
        previous_secret=None,
        previous_secret_until=None,
        status=SubscriptionStatus.active.value,
        failing_since=None,
        disabled_at=None,
        created_by_org=who.org,
        created_by_sub=who.sub,
        created_at=now,
        updated_at=now,
    )
    session.add(created)
    await session.flush()
    return created


async def change(
    session: AsyncSession, ctx: Context, subscription_id: str, patch: SubscriptionPatch
) -> WebhookSubscription:
    sub = await subscription(session, subscription_id, for_update=True)
    if patch.url is not None:
        sub.url = patch.url
    if patch.event_types is not None:
        sub.event_types = list(dict.fromkeys(patch.event_types))
    if patch.orgs is not None:
        await _check_orgs(session, ctx, patch.orgs)
        sub.orgs = list(dict.fromkeys(patch.orgs))
    if "description" in patch.model_fields_set:
        sub.description = patch.description
    sub.updated_at = ctx.clock.now()
    await session.flush()
    return sub


async def rotate_secret(
    session: AsyncSession, ctx: Context, subscription_id: str
) -> tuple[WebhookSubscription, str]:
    """A new secret; the current one keeps signing beside it for the overlap (a second
    rotation within the overlap drops the oldest)."""
    sub = await subscription(session, subscription_id, for_update=True)
    now = ctx.clock.now()
    overlap = timedelta(hours=ctx.settings.webhook_secret_overlap_hours)
    sub.previous_secret = sub.secret if overlap else None
    sub.previous_secret_until = now + overlap if overlap else None
    sub.secret = new_secret()
    sub.updated_at = now
    await session.flush()
    return sub, sub.secret


async def enable(session: AsyncSession, ctx: Context, subscription_id: str) -> WebhookSubscription:
    """Active again, its health forgotten; deliveries still pending are due at once."""
    sub = await subscription(session, subscription_id, for_update=True)
    now = ctx.clock.now()
    if sub.status != SubscriptionStatus.active:
        sub.status, sub.disabled_at, sub.failing_since = SubscriptionStatus.active.value, None, None
        sub.updated_at = now
        await repository.due_now(session, subscription_id, now)
    await session.flush()
    return sub


async def replay(session: AsyncSession, ctx: Context, subscription_id: str, span: ReplayIn) -> int:
    """Queue the deliveries logged in [from, to) again, with the same webhook-ids."""
    await subscription(session, subscription_id)
    if span.until <= span.since:
        raise Unprocessable("`to` must be later than `from`", field="to")
    longest = timedelta(hours=ctx.settings.webhook_replay_max_hours)
    if span.until - span.since > longest:
        raise Unprocessable(
            f"a replay covers at most {ctx.settings.webhook_replay_max_hours:g} hours",
            field="to",
        )
    return await repository.requeue(
        session, subscription_id, since=span.since, until=span.until, now=ctx.clock.now()
    )
