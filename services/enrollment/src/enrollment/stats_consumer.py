"""The stats consumer: a thin handler from roll-up snapshots on the compacted stats topic to
`keep_snapshot` (service/stats.py). Every node runs it and keeps the snapshots of the orgs
below the orgs it hosts — its own among them — decided from the `bigschool_orgs` header
(`OrgDirectory.relevant_below`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.service.context import Context
from enrollment.service.stats import keep_snapshot
from shared.contracts import topics
from shared.contracts.envelope import Envelope
from shared.contracts.events import StatsSnapshot
from shared.messaging.consumer import ConsumerSpec


def stats_consumer(ctx: Context) -> ConsumerSpec:
    async def on_snapshot(s: AsyncSession, e: StatsSnapshot, env: Envelope) -> None:
        await keep_snapshot(s, ctx, e, env)

    return ConsumerSpec(
        name="stats",
        topics=[topics.STATS],
        group_id=ctx.settings.group_id("stats"),
        routes={StatsSnapshot: on_snapshot},
        relevant=ctx.orgs.relevant_below,
        description="Keeps the roll-up snapshots of every org below an org this node hosts.",
    )
