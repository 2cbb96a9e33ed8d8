"""Which org level may sit under which (shared.orgs.authority.parent_allowed), as a full matrix."""

from __future__ import annotations

import pytest

from shared.contracts.events import OrgLevel
from shared.orgs.authority import ALLOWED_PARENTS, parent_allowed

S, E, G = OrgLevel.superior, OrgLevel.enterprise, OrgLevel.grassroots
TOP = None

ALLOWED: set[tuple[OrgLevel, OrgLevel | None]] = {(S, TOP), (S, S), (E, S), (G, E), (G, S)}
EVERY_PAIR = [(level, parent) for level in OrgLevel for parent in [TOP, *OrgLevel]]


def _id(pair: tuple[OrgLevel, OrgLevel | None]) -> str:
    level, parent = pair
    return f"{level.value}-under-{parent.value if parent else 'nothing'}"


ALLOWED_IN_ORDER = sorted(ALLOWED, key=_id)


@pytest.mark.parametrize("pair", ALLOWED_IN_ORDER, ids=_id)
def test_a_level_may_sit_under_its_allowed_parents(pair: tuple[OrgLevel, OrgLevel | None]) -> None:
    assert parent_allowed(*pair) is True


@pytest.mark.parametrize("pair", [p for p in EVERY_PAIR if p not in ALLOWED], ids=_id)
def test_every_other_placement_is_refused(pair: tuple[OrgLevel, OrgLevel | None]) -> None:
    assert parent_allowed(*pair) is False


def test_every_org_level_has_placement_rules() -> None:
    assert set(ALLOWED_PARENTS) == set(OrgLevel)
    assert {level for level, _ in ALLOWED} == set(OrgLevel)
