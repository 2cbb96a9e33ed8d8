"""The owner's decisions and the round's batch publication, at the scheme owner's node.

A decision (granted / rejected, with reasons) is taken by a cadre of the owner org once the
notice period is over and no objection is open; a grant reserves its cost (the scheme's cash
benefits) in the scheme budget, or is refused with 409 when the budget cannot cover it. The
decision stays at the owner until the round is published: then, in one transaction, every
decided nomination takes its `NominationDecided` step, every grant is paid (a `Grant` row and
one `HonourGranted` for the home node's record), titles with a stipend start their schedule,
and the round becomes published.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from awards import decision_repository as drepo
from awards import nomination_repository as repo
from awards.domain.grants import Budget, BudgetShort, Decision, benefit_kinds, grant_cost
from awards.domain.nominations import StepRefused, check_decision, publish_decision
from awards.errors import Conflict, NotFound
from awards.models import Dossier, Grant, Nomination, Round, Scheme
from awards.schemas import DecisionIn
from awards.service.context import Context
from awards.service.nomination_access import (
    is_staff,
    owned_scheme,
    require_cadre_of,
    visible_nomination,
)
from awards.service.nomination_steps import state_of, take_step
from awards.service.schemes import change_round, require_owner_cadre, visible_scheme
from awards.service.stipends import start_schedule
from shared.auth import Principal
from shared.contracts import topics
from shared.contracts.events import (
    Benefit,
    HonourGranted,
    HonourKind,
    NominationDecided,
    SchemeKind,
)

# Where the owner decides: reviewed (a rejection), or shortlisted and its notice over.
DECIDING = ("in_review", "on_notice")

T = TypeVar("T")


def budget_of(scheme: Scheme) -> Budget:
    return Budget(scheme.budget_fen, scheme.committed_fen, scheme.paid_fen)


def _set_budget(scheme: Scheme, budget: Budget) -> None:
    scheme.committed_fen, scheme.paid_fen = budget.committed_fen, budget.paid_fen


def benefits_of(scheme: Scheme) -> list[Benefit]:
    return [Benefit.model_validate(b) for b in scheme.benefits]


@dataclass(frozen=True)
class Decided:
    row: Nomination
    decision: Decision
    decided_at: datetime
    budget_left_fen: int


def _found(row: T | None, what: str, key: str) -> T:
    if row is None:
        raise NotFound(f"no {what} {key} here", field=f"{what}_id")
    return row


def _check_decidable(
    round_: Round, row: Nomination, granted: bool, now: datetime, grace: timedelta
) -> None:
    if round_.status == "published":
        raise Conflict("status: the round's results are published already", field="status")
    if row.decision is not None:
        raise Conflict(f"decision: the nomination was {row.decision} already", field="decision")
    try:
        check_decision(state_of(row), granted, now, grace)
    except StepRefused as exc:
        raise Conflict(f"status: {exc}", field="status") from exc


async def decide(
    session: AsyncSession, ctx: Context, who: Principal, nomination_id: str, body: DecisionIn
) -> Decided:
    """Record the owner's decision (not published yet). Locks the round, the scheme and the
    nomination in that order (as publication does): a concurrent grant waits, then sees
    what the first one reserved."""
    seen = await visible_nomination(session, ctx, who, nomination_id)  # 404
    require_cadre_of(who, seen.owner_org, "decide on this nomination")  # 403
    await owned_scheme(session, ctx, seen)  # 403 at a node that only keeps a copy
    round_ = _found(await drepo.lock_round(session, seen.round_id), "round", seen.round_id)
    scheme = _found(await drepo.lock_scheme(session, seen.scheme_id), "scheme", seen.scheme_id)
    row = _found(await drepo.lock_nomination(session, nomination_id), "nomination", nomination_id)
    now = ctx.clock.now()
    grace = timedelta(seconds=ctx.settings.objection_grace_seconds)
    _check_decidable(round_, row, body.granted, now, grace)
    budget, amount = budget_of(scheme), 0
    if body.granted:
        amount = grant_cost(benefits_of(scheme))
        try:
            budget = budget.reserve(amount)
        except BudgetShort as exc:
            raise Conflict(
                str(exc), field="budget_fen", left_fen=exc.left_fen, needed_fen=exc.needed_fen
            ) from exc
        _set_budget(scheme, budget)
    decision = Decision.granted if body.granted else Decision.rejected
    row.decision, row.decision_reasons = decision, body.reasons
    row.decided_by, row.decided_at, row.amount_fen = who.sub, now, amount
    return Decided(row, decision, now, budget.left_fen)


async def _seen_round(
    session: AsyncSession, ctx: Context, who: Principal, round_id: str, *, lock: bool
) -> tuple[Round, Scheme, bool]:
    """A round, its scheme, and whether the caller is on the scheme's staff. 404 unless they
    are, or their org is the owner or below it (who see the scheme): a reviewer may come from
    an org outside the owner's subtree."""
    found = await (
        drepo.lock_round(session, round_id) if lock else repo.get_round(session, round_id)
    )
    round_ = _found(found, "round", round_id)
    scheme_id = round_.scheme_id
    staff = await is_staff(session, who, scheme_id, "reviewer") or await is_staff(
        session, who, scheme_id, "veto"
    )
    if not staff:
        return round_, await visible_scheme(session, ctx, who, scheme_id), False
    return round_, _found(await repo.get_scheme(session, scheme_id), "scheme", scheme_id), True


