"""Thin Kafka handlers: the consumer machinery validated and de-duplicated the event; each
handler calls one use case in the transaction it is given."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards.service.context import Context
from awards.service.facts import record_confirmed_enrollment
from shared.contracts import topics
from shared.contracts.envelope import Envelope
from shared.contracts.events import EnrollmentConfirmed
from shared.messaging.consumer import ConsumerSpec
from shared.orgs.consumer import org_tree_consumer


def consumer_specs(ctx: Context) -> list[ConsumerSpec]:
    settings = ctx.settings

    async def on_confirmed(s: AsyncSession, e: EnrollmentConfirmed, env: Envelope) -> None:
        await record_confirmed_enrollment(s, ctx, e, env)

    return [
        org_tree_consumer(settings, ctx.orgs),
        ConsumerSpec(
            name="enrollment_facts",
            topics=[topics.ENROLLMENT],
            group_id=settings.group_id("enrollment_facts"),
            routes={EnrollmentConfirmed: on_confirmed},
            relevant=ctx.orgs.relevant,
            description="Records eligibility facts about members hosted at this node.",
        ),
    ]
