"""All SQL of roll-up snapshots: the publisher's marks and counts (the orgs this node hosts)
and the snapshots every node keeps of the orgs below the orgs it hosts.

Counts are aggregate queries over a batch of (org, year) keys — one statement per figure and
year — never a table read into memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, distinct, func, insert, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.domain.members import MemberStatus
from enrollment.domain.rollups import Figures
from enrollment.models import (
    ORGS,
    Budget,
    Enrollment,
    LearningRecord,
    Member,
    StatsDirty,
    StatsPublished,
    StatsSnapshotRow,
)
from shared.contracts.events import QualityArea
from shared.db import dialect_insert
from shared.orgs.authority import Org
from shared.timezones import year_bounds

Key = tuple[str, int]  # (org_id, year)

# One publisher per database at a time (two HTTP workers, replicas): a transaction-scoped
# advisory lock on PostgreSQL; SQLite write transactions are exclusive anyway.
PUBLISHER_LOCK_ID = 0x0B16_5C09

# Enrollments that do not make their member a participant of the year they were asked in.
NOT_PARTICIPATING = ("refused", "rejected", "cancelled", "no_show")

SNAPSHOTS = StatsSnapshotRow.__table__
AREAS = tuple(area.value for area in QualityArea)
# Each quality area's (hours, completions) columns: a new area without its columns fails here,
# at import, not in a query.
AREA_COLUMNS = {a: (SNAPSHOTS.c[f"hours_{a}"], SNAPSHOTS.c[f"completions_{a}"]) for a in AREAS}


# -- the publisher's marks ---------------------------------------------------------------------


async def take_publisher_lock(session: AsyncSession) -> bool:
    """False when another publisher holds it (it is released when the transaction ends)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    stmt = text("SELECT pg_try_advisory_xact_lock(:id)")
    return bool((await session.execute(stmt, {"id": PUBLISHER_LOCK_ID})).scalar_one())