@dataclass
class Publication:
    round_id: str
    published_at: datetime
    granted: int = 0
    rejected: int = 0
    paid_fen: int = 0
    stipends: int = 0


async def publish_round(
    session: AsyncSession, ctx: Context, who: Principal, round_id: str
) -> Publication:
    """All of a closed round's decisions in one transaction, once every nomination in review
    or on notice has one; 409 otherwise, and nothing changes."""
    round_, seen, _ = await _seen_round(session, ctx, who, round_id, lock=True)  # 404
    require_owner_cadre(who, seen, "publish the round's results")  # 403
    if round_.status != "closed":
        raise Conflict(f"status: the round is {round_.status}, not closed", field="status")
    undecided = await repo.count_undecided(session, round_id, DECIDING)
    if undecided:
        raise Conflict(
            f"decision: {undecided} nomination(s) in review or on notice have no decision yet",
            field="decision",
            undecided=undecided,
        )
    scheme = _found(await drepo.lock_scheme(session, seen.scheme_id), "scheme", seen.scheme_id)
    publication = Publication(round_id, ctx.clock.now())
    async for row in repo.each_nomination_of_round(session, round_id, DECIDING):
        await _publish_one(session, ctx, who, scheme, round_, row, publication)
    await change_round(session, ctx, round_, "published")
    return publication


async def _publish_one(
    session: AsyncSession,
    ctx: Context,
    who: Principal,
    scheme: Scheme,
    round_: Round,
    row: Nomination,
    publication: Publication,
) -> None:
    granted = row.decision == Decision.granted
    decided_at = row.decided_at or publication.published_at  # set with every decision
    await take_step(
        session, ctx, row, NominationDecided, publish_decision(state_of(row), granted),
        actor=who.sub, actor_org=scheme.owner_org, reason=row.decision_reasons or "",
        decided_by=row.decided_by or who.sub, decided_at=decided_at, amount_fen=row.amount_fen,
    )  # fmt: skip
    if not granted:
        publication.rejected += 1
        return
    _set_budget(scheme, budget_of(scheme).pay_reserved(row.amount_fen))
    grant = Grant(
        grant_id=str(uuid.uuid4()),
        nomination_id=row.nomination_id,
        scheme_id=scheme.scheme_id,
        round_id=round_.round_id,
        amount_fen=row.amount_fen,
        granted_at=publication.published_at,
    )
    await drepo.add_grant(session, grant)
    await ctx.outbox.stage(session, _honour(scheme, round_, row, grant), topic=topics.AWARDS)
    publication.granted += 1
    publication.paid_fen += row.amount_fen
    if await start_schedule(session, ctx, scheme, row, publication.published_at):
        publication.stipends += 1


def _honour(scheme: Scheme, round_: Round, row: Nomination, grant: Grant) -> HonourGranted:
    return HonourGranted(
        honour_id=grant.grant_id,  # one grant, one honour
        kind=HonourKind.award,
        source_id=row.nomination_id,
        scheme_id=scheme.scheme_id,
        scheme_kind=SchemeKind(scheme.kind),
        title=scheme.title,
        granting_org=scheme.owner_org,
        home_org=row.home_org,
        member_ids=row.member_ids,
        team_name=row.team_name,
        amount_fen=grant.amount_fen,
        benefits=benefit_kinds(benefits_of(scheme)),
        reason=row.decision_reasons or "",
        year=round_.year,
        granted_at=grant.granted_at,
    )


async def results_of_round(
    session: AsyncSession,
    ctx: Context,
    who: Principal,
    round_id: str,
    *,
    after: str | None,
    limit: int,
) -> list[tuple[Nomination, Dossier | None]]:
    """The round's decided nominations (published or not yet), with their newest dossier:
    for the owner's cadres and the scheme's staff (403 for others who see the scheme)."""
    _, scheme, staff = await _seen_round(session, ctx, who, round_id, lock=False)  # 404
    if not staff:
        require_owner_cadre(who, scheme, "read the round's results")  # 403
    rows = await drepo.decided_of_round(session, round_id, after=after, limit=limit)
    dossiers = await repo.latest_dossiers(session, [r.nomination_id for r in rows])
    return [(r, dossiers.get(r.nomination_id)) for r in rows]
