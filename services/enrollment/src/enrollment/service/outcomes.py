"""Home node: the member's enrollment follows what the owner decided and recorded — the
owner holds the authoritative seat, the home node mirrors it for the member."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.domain.lifecycle import ENDED, Status
from enrollment.models import Enrollment
from enrollment.service.context import Context
from enrollment.service.stats_marks import mark_dirty_at, mark_programme_enrollments
from shared.contracts.base import Event
from shared.contracts.events import (
    EnrollmentAttended,
    EnrollmentAwaitingBudget,
    EnrollmentCancelled,
    EnrollmentCompleted,
    EnrollmentCompletionRevoked,
    EnrollmentConfirmed,
    EnrollmentNoShow,
    EnrollmentOffered,
    EnrollmentOfferExpired,
    EnrollmentRefusedV2,
    EnrollmentWaitlisted,
    ProgrammeCancelled,
    ProgrammeWaitlistMoved,
)

Outcome = (
    EnrollmentAwaitingBudget
    | EnrollmentConfirmed
    | EnrollmentWaitlisted
    | EnrollmentRefusedV2
    | EnrollmentOffered
    | EnrollmentOfferExpired
    | EnrollmentCancelled
    | EnrollmentAttended
    | EnrollmentNoShow
    | EnrollmentCompleted
    | EnrollmentCompletionRevoked
)
OUTCOMES: tuple[type[Event], ...] = (
    EnrollmentAwaitingBudget,
    EnrollmentConfirmed,
    EnrollmentWaitlisted,
    EnrollmentRefusedV2,
    EnrollmentOffered,
    EnrollmentOfferExpired,
    EnrollmentCancelled,
    EnrollmentAttended,
    EnrollmentNoShow,
    EnrollmentCompleted,
    EnrollmentCompletionRevoked,
)


async def preload_outcomes(session: AsyncSession, events: Sequence[Event]) -> None:
    """Home node, once per polled batch: the enrollments the events are about."""
    ids = [e.enrollment_id for e in events if isinstance(e, OUTCOMES)]  # type: ignore[attr-defined]
    if ids:
        await repository.preload_enrollments(session, ids)


async def record_outcome(session: AsyncSession, ctx: Context, event: Outcome) -> None:
    """Home node: the member's enrollment learns the owner's decision or record."""
    enrollment = await repository.get_enrollment(session, event.enrollment_id)
    if enrollment is None:
        return  # not one of ours (the owner node sees its own decisions too)
    _apply(enrollment, event)
    enrollment.updated_at = ctx.clock.now()
    mark_dirty_at(session, ctx, enrollment.home_org, enrollment.requested_at)  # participants


def _apply(enrollment: Enrollment, event: Outcome) -> None:
    match event:
        case EnrollmentAwaitingBudget():
            enrollment.status, enrollment.sequence = Status.pending_budget, event.sequence
            enrollment.decided_at = event.decided_at
        case EnrollmentConfirmed():
            enrollment.status, enrollment.sequence = Status.confirmed, event.sequence
            enrollment.offer_expires_at = None
            enrollment.decided_at = enrollment.decided_at or event.decided_at
        case EnrollmentWaitlisted():
            enrollment.status, enrollment.sequence = Status.waitlisted, event.sequence
            enrollment.waitlist_number = event.waitlist_number
            enrollment.decided_at = event.decided_at
        case EnrollmentRefusedV2():
            enrollment.status, enrollment.reason = Status.refused, event.reason
            enrollment.decided_at = event.decided_at
        case EnrollmentOffered():
            enrollment.status, enrollment.offer_expires_at = Status.offered, event.offer_expires_at
        case EnrollmentOfferExpired():
            enrollment.status, enrollment.reason = Status.cancelled, "offer_expired"
            enrollment.offer_expires_at = None
        case EnrollmentCancelled():
            enrollment.status, enrollment.reason = Status.cancelled, f"cancelled_by_{event.by}"
            enrollment.offer_expires_at = None
        case EnrollmentAttended():
            enrollment.status = Status.attended
        case EnrollmentNoShow():
            enrollment.status = Status.no_show
        case EnrollmentCompleted():
            enrollment.status, enrollment.completed_at = Status.completed, event.completed_at
            enrollment.hours = event.hours
            enrollment.score, enrollment.rank = event.score, event.rank
        case EnrollmentCompletionRevoked():
            enrollment.status, enrollment.completed_at = Status.attended, None
            enrollment.hours = enrollment.score = enrollment.rank = None


async def programme_cancelled(
    session: AsyncSession, ctx: Context, event: ProgrammeCancelled
) -> None:
    """Every enrollment of ours in a cancelled programme ends (the owner sends no event per
    seat: one programme event says it all)."""
    programme = await repository.get_programme(session, event.programme_id)
    if programme is not None and programme.owner_node != ctx.node_id:
        programme.status, programme.cancelled_at = "cancelled", event.cancelled_at
    await mark_programme_enrollments(session, ctx, event.programme_id)  # participants
    await repository.end_enrollments_of(
        session, event.programme_id, ended=ENDED, reason="programme_cancelled", at=ctx.clock.now()
    )


async def waitlist_moved(
    session: AsyncSession, ctx: Context, event: ProgrammeWaitlistMoved
) -> None:
    """Queue positions: the numbers that left the waitlist (owner's own are already kept)."""
    await repository.add_departures(session, event.programme_id, event.left)
