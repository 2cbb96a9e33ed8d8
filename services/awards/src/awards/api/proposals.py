"""Rationalization proposals: submitted by a member at their home node, evaluated there by
the cadres of their home org (or of the org above it they chose).

Who sees a proposal: its author, and cadres of the evaluating org or of an org above it;
anyone else gets 404. Steps are taken by the evaluating org's cadres; the others who see
the proposal get 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from awards.api.deps import Ctx, Db
from awards.domain.proposals import ProposalState
from awards.models import Proposal
from awards.schemas import (
    AssessIn,
    NoteIn,
    ProposalDetailOut,
    ProposalIn,
    ProposalOut,
    ProposalPage,
    RejectIn,
    StepOut,
)
from awards.service.proposals import (
    Action,
    Submission,
    proposals_of_member,
    proposals_of_org,
    reward_proposal,
    steps_of,
    submit_proposal,
    take_step,
    visible_proposal,
)
from awards.service.reward_quotas import check_org_visible
from shared.auth.dependencies import CurrentPrincipal
from shared.auth.principal import Principal
from shared.web.cursor import encode_position
from shared.web.deps import AfterPosition, PageLimit
from shared.web.fields import Id, OrgId

router = APIRouter(tags=["rationalization proposals"])

State = Annotated[ProposalState | None, Query(description="Only proposals in this state.")]
Month = Annotated[
    str | None,
    Query(
        pattern=r"^(19|[2-9]\d)\d{2}-(0[1-9]|1[0-2])$",
        description="Only proposals submitted in this month (YYYY-MM, federation time zone).",
        examples=["2025-06"],
    ),
]


async def _detail(session: AsyncSession, proposal: Proposal) -> ProposalDetailOut:
    steps = [StepOut.model_validate(s) for s in await steps_of(session, proposal)]
    return ProposalDetailOut(**ProposalOut.model_validate(proposal).model_dump(), steps=steps)


def _page(items: list[Proposal], limit: int) -> ProposalPage:
    last = items[-1] if len(items) == limit else None
    return ProposalPage(
        items=[ProposalOut.model_validate(p) for p in items],
        next_cursor=encode_position(last.submitted_at, last.proposal_id) if last else None,
    )


@router.post(
    "/proposals",
    status_code=201,
    response_model=ProposalDetailOut,
    summary="Submit a rationalization proposal",
    description="For a member, at their home node. Evaluated by their home org, or by the org "
    "above it named in `evaluating_org` — hosted at this node (another node: 422).",
)
async def post_proposal(
    body: ProposalIn, who: CurrentPrincipal, ctx: Ctx, db: Db, response: Response
) -> ProposalDetailOut:
    async with db.transaction() as session:
        proposal = await submit_proposal(session, ctx, who, Submission(**body.model_dump()))
        out = await _detail(session, proposal)
    response.headers["Location"] = f"/proposals/{out.proposal_id}"
    return out


@router.get(
    "/proposals/{proposal_id}",
    response_model=ProposalDetailOut,
    summary="One proposal with its state and every step",
    description="For its author, and cadres of the evaluating org or of an org above it.",
)
async def get_proposal(
    proposal_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> ProposalDetailOut:
    async with db.reading() as session:
        proposal, _ = await visible_proposal(session, ctx, who, proposal_id)
        return await _detail(session, proposal)


async def _step(
    db: Db, ctx: Ctx, who: Principal, proposal_id: str, action: Action
) -> ProposalDetailOut:
    async with db.transaction() as session:
        proposal = await take_step(session, ctx, who, proposal_id, action)
        return await _detail(session, proposal)


STEP_ACCESS = " For cadres of the evaluating org (403 for others who see the proposal)."


@router.post(
    "/proposals/{proposal_id}/reject",
    response_model=ProposalDetailOut,
    summary="Reject a submitted proposal, with reasons",
    description="The reasons are required (422 naming `reasons`); the author reads them."
    + STEP_ACCESS,
)
async def reject(
    proposal_id: Id, body: RejectIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> ProposalDetailOut:
    return await _step(db, ctx, who, proposal_id, lambda case: case.reject(body.reasons))


def _note(body: NoteIn | None) -> str | None:
    return body.note if body else None


@router.post(
    "/proposals/{proposal_id}/adopt",
    response_model=ProposalDetailOut,
    summary="Adopt a submitted proposal",
    description="An optional note." + STEP_ACCESS,
)
async def adopt(
    proposal_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db, body: NoteIn | None = None
) -> ProposalDetailOut:
    return await _step(db, ctx, who, proposal_id, lambda case: case.adopt(_note(body)))


@router.post(
    "/proposals/{proposal_id}/trial",
    response_model=ProposalDetailOut,
    summary="Put an adopted proposal on trial",
    description="An optional note." + STEP_ACCESS,
)
async def trial(
    proposal_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db, body: NoteIn | None = None
) -> ProposalDetailOut:
    return await _step(db, ctx, who, proposal_id, lambda case: case.start_trial(_note(body)))


@router.post(
    "/proposals/{proposal_id}/assess",
    response_model=ProposalDetailOut,
    summary="Assess the yearly benefit of a proposal on trial",
    description="The money saved or earned a year, in fen, with a note on how it was found."
    + STEP_ACCESS,
)
async def assess(
    proposal_id: Id, body: AssessIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> ProposalDetailOut:
    return await _step(
        db, ctx, who, proposal_id, lambda case: case.assess(body.benefit_fen, body.note)
    )


@router.post(
    "/proposals/{proposal_id}/reward",
    response_model=ProposalDetailOut,
    summary="Reward an assessed proposal by the tier table",
    description="The evaluating org's tier table (its own, the nearest above it at this node, "
    "or the default) gives the reward; it is recorded and published as an honour "
    "(`honour_granted`, kind `proposal_reward`) for the author's record." + STEP_ACCESS,
)
async def reward(proposal_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> ProposalDetailOut:
    async with db.transaction() as session:
        proposal = await reward_proposal(session, ctx, who, proposal_id)
        return await _detail(session, proposal)


@router.get(
    "/members/{member_id}/proposals",
    response_model=ProposalPage,
    summary="A member's own proposals with their state, newest first",
    description="For the member themself.",
)
async def member_proposals(
    member_id: Id,
    who: CurrentPrincipal,
    db: Db,
    after: AfterPosition,
    state: State = None,
    limit: PageLimit = 50,
) -> ProposalPage:
    async with db.reading() as session:
        items = await proposals_of_member(session, who, member_id, state, after=after, limit=limit)
    return _page(items, limit)


@router.get(
    "/orgs/{org_id}/proposals",
    response_model=ProposalPage,
    summary="The proposals an org evaluates, newest first",
    description="For cadres of the org or of an org above it, at the node hosting the org.",
)
async def org_proposals(
    org_id: OrgId,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterPosition,
    state: State = None,
    month: Month = None,
    limit: PageLimit = 50,
) -> ProposalPage:
    year_month = (int(month[:4]), int(month[5:])) if month else None
    async with db.reading() as session:
        await check_org_visible(session, ctx, who, org_id)
        items = await proposals_of_org(
            session, ctx, org_id, state, year_month, after=after, limit=limit
        )
    return _page(items, limit)
