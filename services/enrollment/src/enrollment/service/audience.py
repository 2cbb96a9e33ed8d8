"""Whether an org is in a programme's audience (the roots of the audience subtrees)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Programme
from enrollment.service.context import Context


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
