"""Who is calling: the claims of a verified token."""

from __future__ import annotations

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
