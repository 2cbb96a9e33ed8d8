"""HTTP request and response models (never the ORM models, never the event contracts)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator
from pydantic_core import PydanticCustomError

from shared.contracts.events import Language, OrgLevel, QualityArea
from shared.web.fields import DisplayText, Id, OrgId, ShortText, UtcInstant

ProgrammeKind = Literal[
    "training_course",
    "knowledge_contest",
    "speech_contest",
    "lecture",
    "reading_activity",
    "skills_competition",
    "mentoring",
    "fitness_activity",
    "cultural_performance",
    "art_festival",
    "exhibition",
    "online_course",
]


class OrgIn(BaseModel):
    """Register or change an org. Made by an admin of the parent org at the node hosting the
    parent; the federation's top org (no parent) by its own node's admin, once."""

    org_id: OrgId = Field(examples=["hzsteel-rolling"])
    name: DisplayText = Field(max_length=200)
    parent_id: OrgId | None = None
    level: OrgLevel
    hosted_by: OrgId | None = Field(
        None,
        description="The node that will host the org; default this node. Naming another "
        "node admits it, with this org as its root.",
    )


class OrgMoveIn(BaseModel):
    """Put an org under another parent (both hosted by this node)."""

    parent_id: OrgId


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    org_id: str
    name: str
    parent_id: str | None
    level: str
    hosted_by: str


class MemberIn(BaseModel):
    home_org: OrgId
    name: DisplayText = Field(max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, pattern=r"^\+?[0-9 -]{5,20}$")
    employee_no: ShortText | None = None
    language: Language = "zh"


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    member_id: str
    home_org: str
    name: str
    email: str | None
    phone: str | None
    employee_no: str | None
    language: str


class ProgrammeIn(BaseModel):
    owner_org: OrgId
    title: DisplayText = Field(max_length=300)
    kind: ProgrammeKind
    quality_area: QualityArea
    audience: list[OrgId] | None = Field(
        None, description="Roots of the audience subtrees; default: the owner's whole subtree."
    )
    capacity: int = Field(ge=1, le=1_000_000)
    hours: float = Field(ge=0, le=10_000)
    starts_at: UtcInstant
    ends_at: UtcInstant

    @model_validator(mode="after")
    def _dates(self) -> ProgrammeIn:
        # Our own error type: its message is safe to show (see shared.web.problems).
        if self.ends_at < self.starts_at:
            raise PydanticCustomError("date_order", "ends_at must not be before starts_at")
        return self


class ProgrammeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    programme_id: str
    owner_org: str
    owner_node: str
    title: str
    kind: str
    quality_area: str
    audience: list[str]
    capacity: int
    hours: float
    starts_at: datetime
    ends_at: datetime


class ProgrammePage(BaseModel):
    items: list[ProgrammeOut]
    next_cursor: str | None


class EnrollmentIn(BaseModel):
    programme_id: Id
    member_id: Id | None = Field(
        None, description="Only for a cadre enrolling a member of their org; members omit it."
    )


class EnrollmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="enrollment_id")
    programme_id: str
    member_id: str
    status: str
    sequence: int | None = None
    reason: str | None = None
    requested_at: datetime
    decided_at: datetime | None = None
