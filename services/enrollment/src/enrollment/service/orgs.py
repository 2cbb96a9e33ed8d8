"""Registering the orgs this node hosts."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.domain.orgs import parent_allowed
from enrollment.errors import Conflict, NotFound, Unprocessable
from enrollment.schemas import OrgIn
from enrollment.service.context import Context
from shared.contracts import topics
from shared.contracts.events import OrgLevel, OrgRegistered
from shared.orgs.directory import Org


async def register_org(session: AsyncSession, ctx: Context, data: OrgIn) -> Org:
    """Host `data` at this node: it must be the node's root org or inside its subtree."""
    existing = await ctx.orgs.get(data.org_id, session)
    if existing is not None and existing.hosted_by != ctx.node_id:
        raise Conflict(f"org {data.org_id} is hosted by node {existing.hosted_by}", field="org_id")
    parent_level: OrgLevel | None = None
    if data.parent_id is not None:
        parent = await ctx.orgs.get(data.parent_id, session)
        if parent is None:
            raise NotFound(f"parent org {data.parent_id} is not known here", field="parent_id")
        parent_level = OrgLevel(parent.level)
    if not parent_allowed(data.level, parent_level):
        raise Unprocessable(
            f"a {data.level.value} org cannot sit under "
            f"{parent_level.value if parent_level else 'nothing'}",
            field="parent_id",
        )
    root = ctx.settings.root_org
    if data.org_id != root and not (
        data.parent_id and await ctx.orgs.is_within(data.parent_id, root, session)
    ):
        raise Unprocessable(f"this node hosts only {root} and its subtree", field="parent_id")
    event = OrgRegistered(
        org_id=data.org_id,
        name=data.name,
        parent_id=data.parent_id,
        level=data.level,
        hosted_by=ctx.node_id,
    )
    await ctx.orgs.on_org_registered(session, event, None)  # type: ignore[arg-type]
    await ctx.outbox.stage(session, event, topic=topics.FEDERATION)
    return Org(event.org_id, event.name, event.parent_id, event.level.value, event.hosted_by)
