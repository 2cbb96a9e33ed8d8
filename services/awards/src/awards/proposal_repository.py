"""SQL of rationalization proposals: proposals, their steps, tier tables and monthly counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    distinct,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from awards.domain.proposals import ADOPTED_OR_LATER
from awards.models import ORGS, MemberReplica, Proposal, ProposalStepRecord, ProposalTierRow
from shared.db import newest_first_after

# Newest first; the proposal id breaks ties so that a cursor position is exact.
ProposalPosition = tuple[datetime, str]


async def get_proposal(
    session: AsyncSession, proposal_id: str, *, for_update: bool = False
) -> Proposal | None:
    """`for_update`: lock the row, so that two steps on one proposal take turns."""
    stmt = select(Proposal).where(Proposal.proposal_id == proposal_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def steps_of(session: AsyncSession, proposal_id: str) -> list[ProposalStepRecord]:
    """A proposal's trail in order (a handful of rows: the state machine bounds it)."""
    stmt = (
        select(ProposalStepRecord)
        .where(ProposalStepRecord.proposal_id == proposal_id)
        .order_by(ProposalStepRecord.seq)
    )
    return list((await session.execute(stmt)).scalars())


async def next_seq(session: AsyncSession, proposal_id: str) -> int:
    stmt = select(func.coalesce(func.max(ProposalStepRecord.seq), 0)).where(
        ProposalStepRecord.proposal_id == proposal_id
    )
    return int((await session.execute(stmt)).scalar_one()) + 1


@dataclass(frozen=True)
class ProposalFilter:
    """Which proposals a list shows: one author's, or one evaluating org's; optionally one
    state and a submission interval [submitted_from, submitted_before)."""

    author_id: str | None = None
    evaluating_org: str | None = None
    state: str | None = None
    submitted_from: datetime | None = None
    submitted_before: datetime | None = None


def _filtered(stmt: Select[Any], f: ProposalFilter) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if f.author_id is not None:
        conditions.append(Proposal.author_id == f.author_id)
    if f.evaluating_org is not None:
        conditions.append(Proposal.evaluating_org == f.evaluating_org)
    if f.state is not None:
        conditions.append(Proposal.state == f.state)
    if f.submitted_from is not None:
        conditions.append(Proposal.submitted_at >= f.submitted_from)
    if f.submitted_before is not None:
        conditions.append(Proposal.submitted_at < f.submitted_before)
    return stmt.where(*conditions)


async def proposals_page(
    session: AsyncSession, f: ProposalFilter, *, after: ProposalPosition | None, limit: int
) -> list[Proposal]:
    stmt = _filtered(select(Proposal), f)
    stmt = newest_first_after(stmt, Proposal.submitted_at, Proposal.proposal_id, after)
    stmt = stmt.limit(limit)
    return list((await session.execute(stmt)).scalars())


async def tiers_of(session: AsyncSession, orgs: Sequence[str]) -> dict[str, list[ProposalTierRow]]:
    """The tier tables of those of `orgs` that have one (an org's ancestor chain: a few
    tables of at most MAX_TIERS rows each), tiers in order."""
    stmt = (
        select(ProposalTierRow)
        .where(ProposalTierRow.org_id.in_(orgs))
        .order_by(ProposalTierRow.org_id, ProposalTierRow.position)
    )
    tables: dict[str, list[ProposalTierRow]] = {}
    for row in (await session.execute(stmt)).scalars():
        tables.setdefault(row.org_id, []).append(row)
    return tables


async def lock_org(session: AsyncSession, org_id: str) -> None:
    """Lock the org's replica row to the end of the transaction, so that two changes of its
    tier table take turns (SQLite's write lock serialises them anyway)."""
    stmt = select(ORGS.c.org_id).where(ORGS.c.org_id == org_id).with_for_update()
    await session.execute(stmt)


async def remove_tiers(session: AsyncSession, org_id: str) -> int:
    result = await session.execute(delete(ProposalTierRow).where(ProposalTierRow.org_id == org_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def member_home_orgs(session: AsyncSession) -> list[str]:
    """The home orgs of this node's members: few (this node's grassroots orgs at most)."""
    stmt = select(MemberReplica.home_org).distinct()
    return list((await session.execute(stmt)).scalars())


async def proposal_home_orgs(session: AsyncSession, start: datetime, end: datetime) -> list[str]:
    """Home orgs of the authors of proposals submitted or evaluated in [start, end)."""
    stmt = (
        select(Proposal.home_org)
        .distinct()
        .where(
            or_(
                and_(Proposal.submitted_at >= start, Proposal.submitted_at < end),
                and_(Proposal.evaluated_at >= start, Proposal.evaluated_at < end),
            )
        )
    )
    return list((await session.execute(stmt)).scalars())


def _month_of(column: Any, starts: Sequence[datetime]) -> ColumnElement[int]:
    """The month (1-12) an instant in [starts[0], starts[12]) falls in, computed by the
    database from the month starts (no time-zone functions: SQLite has none)."""
    return case(*[(column < starts[m], m) for m in range(1, 12)], else_=12)


CountRow = tuple[int, ...]


async def submission_counts(
    session: AsyncSession, orgs: Sequence[str], starts: Sequence[datetime]
) -> tuple[dict[int, CountRow], CountRow]:
    """Per month of the year `starts` spans (its 13 month starts), and for the whole year:
    proposals submitted by members of `orgs`, and their distinct authors."""
    return await _per_month(session, orgs, starts, Proposal.submitted_at, adopted=False)


async def evaluation_counts(
    session: AsyncSession, orgs: Sequence[str], starts: Sequence[datetime]
) -> tuple[dict[int, CountRow], CountRow]:
    """Per month and for the year: proposals of members of `orgs` evaluated (adopted or
    rejected) then, their distinct authors, and how many of them were adopted."""
    return await _per_month(session, orgs, starts, Proposal.evaluated_at, adopted=True)


async def _per_month(
    session: AsyncSession,
    orgs: Sequence[str],
    starts: Sequence[datetime],
    column: Any,
    *,
    adopted: bool,
) -> tuple[dict[int, CountRow], CountRow]:
    adopted_flag = case((Proposal.state.in_(list(ADOPTED_OR_LATER)), 1), else_=0)
    # The month is labelled in a subquery: PostgreSQL would not take a GROUP BY of the CASE
    # itself, whose bound month starts are other parameters than the SELECT's.
    rows = (
        select(
            _month_of(column, starts).label("month"),
            Proposal.author_id.label("author_id"),
            adopted_flag.label("adopted"),
        )
        .where(Proposal.home_org.in_(orgs), column >= starts[0], column < starts[-1])
        .subquery()
    )
    figures: list[ColumnElement[Any]] = [func.count(), func.count(distinct(rows.c.author_id))]
    if adopted:
        figures.append(func.coalesce(func.sum(rows.c.adopted), 0))
    monthly = select(rows.c.month, *figures).select_from(rows).group_by(rows.c.month)
    months = {
        int(month): tuple(int(v) for v in values)
        for month, *values in await session.execute(monthly)
    }
    total = (await session.execute(select(*figures).select_from(rows))).one()
    return months, tuple(int(v) for v in total)
