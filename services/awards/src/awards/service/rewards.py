"""Immediate rewards ("timely report, timely reward"), at the node hosting the granting org:
a grassroots or enterprise cadre rewards a member of their org on the spot, within the org's
quota for the period. The reward is owned here; `HonourGranted` tells the member's home node,
which keeps it on the member's record and tells the member.

Who sees a reward: the member themself, and cadres of the granting org or of an org above it;
anyone else gets 404.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from awards import reward_repository as repo
from awards.domain.rewards import (
    GRANTING_LEVELS,
    Period,
    QuotaExceeded,
    QuotaUsage,
    RewardError,
    parse_period,
)
from awards.errors import Conflict, Forbidden, NotFound, Unprocessable
from awards.models import Reward
from awards.reward_repository import RewardPosition
from awards.schemas import RewardIn
from awards.service.context import Context
from awards.service.members import member_of
from awards.service.reward_quotas import period_at, quota_of
from shared.auth import Principal, Role
from shared.contracts import topics
from shared.contracts.events import BenefitKind, HonourGranted, HonourKind, SchemeKind


@dataclass(frozen=True)
class Grant:
    """A reward the caller may grant, checked before the write transaction."""

    granting_org: str
    granted_by: str
    body: RewardIn


async def check_grant(session: AsyncSession, ctx: Context, who: Principal, body: RewardIn) -> Grant:
    """May this cadre reward this member? Reads only, so on SQLite it runs without the
    write lock. The member must be in the cadre's org: checked against this node's members
    when their home org is hosted here; a home org hosted by another node must be within the
    cadre's org (that node records the honour only for a member it knows)."""
    if not who.has(Role.cadre):
        raise Forbidden("immediate rewards are granted by cadres")
    org = await ctx.orgs.get(who.org, session)
    if org is None or org.hosted_by != ctx.node_id:
        raise Forbidden(f"{who.org} is not hosted at this node: its rewards are granted there")
    if org.level not in GRANTING_LEVELS:
        raise Forbidden("immediate rewards are granted by grassroots or enterprise cadres")
    if await ctx.orgs.hosts(body.home_org, session):
        member = await member_of(session, ctx, body.member_id, who.org)
        if member.home_org != body.home_org:
            raise Unprocessable("home_org: not the member's home org", field="home_org")
    elif not await ctx.orgs.is_within(body.home_org, who.org, session):  # UnknownOrg: 404
        raise NotFound(f"home_org: {body.home_org} is not within {who.org}", field="home_org")
    return Grant(who.org, who.sub, body)


async def grant_reward(session: AsyncSession, ctx: Context, grant: Grant) -> Reward:
    """Take the reward from the org's quota for the current period (its usage row locked to
    the end of the transaction) and record it with its `HonourGranted`. Over the quota: 409
    naming what would be exceeded (`count` or `amount_fen`), and nothing is written."""
    now = ctx.clock.now()
    org_id, body = grant.granting_org, grant.body
    quota = await quota_of(session, ctx, org_id)
    period, bounds = period_at(ctx, quota, now)
    row = await repo.lock_usage(session, org_id, period.label, bounds, now)
    usage = QuotaUsage(quota, period, row.used_count, row.used_fen)
    try:
        usage = usage.take(body.amount_fen)
    except QuotaExceeded as error:
        raise Conflict(f"{error.detail} at {org_id}", field=error.field) from None
    row.used_count, row.used_fen, row.updated_at = usage.used_count, usage.used_fen, now
    reward = Reward(
        reward_id=str(uuid.uuid4()),
        granting_org=org_id,
        granted_by=grant.granted_by,
        member_id=body.member_id,
        home_org=body.home_org,
        title=body.title,
        reason=body.reason,
        amount_fen=body.amount_fen,
        benefits=[b.value for b in body.benefits],
        period=period.label,
        granted_at=now,
    )
    await repo.add_reward(session, reward)
    await ctx.outbox.stage(session, _honour(reward, period), topic=topics.AWARDS)
    return reward


def _honour(reward: Reward, period: Period) -> HonourGranted:
    return HonourGranted(
        honour_id=reward.reward_id,  # one reward, one honour
        kind=HonourKind.reward,
        source_id=reward.reward_id,
        scheme_kind=SchemeKind.immediate_reward,
        title=reward.title,
        granting_org=reward.granting_org,
        home_org=reward.home_org,
        member_ids=[reward.member_id],
        amount_fen=reward.amount_fen,
        benefits=[BenefitKind(b) for b in reward.benefits],
        reason=reward.reason,
        year=period.year,
        granted_at=reward.granted_at,
    )


async def visible_reward(
    session: AsyncSession, ctx: Context, who: Principal, reward_id: str
) -> Reward:
    reward = await repo.get_reward(session, reward_id)
    if reward is None or not (
        (who.member_id is not None and who.member_id == reward.member_id)
        or (
            who.has(Role.cadre, Role.admin)
            and await ctx.orgs.is_within(reward.granting_org, who.org, session)
        )
    ):
        raise NotFound(f"reward_id: no reward {reward_id} here")
    return reward


async def rewards_of_org(
    session: AsyncSession,
    ctx: Context,
    org_id: str,
    period: str | None,
    *,
    after: RewardPosition | None,
    limit: int,
) -> list[Reward]:
    """What the org granted, newest first; in one period (`2025-06`, `2025-Q2`, `2025`) if
    given. The caller checked that the org is visible to them."""
    between = None
    if period is not None:
        try:
            between = parse_period(period).bounds(ctx.settings.federation_timezone)
        except RewardError as error:
            raise Unprocessable(error.detail, field=error.field) from None
    return await repo.rewards_of_org(session, org_id, between=between, after=after, limit=limit)


async def rewards_of_member(
    session: AsyncSession,
    ctx: Context,
    who: Principal,
    member_id: str,
    *,
    after: RewardPosition | None,
    limit: int,
) -> list[Reward]:
    """The member sees all their rewards granted here; a cadre those their org (or an org
    below it) granted — 404 when it granted none and the member is not theirs."""
    if who.member_id is not None and who.member_id == member_id:
        granted_by = None
    elif who.has(Role.cadre, Role.admin):
        granted_by = [
            org
            for org in await repo.granting_orgs_of_member(session, member_id)
            if await ctx.orgs.is_within(org, who.org, session)
        ]
        if not granted_by:
            await member_of(session, ctx, member_id, who.org)  # 404 unless theirs
    else:
        raise NotFound(f"member_id: no rewards of member {member_id} are visible to the caller")
    return await repo.rewards_of_member(
        session, member_id, granted_by=granted_by, after=after, limit=limit
    )
