"""Home node: a member asks for a seat; the request goes to the programme owner's inbox.
One code path whether or not the owner is local. The home node checks the cut-off and the
programme's eligibility rules first (the member's attributes never leave it); a programme
that needs approval waits for the member's grassroots cadre (service/approvals.py) before
the request is forwarded."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.domain.eligibility import (
    EligibilityRules,
    MemberAttributes,
    first_failed_rule,
)
from enrollment.domain.lifecycle import Status
from enrollment.domain.members import MemberStatus
from enrollment.errors import Conflict, NotFound, Unprocessable
from enrollment.models import Enrollment, Member, Programme
from enrollment.service.audience import in_audience
from enrollment.service.context import Context
from enrollment.service.stats_marks import mark_dirty_at
from shared.contracts import topics
from shared.contracts.events import EnrollmentPendingApproval, EnrollmentRequested
from shared.timezones import local_date


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
    if member.status != MemberStatus.active:
        raise Conflict("the member's transfer from another node is not complete yet")
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
    now = ctx.clock.now()
    closes_at = programme.enrollment_closes_at
    if closes_at is not None and now >= closes_at:
        raise Conflict(
            f"the programme's enrollment cut-off ({closes_at.isoformat()}) has passed",
            field="programme_id",
            cut_off=closes_at.isoformat(),
        )
    rule = first_failed_rule(
        EligibilityRules.from_mapping(programme.eligibility),
        MemberAttributes(member.joined_on, member.skill_grade, member.birth_date),
        local_date(now, ctx.settings.federation_timezone),
    )
    if rule is not None:
        raise Unprocessable(f"eligibility: {rule.value}", field="programme_id", rule=rule.value)
    if already:
        raise Conflict(
            "the member already has an enrollment for this programme", field="programme_id"
        )
    return programme


async def request_enrollment(
    session: AsyncSession, ctx: Context, member: Member, programme: Programme
) -> Enrollment:
    """Home node: record the request (checked by `check_request`) and send it to the owner's
    inbox — or, when the programme needs approval, record it as pending the grassroots
    cadre's approval: nothing goes to the owner and no seat is held meanwhile. A concurrent
    request of the same member may have got in meanwhile: the database's unique index on
    active enrollments catches it."""
    programme_id = programme.programme_id
    now = ctx.clock.now()
    enrollment = Enrollment(
        enrollment_id=str(uuid.uuid4()),
        programme_id=programme_id,
        member_id=member.member_id,
        home_org=member.home_org,
        owner_node=programme.owner_node,
        status=(Status.pending_approval if programme.requires_approval else Status.requested).value,
        requested_at=now,
    )
    session.add(enrollment)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "the member already has an enrollment for this programme", field="programme_id"
        ) from exc
    mark_dirty_at(session, ctx, member.home_org, now)  # a participant of the year
    if programme.requires_approval:
        pending = EnrollmentPendingApproval(
            enrollment_id=enrollment.enrollment_id,
            programme_id=programme_id,
            member_id=member.member_id,
            owner_org=programme.owner_org,
            home_org=member.home_org,
            requested_at=now,
        )
        await ctx.outbox.stage(session, pending, topic=topics.ENROLLMENT)
    else:
        await forward_request(session, ctx, enrollment, member.name)
    return enrollment


async def forward_request(
    session: AsyncSession, ctx: Context, enrollment: Enrollment, display_name: str | None
) -> None:
    """Send the request to the owner's inbox: at once, or once the grassroots cadre approved
    it (the one code path for both)."""
    await ctx.outbox.stage(
        session,
        EnrollmentRequested(
            enrollment_id=enrollment.enrollment_id,
            programme_id=enrollment.programme_id,
            member_id=enrollment.member_id,
            home_org=enrollment.home_org,
            home_node=ctx.node_id,
            requested_at=enrollment.requested_at,
            display_name=display_name,  # the owner's participant list; its inbox only
        ),
        topic=topics.inbox(enrollment.owner_node),
    )
