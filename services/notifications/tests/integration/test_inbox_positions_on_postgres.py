"""Inbox positions on PostgreSQL, where dispatchers (replicas) record items concurrently: a
recipient's items become visible in position order, so a stream that has seen position n is
never handed a smaller one later; and migration 0003 numbers the items that existed before."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from notifications import repository
from notifications.app import MIGRATIONS
from shared.db import Database
from shared.migrations import alembic_config
from shared.testing import migrated

pytestmark = pytest.mark.integration

AT = datetime(2025, 3, 1, tzinfo=UTC)


def item(item_id: str, member_id: str, minute: int = 0) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "member_id": member_id,
        "event_type": "bigschool.test.v1",
        "title": item_id,
        "body": "body",
        "created_at": AT + timedelta(minutes=minute),
        "read_at": None,
    }


async def test_a_later_item_of_the_same_recipient_waits_for_an_earlier_uncommitted_one(
    fresh_pg_url: str,
) -> None:
    await migrated(MIGRATIONS, fresh_pg_url)
    db = Database(fresh_pg_url)
    try:
        async with db.transaction() as slow:
            await repository.insert_inbox_items(slow, [item("early", "m")])
            # Another dispatcher records the member's next item meanwhile: it must not become
            # visible (with a larger position) before "early" commits.
            later = asyncio.create_task(_insert(db, [item("late", "m")]))
            other = asyncio.create_task(_insert(db, [item("theirs", "someone-else")]))
            await asyncio.wait_for(other, 5)  # another recipient: not held up
            await asyncio.sleep(0.3)
            assert not later.done()
            async with db.reading() as reader:
                assert await repository.inbox_after(reader, "m", after=0, limit=10) == []
        await asyncio.wait_for(later, 5)
        async with db.reading() as reader:
            seen = await repository.inbox_after(reader, "m", after=0, limit=10)
        assert [(i.item_id, i.seq) for i in seen] == [("early", 1), ("late", 2)]
    finally:
        await db.dispose()


async def _insert(db: Database, items: list[dict[str, Any]]) -> None:
    async with db.transaction() as session:
        await repository.insert_inbox_items(session, items)


async def test_the_migration_numbers_existing_items_per_recipient_in_their_order(
    fresh_pg_url: str,
) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, fresh_pg_url), "0002")
    db = Database(fresh_pg_url)
    try:
        async with db.transaction() as session:
            for row in [item("b", "m", 2), item("a", "m", 1), item("c", "n", 5)]:
                await session.execute(
                    text(
                        "INSERT INTO inbox_items (item_id, member_id, event_type, title, body, "
                        "created_at) VALUES (:item_id, :member_id, :event_type, :title, :body, "
                        ":created_at)"
                    ),
                    row,
                )
        await migrated(MIGRATIONS, fresh_pg_url)
        async with db.transaction() as session:
            await repository.insert_inbox_items(session, [item("d", "m", 9)])
        async with db.reading() as reader:
            m = await repository.inbox_after(reader, "m", after=0, limit=10)
            n = await repository.inbox_after(reader, "n", after=0, limit=10)
        assert [(i.item_id, i.seq) for i in m] == [("a", 1), ("b", 2), ("d", 3)]
        assert [(i.item_id, i.seq) for i in n] == [("c", 1)]
    finally:
        await db.dispose()
