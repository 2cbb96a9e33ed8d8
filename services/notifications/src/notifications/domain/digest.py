"""The daily digest: one e-mail per member and digest moment that lists what was held for it."""

from __future__ import annotations

import uuid
from datetime import datetime

DIGEST = "bigschool.notifications.digest.v1"

# Fixed forever: digest ids (and so their deliveries and Message-IDs) are derived from it.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:bigschool:notifications:digest")


def digest_ce_id(member_id: str, moment: datetime, local_day: str) -> str:
    """The digest of `member_id` at `moment` (the local date and hour they chose): the same on
    every run, so a digest built twice is one delivery — told once."""
    return str(uuid.uuid5(NAMESPACE, f"{member_id}:{local_day}:{moment.isoformat()}"))
