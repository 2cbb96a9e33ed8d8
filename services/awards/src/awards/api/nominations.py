"""Nominations: filed at the home node, endorsed at each level's node, checked, reviewed and
decided at the scheme owner's. Every step answers with the nomination's new state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from awards import nomination_repository as repo
from awards.api.deps import Ctx, Db
from awards.errors import NotFound
from awards.models import Nomination
from awards.schemas.nominations import (
    DossierOut,
    EndorseIn,
    NominationIn,
    NominationOut,
    NominationPage,
    ResubmitIn,
    ReturnIn,
    ReviewIn,
    ReviewOut,
    StepOut,
    VetoCheckIn,
    VetoCheckOut,
)
from awards.service import assessing, endorsing, nominating, nomination_lists, schemes
from awards.service.context import Context
from awards.service.nomination_access import is_staff, visible_nomination
from shared.auth import Principal
from shared.auth.dependencies import CurrentPrincipal
from shared.contracts.events.nominations import NominationStatus
from shared.web.cursor import decode_key, encode_key
from shared.web.deps import AfterKey, PageCursor, PageLimit
from shared.web.fields import Id

router = APIRouter(tags=["nominations"])


async def _out(session: AsyncSession, row: Nomination) -> NominationOut:
    out = NominationOut.model_validate(row)
    dossier = await repo.latest_dossier(session, row.nomination_id)
    if dossier is not None:
        out.dossier = DossierOut.model_validate(dossier)
    scheme = await repo.get_scheme(session, row.scheme_id)
    if scheme is not None and scheme.owned_here:
        out.reviews = [
            ReviewOut.model_validate(r) for r in await repo.reviews_of(session, row.nomination_id)
        ]
        checks = await repo.veto_checks_of(session, row.nomination_id)
        out.veto_checks = [VetoCheckOut.model_validate(c) for c in checks]
    return out


@router.post(
    "/nominations",
    status_code=202,
    response_model=NominationOut,
    summary="Nominate a member or a team (cadre of their grassroots org, at its node)",
    responses={202: {"description": "Filed; the owner admits or refuses it: poll Location."}},
)
async def file_nomination(
    body: NominationIn, who: CurrentPrincipal, ctx: Ctx, db: Db, response: Response
) -> NominationOut:
    async with db.transaction() as session:
        row = await nominating.file_nomination(session, ctx, who, body)
        out = await _out(session, row)
    response.headers["Location"] = f"/nominations/{row.nomination_id}"
    return out


@router.get(
    "/nominations",
    response_model=NominationPage,
    summary="The nominations I work on, in id order",
    description="A cadre's: those their org filed, endorses or owns (at this node). A "
    "scheme's reviewers and veto officers: those of the schemes they serve, at the owner's "
    "node; for a reviewer `recused` says whether they may score it. Anyone else gets 403.",
)
async def list_my_nominations(
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterKey,
    status: Annotated[list[NominationStatus] | None, Query(description="Only these.")] = None,
    limit: PageLimit = 50,
) -> NominationPage:
    async with db.reading() as session:
        found = await nomination_lists.my_nominations(
            session, ctx, who, statuses=status, after=after, limit=limit + 1
        )
        items = []
        for listed in found[:limit]:
            out = await _out(session, listed.row)
            out.recused = listed.recused
            items.append(out)
    more = len(found) > limit
    return NominationPage(
        items=items, next_cursor=encode_key(found[limit - 1].row.nomination_id) if more else None
    )


@router.get("/nominations/{nomination_id}", response_model=NominationOut, summary="A nomination")
async def get_nomination(
    nomination_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> NominationOut:
    async with db.reading() as session:
        row = await visible_nomination(session, ctx, who, nomination_id)
        return await _out(session, row)


@router.get(
    "/nominations/{nomination_id}/trail",
    response_model=list[StepOut],
    summary="Every step of a nomination: who, when, why (append-only)",
)
async def get_trail(nomination_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> list[StepOut]:
    async with db.reading() as session:
        await visible_nomination(session, ctx, who, nomination_id)
        return [StepOut.model_validate(s) for s in await repo.trail(session, nomination_id)]


async def _act(
    db: Db,
    ctx: Context,
    who: Principal,
    nomination_id: str,
    action: Callable[[AsyncSession, Nomination], Awaitable[None]],
) -> NominationOut:
    """Lock the nomination, check the caller may see it (404), take the step, answer."""
    async with db.transaction() as session:
        row = await visible_nomination(session, ctx, who, nomination_id, lock=True)
        await action(session, row)
        return await _out(session, row)


@router.post(
    "/nominations/{nomination_id}/endorse",
    response_model=NominationOut,
    summary="Endorse it to the next level (cadre of the endorsing org)",
)
async def endorse(
    nomination_id: Id, body: EndorseIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> NominationOut:
    async def step(session: AsyncSession, row: Nomination) -> None:
        await endorsing.endorse(session, ctx, who, row, body.comment or "")

    return await _act(db, ctx, who, nomination_id, step)


@router.post(
    "/nominations/{nomination_id}/return",
    response_model=NominationOut,
    summary="Return it to the home org with reasons (cadre of the endorsing org)",
)
async def send_back(
    nomination_id: Id, body: ReturnIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> NominationOut:
    async def step(session: AsyncSession, row: Nomination) -> None:
        await endorsing.send_back(session, ctx, who, row, body.reasons)

    return await _act(db, ctx, who, nomination_id, step)


@router.post(
    "/nominations/{nomination_id}/resubmit",
    response_model=NominationOut,
    summary="Correct a returned nomination and send it up again (cadre of the home org)",
)
async def resubmit(
    nomination_id: Id, body: ResubmitIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> NominationOut:
    async def step(session: AsyncSession, row: Nomination) -> None:
        await nominating.resubmit_nomination(session, ctx, who, row, body)

    return await _act(db, ctx, who, nomination_id, step)


@router.post(
    "/nominations/{nomination_id}/veto-checks",
    response_model=NominationOut,
    summary="A veto department clears or vetoes it (the department's officer)",
)
async def veto_check(
    nomination_id: Id, body: VetoCheckIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> NominationOut:
    async def step(session: AsyncSession, row: Nomination) -> None:
        await assessing.check_veto(session, ctx, who, row, body)

    return await _act(db, ctx, who, nomination_id, step)


@router.post(
    "/nominations/{nomination_id}/reviews",
    response_model=NominationOut,
    summary="Score it (a reviewer of the scheme's panel; recusal enforced)",
)
async def review(
    nomination_id: Id, body: ReviewIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> NominationOut:
    async def step(session: AsyncSession, row: Nomination) -> None:
        await assessing.score(session, ctx, who, row, body)

    return await _act(db, ctx, who, nomination_id, step)


@router.get(
    "/rounds/{round_id}/nominations",
    response_model=NominationPage,
    summary="A round's nominations (the owner's cadres and the scheme's staff)",
)
async def list_round_nominations(
    round_id: Id,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    status: Annotated[NominationStatus | None, Query()] = None,
    cursor: PageCursor = None,
    limit: PageLimit = 50,
) -> NominationPage:
    async with db.reading() as session:
        round_ = await repo.get_round(session, round_id)
        if round_ is None:
            raise NotFound(f"no round {round_id} here", field="round_id")
        scheme = await schemes.visible_scheme(session, ctx, who, round_.scheme_id)
        staff = await is_staff(session, who, scheme.scheme_id, "reviewer") or await is_staff(
            session, who, scheme.scheme_id, "veto"
        )
        if not staff:
            schemes.require_owner_cadre(who, scheme, "list the round's nominations")
        after = decode_key(cursor) if cursor else None
        rows = await repo.nominations_of_round(
            session, round_id, statuses=[status] if status else None, after=after, limit=limit + 1
        )
        items = [await _out(session, r) for r in rows[:limit]]
    more = len(rows) > limit
    return NominationPage(
        items=items, next_cursor=encode_key(rows[limit - 1].nomination_id) if more else None
    )
