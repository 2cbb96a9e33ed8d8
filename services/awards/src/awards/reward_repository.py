"""All SQL of immediate rewards and their quotas.

A grant locks its org's usage row for the period (FOR UPDATE on PostgreSQL; SQLite write
transactions are exclusive) and holds it to the end of the transaction, so concurrent grants
of one org count one after the other and a quota is never overrun.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from awards.models import Reward, RewardQuota, RewardQuotaUsage
from shared.db import dialect_insert, newest_first_after, upsert

# Newest first; the reward id breaks ties so that a cursor position is exact.
RewardPosition = tuple[datetime, str]


async def get_quota(session: AsyncSession, org_id: str) -> RewardQuota | None:
    return await session.get(RewardQuota, org_id)


async def put_quota(session: AsyncSession, values: dict[str, Any]) -> None:
    await upsert(session, RewardQuota, values, ["org_id"])


async def get_usage(session: AsyncSession, org_id: str, period: str) -> RewardQuotaUsage | None:
    return await session.get(RewardQuotaUsage, (org_id, period))


async def lock_usage(
    session: AsyncSession,
    org_id: str,
    period: str,
    bounds: tuple[datetime, datetime],
    now: datetime,
) -> RewardQuotaUsage:
    """The org's usage row for `period` (a label), locked; created from the rewards already
    granted within its `bounds` when it is the period's first grant. Two first grants at
    once do not collide: the second insert waits for the first and then does nothing."""
    used_count, used_fen = await granted_between(session, org_id, bounds)
    insert = dialect_insert(session, RewardQuotaUsage).values(
        org_id=org_id, period=period, used_count=used_count, used_fen=used_fen, updated_at=now
    )
    await session.execute(insert.on_conflict_do_nothing(index_elements=["org_id", "period"]))
    stmt = (
        select(RewardQuotaUsage)
        .where(RewardQuotaUsage.org_id == org_id, RewardQuotaUsage.period == period)
        .with_for_update()
        # A row read earlier in this session is refreshed once locked.
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one()


async def granted_between(
    session: AsyncSession, org_id: str, bounds: tuple[datetime, datetime]
) -> tuple[int, int]:
    """Rewards the org granted in [start, end), and their money. A fresh period has none,
    unless the quota's period kind changed: the rewards of this month then count in the
    new quarter too."""
    stmt = select(func.count(), func.coalesce(func.sum(Reward.amount_fen), 0)).where(
        Reward.granting_org == org_id,
        Reward.granted_at >= bounds[0],
        Reward.granted_at < bounds[1],
    )
    count, fen = (await session.execute(stmt)).one()
    return int(count), int(fen)


async def add_reward(session: AsyncSession, reward: Reward) -> None:
    session.add(reward)
    await session.flush()


async def get_reward(session: AsyncSession, reward_id: str) -> Reward | None:
    return await session.get(Reward, reward_id)


def _page(stmt: Select[Reward], after: RewardPosition | None, limit: int) -> Select[Reward]:
    return newest_first_after(stmt, Reward.granted_at, Reward.reward_id, after).limit(limit)


async def rewards_of_org(
    session: AsyncSession,
    org_id: str,
    *,
    between: tuple[datetime, datetime] | None,
    after: RewardPosition | None,
    limit: int,
) -> list[Reward]:
    """What the org granted, newest first; granted in [start, end) when `between` is set."""
    stmt = select(Reward).where(Reward.granting_org == org_id)
    if between is not None:
        stmt = stmt.where(Reward.granted_at >= between[0], Reward.granted_at < between[1])
    return list((await session.execute(_page(stmt, after, limit))).scalars())


async def granting_orgs_of_member(session: AsyncSession, member_id: str) -> list[str]:
    """The orgs that granted the member a reward here: a few at the most."""
    stmt = select(Reward.granting_org).distinct().where(Reward.member_id == member_id)
    return list((await session.execute(stmt)).scalars())


async def rewards_of_member(
    session: AsyncSession,
    member_id: str,
    *,
    granted_by: Sequence[str] | None,
    after: RewardPosition | None,
    limit: int,
) -> list[Reward]:
    """The member's rewards, newest first; only those granted by `granted_by` orgs if set."""
    stmt = select(Reward).where(Reward.member_id == member_id)
    if granted_by is not None:
        stmt = stmt.where(Reward.granting_org.in_(granted_by))
    return list((await session.execute(_page(stmt, after, limit))).scalars())
