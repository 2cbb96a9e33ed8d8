"""SQL of public notices (shortlists received from their owners), their entries, and the
objections members file against them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from awards.models import Nomination, Notice, NoticeEntry, Objection, Review
from shared.db import dialect_insert, newest_first_after, oldest_first_after

Position = tuple[datetime, str]


async def shortlist_checks(
    session: AsyncSession, nomination_ids: Sequence[str]
) -> list[tuple[str, str, str, int]]:
    """(nomination_id, round_id, status, reviews) of those nominations, their rows locked to
    the end of the transaction (two cadres publishing at once: the second sees on_notice)."""
    reviews = (
        select(func.count())
        .where(Review.nomination_id == Nomination.nomination_id)
        .scalar_subquery()
    )
    stmt = (
        select(Nomination.nomination_id, Nomination.round_id, Nomination.status, reviews)
        .where(Nomination.nomination_id.in_(nomination_ids))
        .order_by(Nomination.nomination_id)
        .with_for_update(of=Nomination)
    )
    return [(r[0], r[1], r[2], int(r[3])) for r in await session.execute(stmt)]


async def nominations_by_id(
    session: AsyncSession, nomination_ids: Sequence[str]
) -> list[Nomination]:
    stmt = (
        select(Nomination)
        .where(Nomination.nomination_id.in_(nomination_ids))
        .order_by(Nomination.nomination_id)
    )
    return list((await session.execute(stmt)).scalars())


async def add_notice(
    session: AsyncSession, notice: dict[str, Any], entries: list[dict[str, Any]]
) -> None:
    """Store a notice and its entries unless already here: a notice comes in several messages
    (its entries split to fit a message), each naming the notice."""
    stmt = dialect_insert(session, Notice).values(**notice)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["notice_id"]))
    if entries:
        rows = dialect_insert(session, NoticeEntry).values(entries)
        await session.execute(
            rows.on_conflict_do_nothing(index_elements=["notice_id", "nomination_id"])
        )


async def get_notice(session: AsyncSession, notice_id: str) -> Notice | None:
    return await session.get(Notice, notice_id)


async def notices_of_owners(
    session: AsyncSession, owners: Sequence[str], *, after: Position | None, limit: int
) -> list[Notice]:
    """Notices of those owner orgs, newest first."""
    stmt = select(Notice).where(Notice.owner_org.in_(owners))
    stmt = newest_first_after(stmt, Notice.starts_at, Notice.notice_id, after).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def entries_of(
    session: AsyncSession, notice_id: str, *, after: str | None, limit: int
) -> list[NoticeEntry]:
    stmt = select(NoticeEntry).where(NoticeEntry.notice_id == notice_id)
    if after is not None:
        stmt = stmt.where(NoticeEntry.nomination_id > after)
    stmt = stmt.order_by(NoticeEntry.nomination_id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def count_entries(session: AsyncSession, notice_id: str) -> int:
    stmt = select(func.count()).where(NoticeEntry.notice_id == notice_id)
    return int((await session.execute(stmt)).scalar_one())


async def get_entry(
    session: AsyncSession, notice_id: str, nomination_id: str
) -> NoticeEntry | None:
    return await session.get(NoticeEntry, (notice_id, nomination_id))


async def get_objection(
    session: AsyncSession, objection_id: str, *, for_update: bool = False
) -> Objection | None:
    return await session.get(Objection, objection_id, with_for_update=for_update)


async def add_objection(session: AsyncSession, objection: dict[str, Any]) -> None:
    """Store an objection unless already here (at a node that is both the objector's home and
    the owner, the filing stored it before it arrived)."""
    stmt = dialect_insert(session, Objection).values(**objection)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["objection_id"]))


async def objections_of_round(
    session: AsyncSession,
    round_id: str,
    *,
    status: str | None,
    after: Position | None,
    limit: int,
) -> list[Objection]:
    """Objections against the round's nominations, oldest first (the order to answer them)."""
    stmt = (
        select(Objection)
        .join(Nomination, Nomination.nomination_id == Objection.nomination_id)
        .where(Nomination.round_id == round_id)
    )
    if status is not None:
        stmt = stmt.where(Objection.status == status)
    stmt = oldest_first_after(stmt, Objection.submitted_at, Objection.objection_id, after)
    stmt = stmt.limit(limit)
    return list((await session.execute(stmt)).scalars())
