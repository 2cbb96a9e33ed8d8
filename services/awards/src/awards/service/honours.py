"""The member's honours record at their home node: kept from `HonourGranted` (whoever
granted it, at whichever node), read by the member and by the cadres of their org and the
orgs above it. Pseudonymous: it stays when the member leaves the union."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from awards import honours_repository as repo
from awards.domain.honours import Totals, YearRecord, honour_year, record_id, year_record
from awards.errors import NotFound
from awards.honours_repository import HonourPosition
from awards.models import Honour
from awards.service.context import Context
from awards.service.eligibility import facts_of_year
from awards.service.facts import is_home_node
from awards.service.members import member_of
from shared.auth import Principal, Role
from shared.contracts.envelope import Envelope
from shared.contracts.events import HonourGranted


def _entries(event: HonourGranted, envelope: Envelope, ctx: Context) -> list[dict[str, Any]]:
    year = honour_year(event.year, event.granted_at, ctx.settings.federation_timezone)
    shared = {
        "honour_id": event.honour_id,
        "home_org": event.home_org,
        "kind": event.kind.value,
        "scheme_id": event.scheme_id,
        "scheme_kind": event.scheme_kind.value if event.scheme_kind else None,
        "title": event.title,
        "source_id": event.source_id,
        "granting_org": event.granting_org,
        "team_name": event.team_name,
        "amount_fen": event.amount_fen,
        "benefits": [b.value for b in event.benefits],
        "reason": event.reason,
        "year": year,
        "granted_at": event.granted_at,
        "ce_id": envelope.id,
        "recorded_at": ctx.clock.now(),
    }
    # A team's honour: each member's record holds it. member_ids may repeat a member.
    members = dict.fromkeys(event.member_ids)
    return [{**shared, "record_id": record_id(event.honour_id, m), "member_id": m} for m in members]


async def record_honour(
    session: AsyncSession, ctx: Context, event: HonourGranted, envelope: Envelope
) -> int:
    """Home node: the honour goes on the record of each member it names; a redelivery adds
    nothing. Another node's members are theirs to record. Returns how many entries are new."""
    if not await is_home_node(session, ctx, event.home_org):
        return 0
    return await repo.add_honours(session, _entries(event, envelope, ctx))


async def _visible_member(
    session: AsyncSession, ctx: Context, who: Principal, member_id: str
) -> None:
    """The member themself, or a cadre of their home org or an org above it; else 404."""
    if who.member_id == member_id:
        return
    if not who.has(Role.cadre, Role.admin):
        raise NotFound(f"member_id: no member {member_id} here")
    await member_of(session, ctx, member_id, who.org)


@dataclass(frozen=True)
class HonourList:
    items: list[Honour]
    next_after: HonourPosition | None
    totals: Totals


def _page(rows: list[Honour], limit: int, totals: Totals) -> HonourList:
    items = rows[:limit]
    more = len(rows) > limit
    next_after = (items[-1].granted_at, items[-1].record_id) if more else None
    return HonourList(items=items, next_after=next_after, totals=totals)


async def honours_of_member(
    session: AsyncSession,
    ctx: Context,
    who: Principal,
    member_id: str,
    *,
    after: HonourPosition | None,
    limit: int,
) -> HonourList:
    """One page of the member's honours, newest first, with the totals of all of them."""
    await _visible_member(session, ctx, who, member_id)
    rows = await repo.honours_of_member(session, member_id, after=after, limit=limit + 1)
    return _page(rows, limit, await repo.member_totals(session, member_id))


async def honours_of_org(
    session: AsyncSession,
    ctx: Context,
    who: Principal,
    org_id: str,
    *,
    year: int | None,
    kind: str | None,
    after: HonourPosition | None,
    limit: int,
) -> HonourList:
    """Honours earned by members whose home org is `org_id` or below it, for cadres of it
    or of an org above it (others: 404)."""
    # An unknown org raises UnknownOrg: a 404, as for an org the caller may not see.
    if not who.has(Role.cadre, Role.admin) or not await ctx.orgs.is_within(
        org_id, who.org, session
    ):
        raise NotFound(f"org_id: no honours of {org_id} for you here")
    candidates = await repo.home_orgs(session)
    orgs = [o for o in candidates if await ctx.orgs.is_within(o, org_id, session)]
    if not orgs:
        return HonourList(items=[], next_after=None, totals=Totals(0, 0))
    rows = await repo.honours_of_orgs(
        session, orgs, year=year, kind=kind, after=after, limit=limit + 1
    )
    totals = await repo.org_totals(session, orgs, year=year, kind=kind)
    return _page(rows, limit, totals)


async def record_of_member(
    session: AsyncSession, ctx: Context, who: Principal, member_id: str, year: int
) -> YearRecord:
    """What a nomination in `year` would be checked against: the year's training hours by
    quality area, completions, best rank, and the titles held."""
    await _visible_member(session, ctx, who, member_id)
    completions = await facts_of_year(session, ctx, member_id, year)
    return year_record(year, completions, await repo.titles_held(session, member_id))
