"""Home node: a member asks for a seat; the request goes to the programme owner's inbox.
One code path whether or not the owner is local."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.errors import Conflict, NotFound, Unprocessable
from enrollment.models import Enrollment, Member, Programme
from enrollment.service.audience import in_audience
from enrollment.service.context import Context
from shared.contracts import topics
from shared.contracts.events import EnrollmentRequested


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
