"""Roll-ups summed by the database: the recursive CTE over the org-tree replica joined with the
snapshots, on PostgreSQL (and SQLite), for a generated tree five levels deep — every subtree,
drill-down and level total equal to the sums computed here row by row."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from enrollment import rollup_repository as repo
from enrollment.domain.rollups import MIN_GROUP_SIZE, Figures
from enrollment.service.rollups import children_rollup, subtree_rollup
from enrollment.stats_repository import AREAS, keep_snapshot, snapshot_values
from shared.orgs.authority import Org

pytestmark = pytest.mark.integration

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
YEAR = 2030


def _tree(rng: random.Random) -> dict[str, tuple[str, str]]:
    """zj-nb (a city under zj) → 8 enterprises → 2..40 grassroots each, the first with a
    workshop below it: {org: (parent, level)}."""
    tree: dict[str, tuple[str, str]] = {}
    for e in range(8):
        enterprise = f"ent-{e}"
        tree[enterprise] = ("zj-nb", "enterprise")
        for g in range(rng.randint(2, 40)):
            tree[f"{enterprise}-g{g}"] = (enterprise, "grassroots")
        tree[f"{enterprise}-g0-w"] = (f"{enterprise}-g0", "grassroots")
    return tree


async def _seed(ctx, db, tree: dict[str, tuple[str, str]], rng: random.Random) -> dict[str, int]:
    members: dict[str, int] = {}
    async with db.transaction() as session:
        await ctx.orgs.apply(session, Org("zj-nb", "ZJ-NB", "zj", "superior", "zj"))
        for org, (parent, level) in tree.items():
            await ctx.orgs.apply(session, Org(org, org.upper(), parent, level, "zj"))
            count = rng.choice([0, 2, 4, 9, 30, 120]) if level == "grassroots" else 0
            members[org] = count
            figures = Figures(hours={"ethics": count * 1.5}, completions={"ethics": count // 2})
            await keep_snapshot(
                session,
                {
                    "org_id": org,
                    "year": YEAR,
                    "version": 1,
                    "level": level,
                    "parent_id": parent,
                    "hosted_by": "zj",
                    "members": count,
                    "participants": count // 3,
                    **snapshot_values(figures),
                    "committed_fen": 100 if level == "enterprise" else 0,
                    "spent_fen": 0,
                    "generated_at": NOW,
                    "updated_at": NOW,
                },
            )
    return members


def _below(tree: dict[str, tuple[str, str]], root: str) -> set[str]:
    children: dict[str, list[str]] = defaultdict(list)
    for org, (parent, _) in tree.items():
        children[parent].append(org)
    out, todo = {root}, [root]
    while todo:
        for child in children[todo.pop()]:
            out.add(child)
            todo.append(child)
    return out


async def test_subtrees_families_and_levels_are_summed_by_the_database(owner) -> None:
    ctx, db = owner
    rng = random.Random(7)
    tree = _tree(rng)
    members = await _seed(ctx, db, tree, rng)

    async with db.reading() as session:
        whole = await repo.subtree(session, "zj-nb", YEAR)
        families = await repo.families(session, ["zj-nb", "ent-3"], YEAR)
        levels = await repo.levels(session, "zj-nb", YEAR)

    assert whole.orgs == len(tree) + 1
    assert whole.figures.members == sum(members.values())
    assert whole.figures.participants == sum(m // 3 for m in members.values())
    assert whole.figures.hours["ethics"] == pytest.approx(sum(members.values()) * 1.5)
    assert set(AREAS) == set(whole.figures.completions)
    assert whole.figures.committed_fen == 800
    assert set(families["zj-nb"]) == {f"ent-{e}" for e in range(8)}
    for e in range(8):
        group = _below(tree, f"ent-{e}")
        assert families["zj-nb"][f"ent-{e}"].orgs == len(group)
        assert families["zj-nb"][f"ent-{e}"].figures.members == sum(members[o] for o in group)
    workshop = families["ent-3"]["ent-3-g0"]
    assert workshop.figures.members == members["ent-3-g0"] + members["ent-3-g0-w"]
    assert levels["grassroots"].figures.members == sum(members.values())
    assert (levels["enterprise"].orgs, levels["superior"].orgs) == (8, 1)


async def test_the_drill_down_agrees_with_the_roll_ups_of_its_children(owner) -> None:
    ctx, db = owner
    rng = random.Random(11)
    tree = _tree(rng)
    await _seed(ctx, db, tree, rng)
    path = ["zj", "zj-nb", "ent-5"]

    async with db.reading() as session:
        drill = await children_rollup(session, path, YEAR)
        alone = {c.key: await subtree_rollup(session, [*path, c.key], YEAR) for c in drill.children}

    for child in drill.children:
        assert alone[child.key].figures == child.figures  # shown (or hidden) alike
        if child.figures is not None:
            assert child.figures.members >= MIN_GROUP_SIZE or not child.figures.has_people
    hidden = [c for c in drill.children if c.suppressed]
    if drill.parent.figures is not None and hidden:
        shown = sum(c.figures.members for c in drill.children if c.figures is not None)
        assert drill.parent.figures.members - shown >= MIN_GROUP_SIZE
