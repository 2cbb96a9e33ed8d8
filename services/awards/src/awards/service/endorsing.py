"""At each endorsing org's node: its cadre endorses the nomination up to the next level, or
returns it to the home org with reasons."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards import nomination_repository as repo
from awards.domain import nominations as domain
from awards.errors import Conflict, Forbidden
from awards.models import Nomination
from awards.service.context import Context
from awards.service.nomination_access import require_cadre_of
from awards.service.nomination_steps import state_of, take_step
from shared.auth import Principal
from shared.contracts.events import NominationEndorsed, NominationReturned


async def _stage_org(session: AsyncSession, ctx: Context, who: Principal, row: Nomination) -> str:
    stage = domain.current_stage(state_of(row))
    if stage is None:
        raise Conflict(f"the nomination is {row.status}: no endorsement is pending")
    require_cadre_of(who, stage, "endorse or return it at this stage")
    if not await ctx.orgs.hosts(stage, session):
        raise Forbidden(f"{stage} endorses at its own node")
    return stage


async def endorse(
    session: AsyncSession, ctx: Context, who: Principal, row: Nomination, comment: str
) -> None:
    stage = await _stage_org(session, ctx, who, row)
    scheme = await repo.get_scheme(session, row.scheme_id)
    departments = scheme.veto_departments if scheme is not None else []
    state = domain.start_review_if_no_veto(domain.endorse(state_of(row), stage), departments)
    await take_step(
        session, ctx, row, NominationEndorsed, state, actor=who.sub, actor_org=stage, reason=comment
    )


async def send_back(
    session: AsyncSession, ctx: Context, who: Principal, row: Nomination, reasons: str
) -> None:
    stage = await _stage_org(session, ctx, who, row)
    state = domain.send_back(state_of(row), stage)
    await take_step(
        session, ctx, row, NominationReturned, state, actor=who.sub, actor_org=stage, reason=reasons
    )
