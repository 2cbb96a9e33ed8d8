"""Who may read which of a member's facts."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth import Principal, Role


@dataclass(frozen=True)
class FactScope:
    """The facts of `member_id` a caller may read: all of them (`home_org` None, the member
    themself) or only those recorded while the member belonged to `home_org`."""

    member_id: str
    home_org: str | None


def scope_for(who: Principal, member_id: str) -> FactScope | None:
    """None: the caller may see none of this member's facts."""
    if who.member_id == member_id:
        return FactScope(member_id, None)
    if who.has(Role.cadre, Role.admin):
        # A cadre manages their own org's data only: facts from other home orgs stay hidden.
        return FactScope(member_id, who.org)
    return None
