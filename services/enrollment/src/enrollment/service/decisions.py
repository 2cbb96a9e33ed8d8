"""Owner node: decide a programme's requests in order, under its row lock."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.domain.seats import SeatStatus, decide_seat
from enrollment.models import Seat
from enrollment.service.audience import in_audience
from enrollment.service.context import Context
from shared.contracts import topics
from shared.contracts.base import Event
from shared.contracts.events import (
    EnrollmentConfirmed,
    EnrollmentRefused,
    EnrollmentRequested,
    EnrollmentWaitlisted,
)


async def preload_requests(session: AsyncSession, requests: Sequence[EnrollmentRequested]) -> None:
    """Owner node, once per polled batch: lock its programmes (in id order) and load the
    seats already decided for its requests and members — then each decision is a few
    in-memory checks and two inserts."""
    await repository.lock_programmes(session, (r.programme_id for r in requests))
    await repository.preload_seats(
        session,
        (r.enrollment_id for r in requests),
        ((r.programme_id, r.member_id) for r in requests),
    )


async def decide_enrollment(session: AsyncSession, ctx: Context, req: EnrollmentRequested) -> None:
    """Owner node: decide in one transaction under the programme's lock."""
    programme = await repository.get_programme(session, req.programme_id, lock=True)
    # Checked under the lock: a re-sent twin of this request may have just been decided.
    if await repository.get_seat(session, req.enrollment_id) is not None:
        return  # decided before: the request was re-sent
    now = ctx.clock.now()
    common = {
        "enrollment_id": req.enrollment_id,
        "programme_id": req.programme_id,
        "member_id": req.member_id,
        "home_org": req.home_org,
        "decided_at": now,
    }
    if programme is None or programme.owner_node != ctx.node_id:
        await _announce(
            session,
            ctx,
            EnrollmentRefused(
                **common,
                owner_org=programme.owner_org if programme else req.home_org,
                reason="unknown_programme",
            ),
        )
        return
    common["owner_org"] = programme.owner_org
    common["programme_title"] = programme.title
    if not await in_audience(ctx, session, programme, req.home_org):
        await _announce(session, ctx, EnrollmentRefused(**common, reason="not_in_audience"))
        return
    if await repository.seat_of_member(session, req.programme_id, req.member_id):
        await _announce(session, ctx, EnrollmentRefused(**common, reason="already_enrolled"))
        return
    decision = decide_seat(
        capacity=programme.capacity,
        confirmed=programme.confirmed_count,
        next_sequence=programme.next_sequence,
    )
    programme.next_sequence += 1
    if decision.status is SeatStatus.confirmed:
        programme.confirmed_count += 1
    repository.add_seat(
        session,
        Seat(
            enrollment_id=req.enrollment_id,
            programme_id=req.programme_id,
            member_id=req.member_id,
            home_org=req.home_org,
            home_node=req.home_node,
            status=decision.status.value,
            sequence=decision.sequence,
            decided_at=now,
        ),
    )
    if decision.status is SeatStatus.confirmed:
        event: Event = EnrollmentConfirmed(
            **common,
            sequence=decision.sequence,
            hours=programme.hours,
            quality_area=programme.quality_area,
        )
    else:
        event = EnrollmentWaitlisted(**common, sequence=decision.sequence)
    await _announce(session, ctx, event)


async def _announce(session: AsyncSession, ctx: Context, event: Event) -> None:
    await ctx.outbox.stage(session, event, topic=topics.ENROLLMENT)
