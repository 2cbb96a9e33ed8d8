"""All SQL of training budgets.

A budget row is locked (FOR UPDATE on PostgreSQL; SQLite write transactions are exclusive)
before its money moves, and stays locked to the end of the transaction. The rows locked are
kept in `session.info` (which lives as long as the transaction), so a consumer deciding many
requests in one batch locks each budget once: `lock_budgets` takes a batch's rows in key
order (two batches never deadlock), and `get_budget(..., lock=True)` answers from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Budget
from shared.db import dialect_insert

BudgetKey = tuple[str, int]  # (org_id, year)

_LOCKED = "enrollment.locked_budgets"  # (org_id, year) -> Budget | None, locked


def _locked(session: AsyncSession) -> dict[BudgetKey, Budget | None]:
    cache: dict[Any, Any] = session.info.setdefault(_LOCKED, {})
    return cache


async def get_budget(
    session: AsyncSession, org_id: str, year: int, *, lock: bool = False
) -> Budget | None:
    locked = _locked(session)
    if lock and (org_id, year) in locked:
        return locked[(org_id, year)]
    stmt = select(Budget).where(Budget.org_id == org_id, Budget.year == year)
    if lock:
        # populate_existing: a row read earlier in this session is refreshed once locked.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    budget = (await session.execute(stmt)).scalar_one_or_none()
    if lock:
        locked[(org_id, year)] = budget
    return budget


async def lock_budgets(session: AsyncSession, keys: Iterable[BudgetKey]) -> None:
    """Lock several budgets at once, in (org, year) order; missing ones are remembered as
    None (an org without a budget for that year)."""
    locked = _locked(session)
    wanted = sorted(set(keys) - set(locked))
    if not wanted:
        return
    stmt = (
        select(Budget)
        .where(tuple_(Budget.org_id, Budget.year).in_(wanted))
        .order_by(Budget.org_id, Budget.year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = {(b.org_id, b.year): b for b in (await session.execute(stmt)).scalars()}
    locked.update({key: found.get(key) for key in wanted})


async def ensure_budget(session: AsyncSession, org_id: str, year: int, now: datetime) -> Budget:
    """The budget row, created empty if there is none, locked. Two first writers at once
    do not collide: the insert does nothing when the other one's row is there."""
    insert = dialect_insert(session, Budget).values(
        org_id=org_id,
        year=year,
        union_fund_fen=0,
        education_share_bp=0,
        committed_fen=0,
        spent_fen=0,
        updated_at=now,
    )
    await session.execute(insert.on_conflict_do_nothing(index_elements=["org_id", "year"]))
    _locked(session).pop((org_id, year), None)  # a None remembered before is stale now
    budget = await get_budget(session, org_id, year, lock=True)
    assert budget is not None  # inserted above, or there already
    return budget


async def budgets_of_year(session: AsyncSession, year: int) -> list[Budget]:
    """Every budget of the year at this node (one row per org it hosts, at the most)."""
    stmt = select(Budget).where(Budget.year == year).order_by(Budget.org_id)
    return list((await session.execute(stmt)).scalars())
