"""Thin Kafka handlers: the consumer machinery validated and de-duplicated the event; each
handler calls one use case in the transaction it is given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.learning_consumer import learning_consumer
from enrollment.service.context import Context
from enrollment.service.decisions import decide_enrollment, preload_requests
from enrollment.service.outcomes import (
    OUTCOMES,
    preload_outcomes,
    programme_cancelled,
    record_outcome,
    waitlist_moved,
)
from enrollment.service.programmes import copy_programme
from enrollment.service.seats import cancel_requested, offer_accepted
from enrollment.service.transfers import hand_over, transfer_refused, transferred
from enrollment.stats_consumer import stats_consumer
from shared.contracts import topics
from shared.contracts.base import Event
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    EnrollmentCancellationRequested,
    EnrollmentOfferAccepted,
    EnrollmentRequested,
    MemberTransferAccepted,
    MemberTransferred,
    MemberTransferRefused,
    ProgrammeCancelled,
    ProgrammeChanged,
    ProgrammePublished,
    ProgrammeWaitlistMoved,
)
from shared.messaging.consumer import ConsumerSpec, Handler
from shared.orgs.consumer import org_tree_consumer

# What the inbox's batch preload locks programmes for.
_SEAT_REQUESTS = (EnrollmentRequested, EnrollmentCancellationRequested, EnrollmentOfferAccepted)


def consumer_specs(ctx: Context) -> list[ConsumerSpec]:
    settings = ctx.settings

    async def on_request(s: AsyncSession, e: EnrollmentRequested, _: Envelope) -> None:
        await decide_enrollment(s, ctx, e)

    async def on_programme(s: AsyncSession, e: ProgrammePublished, _: Envelope) -> None:
        await copy_programme(s, ctx, e)

    async def on_outcome(s: AsyncSession, e: Any, _: Envelope) -> None:
        await record_outcome(s, ctx, e)

    async def preload_inbox(s: AsyncSession, events: Sequence[Any]) -> None:
        seat_requests: list[Any] = [e for e in events if isinstance(e, _SEAT_REQUESTS)]
        await preload_requests(s, ctx, seat_requests)

    async def on_transfer_accepted(s: AsyncSession, e: MemberTransferAccepted, _: Envelope) -> None:
        await hand_over(s, ctx, e)

    async def on_transfer_refused(s: AsyncSession, e: MemberTransferRefused, _: Envelope) -> None:
        await transfer_refused(s, ctx, e)

    async def on_transferred(s: AsyncSession, e: MemberTransferred, env: Envelope) -> None:
        await transferred(s, ctx, e, env)

    async def on_cancellation(
        s: AsyncSession, e: EnrollmentCancellationRequested, _: Envelope
    ) -> None:
        await cancel_requested(s, ctx, e)

    async def on_acceptance(s: AsyncSession, e: EnrollmentOfferAccepted, _: Envelope) -> None:
        await offer_accepted(s, ctx, e)

    async def on_cancelled(s: AsyncSession, e: ProgrammeCancelled, _: Envelope) -> None:
        await programme_cancelled(s, ctx, e)

    async def on_moved(s: AsyncSession, e: ProgrammeWaitlistMoved, _: Envelope) -> None:
        await waitlist_moved(s, ctx, e)

    outcome_routes: dict[type[Event], Handler] = {model: on_outcome for model in OUTCOMES}

    return [
        org_tree_consumer(settings, ctx.orgs),
        learning_consumer(ctx),
        stats_consumer(ctx),
        ConsumerSpec(
            name="requests",
            topics=[topics.inbox(settings.node_id)],
            group_id=settings.group_id("requests"),
            routes={
                EnrollmentRequested: on_request,
                EnrollmentCancellationRequested: on_cancellation,
                EnrollmentOfferAccepted: on_acceptance,
                MemberTransferAccepted: on_transfer_accepted,
                MemberTransferRefused: on_transfer_refused,
            },
            preload=preload_inbox,
            description="Decides requests, cancellations and acceptances for the programmes "
            "this node owns (in each programme's order); hands members over to their new "
            "home node, or learns that the old home refused.",
        ),
        ConsumerSpec(
            name="catalogue",
            topics=[topics.ENROLLMENT],
            group_id=settings.group_id("catalogue"),
            routes={
                ProgrammePublished: on_programme,
                ProgrammeChanged: on_programme,
                ProgrammeCancelled: on_cancelled,
                ProgrammeWaitlistMoved: on_moved,
                MemberTransferred: on_transferred,
                **outcome_routes,
            },
            relevant=ctx.orgs.relevant,
            preload=preload_outcomes,
            description="Copies programmes open to this node; its members' enrollments follow "
            "what the owners decide and record (refusals as v2); members transferred here "
            "arrive with their record, and seats follow members who moved.",
        ),
    ]
