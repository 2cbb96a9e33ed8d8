"""All SQL of the enrollment service."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Enrollment, Member, Programme, Seat


async def get_member(session: AsyncSession, member_id: str) -> Member | None:
    return await session.get(Member, member_id)


async def get_programme(
    session: AsyncSession, programme_id: str, *, lock: bool = False
) -> Programme | None:
    # FOR UPDATE on PostgreSQL; SQLite transactions are already exclusive (BEGIN IMMEDIATE).
    stmt = select(Programme).where(Programme.programme_id == programme_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_programmes(
    session: AsyncSession, *, after: str | None, limit: int
) -> list[Programme]:
    stmt = select(Programme).order_by(Programme.programme_id).limit(limit)
    if after:
        stmt = stmt.where(Programme.programme_id > after)
    return list((await session.execute(stmt)).scalars())


async def get_seat(session: AsyncSession, enrollment_id: str) -> Seat | None:
    return await session.get(Seat, enrollment_id)


async def seat_of_member(session: AsyncSession, programme_id: str, member_id: str) -> Seat | None:
    stmt = select(Seat).where(Seat.programme_id == programme_id, Seat.member_id == member_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_enrollment(session: AsyncSession, enrollment_id: str) -> Enrollment | None:
    return await session.get(Enrollment, enrollment_id)


async def active_enrollment(
    session: AsyncSession, programme_id: str, member_id: str
) -> Enrollment | None:
    stmt = select(Enrollment).where(
        Enrollment.programme_id == programme_id,
        Enrollment.member_id == member_id,
        Enrollment.status != "refused",
    )
    return (await session.execute(stmt)).scalars().first()
