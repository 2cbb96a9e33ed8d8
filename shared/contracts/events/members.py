"""Members: their contact data travels on the node-local members topic only."""

from __future__ import annotations

from pydantic import EmailStr, Field

from shared.contracts.base import Event, register
from shared.contracts.events.common import Language, OrgId


@register
class MemberRegistered(Event):
    """A member joined at their home org. Node-local topic only: it carries contact data."""

    ce_type = "bigschool.member.registered.v1"

    member_id: str = Field(description="Pseudonymous UUID, the only id that leaves the node.")
    home_org: OrgId
    name: str
    email: EmailStr | None = None
    phone: str | None = None
    language: Language = "zh"

    def subject(self) -> str:
        return self.member_id

    def orgs(self) -> list[str]:
        return [self.home_org]
