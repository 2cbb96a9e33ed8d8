"""Approvals at the home node: the member's grassroots cadre lists the requests awaiting
them and approves (the request goes to the owner) or rejects (it never does)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from enrollment.api.deps import Ctx, Db
from enrollment.approval_repository import ApprovalRow
from enrollment.schemas import ApprovalIn, ApprovalOut, ApprovalPage
from enrollment.service.approvals import decide_approval, pending_approvals
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import encode_position
from shared.web.deps import AfterPosition, PageLimit
from shared.web.fields import Id, OrgId

router = APIRouter(tags=["approvals"])


def _out(row: ApprovalRow) -> ApprovalOut:
    out = ApprovalOut.model_validate(row.enrollment)
    return out.model_copy(
        update={"member_name": row.member_name, "programme_title": row.programme_title}
    )


@router.get(
    "/approvals",
    response_model=ApprovalPage,
    summary="Requests awaiting the grassroots cadre's approval, oldest first",
    description="For the cadres of `org` (default: the caller's org).",
)
async def list_approvals(
    who: CurrentPrincipal,
    db: Db,
    after: AfterPosition,
    org: Annotated[OrgId | None, Query(examples=["hzsteel-rolling"])] = None,
    limit: PageLimit = 50,
) -> ApprovalPage:
    async with db.reading() as session:
        rows = await pending_approvals(session, who, org or who.org, after=after, limit=limit + 1)
    items = [_out(row) for row in rows[:limit]]
    last = items[-1] if items and len(rows) > limit else None
    return ApprovalPage(
        items=items,
        next_cursor=encode_position(last.requested_at, last.id) if last else None,
    )


@router.post(
    "/enrollments/{enrollment_id}/approval",
    response_model=ApprovalOut,
    summary="Approve (forward to the owner) or reject a request pending approval",
    responses={409: {"description": "The enrollment is not pending approval."}},
)
async def decide(
    enrollment_id: Id, body: ApprovalIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> ApprovalOut:
    async with db.transaction() as session:
        row = await decide_approval(session, ctx, enrollment_id, body, who)
    return _out(row)
