"""At the nominee's home node: the grassroots cadre files a nomination (criteria checked here
against the facts this node learnt from enrollment events), and resubmits a returned one.
The dossier goes to the inbox of every node that endorses or decides."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from awards import nomination_repository as repo
from awards.domain import nominations as domain
from awards.errors import Conflict, Forbidden, NotFound, Unprocessable
from awards.models import Dossier, MemberReplica, Nomination, Round, Scheme
from awards.schemas.nominations import NominationIn, ResubmitIn
from awards.service.context import Context
from awards.service.eligibility import evaluate_member
from awards.service.members import member_of
from awards.service.nomination_access import require_cadre_of
from awards.service.nomination_steps import state_of, take_step
from awards.service.schemes import visible_scheme
from shared.auth import Principal
from shared.contracts import topics
from shared.contracts.events import (
    CitedFact,
    Criteria,
    NominationDossier,
    NominationFiled,
    NominationResubmitted,
    NominationState,
    Nominee,
)


async def _open_round(session: AsyncSession, ctx: Context, scheme: Scheme, round_id: str) -> Round:
    round_ = await repo.get_round(session, round_id)
    if round_ is None or round_.scheme_id != scheme.scheme_id:
        raise NotFound(f"no round {round_id} of scheme {scheme.scheme_id}", field="round_id")
    if round_.status != "open":
        raise Conflict(f"the round is {round_.status}: it takes no nominations", field="round_id")
    if ctx.clock.now() > round_.deadline:
        raise Conflict(f"the round's deadline {round_.deadline} has passed", field="round_id")
    return round_


def _check_nominee_kind(scheme: Scheme, data: NominationIn) -> None:
    if scheme.nominee == "member" and len(data.member_ids) != 1:
        raise Unprocessable("this scheme nominates one member", field="member_ids")
    if scheme.nominee == "team" and (len(data.member_ids) < 2 or not data.team_name):
        raise Unprocessable(
            "a team nomination names the team and two members or more", field="team_name"
        )
    if len(set(data.member_ids)) != len(data.member_ids):
        raise Unprocessable("a member is named twice", field="member_ids")


async def _stages(session: AsyncSession, ctx: Context, home_org: str, scheme: Scheme) -> list[str]:
    if home_org == scheme.owner_org:
        return []
    chain: list[tuple[str, str]] = []
    for org_id in await ctx.orgs.ancestors(home_org, session):
        org = await ctx.orgs.get(org_id, session)
        chain.append((org_id, org.level if org is not None else ""))
    try:
        return domain.endorsing_stages(chain, scheme.owner_org, scheme.endorse_levels)
    except domain.StepRefused as exc:
        raise Unprocessable(str(exc), field="scheme_id") from exc


async def _checked_dossier(
    session: AsyncSession,
    ctx: Context,
    members: Sequence[MemberReplica],
    criteria: Criteria,
    year: int,
) -> tuple[list[CitedFact], float]:
    """Every nominee must meet the criteria; the facts that prove it are cited by ce_id."""
    cited: list[CitedFact] = []
    hours = 0.0
    for i, member in enumerate(members):
        evaluation = await evaluate_member(session, ctx, member.member_id, criteria, year)
        if not evaluation.met:
            details = "; ".join(f"{u.criterion}: {u.detail}" for u in evaluation.unmet)
            raise Unprocessable(
                f"member {member.member_id} does not meet the criteria ({details})",
                field=f"member_ids[{i}]",
            )
        cited += [CitedFact.model_validate(f, from_attributes=True) for f in evaluation.cited]
        hours += evaluation.hours
    return cited, round(hours, 2)


async def _send_dossier(
    session: AsyncSession,
    ctx: Context,
    state: NominationState,
    members: Sequence[MemberReplica],
    achievements: str,
    cited: tuple[list[CitedFact], float],
) -> None:
    """Kept here, and sent to each other node that endorses or decides (names, never contact
    data, in inbox messages only)."""
    dossier = NominationDossier(
        nomination_id=state.nomination_id,
        scheme_id=state.scheme_id,
        owner_org=state.owner_org,
        home_org=state.home_org,
        version=state.version,
        nominees=[Nominee(member_id=m.member_id, display_name=m.display_name) for m in members],
        team_name=state.team_name,
        achievements=achievements,
        cited_facts=cited[0],
        training_hours=cited[1],
        sent_at=ctx.clock.now(),
    )
    await keep_dossier(session, ctx, dossier)
    nodes: set[str] = set()
    for org_id in [*state.stages, state.owner_org]:
        org = await ctx.orgs.get(org_id, session)
        if org is not None and org.hosted_by != ctx.node_id:
            nodes.add(org.hosted_by)
    for node in sorted(nodes):
        await ctx.outbox.stage(session, dossier, topic=topics.inbox(node))


async def keep_dossier(session: AsyncSession, ctx: Context, event: NominationDossier) -> None:
    """Each version of a dossier once (the inbox consumer, and the home node itself)."""
    if await session.get(Dossier, (event.nomination_id, event.version)) is not None:
        return
    session.add(
        Dossier(
            nomination_id=event.nomination_id,
            version=event.version,
            nominees=[n.model_dump(mode="json") for n in event.nominees],
            team_name=event.team_name,
            achievements=event.achievements,
            cited_facts=[f.model_dump(mode="json") for f in event.cited_facts],
            training_hours=event.training_hours,
            received_at=ctx.clock.now(),
        )
    )


async def file_nomination(
    session: AsyncSession, ctx: Context, who: Principal, data: NominationIn
) -> Nomination:
    scheme = await visible_scheme(session, ctx, who, data.scheme_id)
    require_cadre_of(who, who.org, "nominate")
    round_ = await _open_round(session, ctx, scheme, data.round_id)
    _check_nominee_kind(scheme, data)
    members = [await member_of(session, ctx, m, who.org) for m in data.member_ids]
    if any(m.home_org != who.org for m in members):
        raise Forbidden("the cadre of the nominee's own grassroots org files the nomination")
    criteria = Criteria.model_validate(scheme.criteria)
    cited = await _checked_dossier(session, ctx, members, criteria, round_.year)
    state = NominationState(
        nomination_id=str(uuid.uuid4()),
        scheme_id=scheme.scheme_id,
        round_id=round_.round_id,
        owner_org=scheme.owner_org,
        home_org=who.org,
        nominee=scheme.nominee,  # checked when the scheme was stored
        member_ids=[m.member_id for m in members],
        team_name=data.team_name,
        stages=await _stages(session, ctx, who.org, scheme),
        status="filed",
    )
    await take_step(session, ctx, None, NominationFiled, state, actor=who.sub, actor_org=who.org)
    await _send_dossier(session, ctx, state, members, data.achievements, cited)
    row = await repo.get_nomination(session, state.nomination_id)
    assert row is not None  # take_step applied it here
    return row


async def resubmit_nomination(
    session: AsyncSession, ctx: Context, who: Principal, row: Nomination, data: ResubmitIn
) -> None:
    """A returned nomination, corrected: a new dossier version goes up the same path."""
    require_cadre_of(who, row.home_org, "resubmit the nomination")
    scheme = await repo.get_scheme(session, row.scheme_id)
    round_ = await repo.get_round(session, row.round_id)
    if scheme is None or round_ is None:
        raise NotFound(f"the scheme of nomination {row.nomination_id} is not known here")
    try:
        state = domain.resubmit(state_of(row))
    except domain.StepRefused as exc:
        raise Conflict(str(exc)) from exc
    state = domain.start_review_if_no_veto(state, scheme.veto_departments)
    members = [await member_of(session, ctx, m, row.home_org) for m in row.member_ids]
    cited = await _checked_dossier(
        session, ctx, members, Criteria.model_validate(scheme.criteria), round_.year
    )
    reason = data.note or ""
    await take_step(
        session,
        ctx,
        row,
        NominationResubmitted,
        state,
        actor=who.sub,
        actor_org=who.org,
        reason=reason,
    )
    await _send_dossier(session, ctx, state, members, data.achievements, cited)
