from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from awards.api.deps import Ctx, Db
from awards.api.proposal_stats import figures_out
from awards.domain.facts import year_of
from awards.domain.rollups import MIN_GROUP_SIZE, GroupTotal
from awards.errors import Forbidden
from awards.schemas import GroupOut, RollupOut
from awards.service.proposal_stats import proposal_stats
from awards.service.rollups import subtree_rollup
from shared.auth import Role
from shared.auth.dependencies import CurrentPrincipal, require_roles
from shared.web.fields import OrgId

router = APIRouter(prefix="/facts", tags=["roll-ups"])


def _group(total: GroupTotal | None) -> GroupOut:
    if total is None:
        return GroupOut(suppressed=True)
    return GroupOut(suppressed=False, members=total.members, facts=total.facts, hours=total.hours)


@router.get(
    "/summary",
    response_model=RollupOut,
    response_model_exclude_none=True,
    summary="Roll-up of a subtree's eligibility facts for one year",
    description=(
        "For cadres of `org` or of an org above it. Counts the members of the subtree "
        f"hosted at this node; a group of fewer than {MIN_GROUP_SIZE} members shows "
        "`suppressed: true` instead of numbers."
    ),
)
async def facts_summary(
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    org: Annotated[OrgId, Query(examples=["hzsteel"])],
    year: Annotated[int | None, Query(ge=1900, le=9998, description="Default: this year")] = None,
) -> RollupOut:
    require_roles(who, Role.cadre, Role.admin)
    zone = ctx.settings.federation_timezone
    async with db.reading() as session:
        # Unknown `org` raises UnknownOrg, rendered as 404 by the shared problem handlers.
        if not await ctx.orgs.is_within(org, who.org, session):
            raise Forbidden(f"roll-ups of {org} are for cadres of it or of an org above it")
        rollup = await subtree_rollup(session, ctx, org, year or year_of(ctx.clock.now(), zone))
        proposals = await proposal_stats(session, ctx, org, rollup.year)
    overall = _group(rollup.overall)
    return RollupOut(
        org=rollup.org,
        year=rollup.year,
        node=ctx.node_id,
        min_group_size=MIN_GROUP_SIZE,
        suppressed=overall.suppressed,
        members=overall.members,
        facts=overall.facts,
        hours=overall.hours,
        by_kind={kind: _group(total) for kind, total in rollup.by_kind.items()},
        proposals=figures_out(proposals.total),
    )
