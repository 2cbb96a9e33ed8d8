"""Immediate-reward quotas per org and period, at the node hosting the org.

Seen by cadres (and admins) of the org or of an org above it; set by a cadre of an org above
it hosted here, or by an admin of the node's root org. Anyone else gets 404; a cadre who sees
the quota but may not set it (the org's own, or a level above at another node) gets 403.
"""

from __future__ import annotations

from fastapi import APIRouter

from awards.api.deps import Ctx, Db
from awards.schemas import RewardQuotaIn, RewardQuotaOut
from awards.service.reward_quotas import (
    QuotaFigures,
    check_may_set,
    check_org_visible,
    quota_figures,
    set_quota,
)
from shared.auth.dependencies import CurrentPrincipal
from shared.web.fields import OrgId

router = APIRouter(prefix="/orgs", tags=["immediate rewards"])


def _out(figures: QuotaFigures) -> RewardQuotaOut:
    usage, row = figures.usage, figures.row
    return RewardQuotaOut(
        org_id=figures.org_id,
        period=usage.quota.period,
        count=usage.quota.count,
        amount_fen=usage.quota.amount_fen,
        default=row is None,
        current_period=figures.period.label,
        period_starts_at=figures.bounds[0],
        period_ends_at=figures.bounds[1],
        used_count=usage.used_count,
        used_fen=usage.used_fen,
        left_count=usage.left_count,
        left_fen=usage.left_fen,
        updated_at=row.updated_at if row else None,
        set_by_org=row.set_by_org if row else None,
    )


@router.put(
    "/{org_id}/reward-quota",
    response_model=RewardQuotaOut,
    summary="Set an org's immediate-reward quota: rewards and money per period",
    description="For a cadre of an org above it hosted at this node, or an admin of the "
    "node; never the org's own cadres. Applies from the current period on; what was granted "
    "stays granted.",
)
async def put_reward_quota(
    org_id: OrgId, body: RewardQuotaIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> RewardQuotaOut:
    async with db.reading() as session:
        await check_org_visible(session, ctx, who, org_id)
        await check_may_set(session, ctx, who, org_id)
    async with db.transaction() as session:
        figures = await set_quota(session, ctx, who, org_id, body)
    return _out(figures)


@router.get(
    "/{org_id}/reward-quota",
    response_model=RewardQuotaOut,
    summary="An org's immediate-reward quota: used and left in the current period",
    description="For cadres of the org or of an org above it, at the node hosting it. An "
    "org without a quota of its own shows the node's default (`default: true`).",
)
async def get_reward_quota(
    org_id: OrgId, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> RewardQuotaOut:
    async with db.reading() as session:
        await check_org_visible(session, ctx, who, org_id)
        figures = await quota_figures(session, ctx, org_id)
    return _out(figures)
