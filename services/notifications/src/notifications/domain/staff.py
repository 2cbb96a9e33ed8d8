"""Staff (cadres, reviewers, veto departments) as recipients: a staff account has no member
id, so its recipient id is derived from the account — the same on every replica, and the
inbox of a staff token is found from the token alone."""

from __future__ import annotations

import uuid

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:bigschool:notifications:staff")


def staff_recipient_id(org: str, sub: str) -> str:
    """The recipient id of the staff account `sub` of `org` (the token's `org` and `sub`)."""
    return str(uuid.uuid5(NAMESPACE, f"{org}\0{sub}"))
