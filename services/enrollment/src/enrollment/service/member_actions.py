"""Home node: what a member (or their cadre) does with an enrollment once it exists — give
it up, take an offered seat — and where they stand in the waitlist. The owner decides; the
home node asks it through its inbox (one code path, whether or not the owner is local)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.domain.lifecycle import Status, Step, TransitionNotAllowed, next_status
from enrollment.errors import Conflict, NotFound
from enrollment.models import Enrollment, Programme
from enrollment.service.context import Context
from shared.contracts import topics
from shared.contracts.events import (
    EnrollmentCancellationRequested,
    EnrollmentCancelled,
    EnrollmentOfferAccepted,
)

By = Literal["member", "cadre"]


def _fact(enrollment: Enrollment, programme: Programme) -> dict[str, str]:
    return {
        "enrollment_id": enrollment.enrollment_id,
        "programme_id": enrollment.programme_id,
        "member_id": enrollment.member_id,
        "owner_org": programme.owner_org,
        "home_org": enrollment.home_org,
    }


async def programme_of(session: AsyncSession, enrollment: Enrollment) -> Programme:
    programme = await repository.get_programme(session, enrollment.programme_id)
    if programme is None:  # a copy arrives before any request can be made: not expected
        raise NotFound(f"programme {enrollment.programme_id} is not known here")
    return programme


async def cancel(
    session: AsyncSession, ctx: Context, enrollment: Enrollment, *, by: By
) -> Enrollment:
    """A member gives up their seat or place until the cut-off; their cadre also after it,
    until the programme starts. Not yet forwarded (awaiting approval): cancelled here."""
    now = ctx.clock.now()
    programme = await programme_of(session, enrollment)
    next_status(enrollment.status, Step.cancel)  # 409 naming the state otherwise
    _check_time(programme, now, by)
    if enrollment.status == Status.pending_approval:
        was = enrollment.status
        enrollment.status, enrollment.reason = Status.cancelled, f"cancelled_by_{by}"
        enrollment.updated_at = now
        event = EnrollmentCancelled(
            **_fact(enrollment, programme), cancelled_at=now, by=by, was=was
        )
        await ctx.outbox.stage(session, event, topic=topics.ENROLLMENT)
        return enrollment
    request = EnrollmentCancellationRequested(
        **_fact(enrollment, programme), requested_at=now, by=by
    )
    await ctx.outbox.stage(session, request, topic=topics.inbox(programme.owner_node))
    return enrollment


def _check_time(programme: Programme, now: datetime, by: By) -> None:
    closes = programme.enrollment_closes_at
    if by == "member" and closes is not None and now > closes:
        raise Conflict(
            "the cut-off for cancelling has passed: the member's union cadre can still cancel",
            state="cut_off",
        )
    if now >= programme.starts_at:
        raise Conflict("the programme has started: nothing to cancel", state="started")


async def accept_offer(session: AsyncSession, ctx: Context, enrollment: Enrollment) -> Enrollment:
    """The member takes the seat offered to them, before the offer expires."""
    now = ctx.clock.now()
    if enrollment.status != Status.offered:
        raise TransitionNotAllowed(enrollment.status, Step.accept)
    if enrollment.offer_expires_at is not None and now > enrollment.offer_expires_at:
        raise Conflict("the offer has expired", state="offered", transition="accept")
    programme = await programme_of(session, enrollment)
    accepted = EnrollmentOfferAccepted(**_fact(enrollment, programme), accepted_at=now)
    await ctx.outbox.stage(session, accepted, topic=topics.inbox(programme.owner_node))
    return enrollment


async def queue_position(session: AsyncSession, enrollment: Enrollment) -> int | None:
    """1 for the first in the waitlist: the member's waitlist number minus the numbers
    before it that have left (the owner announces them, anonymously)."""
    if enrollment.status != Status.waitlisted or enrollment.waitlist_number is None:
        return None
    left = await repository.departures_below(
        session, enrollment.programme_id, enrollment.waitlist_number
    )
    return enrollment.waitlist_number - left
