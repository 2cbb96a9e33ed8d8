"""Members joining at their grassroots org, and changing their contact data."""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.domain.members import MemberStatus
from enrollment.errors import NotFound, Unprocessable
from enrollment.models import Member
from enrollment.schemas import MemberChangeIn, MemberIn
from enrollment.service.context import Context
from enrollment.service.stats_marks import mark_dirty_at
from shared.contracts import topics
from shared.contracts.events import Language, MemberRegistered, OrgLevel
from shared.timezones import local_date


async def register_member(session: AsyncSession, ctx: Context, data: MemberIn) -> Member:
    await check_new_member(session, ctx, data)
    member = new_member(ctx, data, member_id=str(uuid.uuid4()), status=MemberStatus.active)
    session.add(member)
    await publish_member(session, ctx, member)
    return member


async def check_new_member(session: AsyncSession, ctx: Context, data: MemberIn) -> None:
    """A member joins a grassroots org hosted here; their dates are not in the future."""
    org = await ctx.orgs.get(data.home_org, session)
    if org is None or org.hosted_by != ctx.node_id:
        raise NotFound(f"org {data.home_org} is not hosted here", field="home_org")
    if org.level != OrgLevel.grassroots:
        raise Unprocessable("members join a grassroots org", field="home_org")
    today = local_date(ctx.clock.now(), ctx.settings.federation_timezone)
    for field, day in (("joined_on", data.joined_on), ("birth_date", data.birth_date)):
        if day is not None and day > today:
            raise Unprocessable(f"{field} must not be in the future", field=field)


def new_member(ctx: Context, data: MemberIn, *, member_id: str, status: MemberStatus) -> Member:
    return Member(
        member_id=member_id,
        home_org=data.home_org,
        name=data.name,
        email=str(data.email) if data.email else None,
        phone=data.phone,
        employee_no=data.employee_no,
        language=data.language,
        created_at=ctx.clock.now(),
        # Eligibility attributes: personal, they stay here (not in MemberRegistered).
        joined_on=data.joined_on,
        skill_grade=data.skill_grade,
        birth_date=data.birth_date,
        status=status.value,
    )


async def publish_member(session: AsyncSession, ctx: Context, member: Member) -> None:
    """The member's full contact record, for this node's notifications. Contact data goes to
    the node-local topic only, keyed by member id (the newest record wins)."""
    mark_dirty_at(session, ctx, member.home_org, ctx.clock.now())  # the org's member count
    await ctx.outbox.stage(
        session,
        MemberRegistered(
            member_id=member.member_id,
            home_org=member.home_org,
            name=member.name,
            email=member.email,
            phone=member.phone,
            language=cast(Language, member.language),  # checked when it was stored
        ),
        topic=topics.members(ctx.node_id),
    )


async def change_member(
    session: AsyncSession, ctx: Context, member: Member, change: MemberChangeIn
) -> Member:
    """Only the fields given change; notifications get the new full record."""
    for field in change.model_fields_set:
        value = getattr(change, field)
        setattr(member, field, str(value) if field == "email" and value else value)
    await publish_member(session, ctx, member)
    return member
