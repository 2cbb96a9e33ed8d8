"""The nominations a caller works on, one list: a cadre's are those their org filed, endorses
or owns; a scheme's staff's (reviewers, veto officers, at the owner's node) are those of the
schemes they serve, each marked for a reviewer whom recusal bars from scoring it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from awards import nomination_repository as repo
from awards.domain import nominations as domain
from awards.errors import Forbidden
from awards.models import Nomination
from awards.service.context import Context
from shared.auth import Principal, Role


@dataclass
class Listed:
    row: Nomination
    recused: bool | None  # None: the caller is not on the scheme's review panel


async def my_nominations(
    session: AsyncSession,
    ctx: Context,
    who: Principal,
    *,
    statuses: Sequence[str] | None,
    after: str | None,
    limit: int,
) -> list[Listed]:
    if who.has(Role.cadre, Role.admin):
        rows = await repo.nominations_involving(
            session, who.org, statuses=statuses, after=after, limit=limit
        )
        return [Listed(r, None) for r in rows]
    if not who.has(Role.reviewer):
        raise Forbidden("only cadres and a scheme's staff list nominations")
    seats = await repo.staff_roles_of(session, who.sub)
    panel = {s.scheme_id: s.org_id for s in seats if s.role == "reviewer"}
    schemes = sorted({s.scheme_id for s in seats})
    if not schemes:
        return []
    rows = await repo.nominations_of_schemes(
        session, schemes, statuses=statuses, after=after, limit=limit
    )
    listed: list[Listed] = []
    for row in rows:
        recused = None
        if row.scheme_id in panel:
            chain = [row.home_org, *await ctx.orgs.ancestors(row.home_org, session)]
            recused = domain.recused(panel[row.scheme_id], chain, row.owner_org)
        listed.append(Listed(row, recused))
    return listed