async def dirty_keys(session: AsyncSession, limit: int) -> list[Key]:
    stmt = (
        select(StatsDirty.org_id, StatsDirty.year)
        .distinct()
        .order_by(StatsDirty.org_id, StatsDirty.year)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def clear_dirty(session: AsyncSession, keys: Sequence[Key]) -> None:
    """Delete the marks of `keys` committed so far: a mark committed after this statement
    stays, for the next run (its change may not be counted by this one)."""
    stmt = delete(StatsDirty).where(tuple_(StatsDirty.org_id, StatsDirty.year).in_(list(keys)))
    await session.execute(stmt)


async def mark_hosted(session: AsyncSession, node: str, year: int) -> None:
    """Mark every org `node` hosts for `year` (a new year: its members count there too)."""
    orgs = ORGS.c
    source = select(orgs.org_id, literal(year)).where(orgs.hosted_by == node)
    await session.execute(
        insert(StatsDirty).from_select([StatsDirty.org_id, StatsDirty.year], source)
    )


async def later_published(session: AsyncSession, keys: Sequence[Key]) -> list[Key]:
    """Keys published for the same orgs in later years (a member counts in every year from
    the one they joined in, so a change to members is a change to those years too)."""
    first: dict[str, int] = {}
    for org, year in keys:
        first[org] = min(year, first.get(org, year))
    stmt = select(StatsPublished.org_id, StatsPublished.year).where(
        StatsPublished.org_id.in_(list(first))
    )
    rows = (await session.execute(stmt)).all()
    return [(org, year) for org, year in rows if year > first[org]]


async def enrollment_spans(
    session: AsyncSession, programme_id: str
) -> list[tuple[str, datetime, datetime]]:
    """Per home org, the first and last request of the programme's enrollments here."""
    stmt = (
        select(
            Enrollment.home_org,
            func.min(Enrollment.requested_at),
            func.max(Enrollment.requested_at),
        )
        .where(Enrollment.programme_id == programme_id)
        .group_by(Enrollment.home_org)
    )
    return [(r[0], _utc(r[1]), _utc(r[2])) for r in (await session.execute(stmt)).all()]


def _utc(value: datetime | str) -> datetime:
    """MIN()/MAX() of a timestamp: SQLite hands it back as naive text (UTC)."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


async def orgs_of(session: AsyncSession, org_ids: Iterable[str]) -> dict[str, Org]:
    stmt = select(ORGS).where(ORGS.c.org_id.in_(list(set(org_ids))))
    return {
        r.org_id: Org(r.org_id, r.name, r.parent_id, r.level, r.hosted_by)
        for r in (await session.execute(stmt)).all()
    }


# -- an org's own figures -------------------------------------------------------------------


async def own_figures(session: AsyncSession, keys: Sequence[Key], zone: str) -> dict[Key, Figures]:
    """Each org's own figures for each year (zeros when it has none)."""
    by_year: dict[int, list[str]] = defaultdict(list)
    for org, year in keys:
        by_year[year].append(org)
    out: dict[Key, Figures] = {}
    for year, orgs in by_year.items():
        for org, figures in (await _year_figures(session, orgs, year, zone)).items():
            out[(org, year)] = figures
    return out


async def _year_figures(
    session: AsyncSession, orgs: list[str], year: int, zone: str
) -> dict[str, Figures]:
    start, end = year_bounds(zone, year)
    # Members: registered by the end of the year (a member counts from the year they joined).
    members = select(Member.home_org, func.count()).where(
        Member.home_org.in_(orgs),
        Member.created_at < end,
        Member.status == MemberStatus.active,  # not one still arriving from another node
    )
    # Participants: members with an enrollment asked for in the year that still stands (or
    # stood to the end): not refused, rejected, cancelled or a no-show.
    participants = select(Enrollment.home_org, func.count(distinct(Enrollment.member_id))).where(
        Enrollment.home_org.in_(orgs),
        Enrollment.requested_at >= start,
        Enrollment.requested_at < end,
        Enrollment.status.not_in(NOT_PARTICIPATING),
    )
    counts = {
        "members": dict(await _pairs(session, members.group_by(Member.home_org))),
        "participants": dict(await _pairs(session, participants.group_by(Enrollment.home_org))),
    }
    areas = (
        select(
            LearningRecord.home_org,
            LearningRecord.quality_area,
            func.sum(LearningRecord.hours),
            func.count(),
        )
        .where(
            LearningRecord.home_org.in_(orgs),
            LearningRecord.year == year,
            LearningRecord.revoked_at.is_(None),
        )
        .group_by(LearningRecord.home_org, LearningRecord.quality_area)
    )
    hours: dict[str, dict[str, float]] = defaultdict(dict)
    completions: dict[str, dict[str, int]] = defaultdict(dict)
    for org, area, area_hours, done in (await session.execute(areas)).all():
        hours[org][area] = round(float(area_hours or 0), 3)
        completions[org][area] = int(done)
    money_stmt = select(Budget.org_id, Budget.committed_fen, Budget.spent_fen).where(
        Budget.year == year, Budget.org_id.in_(orgs)
    )
    money = {r[0]: (int(r[1]), int(r[2])) for r in (await session.execute(money_stmt)).all()}
    return {
        org: Figures(
            members=int(counts["members"].get(org, 0)),
            participants=int(counts["participants"].get(org, 0)),
            hours=hours.get(org, {}),
            completions=completions.get(org, {}),
            committed_fen=money.get(org, (0, 0))[0],
            spent_fen=money.get(org, (0, 0))[1],
        )
        for org in orgs
    }


async def _pairs(session: AsyncSession, stmt: Any) -> list[tuple[str, int]]:
    return [(row[0], int(row[1])) for row in (await session.execute(stmt)).all()]


# -- what was published ---------------------------------------------------------------------


async def published(session: AsyncSession, keys: Sequence[Key]) -> dict[Key, StatsPublished]:
    if not keys:
        return {}
    stmt = select(StatsPublished).where(
        tuple_(StatsPublished.org_id, StatsPublished.year).in_(list(keys))
    )
    return {(p.org_id, p.year): p for p in (await session.execute(stmt)).scalars()}


async def save_published(
    session: AsyncSession, key: Key, version: int, figures: dict[str, Any], at: datetime
) -> None:
    values = {
        "org_id": key[0],
        "year": key[1],
        "version": version,
        "figures": figures,
        "published_at": at,
    }
    stmt = dialect_insert(session, StatsPublished).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["org_id", "year"],
            set_={k: stmt.excluded[k] for k in ("version", "figures", "published_at")},
        )
    )


# -- the snapshots kept -------------------------------------------------------------------


async def keep_snapshot(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert or replace the snapshot of (org_id, year) — only with a newer version: an older
    one arriving late never overwrites it."""
    stmt = dialect_insert(session, StatsSnapshotRow).values(**values)
    updates = {k: stmt.excluded[k] for k in values if k not in ("org_id", "year")}
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["org_id", "year"],
            set_=updates,
            where=SNAPSHOTS.c.version < stmt.excluded.version,
        )
    )


def snapshot_values(figures: Figures) -> dict[str, Any]:
    """The area columns of a snapshot row."""
    values: dict[str, Any] = {}
    for area in AREAS:
        values[f"hours_{area}"] = float(figures.hours.get(area, 0.0))
        values[f"completions_{area}"] = int(figures.completions.get(area, 0))
    return values
