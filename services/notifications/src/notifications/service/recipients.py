"""Recipients: the contact data of this node's members, from the node-local members topic."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.service.context import Context
from shared.contracts.events import MemberLeft, MemberRegistered


async def record_recipient(session: AsyncSession, ctx: Context, event: MemberRegistered) -> None:
    """Full state of the member's contact data: the newest record wins."""
    await repository.save_recipient(
        session,
        {
            "member_id": event.member_id,
            "home_org": event.home_org,
            "name": event.name,
            "email": str(event.email) if event.email else None,
            "phone": event.phone,
            "language": event.language,
            "updated_at": ctx.clock.now(),
        },
    )


async def forget_recipient(session: AsyncSession, event: MemberLeft) -> None:
    """The member left the union or moved to another node: nothing that names them stays."""
    await repository.forget_member(session, event.member_id)
