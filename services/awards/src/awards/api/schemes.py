"""Award schemes and their rounds: created and run by the owner org's cadres at its node,
visible to everyone at or below the owner."""

from __future__ import annotations

from fastapi import APIRouter, Response

from awards import nomination_repository as repo
from awards.api.deps import Ctx, Db
from awards.errors import NotFound
from awards.schemas.schemes import RoundIn, RoundOut, SchemeIn, SchemeOut, SchemePage
from awards.service import schemes
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import encode_key
from shared.web.deps import AfterKey, PageLimit
from shared.web.fields import Id

router = APIRouter(tags=["award schemes"])


@router.post("/schemes", status_code=201, response_model=SchemeOut, summary="Create a scheme")
async def create_scheme(
    body: SchemeIn, who: CurrentPrincipal, ctx: Ctx, db: Db, response: Response
) -> SchemeOut:
    async with db.transaction() as session:
        scheme = await schemes.create_scheme(session, ctx, who, body)
    response.headers["Location"] = f"/schemes/{scheme.scheme_id}"
    return SchemeOut.model_validate(scheme)


@router.get(
    "/schemes",
    response_model=SchemePage,
    summary="Schemes owned by my org or an org above it",
)
async def list_schemes(
    who: CurrentPrincipal, ctx: Ctx, db: Db, after: AfterKey, limit: PageLimit = 50
) -> SchemePage:
    async with db.reading() as session:
        orgs = [who.org, *await ctx.orgs.ancestors(who.org, session)]
        rows = await repo.schemes_owned_by(session, orgs, after=after, limit=limit + 1)
    items = rows[:limit]
    more = len(rows) > limit
    return SchemePage(
        items=[SchemeOut.model_validate(s) for s in items],
        next_cursor=encode_key(items[-1].scheme_id) if more else None,
    )


@router.get("/schemes/{scheme_id}", response_model=SchemeOut, summary="One scheme")
async def get_scheme(scheme_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> SchemeOut:
    async with db.reading() as session:
        scheme = await schemes.visible_scheme(session, ctx, who, scheme_id)
    return SchemeOut.model_validate(scheme)


@router.post(
    "/schemes/{scheme_id}/rounds",
    status_code=201,
    response_model=RoundOut,
    summary="Open a round (the annual commendation cycle) of a scheme",
)
async def open_round(
    scheme_id: Id, body: RoundIn, who: CurrentPrincipal, ctx: Ctx, db: Db, response: Response
) -> RoundOut:
    async with db.transaction() as session:
        scheme = await schemes.visible_scheme(session, ctx, who, scheme_id)
        round_ = await schemes.open_round(session, ctx, who, scheme, body)
    response.headers["Location"] = f"/rounds/{round_.round_id}"
    return RoundOut.model_validate(round_)


@router.get(
    "/schemes/{scheme_id}/rounds", response_model=list[RoundOut], summary="A scheme's rounds"
)
async def list_rounds(scheme_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> list[RoundOut]:
    async with db.reading() as session:
        await schemes.visible_scheme(session, ctx, who, scheme_id)
        return [RoundOut.model_validate(r) for r in await repo.rounds_of(session, scheme_id)]


@router.get("/rounds/{round_id}", response_model=RoundOut, summary="One round")
async def get_round(round_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> RoundOut:
    async with db.reading() as session:
        round_ = await repo.get_round(session, round_id)
        if round_ is None:
            raise NotFound(f"no round {round_id} here", field="round_id")
        await schemes.visible_scheme(session, ctx, who, round_.scheme_id)
    return RoundOut.model_validate(round_)


@router.post(
    "/rounds/{round_id}/close",
    response_model=RoundOut,
    summary="Close a round: no more nominations",
)
async def close_round(round_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> RoundOut:
    async with db.transaction() as session:
        round_ = await repo.get_round(session, round_id, for_update=True)
        if round_ is None:
            raise NotFound(f"no round {round_id} here", field="round_id")
        scheme = await schemes.visible_scheme(session, ctx, who, round_.scheme_id)
        await schemes.close_round(session, ctx, who, scheme, round_)
    return RoundOut.model_validate(round_)
