"""A member's standing at a node, and the one-time token that hands a member to another node.

The token is `<old node>.<member id>.<secret>`: the new home reads from it where to send the
acceptance and which member it takes in; only the old home can check the secret (it keeps
its SHA-256, never the token itself).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

TRANSFER_VALID_FOR = timedelta(days=7)

_TOKEN = re.compile(
    r"^(?P<node>[a-z0-9-]+)\.(?P<member>[0-9a-f-]{36})\.(?P<secret>[A-Za-z0-9_-]{20,})$"
)


class MemberStatus(StrEnum):
    active = "active"
    arriving = "arriving"  # taken in from another node, until the old home hands over


class DepartureReason(StrEnum):
    """Why a member's record is no longer at this node."""

    left = "left"  # left the union
    transferred = "transferred"  # moved to a union hosted by another node
    intake_refused = "intake_refused"  # taken in here, but the old home refused the token


class BadToken(ValueError):
    """Not a transfer token."""


@dataclass(frozen=True)
class TransferToken:
    node: str
    member_id: str
    token: str

    @classmethod
    def issue(cls, node: str, member_id: str) -> TransferToken:
        return cls(node, member_id, f"{node}.{member_id}.{secrets.token_urlsafe(24)}")

    @classmethod
    def parse(cls, token: str) -> TransferToken:
        match = _TOKEN.match(token)
        if match is None:
            raise BadToken("not a transfer token")
        return cls(match["node"], match["member"], token)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.token.encode()).hexdigest()

    def matches(self, sha256: str) -> bool:
        return hmac.compare_digest(self.sha256, sha256)
