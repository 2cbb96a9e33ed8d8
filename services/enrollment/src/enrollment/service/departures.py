"""A member's record leaving this node: they left the union, moved to another node's union,
or the intake of their transfer was refused. No name or contact data stays in this
database (the notifications service forgets its copy on MemberLeft); what remains is
`{member_id, reason, moved_to, at}` and, unless they moved away, the pseudonymous history."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import member_repository as repo
from enrollment.domain.lifecycle import TransitionNotAllowed
from enrollment.domain.members import DepartureReason
from enrollment.errors import Problem
from enrollment.models import DepartedMember, Member
from enrollment.service.context import Context
from enrollment.service.member_actions import cancel
from enrollment.service.stats_marks import mark_years_since
from shared.contracts import topics
from shared.contracts.events import MemberLeft

log = logging.getLogger(__name__)


async def leave_union(session: AsyncSession, ctx: Context, member: Member) -> DepartedMember:
    """The member left the union: open enrollments are given up where the programme still
    allows it (the owners free the seats), then the member's record is forgotten."""
    for enrollment in await repo.open_enrollments(session, member.member_id):
        try:
            await cancel(session, ctx, enrollment, by="cadre")
        except (Problem, TransitionNotAllowed) as exc:  # started already: it stays as it is
            log.info("an enrollment of a leaving member stays: %s", type(exc).__name__)
    return await depart(session, ctx, member, DepartureReason.left)


async def depart(
    session: AsyncSession,
    ctx: Context,
    member: Member,
    reason: DepartureReason,
    *,
    moved_to: str | None = None,
) -> DepartedMember:
    # The org's member counts since the member joined change, and if their history leaves
    # with them, the figures of every org and year it counted in.
    mark_years_since(session, ctx, member.home_org, member.created_at)
    await repo.forget_contact_data(session, member.member_id)
    if reason == DepartureReason.transferred:
        for org_id, since in await repo.history_spans(session, member.member_id):
            mark_years_since(session, ctx, org_id, since)
        await repo.forget_history(session, member.member_id)  # the new home keeps it now
    departure = await session.merge(
        DepartedMember(
            member_id=member.member_id,
            reason=reason.value,
            moved_to=moved_to,
            at=ctx.clock.now(),
        )
    )
    await ctx.outbox.stage(
        session,
        MemberLeft(
            member_id=member.member_id,
            home_org=member.home_org,
            left_at=departure.at,
            reason="left" if reason == DepartureReason.left else "transferred",
        ),
        topic=topics.members(ctx.node_id),
    )
    return departure


async def forget_arrival(session: AsyncSession, ctx: Context, member: Member, why: str) -> None:
    """The old home refused to hand the member over: the contact data taken in goes, and the
    cadre finds why (the member's record answers 410 with the reason)."""
    await repo.forget_contact_data(session, member.member_id)
    await session.merge(
        DepartedMember(
            member_id=member.member_id,
            reason=f"{DepartureReason.intake_refused.value}:{why}",
            moved_to=None,
            at=ctx.clock.now(),
        )
    )
    log.warning("the intake of a transferred member was refused by the old home: %s", why)
