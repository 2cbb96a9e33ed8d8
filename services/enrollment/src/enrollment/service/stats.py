"""Roll-up snapshots: each node publishes the own figures of the orgs it hosts, and keeps the
snapshots of every org below an org it hosts (its own come back to it through the topic: one
code path).

Publishing is debounced: a change only marks (org, year) dirty (service/stats_marks.py);
the publisher (service/stats_publisher.py) takes the marks in batches, counts those orgs'
figures with aggregate SQL and stages a `bigschool.stats.snapshot.v1` for each key whose
figures changed (version = last + 1), in one transaction with the marks' deletion.

An org's own figures for a year:
- members: members whose home org it is, registered by the end of the year (members join
  grassroots orgs, so other orgs have none);
- participants: its members with an enrollment asked for in that year (federation zone) that
  was not refused, rejected, cancelled or a no-show — asking, waiting, holding a seat,
  attended or completed;
- hours and completions per quality area: its members' learning records of the year (the
  home node's), revoked ones excluded;
- committed and spent: its own training budget for the year (the budgets row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import stats_repository as repo
from enrollment.domain.rollups import Figures
from enrollment.service.context import Context
from shared.contracts import topics
from shared.contracts.envelope import Envelope
from shared.contracts.events import AreaFigures, QualityArea, StatsSnapshot
from shared.messaging.consumer import Rejected
from shared.orgs.authority import Org
from shared.orgs.directory import UnknownOrg
from shared.timezones import year_of


@dataclass(frozen=True)
class PublishRun:
    keys: int  # dirty keys taken
    staged: int  # snapshots staged
    busy: bool = False  # another publisher holds the lock


async def mark_current_year(session: AsyncSession, ctx: Context) -> int:
    """Mark every org this node hosts for the current year: at start and when a year
    begins, so that members count in the new year without waiting for a change."""
    year = year_of(ctx.clock.now(), ctx.settings.federation_timezone)
    await repo.mark_hosted(session, ctx.node_id, year)
    return year


async def publish_dirty(session: AsyncSession, ctx: Context, limit: int) -> PublishRun:
    """Count the figures of up to `limit` dirty keys and stage a snapshot for each change."""
    if not await repo.take_publisher_lock(session):
        return PublishRun(0, 0, busy=True)
    keys = await repo.dirty_keys(session, limit)
    if not keys:
        return PublishRun(0, 0)
    await repo.clear_dirty(session, keys)  # first: a mark committed later stays for next time
    wanted = sorted(set(keys) | set(await repo.later_published(session, keys)))
    orgs = await repo.orgs_of(session, (org for org, _ in wanted))
    wanted = [k for k in wanted if k[0] in orgs and orgs[k[0]].hosted_by == ctx.node_id]
    counted = await repo.own_figures(session, wanted, ctx.settings.federation_timezone)
    last = await repo.published(session, wanted)
    staged = 0
    for key in wanted:
        org, figures, before = orgs[key[0]], counted[key], last.get(key)
        body = _published_figures(org, figures)
        if before is None and _empty(figures):
            continue  # nothing to say about an org that never had anything
        if before is not None and before.figures == body:
            continue  # unchanged: nothing to publish
        version = before.version + 1 if before is not None else 1
        await ctx.outbox.stage(
            session, _snapshot(ctx, org, key[1], version, figures), topic=topics.STATS
        )
        await repo.save_published(session, key, version, body, ctx.clock.now())
        staged += 1
    return PublishRun(len(keys), staged)


def _empty(figures: Figures) -> bool:
    return not figures.has_people and not figures.committed_fen and not figures.spent_fen


def _areas(figures: Figures) -> dict[str, dict[str, Any]]:
    areas = set(figures.hours) | set(figures.completions)
    return {
        area: {
            "hours": figures.hours.get(area, 0.0),
            "completions": figures.completions.get(area, 0),
        }
        for area in sorted(areas)
        if figures.hours.get(area) or figures.completions.get(area)
    }


def _published_figures(org: Org, figures: Figures) -> dict[str, Any]:
    """What is compared with the last snapshot (JSON): a change of any of it is published."""
    return {
        "level": org.level,
        "parent_id": org.parent_id,
        "members": figures.members,
        "participants": figures.participants,
        "areas": _areas(figures),
        "committed_fen": figures.committed_fen,
        "spent_fen": figures.spent_fen,
    }


def _snapshot(ctx: Context, org: Org, year: int, version: int, figures: Figures) -> StatsSnapshot:
    return StatsSnapshot(
        org_id=org.org_id,
        year=year,
        version=version,
        level=org.level,
        parent_id=org.parent_id,
        hosted_by=ctx.node_id,
        members=figures.members,
        participants=figures.participants,
        areas={QualityArea(a): AreaFigures(**f) for a, f in _areas(figures).items()},
        committed_fen=figures.committed_fen,
        spent_fen=figures.spent_fen,
        generated_at=ctx.clock.now(),
    )


async def keep_snapshot(
    session: AsyncSession, ctx: Context, event: StatsSnapshot, envelope: Envelope
) -> None:
    """Keep the snapshot of an org below an org this node hosts (the consumer's filter made
    sure of that), unless a newer version of it is here already. Only the node hosting the
    org speaks for it."""
    org = await ctx.orgs.get(event.org_id, session)
    if org is None:
        raise UnknownOrg(event.org_id)
    if envelope.node != org.hosted_by or event.hosted_by != org.hosted_by:
        raise Rejected("snapshot_not_from_hosting_node", ["ce_source"])
    figures = Figures(
        hours={a.value: f.hours for a, f in event.areas.items()},
        completions={a.value: f.completions for a, f in event.areas.items()},
    )
    await repo.keep_snapshot(
        session,
        {
            "org_id": event.org_id,
            "year": event.year,
            "version": event.version,
            "level": event.level,
            "parent_id": event.parent_id,
            "hosted_by": event.hosted_by,
            "members": event.members,
            "participants": event.participants,
            **repo.snapshot_values(figures),
            "committed_fen": event.committed_fen,
            "spent_fen": event.spent_fen,
            "generated_at": event.generated_at,
            "updated_at": ctx.clock.now(),
        },
    )
