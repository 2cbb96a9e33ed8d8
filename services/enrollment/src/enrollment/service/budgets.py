"""Training budgets at the node hosting the org: a programme's seats are paid by its owner
org's budget for the year of the programme's start (in the federation's zone).

The seat use cases run inside the caller's transaction (the owner's seat decisions), with
the budget row locked to its end. A consumer deciding a batch calls `lock_budgets` first
(after locking the batch's programmes, like every writer: programmes, then budgets) so
that each budget is read and locked once, in key order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import budget_repository as repository
from enrollment.domain import budget as rules
from enrollment.errors import Conflict, NotFound, Unprocessable
from enrollment.models import Budget as BudgetRow
from enrollment.service.context import Context
from enrollment.service.stats_marks import mark_dirty


def budget_year(ctx: Context, at: datetime) -> int:
    """The calendar year of `at` in the federation's zone: a programme's budget year is the
    year of its `starts_at`."""
    return rules.year_of(at, ctx.settings.federation_timezone)


async def lock_budgets(
    session: AsyncSession, ctx: Context, keys: Iterable[tuple[str, int]]
) -> None:
    """Lock the (org, year) budgets a batch of decisions will touch, in one statement."""
    await repository.lock_budgets(session, keys)


def _value(row: BudgetRow) -> rules.Budget:
    return rules.Budget(
        union_fund_fen=row.union_fund_fen,
        education_share_bp=row.education_share_bp,
        committed_fen=row.committed_fen,
        spent_fen=row.spent_fen,
    )


def _store(ctx: Context, row: BudgetRow, value: rules.Budget) -> None:
    row.union_fund_fen = value.union_fund_fen
    row.education_share_bp = value.education_share_bp
    row.committed_fen = value.committed_fen
    row.spent_fen = value.spent_fen
    row.updated_at = ctx.clock.now()


async def commit_seat(
    session: AsyncSession, ctx: Context, org_id: str, year: int, cost_fen: int
) -> bool:
    """Commit a confirmed seat's cost against the org's budget: False (nothing changed) when
    the budget cannot pay it. A free seat needs no budget."""
    if rules.can_pay(None, cost_fen):  # free: no budget needed (a negative cost raises)
        return True
    row = await repository.get_budget(session, org_id, year, lock=True)
    if row is None or not rules.can_pay(value := _value(row), cost_fen):
        return False
    _store(ctx, row, rules.commit(value, cost_fen))
    mark_dirty(session, org_id, year)  # the org's committed money
    return True


async def release_seat(
    session: AsyncSession, ctx: Context, org_id: str, year: int, cost_fen: int
) -> None:
    """A cancelled confirmed seat gives its cost back. BudgetError if more is released than
    is committed (the seat never committed it)."""
    await _move(session, ctx, org_id, year, cost_fen, rules.release)


async def spend_seat(
    session: AsyncSession, ctx: Context, org_id: str, year: int, cost_fen: int
) -> None:
    """A completed seat: its committed cost becomes spent."""
    await _move(session, ctx, org_id, year, cost_fen, rules.spend)


async def _move(
    session: AsyncSession,
    ctx: Context,
    org_id: str,
    year: int,
    cost_fen: int,
    transition: Callable[[rules.Budget, int], rules.Budget],
) -> None:
    if cost_fen == 0:
        return
    row = await repository.get_budget(session, org_id, year, lock=True)
    if row is None:
        raise rules.BudgetError(f"{org_id} has no budget for {year}", field="cost_fen")
    _store(ctx, row, transition(_value(row), cost_fen))
    mark_dirty(session, org_id, year)  # the org's committed and spent money


async def set_budget(
    session: AsyncSession,
    ctx: Context,
    org_id: str,
    year: int,
    union_fund_fen: int,
    education_share_bp: int,
) -> BudgetRow:
    """Set an org's fund and education share for a year (creating its budget), never below
    what is committed and spent: 409 naming the field."""
    if not await ctx.orgs.hosts(org_id, session):
        raise NotFound(f"org {org_id} is not hosted here", field="org_id")
    row = await repository.ensure_budget(session, org_id, year, ctx.clock.now())
    try:
        value = rules.set_fund(_value(row), union_fund_fen, education_share_bp)
    except rules.BudgetExceeded as error:
        raise Conflict(error.detail, field=error.field) from None
    except rules.BudgetError as error:  # the HTTP schema refuses these first
        raise Unprocessable(error.detail, field=error.field) from None
    _store(ctx, row, value)
    mark_dirty(session, org_id, year)
    return row


@dataclass(frozen=True)
class BudgetFigures:
    union_fund_fen: int
    education_share_bp: int
    available_fen: int
    committed_fen: int
    spent_fen: int
    left_fen: int
    updated_at: datetime | None


def figures(row: BudgetRow | None) -> BudgetFigures:
    """What a cadre sees of one budget; an org without a budget shows zeros."""
    if row is None:
        return BudgetFigures(0, 0, 0, 0, 0, 0, None)
    value = _value(row)
    return BudgetFigures(
        union_fund_fen=value.union_fund_fen,
        education_share_bp=value.education_share_bp,
        available_fen=value.available_fen,
        committed_fen=value.committed_fen,
        spent_fen=value.spent_fen,
        left_fen=value.left_fen,
        updated_at=row.updated_at,
    )


async def read_budget(session: AsyncSession, ctx: Context, org_id: str, year: int) -> BudgetFigures:
    if not await ctx.orgs.hosts(org_id, session):
        raise NotFound(f"org {org_id} is not hosted here")
    return figures(await repository.get_budget(session, org_id, year))


@dataclass(frozen=True)
class SubtreeTotals:
    orgs: list[str]  # the orgs of the subtree with a budget for the year at this node
    union_fund_fen: int
    available_fen: int
    committed_fen: int
    spent_fen: int
    left_fen: int


async def subtree_totals(
    session: AsyncSession, ctx: Context, org_id: str, year: int
) -> SubtreeTotals:
    """The budgets of `org_id` and every descendant hosted at this node, summed. A node
    hosts few orgs: the year's rows are read and kept when the org is within the subtree
    (the directory answers from its cache)."""
    rows = [
        row
        for row in await repository.budgets_of_year(session, year)
        if await ctx.orgs.hosts(row.org_id, session)
        and await ctx.orgs.is_within(row.org_id, org_id, session)
    ]
    values = [_value(row) for row in rows]
    return SubtreeTotals(
        orgs=[row.org_id for row in rows],
        union_fund_fen=sum(v.union_fund_fen for v in values),
        available_fen=sum(v.available_fen for v in values),
        committed_fen=sum(v.committed_fen for v in values),
        spent_fen=sum(v.spent_fen for v in values),
        left_fen=sum(v.left_fen for v in values),
    )
