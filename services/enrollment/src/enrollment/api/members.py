from __future__ import annotations

from fastapi import APIRouter

from enrollment import repository
from enrollment.api.deps import Ctx, Db
from enrollment.errors import Forbidden, NotFound
from enrollment.schemas import MemberIn, MemberOut
from enrollment.service.members import register_member
from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal
from shared.web.fields import Id

router = APIRouter(prefix="/members", tags=["members"])


def manages(who: Principal, org: str) -> bool:
    """A cadre manages their own org's data; an admin their node's."""
    return who.org == org and who.has(Role.cadre, Role.admin)


@router.post("", status_code=201, response_model=MemberOut, summary="Register a member")
async def create_member(body: MemberIn, who: CurrentPrincipal, ctx: Ctx, db: Db) -> MemberOut:
    if not (
        manages(who, body.home_org) or (who.has(Role.admin) and who.org == ctx.settings.root_org)
    ):
        raise Forbidden("only the home org's cadres register its members")
    async with db.transaction() as session:
        member = await register_member(session, ctx, body)
    return MemberOut.model_validate(member)


@router.get("/{member_id}", response_model=MemberOut, summary="A member's record")
async def get_member(member_id: Id, who: CurrentPrincipal, db: Db) -> MemberOut:
    async with db.reading() as session:
        member = await repository.get_member(session, member_id)
    if member is None or not (who.member_id == member_id or manages(who, member.home_org)):
        raise NotFound(f"member {member_id} not found")
    return MemberOut.model_validate(member)
