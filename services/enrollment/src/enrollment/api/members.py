from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import member_repository as repo
from enrollment.api.deps import Ctx, Db
from enrollment.errors import Forbidden, Gone, NotFound
from enrollment.models import Member
from enrollment.schemas import (
    DepartureOut,
    IntakeIn,
    MemberChangeIn,
    MemberIn,
    MemberOut,
    MemberPage,
    TransferIn,
    TransferOut,
)
from enrollment.service.context import Context
from enrollment.service.departures import leave_union
from enrollment.service.members import change_member, register_member
from enrollment.service.transfers import take_in, transfer_member, withdraw_transfer
from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import encode_position
from shared.web.deps import AfterPosition, PageLimit
from shared.web.fields import Id, OrgId

router = APIRouter(prefix="/members", tags=["members"])


def manages(who: Principal, org: str) -> bool:
    """A cadre manages their own org's data; an admin their node's."""
    return who.org == org and who.has(Role.cadre, Role.admin)


def keeps_roster(who: Principal, ctx: Context, org: str) -> bool:
    """Who registers, moves and removes an org's members: its cadres, or the node's admin."""
    return manages(who, org) or (who.has(Role.admin) and who.org == ctx.settings.root_org)


@router.post("", status_code=201, response_model=MemberOut, summary="Register a member")
async def create_member(body: MemberIn, who: CurrentPrincipal, ctx: Ctx, db: Db) -> MemberOut:
    if not keeps_roster(who, ctx, body.home_org):
        raise Forbidden("only the home org's cadres register its members")
    async with db.transaction() as session:
        member = await register_member(session, ctx, body)
    return MemberOut.model_validate(member)


@router.post(
    "/intake",
    status_code=202,
    response_model=MemberOut,
    summary="Take in a member transferred from another node",
    description="With the one-time token the old home gave out. The member is `arriving` "
    "until the old home hands over their record; if it refuses, the record answers 410.",
)
async def intake_member(body: IntakeIn, who: CurrentPrincipal, ctx: Ctx, db: Db) -> MemberOut:
    if not keeps_roster(who, ctx, body.home_org):
        raise Forbidden("only the new home org's cadres take a member in")
    async with db.transaction() as session:
        member = await take_in(session, ctx, body)
    return MemberOut.model_validate(member)


@router.get(
    "",
    response_model=MemberPage,
    summary="An org's roster, page by page, in the order members were registered",
    description="For the org's cadres (default org: the caller's), or the node's admins.",
)
async def list_members(
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterPosition,
    org: Annotated[OrgId | None, Query(examples=["hzsteel-rolling"])] = None,
    limit: PageLimit = 50,
) -> MemberPage:
    org = org or who.org
    if not keeps_roster(who, ctx, org):
        raise Forbidden("only the org's cadres list its members")
    async with db.reading() as session:
        rows = await repo.members_of_org(session, org, after=after, limit=limit + 1)
    items = [MemberOut.model_validate(m) for m in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return MemberPage(
        items=items,
        next_cursor=encode_position(last.created_at, last.member_id) if last else None,
    )


@router.get("/{member_id}", response_model=MemberOut, summary="A member's record")
async def get_member(member_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> MemberOut:
    async with db.reading() as session:
        member = await repo.get_member(session, member_id)
        departure = None if member else await repo.get_departure(session, member_id)
    if member is None or not (who.member_id == member_id or manages(who, member.home_org)):
        if departure is not None and who.has(Role.cadre, Role.admin):
            raise Gone(
                f"member {member_id} is no longer here",
                **DepartureOut.model_validate(departure).model_dump(mode="json"),
            )
        raise NotFound(f"member {member_id} not found")
    return MemberOut.model_validate(member)


@router.patch("/{member_id}", response_model=MemberOut, summary="Change contact data")
async def patch_member(
    member_id: Id, body: MemberChangeIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> MemberOut:
    async with db.transaction() as session:
        member = await repo.get_member(session, member_id, lock=True)
        is_self = who.member_id == member_id
        if member is None or not (is_self or keeps_roster(who, ctx, member.home_org)):
            raise NotFound(f"member {member_id} not found")
        if "employee_no" in body.model_fields_set and not keeps_roster(who, ctx, member.home_org):
            raise Forbidden("the employee number is kept by the org's cadres")
        member = await change_member(session, ctx, member, body)
    return MemberOut.model_validate(member)


@router.post(
    "/{member_id}/transfer",
    response_model=TransferOut,
    summary="Move a member to another grassroots union",
    description="A union hosted by this node: done at once (`moved`). One hosted by another "
    "node: a one-time token (`token_issued`, valid 7 days) for that union's intake.",
)
async def post_transfer(
    member_id: Id, body: TransferIn, who: CurrentPrincipal, ctx: Ctx, db: Db, response: Response
) -> TransferOut:
    async with db.transaction() as session:
        member = await _kept_member(session, who, ctx, member_id)
        transfer = await transfer_member(session, ctx, member, body.to_org)
    if transfer.token is not None:
        response.status_code = 201
    return TransferOut(
        member_id=member_id,
        to_org=transfer.to_org,
        to_node=transfer.to_node,
        status="token_issued" if transfer.token else "moved",
        token=transfer.token,
        expires_at=transfer.expires_at,
    )


@router.delete(
    "/{member_id}/transfer", status_code=204, summary="Withdraw a transfer token not yet used"
)
async def delete_transfer(member_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> None:
    async with db.transaction() as session:
        member = await _kept_member(session, who, ctx, member_id)
        await withdraw_transfer(session, member)


@router.post(
    "/{member_id}/leave",
    response_model=DepartureOut,
    summary="The member left the union",
    description="Open enrollments are given up (where the programme still allows it); the "
    "member's name and contact data are purged from this node, notifications included.",
)
async def post_leave(member_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> DepartureOut:
    async with db.transaction() as session:
        member = await _kept_member(session, who, ctx, member_id)
        departure = await leave_union(session, ctx, member)
    return DepartureOut.model_validate(departure)


async def _kept_member(
    session: AsyncSession, who: Principal, ctx: Context, member_id: str
) -> Member:
    member = await repo.get_member(session, member_id, lock=True)
    if member is None or not keeps_roster(who, ctx, member.home_org):
        raise NotFound(f"member {member_id} not found")
    return member
