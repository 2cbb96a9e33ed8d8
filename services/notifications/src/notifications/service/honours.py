"""Telling members of their honours: a title or award, an immediate reward, a proposal's
reward, a stipend payment — one `HonourGranted` event, for one member or a whole team. Who is
told is `HonourGranted`'s rule (service/rules.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.service.context import Context
from notifications.service.planning import plan_event
from shared.contracts.envelope import Envelope
from shared.contracts.events import HonourGranted


async def plan_honour_notice(
    session: AsyncSession, ctx: Context, event: HonourGranted, envelope: Envelope
) -> int:
    """One pending delivery per channel for each member of the honour whom this node knows
    (a recipient: this node's member) and whose home org it hosts; returns how many rows are
    new. The others of a team are told by their own node."""
    return await plan_event(session, ctx, event, envelope)
