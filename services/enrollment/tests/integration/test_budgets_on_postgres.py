"""No budget overrun under concurrent commits: many transactions commit seats against one
org's budget at the same time, on several connections; the budget's row lock (FOR UPDATE on
PostgreSQL, BEGIN IMMEDIATE on SQLite) serialises them, and a transaction that waited reads
the committed figures once it holds the lock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from enrollment.models import Budget as BudgetRow
from enrollment.service.budgets import commit_seat, lock_budgets, set_budget

pytestmark = pytest.mark.integration

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
YEAR = 2030


async def _committed(db, org_id: str) -> int:
    async with db.sessions() as session:
        row = await session.get(BudgetRow, (org_id, YEAR))
        assert row is not None
        return row.committed_fen


async def test_twenty_concurrent_commits_of_100_against_1000_let_exactly_ten_through(
    owner, connection_gauge
) -> None:
    ctx, db = owner
    async with db.transaction() as session:
        await set_budget(session, ctx, "hzsteel", YEAR, 1_000, 10_000)
    gauge = connection_gauge(db)

    async def one() -> bool:
        async with db.transaction() as session:
            return await commit_seat(session, ctx, "hzsteel", YEAR, 100)

    results = await asyncio.gather(*(one() for _ in range(20)))

    assert gauge.peak > 1, "the transactions must really overlap"
    assert results.count(True) == 10
    assert await _committed(db, "hzsteel") == 1_000


async def test_concurrent_batches_over_the_same_budgets_never_overrun_nor_deadlock(
    owner,
) -> None:
    """Batches lock their budgets in key order first (as the decisions consumer does), then
    commit several seats each, in whatever order their requests come."""
    ctx, db = owner
    async with db.transaction() as session:
        await set_budget(session, ctx, "hzsteel", YEAR, 1_000, 10_000)
        await set_budget(session, ctx, "zj-hz", YEAR, 1_500, 10_000)

    async def batch(orgs: list[str]) -> int:
        async with db.transaction() as session:
            await lock_budgets(session, ctx, [(org_id, YEAR) for org_id in orgs])
            return sum([await commit_seat(session, ctx, o, YEAR, 100) for o in orgs])

    orders = [["hzsteel", "zj-hz"] * 2, ["zj-hz", "hzsteel"] * 2] * 10
    done = await asyncio.gather(*(batch(orgs) for orgs in orders))

    assert sum(done) == 10 + 15
    assert await _committed(db, "hzsteel") == 1_000
    assert await _committed(db, "zj-hz") == 1_500


async def test_two_first_settings_of_one_budget_at_once_do_not_collide(owner) -> None:
    ctx, db = owner

    async def put(fund: int) -> None:
        async with db.transaction() as session:
            await set_budget(session, ctx, "hzsteel", YEAR, fund, 5_000)

    await asyncio.gather(*(put(fund) for fund in range(1_000, 1_010)))

    async with db.sessions() as session:
        row = await session.get(BudgetRow, ("hzsteel", YEAR))
    assert row is not None and 1_000 <= row.union_fund_fen < 1_010
