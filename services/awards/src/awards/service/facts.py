"""Eligibility facts: recorded at the member's home node from enrollment events, read by the
member and by the cadres of their org."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from awards import repository
from awards.domain.access import FactScope
from awards.domain.facts import FactKind, FactSummary, as_utc, summarise
from awards.errors import NotFound
from awards.models import EligibilityFact
from awards.repository import FactPosition
from awards.service.context import Context
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    EnrollmentCompleted,
    EnrollmentCompletionRevoked,
    EnrollmentConfirmed,
)
from shared.orgs.directory import UnknownOrg


async def is_home_node(session: AsyncSession, ctx: Context, home_org: str) -> bool:
    """Whether this node is the home node of members of `home_org`, where their facts and
    honours are kept; UnknownOrg (the message waits) while the org is not replicated."""
    if await ctx.orgs.get(home_org, session) is None:
        # The org tree arrives on another topic and may lag behind this one; dropping the
        # event could lose a fact about one of our members, so wait for the tree instead.
        raise UnknownOrg(home_org)
    # Else another node's member (the event names an org of ours too: the programme's owner,
    # the granting org): their own node keeps it.
    return await ctx.orgs.hosts(home_org, session)


async def _is_new(session: AsyncSession, ctx: Context, home_org: str, envelope: Envelope) -> bool:
    """Ours, and not a replay older than the processed-events record (already a fact)."""
    if not await is_home_node(session, ctx, home_org):
        return False
    # No flush for this read: the batch's new facts go to the database together at commit
    # (one multi-row INSERT), not one by one ahead of each look-up.
    with session.no_autoflush:
        return await repository.get_fact(session, envelope.id) is None


async def record_confirmed_enrollment(
    session: AsyncSession, ctx: Context, event: EnrollmentConfirmed, envelope: Envelope
) -> EligibilityFact | None:
    """Home node: a seat confirmed for one of our members becomes a fact citing the event.
    Its hours are the programme's, as offered: they are credited on completion only."""
    return await _record(
        session, ctx, event, envelope, FactKind.enrollment_confirmed, event.decided_at
    )


async def record_completed_enrollment(
    session: AsyncSession, ctx: Context, event: EnrollmentCompleted, envelope: Envelope
) -> EligibilityFact | None:
    """Home node: a completion by one of our members becomes the fact that credits its hours
    (and, for contests and competitions, its score and rank), citing the event."""
    return await _record(
        session,
        ctx,
        event,
        envelope,
        FactKind.completed,
        event.completed_at,
        programme_kind=event.programme_kind,
        score=event.score,
        rank=event.rank,
    )


async def _record(
    session: AsyncSession,
    ctx: Context,
    event: EnrollmentConfirmed | EnrollmentCompleted,
    envelope: Envelope,
    kind: FactKind,
    occurred_at: datetime,
    **details: Any,
) -> EligibilityFact | None:
    """The fact `kind` about the event's member, citing the event, unless it is not ours or
    already recorded; `details`: the columns only that kind of fact has."""
    if not await _is_new(session, ctx, event.home_org, envelope):
        return None
    fact = EligibilityFact(
        fact_id=envelope.id,
        member_id=event.member_id,
        home_org=event.home_org,
        kind=kind.value,
        programme_id=event.programme_id,
        programme_title=event.programme_title,
        quality_area=event.quality_area.value if event.quality_area is not None else None,
        hours=event.hours,
        source_type=envelope.type,
        occurred_at=as_utc(occurred_at),
        recorded_at=ctx.clock.now(),
        enrollment_id=event.enrollment_id,
        **details,
    )
    session.add(fact)
    return fact


async def revoke_completion(
    session: AsyncSession, ctx: Context, event: EnrollmentCompletionRevoked
) -> int:
    """Home node: a completion recorded in error is no fact any more (its hours and rank go).
    Only completions up to the revocation go: a replayed revocation must not take away the
    completion recorded again after it. Returns how many facts went."""
    if not await is_home_node(session, ctx, event.home_org):
        return 0
    return await repository.forget_completions(
        session, event.enrollment_id, up_to=as_utc(event.revoked_at)
    )


@dataclass(frozen=True)
class FactPage:
    items: list[EligibilityFact]
    next_after: FactPosition | None
    summary: FactSummary


async def facts_of_member(
    session: AsyncSession, scope: FactScope, *, after: FactPosition | None, limit: int
) -> FactPage:
    """One page of the facts `scope` allows, with a summary of all of them."""
    totals = await repository.kind_totals_in_scope(session, scope)
    if scope.home_org is not None and not totals:
        # Nothing visible to a cadre: the member may exist elsewhere, but not for them.
        raise NotFound(f"no facts about member {scope.member_id} here")
    rows = await repository.facts_in_scope(session, scope, after=after, limit=limit + 1)
    items = rows[:limit]
    more = len(rows) > limit
    next_after = (items[-1].occurred_at, items[-1].fact_id) if more else None
    return FactPage(items=items, next_after=next_after, summary=summarise(totals))
