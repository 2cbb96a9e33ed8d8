"""All SQL of roll-ups: subtrees of the org-tree replica (a recursive CTE on `orgs`) joined
with the snapshots kept here, summed by the database — the tree may hold 10,000 orgs and
more, and none of it is loaded into memory.

Every query walks down from its anchors: `family` is the org whose children are summed,
`branch` the child whose subtree a row belongs to (for a plain subtree both are the root).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import CTE

from enrollment.domain.rollups import Figures
from enrollment.models import ORGS
from enrollment.stats_repository import AREA_COLUMNS, SNAPSHOTS

MAX_DEPTH = 32  # as the org directory: a chain longer than that is a broken tree


@dataclass(frozen=True)
class Sums:
    """A group's summed snapshots: how many orgs it has, their figures, the newest snapshot."""

    orgs: int
    figures: Figures
    as_of: datetime | None


def _anchor(family: Any, depth: int) -> Select[Any]:
    o = ORGS.c
    return select(
        family.label("family"),
        o.org_id.label("branch"),
        o.org_id,
        o.level,
        literal(depth).label("depth"),
    )


def _tree(anchor: Select[Any]) -> CTE:
    """Anchor rows (family, branch, org_id, level, depth) and every org below them."""
    tree = anchor.cte("tree", recursive=True)
    child = ORGS.alias("child")
    return tree.union_all(
        select(tree.c.family, tree.c.branch, child.c.org_id, child.c.level, tree.c.depth + 1)
        .select_from(child)
        .where(child.c.parent_id == tree.c.org_id, tree.c.depth < MAX_DEPTH)
    )


def _sums(tree: CTE, year: int, *group_by: Any) -> Select[Any]:
    s = SNAPSHOTS.c
    columns: list[Any] = [
        func.count(tree.c.org_id),
        func.coalesce(func.sum(s.members), 0),
        func.coalesce(func.sum(s.participants), 0),
    ]
    for hours, completions in AREA_COLUMNS.values():
        columns += [func.coalesce(func.sum(hours), 0.0), func.coalesce(func.sum(completions), 0)]
    columns += [
        func.coalesce(func.sum(s.committed_fen), 0),
        func.coalesce(func.sum(s.spent_fen), 0),
        func.max(s.generated_at),
    ]
    joined = tree.outerjoin(SNAPSHOTS, and_(s.org_id == tree.c.org_id, s.year == year))
    return select(*group_by, *columns).select_from(joined).group_by(*group_by)


def _read(row: Sequence[Any]) -> Sums:
    """A row of `_sums` after its group-by columns."""
    orgs, members, participants = int(row[0]), int(row[1]), int(row[2])
    hours: dict[str, float] = {}
    completions: dict[str, int] = {}
    for i, area in enumerate(AREA_COLUMNS):
        hours[area] = round(float(row[3 + 2 * i]), 3)
        completions[area] = int(row[4 + 2 * i])
    rest = 3 + 2 * len(AREA_COLUMNS)
    figures = Figures(
        members=members,
        participants=participants,
        hours=hours,
        completions=completions,
        committed_fen=int(row[rest]),
        spent_fen=int(row[rest + 1]),
    )
    return Sums(orgs, figures, _instant(row[rest + 2]))


def _instant(value: datetime | str | None) -> datetime | None:
    """MAX() of a timestamp: SQLite hands it back as naive text (UTC), PostgreSQL as is."""
    if value is None:
        return None
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


async def subtree(session: AsyncSession, org_id: str, year: int) -> Sums:
    """The org's subtree summed (the org included)."""
    anchor = _anchor(ORGS.c.org_id, 0).where(ORGS.c.org_id == org_id)
    tree = _tree(anchor)
    row = (await session.execute(_sums(tree, year))).one()
    return _read(row)


async def families(
    session: AsyncSession, parents: Sequence[str], year: int
) -> dict[str, dict[str, Sums]]:
    """For each parent, each child's subtree summed (every child, with or without data)."""
    anchor = _anchor(ORGS.c.parent_id, 1).where(ORGS.c.parent_id.in_(list(parents)))
    tree = _tree(anchor)
    out: dict[str, dict[str, Sums]] = {parent: {} for parent in parents}
    for row in (await session.execute(_sums(tree, year, tree.c.family, tree.c.branch))).all():
        out[row[0]][row[1]] = _read(row[2:])
    return out


async def own(session: AsyncSession, org_ids: Sequence[str], year: int) -> dict[str, Sums]:
    """Each org's own snapshot (zeros without one)."""
    # No recursion: the orgs themselves.
    flat = _anchor(ORGS.c.org_id, 0).where(ORGS.c.org_id.in_(list(org_ids))).cte("own")
    out = {org: Sums(1, Figures(), None) for org in org_ids}
    for row in (await session.execute(_sums(flat, year, flat.c.org_id))).all():
        out[row[0]] = _read(row[1:])
    return out


async def levels(session: AsyncSession, org_id: str, year: int) -> dict[str, Sums]:
    """The org's subtree summed per level of its orgs (the org's own level included)."""
    anchor = _anchor(ORGS.c.org_id, 0).where(ORGS.c.org_id == org_id)
    tree = _tree(anchor)
    rows = (await session.execute(_sums(tree, year, tree.c.level))).all()
    return {row[0]: _read(row[1:]) for row in rows}


async def names(session: AsyncSession, org_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(name, level) of each org."""
    o = ORGS.c
    ids = list(org_ids)
    out: dict[str, tuple[str, str]] = {}
    for start in range(0, len(ids), 500):  # an export names thousands: bounded IN lists
        stmt = select(o.org_id, o.name, o.level).where(o.org_id.in_(ids[start : start + 500]))
        out.update({row[0]: (row[1], row[2]) for row in (await session.execute(stmt)).all()})
    return out
