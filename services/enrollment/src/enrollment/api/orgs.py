from __future__ import annotations

from fastapi import APIRouter

from enrollment.api.deps import Ctx, Db
from enrollment.errors import Forbidden, NotFound
from enrollment.schemas import OrgIn, OrgOut
from enrollment.service.orgs import register_org
from shared.auth import Role
from shared.auth.dependencies import CurrentPrincipal, require_roles

router = APIRouter(prefix="/orgs", tags=["orgs"])


@router.post("", status_code=201, response_model=OrgOut, summary="Host an org at this node")
async def create_org(body: OrgIn, who: CurrentPrincipal, ctx: Ctx, db: Db) -> OrgOut:
    require_roles(who, Role.admin)
    async with db.transaction() as session:
        root = ctx.settings.root_org
        if who.org != root and not await ctx.orgs.is_within(who.org, root, session):
            raise Forbidden("only administrators of this node's orgs register orgs here")
        org = await register_org(session, ctx, body)
    return OrgOut.model_validate(org)


@router.get("/{org_id}", response_model=OrgOut, summary="An org of the federation tree")
async def get_org(org_id: str, _who: CurrentPrincipal, ctx: Ctx) -> OrgOut:
    org = await ctx.orgs.get(org_id)
    if org is None:
        raise NotFound(f"org {org_id} is not known here")
    return OrgOut.model_validate(org)
