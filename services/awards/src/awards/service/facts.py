"""Eligibility facts: recorded at the member's home node from enrollment events, read by the
member and by the cadres of their org."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from awards import repository
from awards.domain.access import FactScope
from awards.domain.facts import FactKind, FactSummary, as_utc, summarise
from awards.errors import NotFound
from awards.models import EligibilityFact
from awards.repository import FactPosition
from awards.service.context import Context
from shared.contracts.envelope import Envelope
from shared.contracts.events import EnrollmentConfirmed
from shared.orgs.directory import UnknownOrg


async def record_confirmed_enrollment(
    session: AsyncSession, ctx: Context, event: EnrollmentConfirmed, envelope: Envelope
) -> EligibilityFact | None:
    """Home node: a seat confirmed for one of our members becomes a fact citing the event."""
    if await ctx.orgs.get(event.home_org, session) is None:
        # The org tree arrives on another topic and may lag behind this one; dropping the
        # event could lose a fact about one of our members, so wait for the tree instead.
        raise UnknownOrg(event.home_org)
    if not await ctx.orgs.hosts(event.home_org, session):
        return None  # another node's member (we own the programme): their node records it
    if await repository.get_fact(session, envelope.id) is not None:
        return None  # a replay older than the processed-events record: already a fact
    fact = EligibilityFact(
        fact_id=envelope.id,
        member_id=event.member_id,
        home_org=event.home_org,
        kind=FactKind.enrollment_confirmed.value,
        programme_id=event.programme_id,
        programme_title=event.programme_title,
        # EnrollmentConfirmed.v1 does not carry the quality area (yet).
        quality_area=None,
        hours=event.hours,
        source_type=envelope.type,
        occurred_at=as_utc(event.decided_at),
        recorded_at=ctx.clock.now(),
    )
    session.add(fact)
    return fact


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
