"""SQL of the member replica (this node's members, pseudonymous but for the display name)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from awards.models import MemberReplica
from shared.db import upsert


async def get_member(session: AsyncSession, member_id: str) -> MemberReplica | None:
    return await session.get(MemberReplica, member_id)


async def put_member(session: AsyncSession, member: MemberReplica) -> None:
    values = {
        "member_id": member.member_id,
        "home_org": member.home_org,
        "display_name": member.display_name,
        "updated_at": member.updated_at,
    }
    await upsert(session, MemberReplica, values, ["member_id"])


async def forget_member(session: AsyncSession, member_id: str) -> None:
    await session.execute(delete(MemberReplica).where(MemberReplica.member_id == member_id))


async def search_members(
    session: AsyncSession, orgs: Sequence[str], q: str, *, after: str | None, limit: int
) -> list[MemberReplica]:
    """Members at home in one of `orgs` whose display name holds `q` (any case) or whose id
    starts with it, in id order after `after`. `q` is matched literally (no wildcards)."""
    stmt = select(MemberReplica).where(MemberReplica.home_org.in_(orgs))
    if q:
        stmt = stmt.where(
            func.lower(MemberReplica.display_name).contains(q.lower(), autoescape=True)
            | MemberReplica.member_id.startswith(q.lower(), autoescape=True)
        )
    if after is not None:
        stmt = stmt.where(MemberReplica.member_id > after)
    stmt = stmt.order_by(MemberReplica.member_id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def count_members(session: AsyncSession, orgs: Sequence[str]) -> int:
    """Members whose home org is one of `orgs` (an org's subtree hosted here)."""
    stmt = select(func.count()).where(MemberReplica.home_org.in_(orgs))
    return int((await session.execute(stmt)).scalar_one())
