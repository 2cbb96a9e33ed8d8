"""Thin Kafka handlers: the consumer machinery validated and de-duplicated the event; each
handler calls one use case in the transaction it is given."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards.service.context import Context
from awards.service.facts import record_confirmed_enrollment
from awards.service.transfers import hand_over_honours, take_honours
from shared.contracts import topics
from shared.contracts.envelope import Envelope
from shared.contracts.events import EnrollmentConfirmed, HonoursTransferred, MemberTransferred
from shared.messaging.consumer import ConsumerSpec
from shared.orgs.consumer import org_tree_consumer


def consumer_specs(ctx: Context) -> list[ConsumerSpec]:
    settings = ctx.settings

    async def on_confirmed(s: AsyncSession, e: EnrollmentConfirmed, env: Envelope) -> None:
        await record_confirmed_enrollment(s, ctx, e, env)

    async def on_transferred(s: AsyncSession, e: MemberTransferred, _: Envelope) -> None:
        await hand_over_honours(s, ctx, e)

    async def on_honours(s: AsyncSession, e: HonoursTransferred, _: Envelope) -> None:
        await take_honours(s, ctx, e)

    return [
        org_tree_consumer(settings, ctx.orgs),
        ConsumerSpec(
            name="enrollment_facts",
            topics=[topics.ENROLLMENT],
            group_id=settings.group_id("enrollment_facts"),
            routes={EnrollmentConfirmed: on_confirmed, MemberTransferred: on_transferred},
            relevant=ctx.orgs.relevant,
            description="Records eligibility facts about members hosted at this node; hands "
            "them over when a member moves to another node.",
        ),
        ConsumerSpec(
            name="honours",
            topics=[topics.AWARDS],
            group_id=settings.group_id("honours"),
            routes={HonoursTransferred: on_honours},
            relevant=ctx.orgs.relevant,
            description="Keeps the facts of members who moved here from another node.",
        ),
    ]
