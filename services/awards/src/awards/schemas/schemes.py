"""HTTP models of award schemes and their rounds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.contracts.events import Benefit, Criteria, Quota, SchemeKind, Stipend
from shared.contracts.events.common import OrgLevel
from shared.contracts.events.schemes import NomineeKind
from shared.web.fields import DisplayText, OrgId, Reasons, ShortText, UtcInstant

# A staff account's `sub` as the federation's issuer writes it (e.g. `officer@zj-hz`).
StaffSub = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,199}$")]


class ReviewerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sub: StaffSub = Field(description="The reviewer's staff account at this node.")
    org_id: OrgId = Field(description="The org the reviewer comes from (for recusal).")


class VetoDepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    department: ShortText = Field(examples=["discipline_inspection", "safety", "audit"])
    officer: StaffSub = Field(description="The department's officer: a staff account here.")


class SchemeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SchemeKind
    title: Annotated[DisplayText, Field(max_length=200)]
    description: Reasons | None = None
    nominee: NomineeKind = "member"
    criteria: Criteria = Field(default_factory=Criteria)
    endorse_levels: list[OrgLevel] = Field(default_factory=list, max_length=3)
    quotas: list[Quota] = Field(default_factory=list, max_length=2000)
    veto_departments: list[VetoDepartmentIn] = Field(default_factory=list, max_length=10)
    reviewers: list[ReviewerIn] = Field(min_length=1, max_length=50)
    min_reviews: int = Field(2, ge=1, le=50)
    notice_days: int = Field(7, ge=1, le=60)
    benefits: list[Benefit] = Field(default_factory=list, max_length=10)
    budget_fen: int = Field(0, ge=0, le=10**13)
    stipend: Stipend | None = None


class SchemeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    scheme_id: str
    owner_org: str
    owned_here: bool
    kind: str
    title: str
    description: str
    nominee: str
    criteria: Criteria
    endorse_levels: list[str]
    quotas: list[Quota]
    veto_departments: list[str]
    notice_days: int
    benefits: list[Benefit]
    budget_fen: int
    committed_fen: int
    paid_fen: int
    stipend: Stipend | None
    min_reviews: int
    version: int
    published_at: datetime


class SchemePage(BaseModel):
    items: list[SchemeOut]
    next_cursor: str | None


class RoundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[DisplayText, Field(max_length=200)]
    year: int = Field(ge=2000, le=2200)
    deadline: UtcInstant = Field(description="Nominations filed after it are refused.")


class RoundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    round_id: str
    scheme_id: str
    owner_org: str
    name: str
    year: int
    status: str
    opens_at: datetime
    deadline: datetime
    changed_at: datetime
