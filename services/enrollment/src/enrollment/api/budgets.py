"""Training budgets per org and year, at the node hosting the org.

Who sees a budget: the cadres (and admins) of the org and of the orgs above it (roll-up
visibility); who changes it: the org's own cadres and admins. Anyone else gets 404 (they
may not see it); a cadre above the org gets 403 on a change (they see it, but it is not
theirs to set).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.api.deps import Ctx, Db
from enrollment.errors import Forbidden, NotFound
from enrollment.schemas import BudgetIn, BudgetOut, BudgetSubtreeOut
from enrollment.service.budgets import (
    BudgetFigures,
    figures,
    read_budget,
    set_budget,
    subtree_totals,
)
from enrollment.service.context import Context
from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal
from shared.web.fields import OrgId

router = APIRouter(prefix="/budgets", tags=["budgets"])

Year = Annotated[int, Path(ge=1900, le=9998, description="Calendar year in the federation zone")]


async def _check_visible(who: Principal, org_id: str, ctx: Context, session: AsyncSession) -> None:
    """404 unless the caller is a cadre or admin of the org or of an org above it. An org
    this replica does not know raises UnknownOrg: a 404 too."""
    if not who.has(Role.cadre, Role.admin) or not await ctx.orgs.is_within(
        org_id, who.org, session
    ):
        raise NotFound(f"no budget of {org_id} is visible to the caller")


def _out(org_id: str, year: int, f: BudgetFigures) -> BudgetOut:
    return BudgetOut(
        org_id=org_id,
        year=year,
        union_fund_fen=f.union_fund_fen,
        education_share_bp=f.education_share_bp,
        available=f.available_fen,
        committed=f.committed_fen,
        spent=f.spent_fen,
        left=f.left_fen,
        updated_at=f.updated_at,
    )


@router.put(
    "/{org_id}/{year}",
    response_model=BudgetOut,
    summary="Set an org's union fund and education share for a year",
    description="For the org's cadres, at the node hosting it. The fund may not fall "
    "below what is committed and spent (409 naming the field).",
)
async def put_budget(
    org_id: OrgId, year: Year, body: BudgetIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> BudgetOut:
    async with db.reading() as session:
        await _check_visible(who, org_id, ctx, session)
    if who.org != org_id:
        raise Forbidden(f"only the cadres of {org_id} set its budget")
    async with db.transaction() as session:
        row = await set_budget(
            session, ctx, org_id, year, body.union_fund_fen, body.education_share_bp
        )
        out = _out(org_id, year, figures(row))
    return out


@router.get(
    "/{org_id}/{year}",
    response_model=BudgetOut,
    summary="An org's training budget: available, committed, spent, left",
    description="For cadres of the org or of an org above it, at the node hosting it.",
)
async def get_budget(
    org_id: OrgId, year: Year, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> BudgetOut:
    async with db.reading() as session:
        await _check_visible(who, org_id, ctx, session)
        found = await read_budget(session, ctx, org_id, year)
    return _out(org_id, year, found)


@router.get(
    "/{org_id}/{year}/subtree",
    response_model=BudgetSubtreeOut,
    summary="The budgets of an org and its descendants hosted at this node, summed",
    description="For cadres of the org or of an org above it.",
)
async def get_subtree(
    org_id: OrgId, year: Year, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> BudgetSubtreeOut:
    async with db.reading() as session:
        await _check_visible(who, org_id, ctx, session)
        totals = await subtree_totals(session, ctx, org_id, year)
    return BudgetSubtreeOut(
        org_id=org_id,
        year=year,
        node=ctx.node_id,
        orgs=len(totals.orgs),
        union_fund_fen=totals.union_fund_fen,
        available=totals.available_fen,
        committed=totals.committed_fen,
        spent=totals.spent_fen,
        left=totals.left_fen,
    )
