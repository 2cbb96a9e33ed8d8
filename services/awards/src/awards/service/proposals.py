"""Rationalization proposals ("big suggestions, big rewards") at the node hosting the org
that evaluates them: a member submits at their home node, the evaluating org's cadres take
each step, and the reward is an honour (`HonourGranted` on the awards topic), recorded on
the member's record at their home node like every other honour.

Who sees a proposal: its author, and cadres of the evaluating org or of an org above it;
anyone else gets 404. Only the evaluating org's cadres take steps (403 for the others who
see it); never on their own proposal.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from awards import member_repository
from awards import proposal_repository as repo
from awards.domain.facts import year_of
from awards.domain.proposal_stats import month_bounds
from awards.domain.proposals import (
    Access,
    InvalidStep,
    ProposalCase,
    ProposalState,
    ProposalStep,
    StepNotAllowed,
    StepTaken,
    access_to,
    is_staff,
)
from awards.errors import Conflict, Forbidden, NotFound, Unprocessable
from awards.models import Proposal, ProposalStepRecord
from awards.proposal_repository import ProposalFilter, ProposalPosition
from awards.service.context import Context
from awards.service.proposal_tiers import effective_tiers
from shared.auth import Principal
from shared.contracts import topics
from shared.contracts.events import (
    BenefitKind,
    HonourGranted,
    HonourKind,
    ProposalEvaluated,
    SchemeKind,
)

# One honour per proposal: its id follows from the proposal's, whoever computes it.
_HONOURS = uuid.UUID("6f1c3c52-5d0e-4c84-9a8e-2b1f0d6c7a11")


@dataclass(frozen=True)
class Submission:
    title: str
    problem: str
    proposal: str
    expected_benefit: str
    evaluating_org: str | None


async def _evaluator(session: AsyncSession, ctx: Context, home_org: str, wanted: str | None) -> str:
    """The home org, or the org above it the author chose; hosted at this node."""
    evaluator = wanted or home_org
    if evaluator != home_org and evaluator not in await ctx.orgs.ancestors(home_org, session):
        raise Unprocessable(
            f"evaluating_org: {evaluator} is neither your home org nor an org above it",
            field="evaluating_org",
        )
    org = await ctx.orgs.get(evaluator, session)
    if org is None or org.hosted_by != ctx.node_id:
        host = org.hosted_by if org else "unknown"
        raise Unprocessable(
            f"evaluating_org: {evaluator} is hosted by node {host}; proposals are evaluated "
            "at this node only (evaluation at another node is not supported yet)",
            field="evaluating_org",
        )
    return evaluator


async def submit_proposal(
    session: AsyncSession, ctx: Context, who: Principal, submission: Submission
) -> Proposal:
    """A member submits at their home node: the member replica says where they belong."""
    if who.member_id is None:
        raise Forbidden("proposals are submitted by members: the token names no member_id")
    member = await member_repository.get_member(session, who.member_id)
    if member is None:
        raise NotFound(f"member_id: no member {who.member_id} at this node", field="member_id")
    evaluator = await _evaluator(session, ctx, member.home_org, submission.evaluating_org)
    now = ctx.clock.now()
    proposal = Proposal(
        proposal_id=str(uuid.uuid4()),
        author_id=member.member_id,
        home_org=member.home_org,
        evaluating_org=evaluator,
        title=submission.title,
        problem=submission.problem,
        proposal=submission.proposal,
        expected_benefit=submission.expected_benefit,
        state=ProposalState.submitted.value,
        submitted_at=now,
        updated_at=now,
    )
    session.add(proposal)
    await session.flush()  # the step row refers to it
    submitted = StepTaken(ProposalStep.submit, None, ProposalState.submitted)
    await _record(session, ctx, proposal, submitted, who)
    return proposal


async def _record(
    session: AsyncSession, ctx: Context, proposal: Proposal, taken: StepTaken, who: Principal
) -> None:
    """The proposal's new state and the step that led there, in the caller's transaction."""
    now = ctx.clock.now()
    proposal.state = taken.to_state.value
    proposal.updated_at = now
    if taken.step in (ProposalStep.adopt, ProposalStep.reject):
        proposal.evaluated_at = now
    session.add(
        ProposalStepRecord(
            proposal_id=proposal.proposal_id,
            seq=await repo.next_seq(session, proposal.proposal_id),
            step=taken.step.value,
            from_state=taken.from_state.value if taken.from_state else None,
            to_state=taken.to_state.value,
            actor=who.sub,
            at=now,
            note=taken.note,
            benefit_fen=taken.benefit_fen,
            reward_fen=taken.reward_fen,
        )
    )
    if taken.step is not ProposalStep.submit:
        await ctx.outbox.stage(
            session, _evaluated(proposal, taken, now), topic=topics.members(ctx.node_id)
        )


def _evaluated(proposal: Proposal, taken: StepTaken, at: datetime) -> ProposalEvaluated:
    """What the author is told of a step (their notifications service, same node)."""
    return ProposalEvaluated(
        proposal_id=proposal.proposal_id,
        member_id=proposal.author_id,
        home_org=proposal.home_org,
        evaluating_org=proposal.evaluating_org,
        title=proposal.title,
        step=taken.step.value,
        state=taken.to_state.value,
        note=taken.note or "",
        benefit_fen=taken.benefit_fen,
        reward_fen=taken.reward_fen,
        at=at,
    )


async def _access(session: AsyncSession, ctx: Context, who: Principal, p: Proposal) -> Access:
    above = is_staff(who) and await ctx.orgs.is_within(p.evaluating_org, who.org, session)
    return access_to(who, p.author_id, p.evaluating_org, above=above)


async def visible_proposal(
    session: AsyncSession, ctx: Context, who: Principal, proposal_id: str, *, lock: bool = False
) -> tuple[Proposal, Access]:
    """The proposal if the caller may see it (404 otherwise), with what they may do."""
    proposal = await repo.get_proposal(session, proposal_id, for_update=lock)
    access = Access.none if proposal is None else await _access(session, ctx, who, proposal)
    if proposal is None or access is Access.none:
        raise NotFound(f"proposal_id: no proposal {proposal_id} here", field="proposal_id")
    return proposal, access


Action = Callable[[ProposalCase], StepTaken]


async def _actionable(
    session: AsyncSession, ctx: Context, who: Principal, proposal_id: str
) -> Proposal:
    """The proposal, locked, if the caller may move it: 404 if unseen, 403 if only seen."""
    proposal, access = await visible_proposal(session, ctx, who, proposal_id, lock=True)
    if access is not Access.act:
        raise Forbidden(
            f"only the cadres of {proposal.evaluating_org} take steps on proposal "
            f"{proposal_id}, and never on their own"
        )
    return proposal


async def _apply(
    session: AsyncSession, ctx: Context, who: Principal, proposal: Proposal, action: Action
) -> Proposal:
    """409 if the state does not allow the step, 422 for bad input to it."""
    case = ProposalCase(ProposalState(proposal.state), proposal.benefit_fen, proposal.reward_fen)
    try:
        taken = action(case)
    except StepNotAllowed as error:
        raise Conflict(str(error), field=error.field) from None
    except InvalidStep as error:
        raise Unprocessable(str(error), field=error.field) from None
    proposal.benefit_fen, proposal.reward_fen = case.benefit_fen, case.reward_fen
    await _record(session, ctx, proposal, taken, who)
    return proposal


async def take_step(
    session: AsyncSession, ctx: Context, who: Principal, proposal_id: str, action: Action
) -> Proposal:
    """Reject, adopt, start the trial or assess: one step on the locked proposal."""
    proposal = await _actionable(session, ctx, who, proposal_id)
    return await _apply(session, ctx, who, proposal, action)


async def reward_proposal(
    session: AsyncSession, ctx: Context, who: Principal, proposal_id: str
) -> Proposal:
    """The reward the evaluating org's tier table gives (its own, the nearest above it at
    this node, or the default), recorded with its `HonourGranted` in the same transaction."""
    proposal = await _actionable(session, ctx, who, proposal_id)
    table = await effective_tiers(session, ctx, proposal.evaluating_org)
    source = table.source_org or "the default table"
    await _apply(session, ctx, who, proposal, lambda case: case.reward(table.tiers, source))
    honour_id = str(uuid.uuid5(_HONOURS, proposal.proposal_id))
    proposal.honour_id = honour_id
    honour = await _honour(session, ctx, proposal, honour_id)
    await ctx.outbox.stage(session, honour, topic=topics.AWARDS)
    return proposal


async def _honour(
    session: AsyncSession, ctx: Context, proposal: Proposal, honour_id: str
) -> HonourGranted:
    # The author may have moved within this node since submitting: their record is there.
    member = await member_repository.get_member(session, proposal.author_id)
    reward = proposal.reward_fen or 0
    now = ctx.clock.now()
    return HonourGranted(
        honour_id=honour_id,
        kind=HonourKind.proposal_reward,
        source_id=proposal.proposal_id,
        scheme_kind=SchemeKind.rationalization_proposal,
        title=f"Rationalization proposal: {proposal.title}"[:300],
        granting_org=proposal.evaluating_org,
        home_org=member.home_org if member else proposal.home_org,
        member_ids=[proposal.author_id],
        amount_fen=reward,
        benefits=[BenefitKind.cash] if reward else [],
        reason=f"yearly benefit assessed at {proposal.benefit_fen or 0} fen",
        year=year_of(now, ctx.settings.federation_timezone),
        granted_at=now,
    )


async def steps_of(session: AsyncSession, proposal: Proposal) -> list[ProposalStepRecord]:
    return await repo.steps_of(session, proposal.proposal_id)


async def proposals_of_member(
    session: AsyncSession,
    who: Principal,
    member_id: str,
    state: ProposalState | None,
    *,
    after: ProposalPosition | None,
    limit: int,
) -> list[Proposal]:
    """The author's own proposals, newest first; nobody else's (404)."""
    if who.member_id is None or who.member_id != member_id:
        raise NotFound(f"member_id: no proposals of member {member_id} are visible to the caller")
    found = ProposalFilter(author_id=member_id, state=state.value if state else None)
    return await repo.proposals_page(session, found, after=after, limit=limit)


async def proposals_of_org(
    session: AsyncSession,
    ctx: Context,
    org_id: str,
    state: ProposalState | None,
    month: tuple[int, int] | None,
    *,
    after: ProposalPosition | None,
    limit: int,
) -> list[Proposal]:
    """What the org evaluates, newest first; submitted in one month (year, month) if given.
    The caller checked that the org is visible to them."""
    start = end = None
    if month is not None:
        start, end = month_bounds(*month, ctx.settings.federation_timezone)
    found = ProposalFilter(
        evaluating_org=org_id,
        state=state.value if state else None,
        submitted_from=start,
        submitted_before=end,
    )
    return await repo.proposals_page(session, found, after=after, limit=limit)
