"""Awards: what follows a member when they move to a union hosted by another node."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Event, register
from shared.contracts.events.common import OrgId


class HonourEntry(BaseModel):
    """One eligibility fact (what an award may cite), pseudonymous, as it follows a member."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    fact_id: str = Field(description="The fact's id: the ce_id of the event it came from.")
    kind: str
    programme_id: str
    programme_title: str
    quality_area: str | None = None
    hours: float = Field(ge=0)
    source_type: str
    occurred_at: datetime


@register
class HonoursTransferred(Event):
    """The old home's awards service hands the member's facts to the new home's (keyed by
    member id), then forgets them."""

    ce_type = "bigschool.awards.honours_transferred.v1"

    member_id: str
    from_org: OrgId
    to_org: OrgId
    transferred_at: datetime
    facts: list[HonourEntry] = Field(default_factory=list)

    def subject(self) -> str:
        return self.member_id

    def orgs(self) -> list[str]:
        return [self.from_org, self.to_org]
