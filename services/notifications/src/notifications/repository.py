"""All SQL of the notifications service."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.domain.deliveries import Status
from notifications.models import (
    IDEMPOTENCY_KEYS,
    Base,
    Delivery,
    DeliveryAttempt,
    InboxItem,
    Recipient,
)
from shared.db import dialect_insert, newest_first_after, upsert
from shared.web.idempotency import forget_responses_naming


async def insert_ignoring_duplicates(
    session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]
) -> int:
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite) of `rows` in one statement;
    returns how many were added."""
    # The Core table, not the ORM class: a plain INSERT whose compiled form is cached.
    table = cast(Table, model.__table__)
    stmt = dialect_insert(session, table).values(rows).on_conflict_do_nothing()
    # An INSERT's result is a CursorResult; Session.execute is typed to return a plain Result.
    result = cast(CursorResult[Any], await session.execute(stmt))
    return int(result.rowcount)


# -- recipients ---------------------------------------------------------------------------------
async def save_recipient(session: AsyncSession, values: dict[str, Any]) -> None:
    await upsert(session, Recipient, values, ["member_id"])


async def forget_member(session: AsyncSession, member_id: str) -> None:
    """Everything that could name the member: their contact data, the notices planned or
    sent to them (with their log) and their inbox, recorded responses naming them."""
    deliveries = select(Delivery.delivery_id).where(Delivery.member_id == member_id)
    await session.execute(
        delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(deliveries))
    )
    for model in (Delivery, InboxItem, Recipient):
        await session.execute(delete(model).where(model.member_id == member_id))
    await forget_responses_naming(session, IDEMPOTENCY_KEYS, member_id)


async def get_recipient(session: AsyncSession, member_id: str) -> Recipient | None:
    return await session.get(Recipient, member_id)


async def recipients_by_id(
    session: AsyncSession, member_ids: Collection[str]
) -> dict[str, Recipient]:
    """The known recipients among `member_ids`, in one query."""
    if not member_ids:
        return {}
    stmt = select(Recipient).where(Recipient.member_id.in_(member_ids))
    return {r.member_id: r for r in (await session.execute(stmt)).scalars()}


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


async def lock_pending_state(
    session: AsyncSession, delivery_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """What settling needs of each row of `delivery_ids` (not its data), locked for this
    transaction, in one query — in id order, so that two transactions locking overlapping
    groups cannot deadlock."""
    columns = (
        Delivery.delivery_id,
        Delivery.member_id,
        Delivery.event_type,
        Delivery.status,
        Delivery.attempts,
        Delivery.last_error,
        Delivery.sent_at,
    )
    stmt = (
        select(*columns)
        .where(Delivery.delivery_id.in_(delivery_ids))
        .order_by(Delivery.delivery_id)
        .with_for_update()
    )
    rows = (await session.execute(stmt)).mappings()
    return {row["delivery_id"]: dict(row) for row in rows}


async def settle_deliveries(
    session: AsyncSession, changes: list[dict[str, Any]], attempts: list[dict[str, Any]]
) -> None:
    """New states by primary key (one executemany UPDATE) and their attempt log lines (one
    multi-row INSERT)."""
    if changes:
        await session.execute(update(Delivery), changes)
    if attempts:
        await session.execute(insert(DeliveryAttempt), attempts)


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
    stmt = select(InboxItem).where(InboxItem.member_id == member_id)
    stmt = newest_first_after(stmt, InboxItem.created_at, InboxItem.item_id, before)
    return list((await session.execute(stmt.limit(limit))).scalars())


async def unread_count(session: AsyncSession, member_id: str) -> int:
    stmt = select(func.count()).where(InboxItem.member_id == member_id, InboxItem.read_at.is_(None))
    return (await session.execute(stmt)).scalar_one()


async def get_inbox_item(session: AsyncSession, item_id: str) -> InboxItem | None:
    return await session.get(InboxItem, item_id)


async def insert_inbox_items(session: AsyncSession, items: list[dict[str, Any]]) -> None:
    """One multi-row INSERT … ON CONFLICT DO NOTHING: an item that exists stays as it is."""
    if items:
        stmt = dialect_insert(session, InboxItem).values(items).on_conflict_do_nothing()
        await session.execute(stmt)
