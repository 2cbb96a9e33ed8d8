"""The member's in-app inbox."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.errors import NotFound
from notifications.models import InboxItem
from notifications.service.context import Context


async def mark_read(session: AsyncSession, ctx: Context, member_id: str, item_id: str) -> InboxItem:
    """Idempotent: reading twice keeps the first read time. Another member's item is 404."""
    item = await repository.get_inbox_item(session, item_id)
    if item is None or item.member_id != member_id:
        raise NotFound(f"inbox item {item_id} not found")
    if item.read_at is None:
        item.read_at = ctx.clock.now()
    return item
