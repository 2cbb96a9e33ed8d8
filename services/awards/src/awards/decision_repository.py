"""SQL of the owner's decisions, the round's batch publication and its grants.

Writers lock in one order — the round, then the scheme, then the nomination — so a decision
and a publication of the same round never wait for each other in a circle. Each lock refreshes
a row this session read before (`get_row`): an unlocked read may be stale.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from awards.models import Grant, Nomination, Round, Scheme
from shared.db import get_row


async def lock_round(session: AsyncSession, round_id: str) -> Round | None:
    return await get_row(session, Round, round_id, for_update=True)


async def lock_scheme(session: AsyncSession, scheme_id: str) -> Scheme | None:
    return await get_row(session, Scheme, scheme_id, for_update=True)


async def lock_nomination(session: AsyncSession, nomination_id: str) -> Nomination | None:
    return await get_row(session, Nomination, nomination_id, for_update=True)


async def add_grant(session: AsyncSession, grant: Grant) -> None:
    session.add(grant)


async def decided_of_round(
    session: AsyncSession, round_id: str, *, after: str | None, limit: int
) -> list[Nomination]:
    """The round's nominations with a decision (published or not), in id order."""
    stmt = select(Nomination).where(
        Nomination.round_id == round_id, Nomination.decision.is_not(None)
    )
    if after is not None:
        stmt = stmt.where(Nomination.nomination_id > after)
    stmt = stmt.order_by(Nomination.nomination_id).limit(limit)
    return list((await session.execute(stmt)).scalars())
