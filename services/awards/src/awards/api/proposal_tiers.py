"""Reward tier tables of rationalization proposals, per org at the node hosting it.

Who sees an org's table: cadres (and admins) of the org or of an org above it; who sets or
clears it: those of them whose org is hosted at this node. Anyone else gets 404; a cadre who
sees the table but may not set it gets 403.
"""

from __future__ import annotations

from fastapi import APIRouter

from awards.api.deps import Ctx, Db
from awards.domain.proposal_tiers import Tier, bp_of, fraction_of
from awards.schemas import TierOut, TierTableIn, TierTableOut
from awards.service.proposal_tiers import (
    EffectiveTable,
    check_may_set,
    clear_tiers,
    effective_tiers,
    set_tiers,
)
from awards.service.reward_quotas import check_org_visible
from shared.auth.dependencies import CurrentPrincipal
from shared.web.fields import OrgId

router = APIRouter(prefix="/orgs", tags=["rationalization proposals"])

PATH = "/{org_id}/proposal-tiers"


def _out(table: EffectiveTable) -> TierTableOut:
    return TierTableOut(
        org_id=table.org_id,
        source_org=table.source_org,
        inherited=table.source_org != table.org_id,
        tiers=[
            TierOut(
                min_benefit_fen=t.min_benefit_fen,
                reward_fen=t.reward_fen,
                rate=None if t.rate_bp is None else float(fraction_of(t.rate_bp)),
                cap_fen=t.cap_fen,
            )
            for t in table.tiers
        ],
        set_by=table.set_by,
        set_at=table.set_at,
    )


@router.get(
    PATH,
    response_model=TierTableOut,
    summary="The reward tier table that applies to an org's proposals",
    description="Its own table, else the nearest of an org above it at this node, else the "
    "node's default (`source_org` null). For cadres of the org or of an org above it.",
)
async def get_tiers(org_id: OrgId, who: CurrentPrincipal, ctx: Ctx, db: Db) -> TierTableOut:
    async with db.reading() as session:
        await check_org_visible(session, ctx, who, org_id)
        return _out(await effective_tiers(session, ctx, org_id))


@router.put(
    PATH,
    response_model=TierTableOut,
    summary="Set an org's reward tier table",
    description="Replaces the table whole. Tiers ascend by `min_benefit_fen` and do not "
    "overlap; a `cap_fen` needs a `rate` (422 naming the tier, e.g. "
    "`tiers.2.min_benefit_fen`). An assessed proposal earns the highest tier it reaches: "
    "`reward_fen` plus `rate` times the benefit, at most `cap_fen` of it. For cadres of the org "
    "or of an org above it hosted at this node.",
)
async def put_tiers(
    org_id: OrgId, body: TierTableIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> TierTableOut:
    tiers = [
        Tier(t.min_benefit_fen, t.reward_fen, None if t.rate is None else bp_of(t.rate), t.cap_fen)
        for t in body.tiers
    ]
    async with db.transaction() as session:
        await check_org_visible(session, ctx, who, org_id)
        await check_may_set(session, ctx, who, org_id)
        return _out(await set_tiers(session, ctx, who, org_id, tiers))


@router.delete(
    PATH,
    response_model=TierTableOut,
    summary="Drop an org's own tier table",
    description="The nearest table above it (or the default) applies again; shows which. "
    "For those who may set it.",
)
async def delete_tiers(org_id: OrgId, who: CurrentPrincipal, ctx: Ctx, db: Db) -> TierTableOut:
    async with db.transaction() as session:
        await check_org_visible(session, ctx, who, org_id)
        await check_may_set(session, ctx, who, org_id)
        return _out(await clear_tiers(session, ctx, org_id))
