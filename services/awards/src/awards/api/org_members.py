"""The members of an org and the orgs below it that this node hosts, found by name or id:
whom a cadre picks to reward on the spot (the portal's member picker). Only what the member
replica holds (id, home org, display name), for cadres of the org or of an org above it at
the node hosting it; anyone else gets 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from awards.api.deps import Ctx, Db
from awards.schemas.members import OrgMemberOut, OrgMemberPage
from awards.service.members import members_of_org
from awards.service.reward_quotas import check_org_visible
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import encode_key
from shared.web.deps import AfterKey, PageLimit
from shared.web.fields import OrgId

router = APIRouter(prefix="/orgs", tags=["members"])

Search = Annotated[
    str,
    Query(
        max_length=100,
        description="Words of the display name (any case) or the start of the member id.",
    ),
]


@router.get(
    "/{org_id}/members",
    response_model=OrgMemberPage,
    summary="Members of an org and the orgs below it, by name or id, in id order",
    description="For cadres (and admins) of the org or of an org above it, at the node "
    "hosting it. Members known to this node's awards service (from the node-local members "
    "topic); those who left or moved away are not listed.",
)
async def list_org_members(
    org_id: OrgId,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterKey,
    q: Search = "",
    limit: PageLimit = 50,
) -> OrgMemberPage:
    async with db.reading() as session:
        await check_org_visible(session, ctx, who, org_id)
        found = await members_of_org(session, ctx, org_id, q.strip(), after=after, limit=limit)
    last = found[-1] if len(found) == limit else None
    return OrgMemberPage(
        items=[OrgMemberOut.model_validate(m) for m in found],
        next_cursor=encode_key(last.member_id) if last else None,
    )
