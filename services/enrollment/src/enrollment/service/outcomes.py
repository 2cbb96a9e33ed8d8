"""Home node: the member's enrollment learns what the owner decided."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.service.context import Context
from shared.contracts.base import Event
from shared.contracts.events import EnrollmentConfirmed, EnrollmentRefused, EnrollmentWaitlisted

_OUTCOMES = (EnrollmentConfirmed, EnrollmentWaitlisted, EnrollmentRefused)


async def preload_outcomes(session: AsyncSession, events: Sequence[Event]) -> None:
    """Home node, once per polled batch: the enrollments the decisions are about."""
    ids = [e.enrollment_id for e in events if isinstance(e, _OUTCOMES)]
    if ids:
        await repository.preload_enrollments(session, ids)


async def record_outcome(
    session: AsyncSession,
    ctx: Context,
    event: EnrollmentConfirmed | EnrollmentWaitlisted | EnrollmentRefused,
) -> None:
    """Home node: the member's enrollment learns the owner's decision."""
    enrollment = await repository.get_enrollment(session, event.enrollment_id)
    if enrollment is None:
        return  # not one of ours (the owner node sees its own decisions too)
    if isinstance(event, EnrollmentConfirmed):
        enrollment.status, enrollment.sequence = "confirmed", event.sequence
    elif isinstance(event, EnrollmentWaitlisted):
        enrollment.status, enrollment.sequence = "waitlisted", event.sequence
    else:
        enrollment.status, enrollment.reason = "refused", event.reason
    enrollment.decided_at = event.decided_at
