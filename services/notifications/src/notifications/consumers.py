"""Thin Kafka handlers: the consumer machinery validated and de-duplicated the event; each
handler calls one use case in the transaction it is given."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.service.context import Context
from notifications.service.honours import plan_honour_notice
from notifications.service.planning import MemberDecision, plan_member_notice
from notifications.service.recipients import forget_recipient, record_recipient
from shared.contracts import topics
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    EnrollmentConfirmed,
    EnrollmentRefused,
    EnrollmentWaitlisted,
    HonourGranted,
    MemberLeft,
    MemberRegistered,
)
from shared.messaging.consumer import ConsumerSpec
from shared.orgs.consumer import org_tree_consumer


def consumer_specs(ctx: Context) -> list[ConsumerSpec]:
    settings = ctx.settings

    async def on_member(s: AsyncSession, e: MemberRegistered, _: Envelope) -> None:
        await record_recipient(s, ctx, e)

    async def on_left(s: AsyncSession, e: MemberLeft, _: Envelope) -> None:
        await forget_recipient(s, e)

    async def on_decision(s: AsyncSession, e: MemberDecision, env: Envelope) -> None:
        await plan_member_notice(s, ctx, e, env)

    async def on_honour(s: AsyncSession, e: HonourGranted, env: Envelope) -> None:
        await plan_honour_notice(s, ctx, e, env)

    return [
        org_tree_consumer(settings, ctx.orgs),
        ConsumerSpec(
            name="recipients",
            topics=[topics.members(settings.node_id)],
            group_id=settings.group_id("recipients"),
            routes={MemberRegistered: on_member, MemberLeft: on_left},
            description="Keeps the contact data of this node's members (node-local topic), "
            "and forgets all that names a member who left or moved away.",
        ),
        ConsumerSpec(
            name="enrollment_events",
            topics=[topics.ENROLLMENT],
            group_id=settings.group_id("enrollment_events"),
            routes={
                EnrollmentConfirmed: on_decision,
                EnrollmentWaitlisted: on_decision,
                EnrollmentRefused: on_decision,
            },
            relevant=ctx.orgs.relevant,
            description="Plans a notice to the member for each enrollment decision.",
        ),
        ConsumerSpec(
            name="honours",
            topics=[topics.AWARDS],
            group_id=settings.group_id("honours"),
            routes={HonourGranted: on_honour},
            relevant=ctx.orgs.relevant,
            description="Plans a notice to each member of this node an honour names: a "
            "title or award, an immediate reward, a proposal's reward, a stipend payment.",
        ),
    ]
