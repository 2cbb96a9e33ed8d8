"""Deciding who is told what: an event becomes delivery rows, committed with the consumer's
record of the event, before anything is sent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.domain.deliveries import Channel, Status, new_delivery
from notifications.domain.preferences import planned_first
from notifications.models import Delivery
from notifications.service import catalogue
from notifications.service.context import Context
from notifications.service.preferences import kind_of, preferences_of_many
from notifications.service.rules import rule_for
from shared.contracts.base import Event
from shared.contracts.envelope import Envelope
from shared.contracts.events import EnrollmentConfirmed, EnrollmentRefused, EnrollmentWaitlisted
from shared.orgs.directory import UnknownOrg
from shared.tracing import current_traceparent

MemberDecision = EnrollmentConfirmed | EnrollmentWaitlisted | EnrollmentRefused


@dataclass(frozen=True)
class Slot:
    """One delivery of a notice to a recipient: its channel, and whether it is due at `at`
    (`pending`) or held for the digest at `at` (`digest`)."""

    channel: Channel
    status: Status
    at: datetime


async def slots_of_many(
    session: AsyncSession, ctx: Context, members: Sequence[tuple[str, str]], event_type: str
) -> dict[str, list[Slot]]:
    """For each (member id, home org) of a batch, the deliveries of a notice of `event_type`
    planned now: the in-app item and the first message channel their preferences allow for
    its kind (the next ones are fallbacks; a critical notice uses them all at once), in-app
    at once, e-mail and SMS after their quiet hours or in their digest (`Preferences.timing`;
    critical notices pass both). A few queries per batch, none per member."""
    kind = kind_of(event_type)
    preferences = await preferences_of_many(session, ctx, members)
    now = ctx.clock.now()
    return {
        member_id: [
            Slot(channel, *prefs.timing(channel, kind.priority, now))
            for channel in planned_first(prefs.channels_for(kind.name), kind.priority)
        ]
        for member_id, prefs in preferences.items()
    }


async def lives_here(session: AsyncSession, ctx: Context, org_id: str) -> bool:
    """Whether a member of `org_id` is this node's to tell. An org we have not replicated yet
    may well be ours: wait for it (transient) rather than drop the notification."""
    org = await ctx.orgs.get(org_id, session)
    if org is None:
        raise UnknownOrg(org_id)
    return org.hosted_by == ctx.node_id


async def plan_event(session: AsyncSession, ctx: Context, event: Event, envelope: Envelope) -> int:
    """Plan the notices of a member-facing event as its rule (`service/rules.py`) says: one
    pending delivery per channel for each member it concerns whose home org this node hosts;
    returns how many rows are new."""
    rule = rule_for(event)
    if not rule.applies(event):
        return 0
    member_ids = list(dict.fromkeys(rule.members(event)))
    if rule.home_org is not None and not rule.known_only:
        home_org = rule.home_org(event)
        audience = [(m, home_org) for m in member_ids]
    else:
        known = await repository.recipients_by_id(session, member_ids)
        audience = [
            (m, rule.home_org(event) if rule.home_org else known[m].home_org)
            for m in member_ids
            if m in known
        ]
    if not audience:
        return 0
    data = event.model_dump(mode="json", exclude=dict(rule.exclude) or None)
    data.update(rule.fields(ctx, event))
    data.update(await catalogue.titles(session, data))  # a programme or scheme named by id
    for name, org_of in rule.org_names.items():
        org = await ctx.orgs.get(org_of(event), session)
        if org is not None:
            data[name] = org.name
    return await plan_notices(session, ctx, envelope, audience, data)


async def plan_member_notice(
    session: AsyncSession, ctx: Context, event: MemberDecision, envelope: Envelope
) -> int:
    """One pending delivery per channel for the member the decision is about; returns how
    many rows are new."""
    return await plan_event(session, ctx, event, envelope)


def is_stale(ctx: Context, envelope: Envelope) -> bool:
    """Stale news, e.g. replayed by a node that is new to the topic: nobody is told."""
    age = ctx.clock.now() - envelope.time
    return age > timedelta(hours=ctx.settings.notify_max_age_hours)


async def plan_notices(
    session: AsyncSession,
    ctx: Context,
    envelope: Envelope,
    audience: Iterable[tuple[str, str]],
    data: dict[str, Any],
) -> int:
    """Plan the event's notice (`data`, what the templates see) for each (member id, home
    org) of `audience` who lives here, in one INSERT; returns how many rows are new (a
    redelivered event adds none: the key is (event, member, channel))."""
    if is_stale(ctx, envelope):
        return 0
    hosted = [(m, org) for m, org in dict.fromkeys(audience) if await lives_here(session, ctx, org)]
    slots = await slots_of_many(session, ctx, hosted, envelope.type) if hosted else {}
    now = ctx.clock.now()
    rows = [
        _row(envelope, member_id, home_org, data, slot, now)
        for member_id, home_org in hosted
        for slot in slots[member_id]
    ]
    if not rows:
        return 0
    return await repository.insert_ignoring_duplicates(session, Delivery, rows)


async def member_deliveries(
    session: AsyncSession,
    ctx: Context,
    envelope: Envelope,
    member_id: str,
    home_org: str,
    data: dict[str, Any],
) -> list[dict[str, Any]]:
    """The deliveries of one event to one member, one per channel they allow — none when the
    member's home org is another node's (their own node tells them)."""
    if not await lives_here(session, ctx, home_org):
        return []
    slots = await slots_of_many(session, ctx, [(member_id, home_org)], envelope.type)
    now = ctx.clock.now()
    return [_row(envelope, member_id, home_org, data, s, now) for s in slots[member_id]]


def _row(
    envelope: Envelope,
    member_id: str,
    home_org: str,
    data: dict[str, Any],
    slot: Slot,
    now: datetime,
) -> dict[str, Any]:
    return new_delivery(
        ce_id=envelope.id,
        event_type=envelope.type,
        member_id=member_id,
        channel=slot.channel,
        data=data,
        home_org=home_org,
        now=now,
        status=slot.status,
        due=slot.at,
        traceparent=current_traceparent(),  # the consumer's `process` span (none in a fan-out)
    )
