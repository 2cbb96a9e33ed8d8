"""Members joining at their grassroots org."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.errors import NotFound, Unprocessable
from enrollment.models import Member
from enrollment.schemas import MemberIn
from enrollment.service.context import Context
from shared.contracts import topics
from shared.contracts.events import MemberRegistered, OrgLevel
from shared.timezones import local_date


async def register_member(session: AsyncSession, ctx: Context, data: MemberIn) -> Member:
    org = await ctx.orgs.get(data.home_org, session)
    if org is None or org.hosted_by != ctx.node_id:
        raise NotFound(f"org {data.home_org} is not hosted here", field="home_org")
    if org.level != OrgLevel.grassroots:
        raise Unprocessable("members join a grassroots org", field="home_org")
    today = local_date(ctx.clock.now(), ctx.settings.federation_timezone)
    for field, day in (("joined_on", data.joined_on), ("birth_date", data.birth_date)):
        if day is not None and day > today:
            raise Unprocessable(f"{field} must not be in the future", field=field)
    member = Member(
        member_id=str(uuid.uuid4()),
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
    )
    session.add(member)
    # Contact data goes to the node-local topic only (for this node's notifications).
    await ctx.outbox.stage(
        session,
        MemberRegistered(
            member_id=member.member_id,
            home_org=member.home_org,
            name=member.name,
            email=member.email,
            phone=member.phone,
            language=data.language,
        ),
        topic=topics.members(ctx.node_id),
    )
    return member
