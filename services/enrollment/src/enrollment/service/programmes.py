"""Publishing programmes, and keeping read-only copies of other nodes' programmes."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.errors import NotFound, Unprocessable
from enrollment.models import Programme
from enrollment.schemas import ProgrammeIn
from enrollment.service.context import Context
from shared.contracts import topics
from shared.contracts.events import ProgrammePublished


async def publish_programme(session: AsyncSession, ctx: Context, data: ProgrammeIn) -> Programme:
    owner = await ctx.orgs.get(data.owner_org, session)
    if owner is None or owner.hosted_by != ctx.node_id:
        raise NotFound(f"org {data.owner_org} is not hosted here", field="owner_org")
    audience = list(dict.fromkeys(data.audience or [data.owner_org]))
    for index, org_id in enumerate(audience):
        if await ctx.orgs.get(org_id, session) is None or not await ctx.orgs.is_within(
            org_id, data.owner_org, session
        ):
            raise Unprocessable(
                f"{org_id} is not in the owner's subtree", field=f"audience.{index}"
            )
    programme = Programme(
        programme_id=str(uuid.uuid4()),
        owner_org=data.owner_org,
        owner_node=ctx.node_id,
        title=data.title,
        kind=data.kind,
        quality_area=data.quality_area.value,
        audience=audience,
        capacity=data.capacity,
        hours=data.hours,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        confirmed_count=0,
        next_sequence=1,
        created_at=ctx.clock.now(),
    )
    session.add(programme)
    await ctx.outbox.stage(session, published_event(programme), topic=topics.ENROLLMENT)
    return programme


def published_event(p: Programme) -> ProgrammePublished:
    return ProgrammePublished(
        programme_id=p.programme_id,
        owner_org=p.owner_org,
        owner_node=p.owner_node,
        title=p.title,
        kind=p.kind,
        quality_area=p.quality_area,
        audience=p.audience,
        capacity=p.capacity,
        hours=p.hours,
        starts_at=p.starts_at,
        ends_at=p.ends_at,
    )


async def copy_programme(session: AsyncSession, ctx: Context, event: ProgrammePublished) -> None:
    """Keep a read-only copy of a programme another node owns (ours are already here)."""
    if event.owner_node == ctx.node_id:
        return
    copy = await repository.get_programme(session, event.programme_id)
    if copy is None:
        copy = Programme(
            programme_id=event.programme_id,
            confirmed_count=0,
            next_sequence=1,
            created_at=ctx.clock.now(),
        )
        session.add(copy)
    copy.owner_org = event.owner_org
    copy.owner_node = event.owner_node
    copy.title = event.title
    copy.kind = event.kind
    copy.quality_area = event.quality_area.value
    copy.audience = list(event.audience)
    copy.capacity = event.capacity
    copy.hours = event.hours
    copy.starts_at = event.starts_at
    copy.ends_at = event.ends_at
