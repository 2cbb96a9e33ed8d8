"""SQL of the members' honours record (pseudonymous: member ids, never names)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from awards.domain.honours import TITLE_KIND, Totals
from awards.models import Honour
from shared.db import Columns, dialect_insert, newest_first_after

# Newest first; the record id breaks ties so that a cursor position is exact.
HonourPosition = tuple[datetime, str]


async def add_honours(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert entries, skipping those already recorded (a redelivery, a replayed hand-over);
    returns how many were new."""
    if not rows:
        return 0
    table = cast(Table, Honour.__table__)
    stmt = dialect_insert(session, table).values(list(rows)).on_conflict_do_nothing()
    # An INSERT's result is a CursorResult; Session.execute is typed to return a plain Result.
    result = cast(CursorResult[Any], await session.execute(stmt))
    return int(result.rowcount or 0)


def _page(stmt: Select[*Columns], after: HonourPosition | None, limit: int) -> Select[*Columns]:
    return newest_first_after(stmt, Honour.granted_at, Honour.record_id, after).limit(limit)


async def honours_of_member(
    session: AsyncSession, member_id: str, *, after: HonourPosition | None, limit: int
) -> list[Honour]:
    stmt = _page(select(Honour).where(Honour.member_id == member_id), after, limit)
    return list((await session.execute(stmt)).scalars())


async def member_totals(session: AsyncSession, member_id: str) -> Totals:
    stmt = select(func.count(), func.coalesce(func.sum(Honour.amount_fen), 0)).where(
        Honour.member_id == member_id
    )
    count, amount = (await session.execute(stmt)).one()
    return Totals(int(count), int(amount))


async def all_of_member(session: AsyncSession, member_id: str) -> list[Honour]:
    """Every honour of one member (a working life holds a few dozen), oldest first."""
    stmt = select(Honour).where(Honour.member_id == member_id)
    return list((await session.execute(stmt.order_by(Honour.granted_at))).scalars())


async def forget_member_honours(session: AsyncSession, member_id: str) -> None:
    await session.execute(delete(Honour).where(Honour.member_id == member_id))


async def titles_held(session: AsyncSession, member_id: str) -> set[str]:
    """The scheme kinds of which the member holds a title (an `award` honour)."""
    stmt = (
        select(Honour.scheme_kind)
        .distinct()
        .where(
            Honour.member_id == member_id,
            Honour.kind == TITLE_KIND.value,
            Honour.scheme_kind.is_not(None),
        )
    )
    return {kind for kind in (await session.execute(stmt)).scalars() if kind is not None}


async def home_orgs(session: AsyncSession) -> list[str]:
    """The home orgs with honours here: few (this node's grassroots orgs at most)."""
    return list((await session.execute(select(Honour.home_org).distinct())).scalars())


def _of_orgs(
    stmt: Select[*Columns], orgs: Sequence[str], year: int | None, kind: str | None
) -> Select[*Columns]:
    stmt = stmt.where(Honour.home_org.in_(orgs))
    if year is not None:
        stmt = stmt.where(Honour.year == year)
    if kind is not None:
        stmt = stmt.where(Honour.kind == kind)
    return stmt


async def honours_of_orgs(
    session: AsyncSession,
    orgs: Sequence[str],
    *,
    year: int | None,
    kind: str | None,
    after: HonourPosition | None,
    limit: int,
) -> list[Honour]:
    stmt = _page(_of_orgs(select(Honour), orgs, year, kind), after, limit)
    return list((await session.execute(stmt)).scalars())


async def org_totals(
    session: AsyncSession, orgs: Sequence[str], *, year: int | None, kind: str | None
) -> Totals:
    """Entries, and money: a team's honour is one entry per member but was paid once."""
    entries = _of_orgs(select(func.count()), orgs, year, kind)
    count = int((await session.execute(entries)).scalar_one())
    paid = _of_orgs(
        select(Honour.honour_id, func.max(Honour.amount_fen).label("amount")), orgs, year, kind
    ).group_by(Honour.honour_id)
    amount = select(func.coalesce(func.sum(paid.subquery().c.amount), 0))
    return Totals(count, int((await session.execute(amount)).scalar_one()))
