"""Home node: the member's grassroots cadre approves or rejects a request for a programme
that needs approval. Until then the request stays here: the owner hears nothing and no seat
is held. Approved, it goes to the owner's inbox exactly as an unapproved request would
(`forward_request`); rejected, it ends here and never reaches the owner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import approval_repository, repository
from enrollment.approval_repository import ApprovalRow
from enrollment.domain.lifecycle import Step, TransitionNotAllowed, next_status
from enrollment.errors import Conflict, Forbidden, NotFound
from enrollment.schemas import ApprovalIn
from enrollment.service.context import Context
from enrollment.service.requests import forward_request
from enrollment.service.stats_marks import mark_dirty_at
from shared.auth import Principal, Role
from shared.contracts import topics
from shared.contracts.base import Event
from shared.contracts.events import EnrollmentApproved, EnrollmentRejected


def decides_for(who: Principal, org: str) -> bool:
    """Approvals are the member's grassroots org's business: its cadres (or its admin)."""
    return who.org == org and who.has(Role.cadre, Role.admin)


async def pending_approvals(
    session: AsyncSession,
    who: Principal,
    org: str,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ApprovalRow]:
    """The org's requests awaiting approval, oldest first — for the org's cadres only."""
    if not decides_for(who, org):
        raise NotFound(f"no approvals of org {org} for you", field="org")
    return await approval_repository.pending_page(session, org, after=after, limit=limit)


async def decide_approval(
    session: AsyncSession, ctx: Context, enrollment_id: str, decision: ApprovalIn, who: Principal
) -> ApprovalRow:
    """Approve (→ requested, forwarded to the owner) or reject (→ rejected, the end)."""
    enrollment = await approval_repository.lock_enrollment(session, enrollment_id)
    if enrollment is None or not decides_for(who, enrollment.home_org):
        if enrollment is not None and who.member_id == enrollment.member_id:
            raise Forbidden("the member's grassroots cadre decides on the approval")
        raise NotFound(f"enrollment {enrollment_id} not found")
    step = Step.approve if decision.approve else Step.reject
    try:
        status = next_status(enrollment.status, step)
    except TransitionNotAllowed as exc:
        raise Conflict(
            f"{exc}: only a request pending approval is approved or rejected",
            field="approve",
            state=exc.state.value,
            transition=step.value,
        ) from exc
    programme = await repository.get_programme(session, enrollment.programme_id)
    if programme is None:
        raise NotFound(f"programme {enrollment.programme_id} is not known here")
    member = await repository.get_member(session, enrollment.member_id)
    member_name = member.name if member else None
    now = ctx.clock.now()
    enrollment.status = status.value
    enrollment.approval_at, enrollment.approval_by = now, who.sub[:200]
    enrollment.approval_note = decision.reason
    mark_dirty_at(session, ctx, enrollment.home_org, enrollment.requested_at)  # participants
    common = {
        "enrollment_id": enrollment.enrollment_id,
        "programme_id": enrollment.programme_id,
        "member_id": enrollment.member_id,
        "owner_org": programme.owner_org,
        "home_org": enrollment.home_org,
    }
    event: Event
    if decision.approve:
        event = EnrollmentApproved(**common, approved_at=now)
    else:
        enrollment.decided_at = now
        event = EnrollmentRejected(**common, rejected_at=now, reason=decision.reason or "")
    await ctx.outbox.stage(session, event, topic=topics.ENROLLMENT)
    if decision.approve:
        await forward_request(session, ctx, enrollment, member_name)
    return ApprovalRow(enrollment, member_name, programme.title)
