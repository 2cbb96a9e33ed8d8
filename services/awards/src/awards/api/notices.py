"""Public notices of a round's shortlist, and the objections members file against them.

Published by a cadre of the scheme's owner org at its node; shown at every node hosting part
of the owner's subtree, to whoever's org (a member's home org) is the owner or below it. A
member objects at their home node while the notice runs; the owner's cadre answers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from awards.api.deps import Ctx, Db
from awards.domain.objections import ObjectionStatus, notice_open
from awards.models import Notice, Objection
from awards.schemas import (
    NoticeAcceptedOut,
    NoticeDetailOut,
    NoticeEntryOut,
    NoticeIn,
    NoticeOut,
    NoticePage,
    ObjectionIn,
    ObjectionOut,
    ObjectionPage,
    ResolveIn,
)
from awards.service import notices, objections
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import encode_key, encode_position
from shared.web.deps import AfterKey, AfterPosition, PageLimit
from shared.web.fields import Id

router = APIRouter(tags=["public notices"])


def _notice(notice: Notice, ctx: Ctx) -> NoticeOut:
    return NoticeOut(
        notice_id=notice.notice_id,
        round_id=notice.round_id,
        scheme_id=notice.scheme_id,
        scheme_title=notice.scheme_title,
        owner_org=notice.owner_org,
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
        open=notice_open(notice.ends_at, ctx.clock.now()),
    )


@router.post(
    "/rounds/{round_id}/notices",
    status_code=202,
    response_model=NoticeAcceptedOut,
    summary="Publish the public notice of a round's shortlist",
    description="For a cadre of the scheme's owner org, at its node. Every nomination must be "
    "of the round, in review, with at least the scheme's `min_reviews` reviews (else 409 "
    "naming it, and nothing changes). They go on notice until now + the scheme's notice "
    "days; the shortlist (nominees' names, achievements) goes to every node hosting part of "
    "the owner's subtree, which shows it at `Location` once it arrives.",
    responses={202: {"description": "Published; the notice shows at the Location shortly."}},
)
async def publish(
    round_id: Id, body: NoticeIn, who: CurrentPrincipal, ctx: Ctx, db: Db, response: Response
) -> NoticeAcceptedOut:
    async with db.transaction() as session:
        published = await notices.publish_notice(session, ctx, who, round_id, body.nomination_ids)
    response.headers["Location"] = f"/notices/{published.notice_id}"
    return NoticeAcceptedOut.model_validate(published, from_attributes=True)


@router.get(
    "/notices",
    response_model=NoticePage,
    summary="The public notices shown to me, newest first",
    description="Notices whose owner org is the caller's org (a member: their home org) or "
    "an org above it.",
)
async def list_notices(
    who: CurrentPrincipal, ctx: Ctx, db: Db, after: AfterPosition, limit: PageLimit = 50
) -> NoticePage:
    async with db.reading() as session:
        found = await notices.notices_for(session, ctx, who, after=after, limit=limit)
    last = found[-1] if len(found) == limit else None
    return NoticePage(
        items=[_notice(n, ctx) for n in found],
        next_cursor=encode_position(last.starts_at, last.notice_id) if last else None,
    )


@router.get(
    "/notices/{notice_id}",
    response_model=NoticeDetailOut,
    summary="A public notice with a page of its shortlist",
    description="For those the notice is shown to (see GET /notices); 404 for anyone else. "
    "The entries are paged by nomination id (`cursor`, `limit`).",
)
async def get_notice(
    notice_id: Id,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterKey,
    limit: PageLimit = 50,
) -> NoticeDetailOut:
    async with db.reading() as session:
        notice = await notices.visible_notice(session, ctx, who, notice_id)
        entries, total = await notices.notice_entries(session, notice, after=after, limit=limit)
    last = entries[-1] if len(entries) == limit else None
    return NoticeDetailOut(
        **_notice(notice, ctx).model_dump(),
        entries_total=total,
        entries=[NoticeEntryOut.model_validate(e) for e in entries],
        next_cursor=encode_key(last.nomination_id) if last else None,
    )


@router.post(
    "/notices/{notice_id}/objections",
    status_code=202,
    response_model=ObjectionOut,
    summary="Object to a nomination on a notice",
    description="For a member, at their home node, while the notice runs (409 once it has "
    "ended). Goes to the owner, whose cadre answers; the answer shows at `Location`.",
    responses={202: {"description": "Filed; the owner's answer shows at the Location."}},
)
async def object_to(
    notice_id: Id,
    body: ObjectionIn,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    response: Response,
) -> ObjectionOut:
    async with db.transaction() as session:
        objection = await objections.file_objection(session, ctx, who, notice_id, body)
    response.headers["Location"] = f"/objections/{objection.objection_id}"
    return ObjectionOut.model_validate(objection)


@router.get(
    "/objections/{objection_id}",
    response_model=ObjectionOut,
    summary="An objection and its answer",
    description="For the objector (at their home node) and cadres of the owner org (at its "
    "node); 404 for anyone else.",
)
async def get_objection(objection_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> ObjectionOut:
    async with db.reading() as session:
        objection = await objections.visible_objection(session, ctx, who, objection_id)
    return ObjectionOut.model_validate(objection)


@router.post(
    "/objections/{objection_id}/resolve",
    response_model=ObjectionOut,
    summary="Answer an objection: upheld withdraws the nomination",
    description="For a cadre of the owner org, at its node, once the objection has reached "
    "it. 409 when it is answered already.",
)
async def resolve(
    objection_id: Id, body: ResolveIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> ObjectionOut:
    async with db.transaction() as session:
        objection = await objections.resolve_objection(session, ctx, who, objection_id, body)
    return ObjectionOut.model_validate(objection)


@router.get(
    "/rounds/{round_id}/objections",
    response_model=ObjectionPage,
    summary="Objections against a round's nominations, oldest first",
    description="For cadres of the scheme's owner org, at its node.",
)
async def list_round_objections(
    round_id: Id,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterPosition,
    status: Annotated[ObjectionStatus | None, Query(description="Only these.")] = None,
    limit: PageLimit = 50,
) -> ObjectionPage:
    async with db.reading() as session:
        found = await objections.objections_of_round(
            session, ctx, who, round_id, status, after=after, limit=limit
        )
    return _objections(found, limit)


def _objections(found: list[Objection], limit: int) -> ObjectionPage:
    last = found[-1] if len(found) == limit else None
    return ObjectionPage(
        items=[ObjectionOut.model_validate(o) for o in found],
        next_cursor=encode_position(last.submitted_at, last.objection_id) if last else None,
    )
