"""All SQL of the notifications service."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.domain.deliveries import Status
from notifications.models import Base, Delivery, DeliveryAttempt, InboxItem, Recipient
from shared.db import dialect_insert, upsert


async def insert_ignoring_duplicates(
    session: AsyncSession, model: type[Base], values: dict[str, Any]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite); True when a row was added."""
    stmt = dialect_insert(session, model).values(**values).on_conflict_do_nothing()
    # An INSERT's result is a CursorResult; Session.execute is typed to return a plain Result.
    result = cast(CursorResult[Any], await session.execute(stmt))
    return bool(result.rowcount)


# -- recipients ---------------------------------------------------------------------------------
async def save_recipient(session: AsyncSession, values: dict[str, Any]) -> None:
    await upsert(session, Recipient, values, ["member_id"])


async def get_recipient(session: AsyncSession, member_id: str) -> Recipient | None:
    return await session.get(Recipient, member_id)


# -- deliveries ---------------------------------------------------------------------------------
async def due_deliveries(session: AsyncSession, *, now: datetime, limit: int) -> list[Delivery]:
    """Due pending rows, oldest first, locked against other dispatchers (PostgreSQL: SKIP
    LOCKED; SQLite ignores FOR UPDATE — its BEGIN IMMEDIATE already makes us the only writer)."""
    stmt = (
        select(Delivery)
        .where(Delivery.status == Status.pending.value, Delivery.next_attempt_at <= now)
        .order_by(Delivery.created_at, Delivery.delivery_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def postpone(session: AsyncSession, delivery_ids: list[str], until: datetime) -> None:
    await session.execute(
        update(Delivery)
        .where(Delivery.delivery_id.in_(delivery_ids))
        .values(next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )


async def lock_delivery(session: AsyncSession, delivery_id: str) -> Delivery | None:
    stmt = select(Delivery).where(Delivery.delivery_id == delivery_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_delivery(session: AsyncSession, delivery_id: str) -> Delivery | None:
    return await session.get(Delivery, delivery_id)


async def attempts_of(session: AsyncSession, delivery_id: str) -> list[DeliveryAttempt]:
    stmt = (
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(DeliveryAttempt.attempt)
    )
    return list((await session.execute(stmt)).scalars())


# -- inbox --------------------------------------------------------------------------------------
async def inbox_page(
    session: AsyncSession, member_id: str, *, before: tuple[datetime, str] | None, limit: int
) -> list[InboxItem]:
    """Newest first; `before` is the (created_at, item_id) of the last item already shown."""
    stmt = (
        select(InboxItem)
        .where(InboxItem.member_id == member_id)
        .order_by(InboxItem.created_at.desc(), InboxItem.item_id.desc())
        .limit(limit)
    )
    if before is not None:
        at, item_id = before
        stmt = stmt.where(
            or_(
                InboxItem.created_at < at,
                and_(InboxItem.created_at == at, InboxItem.item_id < item_id),
            )
        )
    return list((await session.execute(stmt)).scalars())


async def unread_count(session: AsyncSession, member_id: str) -> int:
    stmt = select(func.count()).where(InboxItem.member_id == member_id, InboxItem.read_at.is_(None))
    return (await session.execute(stmt)).scalar_one()


async def get_inbox_item(session: AsyncSession, item_id: str) -> InboxItem | None:
    return await session.get(InboxItem, item_id)
