"""At the scheme owner's node: the veto departments check a nomination, then the reviewers of
the panel score it — a reviewer from the nominee's org, or an org between it and the owner,
is refused (recusal is enforced, not advisory)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards import nomination_repository as repo
from awards.domain import nominations as domain
from awards.errors import Conflict, Forbidden, Unprocessable
from awards.models import Nomination, Review, VetoCheck
from awards.schemas.nominations import ReviewIn, VetoCheckIn
from awards.service.context import Context
from awards.service.nomination_access import owned_scheme
from awards.service.nomination_steps import state_of, take_step
from shared.auth import Principal, Role
from shared.contracts.events import NominationReviewed, NominationVetoCleared, NominationVetoed


async def check_veto(
    session: AsyncSession, ctx: Context, who: Principal, row: Nomination, data: VetoCheckIn
) -> None:
    scheme = await owned_scheme(session, ctx, row)
    officer = await repo.staff_member(session, scheme.scheme_id, who.sub, "veto")
    if not who.has(Role.reviewer) or officer is None or officer.department != data.department:
        raise Forbidden(f"only the officer of {data.department} checks for that department")
    if data.vetoed and not data.reason:
        raise Unprocessable("a veto gives its reason", field="reason")
    checks = await repo.veto_checks_of(session, row.nomination_id)
    if any(c.department == data.department for c in checks):
        raise Conflict(f"{data.department} has checked this nomination already")
    cleared = {c.department for c in checks if not c.vetoed}
    if not data.vetoed:
        cleared.add(data.department)
    try:
        state = domain.check_veto(state_of(row), cleared, scheme.veto_departments, data.vetoed)
    except domain.StepRefused as exc:
        raise Conflict(str(exc)) from exc
    reason = data.reason or ""
    session.add(
        VetoCheck(
            nomination_id=row.nomination_id,
            department=data.department,
            vetoed=int(data.vetoed),
            officer=who.sub,
            reason=reason,
            at=ctx.clock.now(),
        )
    )
    step = NominationVetoed if data.vetoed else NominationVetoCleared
    await take_step(
        session, ctx, row, step, state,
        actor=who.sub, actor_org=scheme.owner_org, reason=reason, department=data.department,
    )  # fmt: skip


async def score(
    session: AsyncSession, ctx: Context, who: Principal, row: Nomination, data: ReviewIn
) -> None:
    scheme = await owned_scheme(session, ctx, row)
    reviewer = await repo.staff_member(session, scheme.scheme_id, who.sub, "reviewer")
    if not who.has(Role.reviewer) or reviewer is None:
        raise Forbidden("only a reviewer of the scheme's panel scores nominations")
    chain = [row.home_org, *await ctx.orgs.ancestors(row.home_org, session)]
    if domain.recused(reviewer.org_id, chain, scheme.owner_org):
        raise Forbidden(
            f"recused: the reviewer comes from {reviewer.org_id}, the nominee's org or above it"
        )
    try:
        state = domain.review(state_of(row))
    except domain.StepRefused as exc:
        raise Conflict(str(exc)) from exc
    if await session.get(Review, (row.nomination_id, who.sub)) is not None:
        raise Conflict("this reviewer has scored the nomination already")
    comment = data.comment or ""
    session.add(
        Review(
            nomination_id=row.nomination_id,
            reviewer=who.sub,
            score=data.score,
            comment=comment,
            at=ctx.clock.now(),
        )
    )
    await take_step(
        session, ctx, row, NominationReviewed, state,
        actor=who.sub, actor_org=scheme.owner_org, reason=comment, score=data.score,
    )  # fmt: skip
