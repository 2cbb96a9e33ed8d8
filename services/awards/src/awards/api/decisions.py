"""The owner's decisions on nominations and the round's publication of its results, at the
scheme owner's node."""

from __future__ import annotations

from fastapi import APIRouter

from awards.api.deps import Ctx, Db
from awards.domain.grants import Decision
from awards.models import Dossier, Nomination
from awards.schemas import DecisionIn, DecisionOut, PublicationOut, ResultOut, ResultPage
from awards.schemas.nominations import NomineeOut
from awards.service.decisions import decide, publish_round, results_of_round
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import encode_key
from shared.web.deps import AfterKey, PageLimit
from shared.web.fields import Id

router = APIRouter(tags=["decisions"])

PUBLISHED = ("granted", "rejected")


@router.post(
    "/nominations/{nomination_id}/decision",
    response_model=DecisionOut,
    summary="Grant or reject a nomination, with reasons (a cadre of the scheme's owner org)",
    description="At the owner's node, once the notice period is over and no objection is "
    "open (a nomination never shortlisted may only be rejected); 409 otherwise, or when it "
    "was decided already. A grant reserves its cost (the scheme's cash benefits) in the "
    "scheme budget: 409 naming `budget_fen` when the budget cannot cover it, and nothing is "
    "recorded. The decision is published with the round's results. Others who may see the "
    "nomination get 403; anyone else 404.",
)
async def post_decision(
    nomination_id: Id, body: DecisionIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> DecisionOut:
    async with db.transaction() as session:
        decided = await decide(session, ctx, who, nomination_id, body)
        row = decided.row
        return DecisionOut(
            nomination_id=row.nomination_id,
            scheme_id=row.scheme_id,
            round_id=row.round_id,
            status=row.status,
            decision=decided.decision,
            reasons=body.reasons,
            decided_by=who.sub,
            decided_at=decided.decided_at,
            amount_fen=row.amount_fen,
            published=row.status in PUBLISHED,
            budget_left_fen=decided.budget_left_fen,
        )


@router.post(
    "/rounds/{round_id}/publish",
    response_model=PublicationOut,
    summary="Publish a closed round's results in one batch (a cadre of the owner org)",
    description="Every decided nomination takes its decision step; each grant is paid from "
    "the scheme budget and told to the nominee's home node (`HonourGranted`), titles with a "
    "stipend start their schedule; the round becomes published. 409 when the round is not "
    "closed, or while a nomination in review or on notice has no decision (with how many).",
)
async def post_publish(round_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> PublicationOut:
    async with db.transaction() as session:
        done = await publish_round(session, ctx, who, round_id)
    return PublicationOut(
        round_id=done.round_id,
        status="published",
        granted=done.granted,
        rejected=done.rejected,
        paid_fen=done.paid_fen,
        stipends=done.stipends,
        published_at=done.published_at,
    )


def _result(row: Nomination, dossier: Dossier | None) -> ResultOut:
    nominees = [NomineeOut.model_validate(n) for n in dossier.nominees] if dossier else []
    return ResultOut(
        nomination_id=row.nomination_id,
        home_org=row.home_org,
        nominee=row.nominee,
        member_ids=row.member_ids,
        nominees=nominees,
        team_name=row.team_name,
        status=row.status,
        decision=Decision(str(row.decision)),  # set on every row decided_of_round returns
        reasons=row.decision_reasons or "",
        decided_by=row.decided_by or "",
        decided_at=row.decided_at or row.updated_at,
        amount_fen=row.amount_fen,
        published=row.status in PUBLISHED,
    )


@router.get(
    "/rounds/{round_id}/results",
    response_model=ResultPage,
    summary="A round's decisions, published or not yet (the owner's cadres, the scheme's staff)",
    description="Decided nominations in id order, with the nominees' names from the newest "
    "dossier. Others who see the scheme get 403; anyone else 404.",
)
async def list_results(
    round_id: Id,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterKey,
    limit: PageLimit = 50,
) -> ResultPage:
    async with db.reading() as session:
        rows = await results_of_round(session, ctx, who, round_id, after=after, limit=limit)
    last = rows[-1][0] if len(rows) == limit else None
    return ResultPage(
        items=[_result(row, dossier) for row, dossier in rows],
        next_cursor=encode_key(last.nomination_id) if last else None,
    )
