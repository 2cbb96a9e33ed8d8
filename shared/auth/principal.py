"""Who is calling: the claims of a verified token."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    member = "member"
    cadre = "cadre"
    reviewer = "reviewer"
    admin = "admin"


@dataclass(frozen=True)
class Principal:
    sub: str
    org: str
    roles: frozenset[Role]
    member_id: str | None = None

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def caller_key(self) -> str:
        """Who is calling, as an opaque key for per-caller state (rate limits, Idempotency-Keys):
        stable across this caller's tokens, and no user id in plain text in a store."""
        return hashlib.sha256(f"{self.org}\0{self.sub}".encode()).hexdigest()
