"""The in-app inbox of a recipient: a member, or a staff account (domain/staff.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.domain.staff import staff_recipient_id
from notifications.errors import Forbidden, NotFound
from notifications.models import InboxItem
from notifications.service.context import Context
from shared.auth import Principal, Role

# Who acts on "needs action" notices: their inbox is found from their token alone.
STAFF_ROLES = (Role.cadre, Role.reviewer, Role.admin)


def recipient_of(who: Principal) -> str:
    """The caller's recipient id: a member's own id, or for a staff token without one the id
    derived from its org and subject. Any other token has no inbox."""
    if who.member_id is not None:
        return who.member_id
    if who.has(*STAFF_ROLES):
        return staff_recipient_id(who.org, who.sub)
    raise Forbidden("a member or staff token is required")


async def mark_read(session: AsyncSession, ctx: Context, member_id: str, item_id: str) -> InboxItem:
    """Idempotent: reading twice keeps the first read time. Another member's item is 404."""
    item = await repository.get_inbox_item(session, item_id)
    if item is None or item.member_id != member_id:
        raise NotFound(f"inbox item {item_id} not found")
    if item.read_at is None:
        item.read_at = ctx.clock.now()
    return item


async def mark_all_read(session: AsyncSession, ctx: Context, member_id: str) -> int:
    """Every unread item read now (those already read keep their time); how many changed."""
    return await repository.mark_all_read(session, member_id, ctx.clock.now())
