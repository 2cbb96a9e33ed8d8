"""Thin Kafka handlers: the consumer machinery validated and de-duplicated the event; each
handler calls one use case in the transaction it is given."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.service.context import Context
from enrollment.service.decisions import decide_enrollment, preload_requests
from enrollment.service.outcomes import preload_outcomes, record_outcome
from enrollment.service.programmes import copy_programme
from shared.contracts import topics
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    EnrollmentConfirmed,
    EnrollmentRefused,
    EnrollmentRequested,
    EnrollmentWaitlisted,
    ProgrammePublished,
)
from shared.messaging.consumer import ConsumerSpec
from shared.orgs.consumer import org_tree_consumer


def consumer_specs(ctx: Context) -> list[ConsumerSpec]:
    settings = ctx.settings

    async def on_request(s: AsyncSession, e: EnrollmentRequested, _: Envelope) -> None:
        await decide_enrollment(s, ctx, e)

    async def on_programme(s: AsyncSession, e: ProgrammePublished, _: Envelope) -> None:
        await copy_programme(s, ctx, e)

    async def on_outcome(s: AsyncSession, e: EnrollmentConfirmed, _: Envelope) -> None:
        await record_outcome(s, ctx, e)

    return [
        org_tree_consumer(settings, ctx.orgs),
        ConsumerSpec(
            name="requests",
            topics=[topics.inbox(settings.node_id)],
            group_id=settings.group_id("requests"),
            routes={EnrollmentRequested: on_request},
            preload=preload_requests,
            description="Decides enrollment requests for programmes this node owns.",
        ),
        ConsumerSpec(
            name="catalogue",
            topics=[topics.ENROLLMENT],
            group_id=settings.group_id("catalogue"),
            routes={
                ProgrammePublished: on_programme,
                EnrollmentConfirmed: on_outcome,
                EnrollmentWaitlisted: on_outcome,
                EnrollmentRefused: on_outcome,
            },
            relevant=ctx.orgs.relevant,
            preload=preload_outcomes,
            description="Copies programmes open to this node and learns enrollment outcomes.",
        ),
    ]
