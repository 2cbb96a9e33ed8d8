"""All SQL of the awards service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from awards.domain.access import FactScope
from awards.domain.facts import FactKind, KindTotal
from awards.domain.rollups import GroupTotal
from awards.models import EligibilityFact as Fact
from shared.db import Columns, newest_first_after

# Newest first; the fact id breaks ties so that a cursor position is exact.
FactPosition = tuple[datetime, str]


async def get_fact(session: AsyncSession, fact_id: str) -> Fact | None:
    return await session.get(Fact, fact_id)


def _in_scope(stmt: Select[*Columns], scope: FactScope) -> Select[*Columns]:
    stmt = stmt.where(Fact.member_id == scope.member_id)
    if scope.home_org is not None:
        stmt = stmt.where(Fact.home_org == scope.home_org)
    return stmt


async def facts_in_scope(
    session: AsyncSession, scope: FactScope, *, after: FactPosition | None, limit: int
) -> list[Fact]:
    stmt = _in_scope(select(Fact), scope)
    stmt = newest_first_after(stmt, Fact.occurred_at, Fact.fact_id, after).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def kind_totals_in_scope(session: AsyncSession, scope: FactScope) -> list[KindTotal]:
    stmt = _in_scope(
        select(Fact.kind, func.count(), func.coalesce(func.sum(Fact.hours), 0.0)), scope
    ).group_by(Fact.kind)
    rows = await session.execute(stmt)
    return [KindTotal(kind, int(count), float(hours)) for kind, count, hours in rows]


async def home_orgs_between(session: AsyncSession, start: datetime, end: datetime) -> list[str]:
    """Home orgs with facts in [start, end): few (this node's grassroots orgs at most)."""
    stmt = select(Fact.home_org).distinct().where(Fact.occurred_at >= start, Fact.occurred_at < end)
    return list((await session.execute(stmt)).scalars())


def _in_orgs(
    stmt: Select[*Columns], orgs: Sequence[str], start: datetime, end: datetime
) -> Select[*Columns]:
    return stmt.where(Fact.home_org.in_(orgs), Fact.occurred_at >= start, Fact.occurred_at < end)


async def group_total(
    session: AsyncSession, orgs: Sequence[str], start: datetime, end: datetime
) -> tuple[int, int]:
    """Distinct members and facts of `orgs` in [start, end)."""
    stmt = _in_orgs(select(func.count(distinct(Fact.member_id)), func.count()), orgs, start, end)
    members, facts = (await session.execute(stmt)).one()
    return int(members), int(facts)


async def kind_groups(
    session: AsyncSession, orgs: Sequence[str], start: datetime, end: datetime
) -> dict[str, GroupTotal]:
    stmt = _in_orgs(
        select(
            Fact.kind,
            func.count(distinct(Fact.member_id)),
            func.count(),
            func.coalesce(func.sum(Fact.hours), 0.0),
        ),
        orgs,
        start,
        end,
    ).group_by(Fact.kind)
    rows = await session.execute(stmt)
    return {
        kind: GroupTotal(int(members), int(facts), round(float(hours), 2))
        for kind, members, facts, hours in rows
    }


async def member_facts(session: AsyncSession, member_id: str) -> list[Fact]:
    """All of one member's facts (a handful), oldest first."""
    stmt = select(Fact).where(Fact.member_id == member_id).order_by(Fact.occurred_at, Fact.fact_id)
    return list((await session.execute(stmt)).scalars())


async def forget_member_facts(session: AsyncSession, member_id: str) -> None:
    await session.execute(delete(Fact).where(Fact.member_id == member_id))


async def forget_completions(session: AsyncSession, enrollment_id: str, *, up_to: datetime) -> int:
    """Delete the completion facts of an enrollment recorded up to `up_to`; how many went."""
    stmt = delete(Fact).where(
        Fact.enrollment_id == enrollment_id,
        Fact.kind == FactKind.completed.value,
        Fact.occurred_at <= up_to,
    )
    # A DELETE's result is a CursorResult; Session.execute is typed to return a plain Result.
    result = cast(CursorResult[Any], await session.execute(stmt))
    return int(result.rowcount or 0)


async def completions_between(
    session: AsyncSession, member_id: str, start: datetime, end: datetime
) -> list[Fact]:
    """One member's completions in [start, end), oldest first: a year holds a handful."""
    stmt = (
        select(Fact)
        .where(
            Fact.member_id == member_id,
            Fact.kind == FactKind.completed.value,
            Fact.occurred_at >= start,
            Fact.occurred_at < end,
        )
        .order_by(Fact.occurred_at, Fact.fact_id)
    )
    return list((await session.execute(stmt)).scalars())
