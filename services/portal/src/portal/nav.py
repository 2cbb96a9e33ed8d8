"""The header's links: each page module names its own (`NAV`), and the header shows a
person the links their roles open. Member pages come first, then the cadre's work pages."""

from __future__ import annotations

from dataclasses import dataclass

from portal.session import Session

MEMBER = frozenset({"member"})
CADRE = frozenset({"cadre", "admin"})
REVIEWER = frozenset({"reviewer", "cadre", "admin"})


@dataclass(frozen=True)
class NavItem:
    href: str
    key: str  # catalogue key of the link's text
    roles: frozenset[str] = MEMBER
    work: bool = False  # a cadre's work page: shown in the second row
    badge: bool = False  # carries the live unread count

    def shown_to(self, session: Session) -> bool:
        return session.signed_in and bool(self.roles & set(session.roles))
