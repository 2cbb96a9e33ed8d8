"""The member replica: kept from the node-local members topic, read by nominations and rewards
to check that a nominee belongs where the cadre says, and to name them in a dossier."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards import member_repository as repo
from awards import proposal_repository
from awards.errors import NotFound
from awards.models import MemberReplica
from awards.service.context import Context
from shared.contracts.events import MemberLeft, MemberRegistered


async def record_member(session: AsyncSession, ctx: Context, event: MemberRegistered) -> None:
    """A member joined, changed or moved within the node: the newest record wins (the topic is
    keyed by member id, so records of one member arrive in order)."""
    member = MemberReplica(
        member_id=event.member_id,
        home_org=event.home_org,
        display_name=event.name,
        updated_at=ctx.clock.now(),
    )
    await repo.put_member(session, member)


async def forget_member(session: AsyncSession, event: MemberLeft) -> None:
    """Left the union or moved to another node: the name goes; pseudonymous history stays."""
    await repo.forget_member(session, event.member_id)


async def member_of(
    session: AsyncSession, ctx: Context, member_id: str, org_id: str
) -> MemberReplica:
    """The member, if their home org is `org_id` or below it; else 404 naming the field."""
    member = await repo.get_member(session, member_id)
    if member is None or not await ctx.orgs.is_within(member.home_org, org_id, session):
        raise NotFound(f"member_id: no member {member_id} in {org_id} here")
    return member


async def members_of_org(
    session: AsyncSession, ctx: Context, org_id: str, q: str, *, after: str | None, limit: int
) -> list[MemberReplica]:
    """Members at home in `org_id` or an org below it (hosted here) matching `q`: whom a cadre
    may pick to reward or nominate. The caller's right to see the org is checked first."""
    homes = await proposal_repository.member_home_orgs(session)
    # The directory answers from its cache: a node's grassroots orgs are few.
    orgs = [o for o in sorted(homes) if await ctx.orgs.is_within(o, org_id, session)]
    if not orgs:
        return []
    return await repo.search_members(session, orgs, q, after=after, limit=limit)
