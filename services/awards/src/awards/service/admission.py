"""At the scheme owner's node: a filed nomination is admitted into its round, or refused —
one decision per nomination, under the round's lock, so that concurrent filings from many
nodes never overrun a quota or nominate a member twice."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards import nomination_repository as repo
from awards.domain import nominations as domain
from awards.models import Nomination, NominationMember, QuotaUse, Round, Scheme
from awards.service.context import Context
from awards.service.nomination_steps import state_of, take_step
from shared.contracts.events import NominationAdmitted, NominationFiled, NominationRefused, Quota
from shared.contracts.events.nominations import NominationRefusal


async def _quota_orgs(
    session: AsyncSession, ctx: Context, scheme: Scheme, home_org: str
) -> list[Quota]:
    quotas = [Quota.model_validate(q) for q in scheme.quotas]
    return [q for q in quotas if await ctx.orgs.is_within(home_org, q.org_id, session)]


async def _refusal(
    session: AsyncSession,
    ctx: Context,
    scheme: Scheme,
    round_: Round | None,
    event: NominationFiled,
) -> tuple[NominationRefusal, str] | None:
    state = event.state
    if round_ is None or round_.scheme_id != scheme.scheme_id:
        return "unknown_scheme", f"no round {state.round_id} of scheme {scheme.scheme_id}"
    if round_.status != "open":
        return "round_not_open", f"the round is {round_.status}"
    if event.at > round_.deadline:
        return "deadline_passed", f"filed after the round's deadline {round_.deadline}"
    if taken := await repo.already_nominated(session, round_.round_id, state.member_ids):
        return "already_nominated", f"already nominated in this round: {', '.join(taken)}"
    for quota in await _quota_orgs(session, ctx, scheme, state.home_org):
        if await repo.quota_used(session, round_.round_id, quota.org_id) >= quota.nominations:
            return "quota_full", f"{quota.org_id} has used its {quota.nominations} nomination(s)"
    return None


async def admit_filed(
    session: AsyncSession, ctx: Context, row: Nomination, event: NominationFiled
) -> None:
    """Called by the nominations consumer for every filed nomination this node owns."""
    scheme = await repo.get_scheme(session, row.scheme_id)
    if row.status != "filed" or scheme is None or not scheme.owned_here:
        return
    round_ = await repo.get_round(session, row.round_id, for_update=True)
    refusal = await _refusal(session, ctx, scheme, round_, event)
    actor = f"bigschool/{ctx.node_id}/awards"
    if refusal is not None:
        code, why = refusal
        state = domain.refuse(state_of(row))
        await take_step(
            session, ctx, row, NominationRefused, state,
            actor=actor, actor_org=scheme.owner_org, reason=why, refusal=code,
        )  # fmt: skip
        return
    assert round_ is not None
    for member_id in row.member_ids:
        session.add(
            NominationMember(
                round_id=round_.round_id, member_id=member_id, nomination_id=row.nomination_id
            )
        )
    for quota in await _quota_orgs(session, ctx, scheme, row.home_org):
        session.add(
            QuotaUse(round_id=round_.round_id, org_id=quota.org_id, nomination_id=row.nomination_id)
        )
    state = domain.start_review_if_no_veto(domain.admit(state_of(row)), scheme.veto_departments)
    await take_step(
        session, ctx, row, NominationAdmitted, state, actor=actor, actor_org=scheme.owner_org
    )
