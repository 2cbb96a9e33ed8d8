"""The suppression rule of roll-ups (domain/rollups.py): small groups are hidden, and so many
siblings with them that no hidden small group can be computed from what is shown — checked
on examples, and on random trees by linear algebra (is a hidden group's total a combination
of the totals shown?)."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from enrollment.domain.rollups import (
    MIN_GROUP_SIZE,
    Family,
    Figures,
    hidden_children,
    shown_at_end,
    total,
)


def people(members: int, participants: int = 0, hours: float = 0.0) -> Figures:
    return Figures(
        members=members,
        participants=participants,
        hours={"safety_health": hours} if hours else {},
        completions={"safety_health": 1} if hours else {},
    )


NOBODY = Figures()


def test_a_group_of_fewer_than_five_members_is_small_and_of_five_is_not() -> None:
    assert people(4).small
    assert not people(MIN_GROUP_SIZE).small
    assert people(0, participants=1).small  # people in it, fewer than five members


def test_a_group_with_nobody_in_it_is_shown_even_with_money() -> None:
    money = Figures(committed_fen=50_000, spent_fen=10_000)

    assert not money.has_people
    assert not money.small


def test_figures_add_up_per_area_and_give_rates_per_member() -> None:
    group = people(10, participants=4, hours=30) + people(10, participants=1, hours=10)

    assert (group.members, group.participants) == (20, 5)
    assert group.hours == {"safety_health": 40}
    assert group.completions == {"safety_health": 2}
    assert group.participation_rate == 0.25
    assert group.hours_per_member() == {"safety_health": 2.0}
    assert NOBODY.participation_rate is None
    assert NOBODY.hours_per_member() == {}


def test_a_lone_small_child_takes_the_next_smallest_sibling_with_it() -> None:
    children = {"a": people(3), "b": people(40), "c": people(12), "d": people(90)}

    assert hidden_children(NOBODY, children, parent_shown=True) == {"a", "c"}


def test_without_a_small_child_nothing_is_hidden() -> None:
    children = {"a": people(5), "b": people(40)}

    assert hidden_children(NOBODY, children, parent_shown=True) == frozenset()


def test_two_small_children_whose_sum_is_still_small_take_a_third() -> None:
    children = {"a": people(3), "b": people(1), "c": people(50), "d": people(60)}

    assert hidden_children(NOBODY, children, parent_shown=True) == {"a", "b", "c"}


def test_two_small_children_whose_sum_is_five_need_no_third() -> None:
    children = {"a": people(3), "b": people(2), "c": people(50)}

    assert hidden_children(NOBODY, children, parent_shown=True) == {"a", "b"}


def test_a_small_own_part_of_the_parent_takes_a_child_with_it() -> None:
    # The parent minus its children is its own figures: three members there are a small group.
    children = {"a": people(20), "b": people(30)}

    assert hidden_children(people(3), children, parent_shown=True) == {"a"}


def test_an_empty_child_is_no_complement() -> None:
    children = {"a": people(3), "empty": Figures(committed_fen=100), "b": people(9)}

    assert hidden_children(NOBODY, children, parent_shown=True) == {"a", "b"}


def test_below_a_hidden_parent_every_child_is_hidden() -> None:
    children = {"a": people(30), "b": people(40)}

    assert hidden_children(NOBODY, children, parent_shown=False) == {"a", "b"}


def test_an_org_is_shown_only_when_every_step_down_its_path_shows_it() -> None:
    top_family = Family(NOBODY, {"zj-hz": people(43), "zj-nb": people(200)})
    city = Family(NOBODY, {"hzsteel": people(40), "hzbus": people(3)})

    assert shown_at_end(people(243), [(top_family, "zj-hz")])
    # hzbus is small; hzsteel is its complement; both stay hidden all the way down.
    assert not shown_at_end(people(243), [(top_family, "zj-hz"), (city, "hzbus")])
    assert not shown_at_end(people(243), [(top_family, "zj-hz"), (city, "hzsteel")])
    assert not shown_at_end(people(3), [])


def test_a_group_of_three_cannot_be_derived_from_parent_minus_siblings() -> None:
    children = {"hzsteel": people(40, participants=12), "hzbus": people(3, participants=3)}
    parent = total(children.values())
    hidden = hidden_children(NOBODY, children, parent_shown=True)
    shown = {k: v for k, v in children.items() if k not in hidden}

    residual = parent.members - sum(v.members for v in shown.values())
    assert "hzbus" in hidden
    assert residual != children["hzbus"].members  # parent minus shown siblings is not it
    assert residual >= MIN_GROUP_SIZE


# -- random trees: nothing hidden and small is a combination of what is shown ---------------------


def _random_tree(rng: random.Random) -> tuple[list[int | None], list[int]]:
    size = rng.randint(2, 12)
    parents: list[int | None] = [None] + [rng.randrange(i) for i in range(1, size)]
    own = [rng.choice([0, 0, 1, 2, 3, 4, 5, 7, 20]) for _ in range(size)]
    return parents, own


def _subtrees(parents: list[int | None]) -> list[set[int]]:
    below: list[set[int]] = [{i} for i in range(len(parents))]
    for i in reversed(range(len(parents))):
        parent = parents[i]
        if parent is not None:
            below[parent] |= below[i]
    return below


def _shown(parents: list[int | None], own: list[int]) -> list[bool]:
    """Every org's visibility, top-down, as the service decides it."""
    below = _subtrees(parents)
    totals = [people(sum(own[j] for j in below[i])) for i in range(len(parents))]
    shown = [False] * len(parents)
    shown[0] = not totals[0].small
    for i in range(len(parents)):  # parents come before their children
        kids = {str(c): totals[c] for c in range(len(parents)) if parents[c] == i}
        hidden = hidden_children(people(own[i]), kids, parent_shown=shown[i])
        for key in kids:
            shown[int(key)] = key not in hidden
    return shown


def _rank(rows: list[list[Fraction]]) -> int:
    rows = [r[:] for r in rows]
    rank, cols = 0, len(rows[0]) if rows else 0
    for col in range(cols):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][col] != 0:
                factor = rows[r][col] / rows[rank][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def _derivable(published: list[set[int]], group: set[int], size: int) -> bool:
    """Is the sum over `group` a linear combination of the sums over `published`? Orgs
    with nobody in them are known to hold zero (they add nothing)."""

    def vector(orgs: set[int]) -> list[Fraction]:
        return [Fraction(1 if i in orgs else 0) for i in range(size)]

    rows = [vector(s) for s in published]
    return bool(rows) and _rank([*rows, vector(group)]) == _rank(rows)


@pytest.mark.parametrize("seed", range(300))
def test_no_hidden_small_group_is_a_combination_of_the_groups_shown(seed: int) -> None:
    parents, own = _random_tree(random.Random(seed))
    below, shown = _subtrees(parents), _shown(parents, own)
    # What is known: every shown subtree's total, and that an org with nobody holds nothing.
    published = [below[i] for i in range(len(parents)) if shown[i]]
    published += [{i} for i in range(len(parents)) if own[i] == 0]
    for i in range(len(parents)):
        members = sum(own[j] for j in below[i])
        if shown[i]:
            assert not 0 < members < MIN_GROUP_SIZE, f"org {i} is small and shown"
        elif 0 < members < MIN_GROUP_SIZE:
            assert not _derivable(published, below[i], len(parents)), (parents, own, shown, i)
        if 0 < own[i] < MIN_GROUP_SIZE:  # an org's own small group, too
            assert not _derivable(published, {i}, len(parents)), (parents, own, shown, i)
