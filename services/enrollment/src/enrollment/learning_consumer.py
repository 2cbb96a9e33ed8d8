"""The learning consumer: thin handlers from completion facts on the enrollment topic to the
learning-record use cases (service/learning.py). Its own group, so the catalogue's pace
and its failures do not hold learning records back, and the other way round."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.service.context import Context
from enrollment.service.learning import preload_learning, record_completion, revoke_completion
from shared.contracts import topics
from shared.contracts.envelope import Envelope
from shared.contracts.events import EnrollmentCompleted, EnrollmentCompletionRevoked
from shared.messaging.consumer import ConsumerSpec


def learning_consumer(ctx: Context) -> ConsumerSpec:
    async def on_completed(s: AsyncSession, e: EnrollmentCompleted, env: Envelope) -> None:
        await record_completion(s, ctx, e, env)

    async def on_revoked(s: AsyncSession, e: EnrollmentCompletionRevoked, env: Envelope) -> None:
        await revoke_completion(s, ctx, e, env)

    return ConsumerSpec(
        name="learning",
        topics=[topics.ENROLLMENT],
        group_id=ctx.settings.group_id("learning"),
        routes={EnrollmentCompleted: on_completed, EnrollmentCompletionRevoked: on_revoked},
        relevant=ctx.orgs.relevant,
        preload=preload_learning,
        description="Keeps the learning records and certificates of members hosted here.",
    )
