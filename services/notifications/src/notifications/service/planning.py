"""Deciding who is told what: an event becomes delivery rows, committed with the consumer's
record of the event, before anything is sent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.domain.deliveries import Channel, Status, delivery_id
from notifications.models import Delivery
from notifications.service.context import Context
from shared.contracts.envelope import Envelope
from shared.contracts.events import EnrollmentConfirmed, EnrollmentRefused, EnrollmentWaitlisted
from shared.links import LinkSigner
from shared.orgs.directory import UnknownOrg

MemberDecision = EnrollmentConfirmed | EnrollmentWaitlisted | EnrollmentRefused

# Every member-facing channel this node runs today; SMS and webhooks will join here.
MEMBER_CHANNELS = (Channel.email, Channel.inapp)


async def lives_here(session: AsyncSession, ctx: Context, org_id: str) -> bool:
    """Whether a member of `org_id` is this node's to tell. An org we have not replicated yet
    may well be ours: wait for it (transient) rather than drop the notification."""
    org = await ctx.orgs.get(org_id, session)
    if org is None:
        raise UnknownOrg(org_id)
    return org.hosted_by == ctx.node_id


# Decisions after which a member may want to give the seat or place up with one click.
CANCELLABLE = (EnrollmentConfirmed, EnrollmentWaitlisted)


def cancel_link(ctx: Context, event: MemberDecision) -> str | None:
    """A signed one-click link to the member's home enrollment service (same node, same
    link secret), when this node issues them."""
    settings = ctx.settings
    if not isinstance(event, CANCELLABLE) or not settings.enrollment_public_url:
        return None
    if settings.link_secret is None:
        return None
    signer = LinkSigner(
        settings.link_secret.get_secret_value(),
        max_age_seconds=settings.link_max_age_hours * 3600,
    )
    token = signer.make("cancel-enrollment", event.enrollment_id)
    return f"{settings.enrollment_public_url.rstrip('/')}/links/{token}"


async def plan_member_notice(
    session: AsyncSession, ctx: Context, event: MemberDecision, envelope: Envelope
) -> int:
    """One pending delivery per channel for the member the decision is about; returns how
    many rows are new (a redelivered event adds none: the key is (event, member, channel))."""
    if not await lives_here(session, ctx, event.home_org):
        return 0  # the member's own node tells them
    now = ctx.clock.now()
    if now - envelope.time > timedelta(hours=ctx.settings.notify_max_age_hours):
        return 0  # stale news, e.g. replayed by a node that is new to the topic
    data = event.model_dump(mode="json")
    if (link := cancel_link(ctx, event)) is not None:
        data["cancel_link"] = link
    rows = [
        {
            "delivery_id": delivery_id(envelope.id, event.member_id, channel),
            "ce_id": envelope.id,
            "event_type": envelope.type,
            "member_id": event.member_id,
            "channel": channel.value,
            "data": data,
            "status": Status.pending.value,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": None,
            "created_at": now,
            "sent_at": None,
        }
        for channel in MEMBER_CHANNELS
    ]
    return await repository.insert_ignoring_duplicates(session, Delivery, rows)
