"""Rules of the org tree."""

from __future__ import annotations

import re

from shared.contracts.events import OrgLevel

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

# Which level may sit under which: superiors nest; enterprises under a superior;
# grassroots unions under an enterprise (or directly under a superior).
ALLOWED_PARENTS: dict[OrgLevel, set[OrgLevel | None]] = {
    OrgLevel.superior: {None, OrgLevel.superior},
    OrgLevel.enterprise: {OrgLevel.superior},
    OrgLevel.grassroots: {OrgLevel.enterprise, OrgLevel.superior},
}


def parent_allowed(level: OrgLevel, parent_level: OrgLevel | None) -> bool:
    return parent_level in ALLOWED_PARENTS[level]
