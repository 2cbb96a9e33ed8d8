"""Who may see a nomination, and who may act on it — the one access rule of nominations.

Seeing: the nominees themselves (at their home node); cadres of the home org or any org above
it, of an endorsing org and of the owner; the scheme's reviewers and veto officers at the
owner's node. Anyone else gets 404. Acting is narrower (the org whose step it is, the staff
the scheme names) and refused with 403 to those who may see."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards import nomination_repository as repo
from awards.errors import Forbidden, NotFound
from awards.models import Nomination, Scheme
from awards.service.context import Context
from shared.auth import Principal, Role


async def is_staff(session: AsyncSession, who: Principal, scheme_id: str, role: str) -> bool:
    if not who.has(Role.reviewer):
        return False
    return await repo.staff_member(session, scheme_id, who.sub, role) is not None


async def can_see(session: AsyncSession, ctx: Context, who: Principal, row: Nomination) -> bool:
    if who.member_id is not None and who.member_id in row.member_ids:
        return True
    if who.has(Role.cadre, Role.admin):
        if who.org == row.owner_org or who.org in row.stages:
            return True
        if await ctx.orgs.is_within(row.home_org, who.org, session):
            return True
    if who.has(Role.reviewer):
        return any(
            [
                await is_staff(session, who, row.scheme_id, "reviewer"),
                await is_staff(session, who, row.scheme_id, "veto"),
            ]
        )
    return False


async def visible_nomination(
    session: AsyncSession, ctx: Context, who: Principal, nomination_id: str, *, lock: bool = False
) -> Nomination:
    row = await repo.get_nomination(session, nomination_id, for_update=lock)
    if row is None or not await can_see(session, ctx, who, row):
        raise NotFound(f"no nomination {nomination_id} here", field="nomination_id")
    return row


def require_cadre_of(who: Principal, org_id: str, what: str) -> None:
    """403: only a cadre of `org_id` may take this step."""
    if not (who.has(Role.cadre) and who.org == org_id):
        raise Forbidden(f"only a cadre of {org_id} may {what}")


async def owned_scheme(session: AsyncSession, ctx: Context, row: Nomination) -> Scheme:
    """The scheme of a nomination, when this node is its owner's; else the step is not ours."""
    scheme = await repo.get_scheme(session, row.scheme_id)
    if scheme is None or not scheme.owned_here:
        raise Forbidden(f"the owner of scheme {row.scheme_id} decides this, at its own node")
    return scheme
