"""Immediate-reward quotas, at the node hosting the org: what an org may grant per period
(count and money), set by a level above it, and what its rewards used of the current one.

Who sees a quota: cadres (and admins) of the org or of an org above it. Who sets it: a cadre
of an org above it hosted at this node, or an admin of the node's root org — never the org's
own cadres (they would raise their own limit). Anyone else gets 404; a cadre who sees the
quota but may not set it gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from awards import reward_repository as repo
from awards.domain.rewards import Period, PeriodKind, Quota, QuotaUsage, period_of
from awards.errors import Forbidden, NotFound
from awards.models import RewardQuota
from awards.schemas import RewardQuotaIn
from awards.service.context import Context
from shared.auth import Principal, Role


@dataclass(frozen=True)
class QuotaFigures:
    """An org's quota and what the current period used of it."""

    org_id: str
    usage: QuotaUsage
    bounds: tuple[datetime, datetime]
    row: RewardQuota | None  # None: the settings' default applies

    @property
    def period(self) -> Period:
        return self.usage.period


def default_quota(ctx: Context) -> Quota:
    settings = ctx.settings
    return Quota(
        settings.reward_quota_count, settings.reward_quota_fen, settings.reward_quota_period
    )


def _quota(ctx: Context, row: RewardQuota | None) -> Quota:
    """The org's own quota, or the settings' default when no level above set one."""
    if row is None:
        return default_quota(ctx)
    return Quota(row.count, row.amount_fen, PeriodKind(row.period))


async def quota_of(session: AsyncSession, ctx: Context, org_id: str) -> Quota:
    return _quota(ctx, await repo.get_quota(session, org_id))


def period_at(ctx: Context, quota: Quota, at: datetime) -> tuple[Period, tuple[datetime, datetime]]:
    """The quota's period that `at` falls in, and its bounds in UTC."""
    zone = ctx.settings.federation_timezone
    period = period_of(at, quota.period, zone)
    return period, period.bounds(zone)


async def check_org_visible(
    session: AsyncSession, ctx: Context, who: Principal, org_id: str
) -> None:
    """404 unless the org is hosted here and the caller is a cadre or admin of it or of an
    org above it: its quota and its rewards are theirs to see. An org this replica does not
    know raises UnknownOrg: a 404 too."""
    if (
        not who.has(Role.cadre, Role.admin)
        or not await ctx.orgs.hosts(org_id, session)
        or not await ctx.orgs.is_within(org_id, who.org, session)
    ):
        raise NotFound(f"org_id: {org_id} is not visible to the caller here")


async def check_may_set(session: AsyncSession, ctx: Context, who: Principal, org_id: str) -> None:
    """After `check_org_visible`: 403 unless the caller sets quotas for this org."""
    if who.has(Role.admin) and who.org == ctx.settings.root_org:
        return  # the node's own administrators
    if who.org != org_id and await ctx.orgs.hosts(who.org, session):
        return  # a level above the org (visible: the org is within the caller's), hosted here
    raise Forbidden(
        f"org_id: the reward quota of {org_id} is set by a cadre of an org above it at this "
        "node, or by an admin of the node",
        field="org_id",
    )


async def set_quota(
    session: AsyncSession, ctx: Context, who: Principal, org_id: str, body: RewardQuotaIn
) -> QuotaFigures:
    """Set the org's quota from now on. Lowering it below what the current period used
    already leaves nothing for the rest of the period; nothing granted is taken back."""
    await repo.put_quota(
        session,
        {
            "org_id": org_id,
            "period": body.period.value,
            "count": body.count,
            "amount_fen": body.amount_fen,
            "set_by": who.sub,
            "set_by_org": who.org,
            "updated_at": ctx.clock.now(),
        },
    )
    return await quota_figures(session, ctx, org_id)


async def quota_figures(session: AsyncSession, ctx: Context, org_id: str) -> QuotaFigures:
    row = await repo.get_quota(session, org_id)
    quota = _quota(ctx, row)
    period, bounds = period_at(ctx, quota, ctx.clock.now())
    usage = await repo.get_usage(session, org_id, period.label)
    if usage is None:  # no grant yet this period (or since the period kind changed)
        used_count, used_fen = await repo.granted_between(session, org_id, bounds)
    else:
        used_count, used_fen = usage.used_count, usage.used_fen
    return QuotaFigures(org_id, QuotaUsage(quota, period, used_count, used_fen), bounds, row)
