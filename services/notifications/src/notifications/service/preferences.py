"""Which channels a notice goes to, and when: the member's preferences over their org's
policy over the node's defaults.

Interface used by planning and by the channel fallback; the preferences themselves (stored
per member, per org) are added behind it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.domain.deliveries import Channel
from notifications.service.context import Context

DEFAULT_CHANNELS = (Channel.email, Channel.inapp)


async def allowed_channels(
    session: AsyncSession, ctx: Context, member_id: str, home_org: str, event_type: str
) -> list[Channel]:
    """The channels the member allows for this kind of event, in their order of preference
    (a channel that keeps failing falls back to the next one in this list)."""
    return list(DEFAULT_CHANNELS)
