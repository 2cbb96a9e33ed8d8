"""Versioned event models of the first flow. Past-tense names; within a version only
optional fields may be added; a breaking change is a new `.vN` type side by side.

Federation events carry the pseudonymous `member_id` only: contact data travels on
the node-local members topic and nowhere else.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import EmailStr, Field

from shared.contracts.base import Event, register

OrgId = str
Language = Literal["zh", "en"]


class OrgLevel(StrEnum):
    superior = "superior"
    enterprise = "enterprise"
    grassroots = "grassroots"


class QualityArea(StrEnum):
    ethics = "ethics"
    science_culture = "science_culture"
    technical_skills = "technical_skills"
    safety_health = "safety_health"


@register
class OrgRegistered(Event):
    """Full state of an org (compacted topic, keyed by org id): the org tree replicates from it."""

    ce_type = "bigschool.org.registered.v1"
    signed = True

    org_id: OrgId = Field(description="Short slug, e.g. `hzsteel-rolling`.")
    name: str
    parent_id: OrgId | None = Field(None, description="None only for the federation's top org.")
    level: OrgLevel
    hosted_by: str = Field(description="Id of the node that hosts this org.")

    def subject(self) -> str:
        return self.org_id

    def orgs(self) -> list[str]:
        return [self.org_id]


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
class ProgrammePublished(Event):
    """A programme open to the owner's subtree (or chosen sub-orgs). Owner node is authoritative."""

    ce_type = "bigschool.programme.published.v1"

    programme_id: str
    owner_org: OrgId
    owner_node: str
    title: str
    kind: str
    quality_area: QualityArea
    audience: list[OrgId] = Field(description="Roots of the audience subtrees.")
    capacity: int = Field(ge=1)
    hours: float = Field(ge=0)
    starts_at: datetime
    ends_at: datetime

    def subject(self) -> str:
        return self.programme_id

    def orgs(self) -> list[str]:
        return [self.owner_org, *self.audience]


@register
class EnrollmentRequested(Event):
    """Sent to the programme owner's inbox; the owner decides. No name, no contact data."""

    ce_type = "bigschool.enrollment.requested.v1"

    enrollment_id: str
    programme_id: str
    member_id: str
    home_org: OrgId
    home_node: str
    requested_at: datetime

    def subject(self) -> str:
        return self.enrollment_id

    def key(self) -> str:
        return self.programme_id

    def orgs(self) -> list[str]:
        return [self.home_org]


class _EnrollmentDecision(Event):
    enrollment_id: str
    programme_id: str
    member_id: str
    owner_org: OrgId
    home_org: OrgId
    decided_at: datetime

    def subject(self) -> str:
        return self.enrollment_id

    def key(self) -> str:
        return self.programme_id

    def orgs(self) -> list[str]:
        return [self.owner_org, self.home_org]


@register
class EnrollmentConfirmed(_EnrollmentDecision):
    """The owner gave the member a seat. `sequence` is the owner's decision order."""

    ce_type = "bigschool.enrollment.confirmed.v1"

    sequence: int = Field(ge=1)
    programme_title: str = ""
    hours: float = Field(0, ge=0)
    quality_area: QualityArea | None = None


@register
class EnrollmentWaitlisted(_EnrollmentDecision):
    """No seat left: the member waits. `sequence` is the owner's decision order, shared with
    confirmations: waitlisted members are promoted in increasing `sequence`."""

    ce_type = "bigschool.enrollment.waitlisted.v1"

    sequence: int = Field(ge=1)
    programme_title: str = ""


@register
class EnrollmentRefused(_EnrollmentDecision):
    """The owner refused the request, with a machine-readable reason."""

    ce_type = "bigschool.enrollment.refused.v1"

    reason: Literal["already_enrolled", "unknown_programme", "not_in_audience", "closed"]
    programme_title: str = ""
