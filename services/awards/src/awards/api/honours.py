from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from awards.api.deps import Ctx, Db
from awards.domain.facts import year_of
from awards.schemas import HonourOut, HonourPage, HonourTotalsOut, MemberRecordOut
from awards.service.honours import (
    HonourList,
    honours_of_member,
    honours_of_org,
    record_of_member,
)
from shared.auth.dependencies import CurrentPrincipal
from shared.contracts.events import HonourKind
from shared.web.cursor import encode_position
from shared.web.deps import AfterPosition, PageLimit
from shared.web.fields import Id, OrgId

router = APIRouter(tags=["honours"])

Year = Annotated[int | None, Query(ge=1900, le=9998, description="Default: this year")]
WHO_SEES = "For the member themself, and cadres of their home org or of an org above it."


def _out(page: HonourList) -> HonourPage:
    return HonourPage(
        items=[HonourOut.model_validate(h) for h in page.items],
        next_cursor=encode_position(*page.next_after) if page.next_after else None,
        totals=HonourTotalsOut(count=page.totals.count, amount_fen=page.totals.amount_fen),
    )


@router.get(
    "/members/{member_id}/honours",
    response_model=HonourPage,
    summary="A member's honours: titles, rewards, proposal rewards, stipends; newest first",
    description=f"{WHO_SEES} Others get 404.",
)
async def list_member_honours(
    member_id: Id,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterPosition,
    limit: PageLimit = 50,
) -> HonourPage:
    async with db.reading() as session:
        page = await honours_of_member(session, ctx, who, member_id, after=after, limit=limit)
    return _out(page)


@router.get(
    "/orgs/{org_id}/honours",
    response_model=HonourPage,
    summary="Honours of the members of an org and the orgs below it, newest first",
    description="For cadres of the org or of an org above it; others get 404. Members are "
    "listed by id (the honours of members who left stay, pseudonymous).",
)
async def list_org_honours(
    org_id: OrgId,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterPosition,
    year: Annotated[int | None, Query(ge=1900, le=9998, description="Default: every year")] = None,
    kind: HonourKind | None = None,
    limit: PageLimit = 50,
) -> HonourPage:
    async with db.reading() as session:
        page = await honours_of_org(
            session,
            ctx,
            who,
            org_id,
            year=year,
            kind=kind.value if kind else None,
            after=after,
            limit=limit,
        )
    return _out(page)


@router.get(
    "/members/{member_id}/record",
    response_model=MemberRecordOut,
    summary="What a nomination would be checked against: a member's year",
    description=f"Training hours of the year by quality area, completions, best rank and "
    f"the titles held, from the facts and honours kept here. {WHO_SEES} Others get 404.",
)
async def member_record(
    member_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db, year: Year = None
) -> MemberRecordOut:
    year = year or year_of(ctx.clock.now(), ctx.settings.federation_timezone)
    async with db.reading() as session:
        record = await record_of_member(session, ctx, who, member_id, year)
    return MemberRecordOut(
        member_id=member_id,
        year=record.year,
        training_hours=record.training_hours,
        hours_by_quality_area=record.hours_by_quality_area,
        completions=record.completions,
        best_rank=record.best_rank,
        titles_held=record.titles_held,
    )
