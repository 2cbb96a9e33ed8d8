"""Awards: what follows a member when they move to a union hosted by another node."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Event, register
from shared.contracts.events.common import OrgId
from shared.contracts.events.honours import BenefitKind, HonourKind, SchemeKind


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
    enrollment_id: str | None = Field(None, description="The enrollment it is about, if any.")
    programme_kind: str | None = None
    score: float | None = None
    rank: int | None = Field(None, ge=1, description="A place in a contest or competition.")


class HeldHonour(BaseModel):
    """One honour on the member's record (from `HonourGranted`), as it follows the member."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    honour_id: str
    kind: HonourKind
    source_id: str
    scheme_id: str | None = None
    scheme_kind: SchemeKind | None = None
    title: str = Field(max_length=300)
    granting_org: OrgId
    team_name: str | None = Field(None, max_length=200)
    amount_fen: int = Field(0, ge=0)
    benefits: list[BenefitKind] = Field(default_factory=list)
    reason: str = Field("", max_length=2000)
    year: int
    granted_at: datetime
    ce_id: str = Field(description="The ce_id of the HonourGranted it was recorded from.")


@register
class HonoursTransferred(Event):
    """The old home's awards service hands the member's facts and honours to the new home's
    (keyed by member id), then forgets them."""

    ce_type = "bigschool.awards.honours_transferred.v1"

    member_id: str
    from_org: OrgId
    to_org: OrgId
    transferred_at: datetime
    facts: list[HonourEntry] = Field(default_factory=list)
    honours: list[HeldHonour] = Field(default_factory=list)

    def subject(self) -> str:
        return self.member_id

    def orgs(self) -> list[str]:
        return [self.from_org, self.to_org]
