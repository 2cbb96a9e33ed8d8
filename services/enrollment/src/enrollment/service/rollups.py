"""Roll-ups of the snapshots kept here: an org's subtree, its children's subtrees (a
drill-down one level at a time) and its subtree per level — with small groups suppressed by
the rule of domain/rollups.py.

Who: cadres and admins of the org or of an org above it; and only for an org that has an
ancestor-or-self hosted at this node (what this node keeps snapshots of). Anyone else: 404.

Whether a group is shown is decided top-down from the highest org this node hosts above the
org (its *path*): one query sums the children of every org on the path, and the rule walks
down it. So the org's roll-up, its parent's drill-down and its own drill-down always agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import rollup_repository as repo
from enrollment.domain.rollups import Family, Figures, hidden_children, shown_at_end, total
from enrollment.errors import NotFound
from enrollment.rollup_repository import Sums
from enrollment.service.context import Context
from shared.auth import Principal, Role
from shared.contracts.events import OrgLevel
from shared.orgs.directory import UnknownOrg

LEVELS = tuple(level.value for level in OrgLevel)


@dataclass(frozen=True)
class Group:
    """One line of a roll-up: `figures` is None when suppressed."""

    key: str  # an org id, or a level
    name: str | None
    level: str | None
    orgs: int
    figures: Figures | None
    as_of: datetime | None

    @property
    def suppressed(self) -> bool:
        return self.figures is None


@dataclass(frozen=True)
class Drilldown:
    parent: Group
    children: list[Group]  # in id order: every child, or the page asked for
    more: bool = False  # children after the page


async def path_to(session: AsyncSession, ctx: Context, who: Principal, org_id: str) -> list[str]:
    """The orgs from the highest one this node hosts above `org_id` down to `org_id` — or
    404 when the caller may not see its roll-ups, or this node keeps nothing of it."""
    refused = NotFound(f"no roll-up of {org_id} is visible to the caller")
    try:
        if not who.has(Role.cadre, Role.admin) or not await ctx.orgs.is_within(
            org_id, who.org, session
        ):
            raise refused
        chain = [org_id, *await ctx.orgs.ancestors(org_id, session)]  # nearest first
    except UnknownOrg:
        raise refused from None
    hosted = [i for i, org in enumerate(chain) if await ctx.orgs.hosts(org, session)]
    if not hosted:
        raise refused
    return list(reversed(chain[: hosted[-1] + 1]))


async def _shown(
    session: AsyncSession, path: Sequence[str], year: int, *, with_last: bool
) -> tuple[bool, dict[str, dict[str, Sums]], dict[str, Sums]]:
    """Whether the last org of `path` is shown, with the families summed on the way (the
    last org's own family too when `with_last`) and the path's own snapshots."""
    parents = list(path) if with_last else list(path[:-1])
    families = await repo.families(session, parents, year) if parents else {}
    own = await repo.own(session, parents, year) if parents else {}
    if not parents:
        return False, families, own  # the caller sums the lone org itself
    top = own[path[0]].figures + total(s.figures for s in families[path[0]].values())
    steps = [
        (Family(own[parent].figures, _figures(families[parent])), path[i + 1])
        for i, parent in enumerate(path[:-1])
    ]
    return shown_at_end(top, steps), families, own


def _figures(family: Mapping[str, Sums]) -> dict[str, Figures]:
    return {key: sums.figures for key, sums in family.items()}


def _group(key: str, sums: Sums, shown: bool, name: str | None, level: str | None) -> Group:
    return Group(
        key, name, level, sums.orgs, sums.figures if shown else None, sums.as_of if shown else None
    )


async def subtree_rollup(session: AsyncSession, path: Sequence[str], year: int) -> Group:
    """The org's subtree (the last of `path`), summed and maybe suppressed."""
    org_id = path[-1]
    if len(path) == 1:
        sums = await repo.subtree(session, org_id, year)
        shown = not sums.figures.small
    else:
        shown, families, _ = await _shown(session, path, year, with_last=False)
        sums = families[path[-2]][org_id]
    name, level = (await repo.names(session, [org_id])).get(org_id, (None, None))
    return _group(org_id, sums, shown, name, level)


async def children_rollup(
    session: AsyncSession,
    path: Sequence[str],
    year: int,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> Drilldown:
    """The org (the last of `path`) and its children's subtrees in id order: those after
    `after`, `limit` of them (all by default). Which are suppressed is decided among all."""
    org_id = path[-1]
    shown, families, own = await _shown(session, path, year, with_last=True)
    family = families[org_id]
    hidden = hidden_children(own[org_id].figures, _figures(family), parent_shown=shown)
    keys = [key for key in sorted(family) if after is None or key > after]
    page = keys if limit is None else keys[:limit]
    named = await repo.names(session, [org_id, *page])
    parent_sums = Sums(
        own[org_id].orgs + sum(s.orgs for s in family.values()),
        own[org_id].figures + total(s.figures for s in family.values()),
        max((s.as_of for s in [own[org_id], *family.values()] if s.as_of), default=None),
    )
    parent = _group(org_id, parent_sums, shown, *named.get(org_id, (None, None)))
    children = [
        _group(key, family[key], key not in hidden, *named.get(key, (None, None))) for key in page
    ]
    return Drilldown(parent, children, more=len(keys) > len(page))


async def levels_rollup(
    session: AsyncSession, path: Sequence[str], year: int
) -> tuple[Group, list[Group]]:
    """The org's subtree and its parts per level (superior, enterprise, grassroots)."""
    whole = await subtree_rollup(session, path, year)
    by_level = await repo.levels(session, path[-1], year)
    empty = Sums(0, Figures(), None)
    sums = {level: by_level.get(level, empty) for level in LEVELS}
    hidden = hidden_children(Figures(), _figures(sums), parent_shown=not whole.suppressed)
    return whole, [_group(level, sums[level], level not in hidden, None, level) for level in LEVELS]
