"""Honours follow a member who moves to a union hosted by another node: the old home hands
the member's facts and honours over on the awards topic and forgets them; the new home keeps
them, under the same ids (so a nomination that cited one still finds it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from awards import honours_repository, repository
from awards.domain.facts import as_utc
from awards.domain.honours import record_id
from awards.models import EligibilityFact
from awards.service.context import Context
from shared.contracts import topics
from shared.contracts.events import (
    HeldHonour,
    HonourEntry,
    HonoursTransferred,
    MemberTransferred,
)


async def hand_over_honours(session: AsyncSession, ctx: Context, event: MemberTransferred) -> None:
    """Old home: the member's facts and honours leave with them."""
    if not await ctx.orgs.hosts(event.from_org, session):
        return
    facts = await repository.member_facts(session, event.member_id)
    honours = await honours_repository.all_of_member(session, event.member_id)
    await ctx.outbox.stage(
        session,
        HonoursTransferred(
            member_id=event.member_id,
            from_org=event.from_org,
            to_org=event.to_org,
            transferred_at=event.transferred_at,
            facts=[HonourEntry.model_validate(f, from_attributes=True) for f in facts],
            honours=[HeldHonour.model_validate(h, from_attributes=True) for h in honours],
        ),
        topic=topics.AWARDS,
    )
    await repository.forget_member_facts(session, event.member_id)
    await honours_repository.forget_member_honours(session, event.member_id)


async def take_honours(session: AsyncSession, ctx: Context, event: HonoursTransferred) -> None:
    """New home: the facts and honours are the member's here now."""
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
    await honours_repository.add_honours(
        session, [_arrived(event, held, ctx) for held in event.honours]
    )


def _arrived(event: HonoursTransferred, held: HeldHonour, ctx: Context) -> dict[str, Any]:
    """An honour that came with the member: under its own id, at the member's new home org."""
    return {
        **held.model_dump(mode="python"),
        "kind": held.kind.value,
        "scheme_kind": held.scheme_kind.value if held.scheme_kind else None,
        "benefits": [b.value for b in held.benefits],
        "granted_at": as_utc(held.granted_at),
        "record_id": record_id(held.honour_id, event.member_id),
        "member_id": event.member_id,
        "home_org": event.to_org,
        "recorded_at": ctx.clock.now(),
    }
