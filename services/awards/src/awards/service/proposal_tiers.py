"""Reward tier tables of rationalization proposals, per org at the node hosting it.

An org's table is its own, else the nearest table of an org above it at this node, else the
node's default (BIGSCHOOL_PROPOSAL_DEFAULT_TIERS). Who sees a table: cadres (and admins) of
the org or of an org above it; who sets it: those of them whose org is hosted at this node.
Anyone else gets 404; a cadre who sees the table but may not set it gets 403.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from awards import proposal_repository as repo
from awards.domain.proposal_tiers import Tier, TierTableError, check_tiers
from awards.errors import Forbidden, Unprocessable
from awards.models import ProposalTierRow
from awards.service.context import Context
from shared.auth import Principal


@dataclass(frozen=True)
class EffectiveTable:
    """The table that rewards `org_id`'s proposals; `source_org` None: the default."""

    org_id: str
    source_org: str | None
    tiers: list[Tier]
    set_by: str | None = None
    set_at: datetime | None = None


def _tier(row: ProposalTierRow) -> Tier:
    return Tier(row.min_benefit_fen, row.reward_fen, row.rate_bp, row.cap_fen)


async def effective_tiers(session: AsyncSession, ctx: Context, org_id: str) -> EffectiveTable:
    chain = [org_id, *await ctx.orgs.ancestors(org_id, session)]
    tables = await repo.tiers_of(session, chain)
    for org in chain:
        if rows := tables.get(org):
            tiers = [_tier(row) for row in rows]
            return EffectiveTable(org_id, org, tiers, rows[0].set_by, rows[0].set_at)
    default = [tier.tier() for tier in ctx.settings.proposal_default_tiers]
    return EffectiveTable(org_id, None, default)


async def check_may_set(session: AsyncSession, ctx: Context, who: Principal, org_id: str) -> None:
    """After the visibility check: 403 unless the caller's org is hosted at this node (a
    cadre above it at another node sees the table but sets nothing here)."""
    if not await ctx.orgs.hosts(who.org, session):
        raise Forbidden(f"{who.org} is not hosted at this node: it sets no tier tables here")


async def set_tiers(
    session: AsyncSession, ctx: Context, who: Principal, org_id: str, tiers: Sequence[Tier]
) -> EffectiveTable:
    """Replace the org's table whole; 422 naming the tier (`tiers.2.min_benefit_fen`) if the
    table is unusable. Two changes of one table take turns on the org's replica row."""
    try:
        check_tiers(tiers)
    except TierTableError as error:
        raise Unprocessable(str(error), field=error.field) from None
    await repo.lock_org(session, org_id)
    await repo.remove_tiers(session, org_id)
    now = ctx.clock.now()
    for position, tier in enumerate(tiers):
        session.add(
            ProposalTierRow(
                org_id=org_id,
                position=position,
                min_benefit_fen=tier.min_benefit_fen,
                reward_fen=tier.reward_fen,
                rate_bp=tier.rate_bp,
                cap_fen=tier.cap_fen,
                set_by=who.sub,
                set_at=now,
            )
        )
    await session.flush()
    return EffectiveTable(org_id, org_id, list(tiers), who.sub, now)


async def clear_tiers(session: AsyncSession, ctx: Context, org_id: str) -> EffectiveTable:
    """Drop the org's own table: the nearest one above it (or the default) applies again."""
    await repo.lock_org(session, org_id)
    await repo.remove_tiers(session, org_id)
    return await effective_tiers(session, ctx, org_id)
