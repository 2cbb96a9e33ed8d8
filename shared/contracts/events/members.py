"""Members: their contact data travels on the node-local members topic only."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from shared.contracts.base import Event, register
from shared.contracts.events.common import Language, OrgId, QualityArea


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


@register
class MemberLeft(Event):
    """Node-local: the member's contact data is gone from this node (they left the union, or
    moved to a union hosted by another node); keep only the pseudonymous history."""

    ce_type = "bigschool.member.left.v1"

    member_id: str
    home_org: OrgId
    left_at: datetime
    reason: Literal["left", "transferred"]

    def subject(self) -> str:
        return self.member_id

    def orgs(self) -> list[str]:
        return [self.home_org]


class LearningEntry(BaseModel):
    """One completion of a learning record, as it follows a member to another node."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    enrollment_id: str
    programme_id: str
    programme_title: str
    programme_kind: str
    quality_area: QualityArea
    hours: float = Field(ge=0)
    completed_at: datetime
    score: float | None = None
    rank: int | None = None
    owner_org: OrgId


class CarriedEnrollment(BaseModel):
    """One of the member's enrollments, as it follows them to another node: the new home
    shows it, and the programme's owner sends its later decisions there."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    enrollment_id: str
    programme_id: str
    owner_org: OrgId
    owner_node: str
    status: str
    requested_at: datetime
    decided_at: datetime | None = None
    sequence: int | None = None
    reason: str | None = None
    waitlist_number: int | None = None
    offer_expires_at: datetime | None = None
    hours: float | None = None
    score: float | None = None
    rank: int | None = None
    completed_at: datetime | None = None


@register
class MemberTransferAccepted(Event):
    """To the old home node's inbox: the new home took the member in with the one-time
    transfer token the old home gave out (the token travels to that one node only)."""

    ce_type = "bigschool.member.transfer_accepted.v1"

    member_id: str
    from_node: str
    to_org: OrgId
    to_node: str
    token: str = Field(description="The one-time transfer token, as the old home issued it.")
    accepted_at: datetime

    def subject(self) -> str:
        return self.member_id

    def orgs(self) -> list[str]:
        return [self.to_org]


@register
class MemberTransferred(Event):
    """The member moved to a union hosted by another node: pseudonymous id, where to, and the
    learning record — never a name or contact data (the new home took those in itself)."""

    ce_type = "bigschool.member.transferred.v1"

    member_id: str
    from_org: OrgId
    to_org: OrgId
    to_node: str
    transferred_at: datetime
    learning: list[LearningEntry] = Field(default_factory=list)
    enrollments: list[CarriedEnrollment] = Field(default_factory=list)

    def subject(self) -> str:
        return self.member_id

    def orgs(self) -> list[str]:
        # The owners of the member's programmes too: they re-home the member's seats.
        owners = sorted({e.owner_org for e in self.enrollments} - {self.from_org, self.to_org})
        return [self.from_org, self.to_org, *owners]


@register
class MemberTransferRefused(Event):
    """To the new home's inbox: the old home did not hand the member over (the token was
    wrong, used, withdrawn or expired); the new home drops the contact data it took in."""

    ce_type = "bigschool.member.transfer_refused.v1"

    member_id: str
    from_org: OrgId | None = None
    to_org: OrgId
    reason: Literal["unknown_transfer", "token_mismatch", "expired", "wrong_destination"]
    refused_at: datetime

    def subject(self) -> str:
        return self.member_id

    def orgs(self) -> list[str]:
        return [self.to_org] + ([self.from_org] if self.from_org else [])
