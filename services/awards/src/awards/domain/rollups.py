"""Roll-ups a superior level sees of its subtree: figures, never rows, and never a group
small enough to point at a person (docs/contract.md, ownership rule 4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MIN_GROUP_SIZE = 5


@dataclass(frozen=True)
class GroupTotal:
    members: int
    facts: int
    hours: float


@dataclass(frozen=True)
class Rollup:
    """`overall` is None when the whole group is too small; a kind maps to None likewise."""

    org: str
    year: int
    overall: GroupTotal | None
    by_kind: dict[str, GroupTotal | None]


def disclosed(group: GroupTotal) -> GroupTotal | None:
    return group if group.members >= MIN_GROUP_SIZE else None


def build_rollup(
    org: str, year: int, overall: GroupTotal, by_kind: Mapping[str, GroupTotal]
) -> Rollup:
    if disclosed(overall) is None:
        # Even the kinds present would say something about a handful of people.
        return Rollup(org, year, None, {})
    return Rollup(org, year, overall, {kind: disclosed(g) for kind, g in by_kind.items()})
