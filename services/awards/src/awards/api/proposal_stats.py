"""Proposal figures of an org's subtree per month: proposals per member, participation rate
and adoption rate, for cadres of the org or of an org above it (anyone else: 404). A group
of fewer than MIN_GROUP_SIZE people shows `suppressed: true` instead of numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from awards.api.deps import Ctx, Db
from awards.domain.facts import year_of
from awards.domain.proposal_stats import Figures
from awards.domain.proposals import is_staff
from awards.domain.rollups import MIN_GROUP_SIZE
from awards.errors import NotFound
from awards.schemas import (
    AdoptionOut,
    MonthFiguresOut,
    ParticipationOut,
    ProposalFiguresOut,
    ProposalStatsOut,
)
from awards.service.proposal_stats import proposal_stats
from shared.auth.dependencies import CurrentPrincipal
from shared.web.fields import OrgId

router = APIRouter(prefix="/orgs", tags=["rationalization proposals"])


def figures_out(figures: Figures) -> ProposalFiguresOut:
    """A period's figures, each part suppressed on its own."""
    p, a = figures.participation, figures.adoption
    participation = (
        ParticipationOut(suppressed=True)
        if p is None
        else ParticipationOut(
            suppressed=False,
            submitted=p.submitted,
            authors=p.authors,
            per_member=p.per_member,
            rate=p.rate,
        )
    )
    adoption = (
        AdoptionOut(suppressed=True)
        if a is None
        else AdoptionOut(suppressed=False, evaluated=a.evaluated, adopted=a.adopted, rate=a.rate)
    )
    return ProposalFiguresOut(participation=participation, adoption=adoption)


@router.get(
    "/{org_id}/proposal-stats",
    response_model=ProposalStatsOut,
    response_model_exclude_none=True,
    summary="Proposal figures of an org's subtree, per month of a year",
    description=(
        "Counts the members of the subtree hosted at this node (now) and their proposals: "
        "submissions in the month they were made, adoptions and rejections in the month of "
        f"the decision. Fewer than {MIN_GROUP_SIZE} members in the subtree, authors in a "
        "period (participation) or authors evaluated in it (adoption): `suppressed: true`. "
        "For cadres of the org or of an org above it."
    ),
)
async def get_proposal_stats(
    org_id: OrgId,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    year: Annotated[int | None, Query(ge=1900, le=9998, description="Default: this year")] = None,
) -> ProposalStatsOut:
    year = year or year_of(ctx.clock.now(), ctx.settings.federation_timezone)
    async with db.reading() as session:
        # Unknown `org_id` raises UnknownOrg, rendered as 404 by the shared problem handlers.
        if not is_staff(who) or not await ctx.orgs.is_within(org_id, who.org, session):
            raise NotFound(f"org_id: proposal figures of {org_id} are not visible to the caller")
        stats = await proposal_stats(session, ctx, org_id, year)
    return ProposalStatsOut(
        org=org_id,
        year=year,
        node=ctx.node_id,
        min_group_size=MIN_GROUP_SIZE,
        suppressed=stats.members is None,
        members=stats.members,
        total=figures_out(stats.total),
        months=[
            MonthFiguresOut(month=m, **figures_out(f).model_dump()) for m, f in stats.months.items()
        ],
    )
