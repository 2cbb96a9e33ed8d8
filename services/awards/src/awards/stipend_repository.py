"""SQL of stipend schedules and their payments, at the scheme owner's node."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from awards.models import StipendPayment, StipendSchedule
from shared.db import get_row

# Due payments in the order they fell due; schedule and number make a position exact.
PaymentPosition = tuple[datetime, str, int]


async def add_schedule(
    session: AsyncSession, schedule: StipendSchedule, payments: Sequence[StipendPayment]
) -> None:
    session.add(schedule)
    session.add_all(payments)


async def get_schedule(session: AsyncSession, schedule_id: str) -> StipendSchedule | None:
    return await session.get(StipendSchedule, schedule_id)


async def schedule_of_nomination(
    session: AsyncSession, nomination_id: str
) -> StipendSchedule | None:
    stmt = select(StipendSchedule).where(StipendSchedule.nomination_id == nomination_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def payments_of(session: AsyncSession, schedule_id: str) -> list[StipendPayment]:
    """A schedule's payments in order: ten at the most."""
    stmt = (
        select(StipendPayment)
        .where(StipendPayment.schedule_id == schedule_id)
        .order_by(StipendPayment.number)
    )
    return list((await session.execute(stmt)).scalars())


async def due_payments(
    session: AsyncSession, now: datetime, *, after: PaymentPosition | None, limit: int
) -> list[PaymentPosition]:
    """Payments due by `now` and not paid, oldest first, after `after`."""
    p = StipendPayment
    stmt = select(p.due_at, p.schedule_id, p.number).where(p.paid_at.is_(None), p.due_at <= now)
    if after is not None:
        # Spelt out rather than a row-value comparison, so that each value is bound with its
        # column's type (the instant as stored UTC).
        at, schedule_id, number = after
        stmt = stmt.where(
            or_(
                p.due_at > at,
                and_(p.due_at == at, p.schedule_id > schedule_id),
                and_(p.due_at == at, p.schedule_id == schedule_id, p.number > number),
            )
        )
    stmt = stmt.order_by(p.due_at, p.schedule_id, p.number).limit(limit)
    return [(r.due_at, r.schedule_id, r.number) for r in (await session.execute(stmt)).all()]


async def lock_payment(
    session: AsyncSession, schedule_id: str, number: int
) -> StipendPayment | None:
    """Locked and read afresh: another process may have paid it since it was listed."""
    return await get_row(session, StipendPayment, (schedule_id, number), for_update=True)
