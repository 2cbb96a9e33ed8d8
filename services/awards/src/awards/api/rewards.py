"""Immediate rewards ("timely report, timely reward"), at the node hosting the granting org.

Granted by a cadre of a grassroots or enterprise org to a member of their org, within the
org's quota for the period (409 naming `count` or `amount_fen` when it would be exceeded).
Seen by the member themself and by cadres of the granting org or of an org above it; anyone
else gets 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from awards.api.deps import Ctx, Db
from awards.models import Reward
from awards.schemas import RewardIn, RewardOut, RewardPage
from awards.service.reward_quotas import check_org_visible
from awards.service.rewards import (
    check_grant,
    grant_reward,
    rewards_of_member,
    rewards_of_org,
    visible_reward,
)
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import encode_position
from shared.web.deps import AfterPosition, PageLimit
from shared.web.fields import Id, OrgId

router = APIRouter(tags=["immediate rewards"])

PeriodQuery = Annotated[
    str | None,
    Query(
        max_length=7,
        description="Only rewards granted in this period: `2025`, `2025-Q2` or `2025-06` "
        "(the federation's zone).",
        examples=["2025-06"],
    ),
]


def _page(rewards: list[Reward], limit: int) -> RewardPage:
    last = rewards[-1] if len(rewards) == limit else None
    return RewardPage(
        items=[RewardOut.model_validate(r) for r in rewards],
        next_cursor=encode_position(last.granted_at, last.reward_id) if last else None,
    )


@router.post(
    "/rewards",
    status_code=201,
    response_model=RewardOut,
    summary="Grant an immediate reward on the spot",
    description="For a cadre of a grassroots or enterprise org hosted at this node, to a "
    "member of their org. Counts against the org's quota for the current period: over it, "
    "409 naming `count` or `amount_fen`, and nothing is recorded. The member's home node "
    "records the honour and tells the member.",
)
async def post_reward(
    body: RewardIn, who: CurrentPrincipal, ctx: Ctx, db: Db, response: Response
) -> RewardOut:
    # Reads first, outside the write transaction (on SQLite the write lock is database-wide).
    async with db.reading() as session:
        grant = await check_grant(session, ctx, who, body)
    async with db.transaction() as session:
        reward = await grant_reward(session, ctx, grant)
    response.headers["Location"] = f"/rewards/{reward.reward_id}"
    return RewardOut.model_validate(reward)


@router.get(
    "/rewards/{reward_id}",
    response_model=RewardOut,
    summary="One immediate reward",
    description="For the member rewarded, and cadres of the granting org or of an org above it.",
)
async def get_reward(reward_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> RewardOut:
    async with db.reading() as session:
        reward = await visible_reward(session, ctx, who, reward_id)
    return RewardOut.model_validate(reward)


@router.get(
    "/orgs/{org_id}/rewards",
    response_model=RewardPage,
    summary="The immediate rewards an org granted, newest first",
    description="For cadres of the org or of an org above it, at the node hosting it.",
)
async def list_org_rewards(
    org_id: OrgId,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterPosition,
    period: PeriodQuery = None,
    limit: PageLimit = 50,
) -> RewardPage:
    async with db.reading() as session:
        await check_org_visible(session, ctx, who, org_id)
        rewards = await rewards_of_org(session, ctx, org_id, period, after=after, limit=limit)
    return _page(rewards, limit)


@router.get(
    "/members/{member_id}/rewards",
    response_model=RewardPage,
    summary="A member's immediate rewards granted at this node, newest first",
    description="For the member themself (all of them), and cadres of the granting org or of "
    "an org above it (those their org granted).",
)
async def list_member_rewards(
    member_id: Id,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterPosition,
    limit: PageLimit = 50,
) -> RewardPage:
    async with db.reading() as session:
        rewards = await rewards_of_member(session, ctx, who, member_id, after=after, limit=limit)
    return _page(rewards, limit)
