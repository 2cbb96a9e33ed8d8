"""Roll-ups of eligibility facts for a subtree of the org tree, as far as this node knows it:
its own members only (facts about other nodes' members are never recorded here)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards import repository
from awards.domain.facts import credited_hours, year_bounds
from awards.domain.rollups import GroupTotal, Rollup, build_rollup
from awards.service.context import Context


async def subtree_rollup(session: AsyncSession, ctx: Context, org: str, year: int) -> Rollup:
    start, end = year_bounds(year, ctx.settings.federation_timezone)
    candidates = await repository.home_orgs_between(session, start, end)
    # The directory answers from its cache: a node never loads the whole tree.
    orgs = [o for o in candidates if await ctx.orgs.is_within(o, org, session)]
    if not orgs:
        return build_rollup(org, year, GroupTotal(0, 0, 0.0), {})
    members, facts = await repository.group_total(session, orgs, start, end)
    by_kind = await repository.kind_groups(session, orgs, start, end)
    hours = credited_hours({kind: g.hours for kind, g in by_kind.items()})
    return build_rollup(org, year, GroupTotal(members, facts, hours), by_kind)
