from __future__ import annotations

from fastapi import APIRouter

from enrollment.api.deps import Ctx, Db
from enrollment.errors import NotFound
from enrollment.schemas import OrgIn, OrgMoveIn, OrgOut
from enrollment.service.orgs import move_org, register_org
from shared.auth import Role
from shared.auth.dependencies import CurrentPrincipal, require_roles
from shared.web.fields import OrgId

router = APIRouter(prefix="/orgs", tags=["orgs"])


@router.post(
    "",
    status_code=201,
    response_model=OrgOut,
    summary="Register or change an org (an admin of its parent, at the parent's node)",
)
async def create_org(body: OrgIn, who: CurrentPrincipal, ctx: Ctx, db: Db) -> OrgOut:
    require_roles(who, Role.admin)
    async with db.transaction() as session:
        org = await register_org(session, ctx, body, who)
    return OrgOut.model_validate(org)


@router.post(
    "/{org_id}/move",
    response_model=OrgOut,
    summary="Put an org under another parent (an admin above both parents)",
)
async def move(org_id: OrgId, body: OrgMoveIn, who: CurrentPrincipal, ctx: Ctx, db: Db) -> OrgOut:
    require_roles(who, Role.admin)
    async with db.transaction() as session:
        org = await move_org(session, ctx, org_id, body, who)
    return OrgOut.model_validate(org)


@router.get("/{org_id}", response_model=OrgOut, summary="An org of the federation tree")
async def get_org(org_id: OrgId, _who: CurrentPrincipal, ctx: Ctx) -> OrgOut:
    org = await ctx.orgs.get(org_id)
    if org is None:
        raise NotFound(f"org {org_id} is not known here")
    return OrgOut.model_validate(org)
