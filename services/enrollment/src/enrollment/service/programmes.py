"""Publishing programmes, and keeping read-only copies of other nodes' programmes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.errors import NotFound, Unprocessable
from enrollment.models import Programme
from enrollment.schemas import ProgrammeIn
from enrollment.service.context import Context
from shared.contracts import topics
from shared.contracts.events import Eligibility, ProgrammePublished


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
    await _check_quotas(session, ctx, data, audience)
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
        **_settings(data),
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
        **catalogue_settings(p),
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
    copy.place = event.place
    copy.online_link = event.online_link
    copy.kind_detail = event.kind_detail
    copy.quotas = dict(event.quotas)
    copy.cost_per_seat_fen = event.cost_per_seat_fen
    copy.enrollment_closes_at = event.enrollment_closes_at
    copy.requires_approval = event.requires_approval
    rules = event.eligibility.model_dump(exclude_none=True) if event.eligibility else {}
    copy.eligibility = rules or None  # stored as the owner stores it
    copy.offer_hours = event.offer_hours
    copy.over_budget = event.over_budget


async def _check_quotas(
    session: AsyncSession, ctx: Context, data: ProgrammeIn, audience: list[str]
) -> None:
    """Each quota is for an org below the owner, inside the audience."""
    for org_id in data.quotas:
        if not await _below_owner_in_audience(session, ctx, org_id, data.owner_org, audience):
            raise Unprocessable(
                f"{org_id} is not an org below the owner inside the audience",
                field=f"quotas.{org_id}",
            )


async def _below_owner_in_audience(
    session: AsyncSession, ctx: Context, org_id: str, owner_org: str, audience: list[str]
) -> bool:
    if org_id == owner_org or await ctx.orgs.get(org_id, session) is None:
        return False
    for root in audience:
        if await ctx.orgs.is_within(org_id, root, session):
            return True
    return False


def _settings(data: ProgrammeIn) -> dict[str, Any]:
    """What the owner sets beyond the catalogue basics, as the Programme row stores it."""
    rules = data.eligibility.model_dump(exclude_none=True) if data.eligibility else {}
    return {
        "place": data.place,
        "online_link": data.online_link,
        "kind_detail": data.kind_detail,
        "quotas": dict(data.quotas),
        "cost_per_seat_fen": data.cost_per_seat_fen,
        "enrollment_closes_at": data.enrollment_closes_at,
        "requires_approval": data.requires_approval,
        "eligibility": rules or None,
        "offer_hours": data.offer_hours,
        "over_budget": data.over_budget,
    }


def catalogue_settings(p: Programme) -> dict[str, Any]:
    """The programme's settings as ProgrammePublished (and ProgrammeChanged) carry them."""
    return {
        "place": p.place,
        "online_link": p.online_link,
        "kind_detail": p.kind_detail,
        "quotas": dict(p.quotas or {}),
        "cost_per_seat_fen": p.cost_per_seat_fen,
        "enrollment_closes_at": p.enrollment_closes_at,
        "requires_approval": p.requires_approval,
        "eligibility": Eligibility.model_validate(p.eligibility) if p.eligibility else None,
        "offer_hours": p.offer_hours,
        "over_budget": p.over_budget,
    }
