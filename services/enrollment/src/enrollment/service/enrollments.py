"""Enrollment across nodes: the home node requests, the owner node decides, the home node
learns the outcome. One code path whether or not the owner is local."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.domain.seats import SeatStatus, decide_seat
from enrollment.errors import Conflict, NotFound, Unprocessable
from enrollment.models import Enrollment, Member, Programme, Seat
from enrollment.service.context import Context
from shared.contracts import topics
from shared.contracts.base import Event
from shared.contracts.events import (
    EnrollmentConfirmed,
    EnrollmentRefused,
    EnrollmentRequested,
    EnrollmentWaitlisted,
)

_OUTCOMES = (EnrollmentConfirmed, EnrollmentWaitlisted, EnrollmentRefused)


async def in_audience(ctx: Context, session: AsyncSession, programme: Programme, org: str) -> bool:
    # Asked for every request of a batch: remembered for the transaction.
    known: dict[tuple[str, str], bool] = session.info.setdefault("enrollment.audience", {})
    key = (programme.programme_id, org)
    if key not in known:
        known[key] = False
        for root in programme.audience:
            if await ctx.orgs.is_within(org, root, session):
                known[key] = True
                break
    return known[key]


async def check_request(
    session: AsyncSession,
    ctx: Context,
    member: Member,
    programme_id: str,
    found: tuple[Programme | None, bool] | None = None,
) -> Programme:
    """Home node, before anything is written: may the member ask for a seat? Reads only,
    so on SQLite it runs without the write lock. `found` is the programme and whether the
    member is enrolled already, when the caller read them (repository.member_and_programme)."""
    if found is None:
        programme = await repository.get_programme(session, programme_id)
        active = await repository.active_enrollment(session, programme_id, member.member_id)
        found = (programme, active is not None)
    programme, already = found
    if programme is None:
        raise NotFound(f"programme {programme_id} is not known here", field="programme_id")
    if not await in_audience(ctx, session, programme, member.home_org):
        raise Unprocessable(
            "the member's org is not in this programme's audience", field="programme_id"
        )
    if already:
        raise Conflict(
            "the member already has an enrollment for this programme", field="programme_id"
        )
    return programme


async def request_enrollment(
    session: AsyncSession, ctx: Context, member: Member, programme: Programme
) -> Enrollment:
    """Home node: record the request (checked by `check_request`) and send it to the owner's
    inbox. A concurrent request of the same member may have got in meanwhile: the database's
    unique index on active enrollments catches it."""
    programme_id = programme.programme_id
    now = ctx.clock.now()
    enrollment = Enrollment(
        enrollment_id=str(uuid.uuid4()),
        programme_id=programme_id,
        member_id=member.member_id,
        home_org=member.home_org,
        owner_node=programme.owner_node,
        status="requested",
        requested_at=now,
    )
    session.add(enrollment)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "the member already has an enrollment for this programme", field="programme_id"
        ) from exc
    await ctx.outbox.stage(
        session,
        EnrollmentRequested(
            enrollment_id=enrollment.enrollment_id,
            programme_id=programme_id,
            member_id=member.member_id,
            home_org=member.home_org,
            home_node=ctx.node_id,
            requested_at=now,
            display_name=member.name,  # the owner's participant list; its inbox only
        ),
        topic=topics.inbox(programme.owner_node),
    )
    return enrollment


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
