"""Marking an org's figures for a year as changed, for the roll-up publisher (service/stats.py).

Call `mark_dirty(session, org_id, year)` in the transaction that changes a figure an org's
snapshot counts (its members, its members' enrollments and learning records, its budget).
The marks of a transaction are written when it commits, in one INSERT, so they commit (or
roll back) with the change; a transaction that marks the same key a thousand times writes it
once. A mark is a new row, never an update of a shared one: a busy org does not make
concurrent requests wait on each other, and the publisher, which deletes the marks it has
seen before it counts, never deletes a mark of a change it did not count.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from enrollment import stats_repository
from enrollment.models import StatsDirty
from enrollment.service.context import Context
from shared.timezones import year_of

_MARKS = "enrollment.stats_marks"  # {(org_id, year)} to write when the transaction commits


def mark_dirty(session: AsyncSession, org_id: str, year: int) -> None:
    """The org's figures for `year` changed in this transaction: publish them again."""
    marks: set[tuple[str, int]] | None = session.info.get(_MARKS)
    if marks is None:
        marks = session.info[_MARKS] = set()

        def write(sync_session: Session) -> None:
            staged = sync_session.info.pop(_MARKS, None)
            if staged:
                rows = [{"org_id": org, "year": y} for org, y in sorted(staged)]
                sync_session.execute(insert(StatsDirty), rows)

        # A sync hook, run inside the async session's greenlet (as the outbox's): it may
        # execute SQL, in the transaction that commits.
        event.listen(session.sync_session, "before_commit", write, once=True)
    marks.add((org_id, year))


def mark_dirty_at(session: AsyncSession, ctx: Context, org_id: str, at: datetime) -> None:
    """`mark_dirty` for the year `at` falls in, in the federation's zone."""
    mark_dirty(session, org_id, year_of(at, ctx.settings.federation_timezone))


def mark_years_since(session: AsyncSession, ctx: Context, org_id: str, since: datetime) -> None:
    """Every year from `since` to now: a member's rows came or went, and every year's count
    since they joined (or the years of their record) changes."""
    zone = ctx.settings.federation_timezone
    for year in range(year_of(since, zone), year_of(ctx.clock.now(), zone) + 1):
        mark_dirty(session, org_id, year)


async def mark_programme_enrollments(
    session: AsyncSession, ctx: Context, programme_id: str
) -> None:
    """Mark the home orgs of the programme's enrollments here, for every year they were asked
    for in (before they all end at once: the programme was cancelled)."""
    zone = ctx.settings.federation_timezone
    for org_id, first, last in await stats_repository.enrollment_spans(session, programme_id):
        for year in range(year_of(first, zone), year_of(last, zone) + 1):
            mark_dirty(session, org_id, year)
