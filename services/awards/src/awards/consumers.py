"""Thin Kafka handlers: the consumer machinery validated and de-duplicated the event; each
handler calls one use case in the transaction it is given."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards.service.context import Context
from awards.service.facts import record_confirmed_enrollment
from shared.contracts import topics
from shared.contracts.envelope import Envelope
from shared.contracts.events import EnrollmentConfirmed, OrgRegistered
from shared.messaging.consumer import ConsumerSpec


def consumer_specs(ctx: Context) -> list[ConsumerSpec]:
    settings = ctx.settings

    async def on_confirmed(s: AsyncSession, e: EnrollmentConfirmed, env: Envelope) -> None:
        await record_confirmed_enrollment(s, ctx, e, env)

    return [
        ConsumerSpec(
            name="org_tree",
            topics=[topics.FEDERATION],
            group_id=settings.group_id("org_tree"),
            routes={OrgRegistered: ctx.orgs.on_org_registered},
            description="Replicates the federation's org tree.",
        ),
        ConsumerSpec(
            name="enrollment_facts",
            topics=[topics.ENROLLMENT],
            group_id=settings.group_id("enrollment_facts"),
            routes={EnrollmentConfirmed: on_confirmed},
            relevant=ctx.orgs.relevant,
            description="Records eligibility facts about members hosted at this node.",
        ),
    ]
