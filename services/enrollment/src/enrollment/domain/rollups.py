"""Roll-ups a level above sees of its subtree: figures, never rows — and never a small group
(docs/contract.md, ownership rule 4). Pure: the sums come from SQL, the rule is here.

What a group is: a subtree (an org and everything below it), or a level of a subtree. Its
figures are sums of its orgs' own snapshots: members, participants, hours and completions per
quality area, money committed and spent.

The suppression rule (every answer of the roll-up API goes through it):

1. **Small groups.** A group with people in it (members, participants or completions) and
   fewer than MIN_GROUP_SIZE members is suppressed: every figure null, `suppressed: true`. A
   group with nobody in it (an org's own budget, say) is shown: it says nothing about anyone.
2. **Complements.** Where a parent's total is shown beside its children (a drill-down, or
   the levels of an org), the parent minus the shown children — the *residual*: the hidden
   children plus the parent's own figures — can be computed by anyone. So the residual must
   itself be nobody or at least MIN_GROUP_SIZE members; while it is not, the shown child with
   the fewest members (then the smallest id) is suppressed too. A lone small child therefore
   always takes a sibling with it, and two small children whose sum is still small take a
   third. Once every child with people is hidden the residual is the parent itself, which is
   shown only when it is not small: the loop always ends with the parent shown.
3. **Hidden all the way down.** A suppressed subtree shows nothing below it: in its own
   drill-down every child is suppressed, whatever its size (else the hidden total would be
   the sum of its children again). Whether an org is shown is decided top-down, from the
   highest org the answering node hosts above it, the same way for every question (the org's
   roll-up, its parent's drill-down, its own drill-down and levels): one node's answers never
   contradict each other.

Why that is enough: the subtrees shown nest, so anything derivable from them by adding and
subtracting is a sum of residuals (a shown subtree minus its shown children), and rule 2
makes every residual nobody or at least MIN_GROUP_SIZE members; rule 3 keeps hidden subtrees
out of any further equation. The limit: each node decides from what it keeps, so a node
below (which keeps only its own subtree) may show a subtree that the node above hides as a
complement; a person with roll-up access at both could compare the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

MIN_GROUP_SIZE = 5
N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Figures:
    """A group's figures: sums of its orgs' own snapshots (areas by quality area name)."""

    members: int = 0
    participants: int = 0
    hours: Mapping[str, float] = field(default_factory=dict)
    completions: Mapping[str, int] = field(default_factory=dict)
    committed_fen: int = 0
    spent_fen: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            members=self.members + other.members,
            participants=self.participants + other.participants,
            hours=_add(self.hours, other.hours),
            completions=_add(self.completions, other.completions),
            committed_fen=self.committed_fen + other.committed_fen,
            spent_fen=self.spent_fen + other.spent_fen,
        )

    @property
    def has_people(self) -> bool:
        """Does any figure count people (members, participants, completions, hours)?"""
        return bool(
            self.members
            or self.participants
            or any(self.completions.values())
            or any(self.hours.values())
        )

    @property
    def small(self) -> bool:
        """A group of people too small to show."""
        return self.has_people and self.members < MIN_GROUP_SIZE

    @property
    def participation_rate(self) -> float | None:
        """Participants per member (None without members)."""
        return self.participants / self.members if self.members else None

    def hours_per_member(self) -> dict[str, float]:
        """Hours per member in each quality area (nothing without members)."""
        if not self.members:
            return {}
        return {area: hours / self.members for area, hours in self.hours.items()}


def _add(a: Mapping[str, N], b: Mapping[str, N]) -> dict[str, N]:
    out = dict(a)
    for key, value in b.items():
        out[key] = out[key] + value if key in out else value
    return out


def total(groups: Iterable[Figures]) -> Figures:
    out = Figures()
    for group in groups:
        out = out + group
    return out


def safe_residual(residual: Figures) -> bool:
    """What anyone can compute as parent minus shown children may be shown."""
    return not residual.has_people or residual.members >= MIN_GROUP_SIZE


def hidden_children(
    own: Figures, children: Mapping[str, Figures], *, parent_shown: bool
) -> frozenset[str]:
    """Which children of a parent are suppressed (rules 1-3): `own` is the parent's own
    figures (the part of its total no child has), `children` each child's subtree."""
    if not parent_shown:
        return frozenset(children)  # rule 3
    hidden = {key for key, group in children.items() if group.small}  # rule 1
    residual = own + total(children[key] for key in hidden)
    # Rule 2: the shown child with the fewest members goes next (hiding nobody helps nothing).
    candidates = sorted(
        (group.members, key)
        for key, group in children.items()
        if key not in hidden and group.has_people
    )
    for _, key in candidates:
        if safe_residual(residual):
            break
        hidden.add(key)
        residual = residual + children[key]
    return frozenset(hidden)


@dataclass(frozen=True)
class Family:
    """One step down a path from the top: a parent's own figures and every child's subtree."""

    own: Figures
    children: Mapping[str, Figures]


def shown_at_end(top: Figures, steps: Iterable[tuple[Family, str]]) -> bool:
    """Is the org at the end of a path shown? `top` is the subtree of the highest org the node
    hosts on the path; each step is a family on the way down and the child taken."""
    shown = not top.small
    for family, child in steps:
        shown = shown and child not in hidden_children(
            family.own, family.children, parent_shown=shown
        )
    return shown
