"""HTTP request and response models (never the ORM models, never the event contracts)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator
from pydantic_core import PydanticCustomError

from shared.contracts.events import Language, OrgLevel, QualityArea

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
    org_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", examples=["hzsteel-rolling"])
    name: str = Field(min_length=1, max_length=200)
    parent_id: str | None = None
    level: OrgLevel


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    org_id: str
    name: str
    parent_id: str | None
    level: str
    hosted_by: str


class MemberIn(BaseModel):
    home_org: str
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, pattern=r"^\+?[0-9 -]{5,20}$")
    employee_no: str | None = Field(None, max_length=64)
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
    owner_org: str
    title: str = Field(min_length=1, max_length=300)
    kind: ProgrammeKind
    quality_area: QualityArea
    audience: list[str] | None = Field(
        None, description="Roots of the audience subtrees; default: the owner's whole subtree."
    )
    capacity: int = Field(ge=1, le=1_000_000)
    hours: float = Field(ge=0, le=10_000)
    starts_at: datetime
    ends_at: datetime

    @model_validator(mode="after")
    def _dates(self) -> ProgrammeIn:
        # Our own error types: their messages are safe to show (see shared.web.problems).
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise PydanticCustomError("naive_time", "times need a UTC offset")
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
    programme_id: str
    member_id: str | None = Field(
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
