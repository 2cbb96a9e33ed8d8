"""Telling members of their honours: a title or award, an immediate reward, a proposal's
reward, a stipend payment — one `HonourGranted` event, for one member or a whole team."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.service.context import Context
from notifications.service.planning import plan_notices
from shared.contracts.envelope import Envelope
from shared.contracts.events import HonourGranted


async def plan_honour_notice(
    session: AsyncSession, ctx: Context, event: HonourGranted, envelope: Envelope
) -> int:
    """One pending delivery per channel for each member of the honour whom this node knows
    (a recipient: this node's member) and whose home org it hosts; returns how many rows are
    new. The others of a team are told by their own node."""
    member_ids = list(dict.fromkeys(event.member_ids))  # a team listing someone twice
    known = await repository.recipients_by_id(session, member_ids)
    # The recipient's home org, not the event's: a team may span orgs (and nodes).
    audience = [(m, known[m].home_org) for m in member_ids if m in known]
    if not audience:
        return 0
    # Not the team's member ids: a delivery names its own member only, so forgetting a member
    # who leaves removes every trace of them (their teammates' notices keep the team name).
    data = event.model_dump(mode="json", exclude={"member_ids"})
    granting_org = await ctx.orgs.get(event.granting_org, session)
    if granting_org is not None:
        data["granting_org_name"] = granting_org.name
    return await plan_notices(session, ctx, envelope, audience, data)
