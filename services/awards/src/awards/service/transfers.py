"""Honours follow a member who moves to a union hosted by another node: the old home hands
the member's facts over on the awards topic and forgets them; the new home keeps them, under
the same ids (so a nomination that cited one still finds it)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from awards import repository
from awards.domain.facts import as_utc
from awards.models import EligibilityFact
from awards.service.context import Context
from shared.contracts import topics
from shared.contracts.events import HonourEntry, HonoursTransferred, MemberTransferred


async def hand_over_honours(session: AsyncSession, ctx: Context, event: MemberTransferred) -> None:
    """Old home: the member's facts leave with them."""
    if not await ctx.orgs.hosts(event.from_org, session):
        return
    facts = await repository.member_facts(session, event.member_id)
    await ctx.outbox.stage(
        session,
        HonoursTransferred(
            member_id=event.member_id,
            from_org=event.from_org,
            to_org=event.to_org,
            transferred_at=event.transferred_at,
            facts=[HonourEntry.model_validate(f, from_attributes=True) for f in facts],
        ),
        topic=topics.AWARDS,
    )
    await repository.forget_member_facts(session, event.member_id)


async def take_honours(session: AsyncSession, ctx: Context, event: HonoursTransferred) -> None:
    """New home: the facts are the member's here now."""
    if not await ctx.orgs.hosts(event.to_org, session):
        return
    for entry in event.facts:
        if await repository.get_fact(session, entry.fact_id) is not None:
            continue  # a replay
        session.add(
            EligibilityFact(
                **entry.model_dump(exclude={"occurred_at"}),
                occurred_at=as_utc(entry.occurred_at),
                member_id=event.member_id,
                home_org=event.to_org,
                recorded_at=ctx.clock.now(),
            )
        )
