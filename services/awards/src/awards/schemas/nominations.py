"""HTTP models of nominations and their steps."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.web.fields import DisplayText, Id, LongText, Reasons, ShortText


class NominationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scheme_id: Id
    round_id: Id
    member_ids: list[Id] = Field(
        min_length=1, max_length=50, description="One member, or the members of a team."
    )
    team_name: Annotated[DisplayText, Field(max_length=200)] | None = None
    achievements: LongText


class ResubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    achievements: LongText
    note: Reasons | None = Field(None, description="What was corrected.")


class EndorseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Reasons | None = None


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reasons: Reasons


class VetoCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    department: ShortText
    vetoed: bool
    reason: Reasons | None = Field(None, description="Required when vetoed.")


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: float = Field(ge=0, le=100)
    comment: Reasons | None = None


class NomineeOut(BaseModel):
    member_id: str
    display_name: str


class DossierOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    nominees: list[NomineeOut]
    team_name: str | None
    achievements: str
    cited_facts: list[dict[str, Any]]
    training_hours: float
    received_at: datetime


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reviewer: str
    score: float
    comment: str
    at: datetime


class VetoCheckOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    department: str
    vetoed: bool
    officer: str
    reason: str
    at: datetime


class NominationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    nomination_id: str
    scheme_id: str
    round_id: str
    owner_org: str
    home_org: str
    nominee: str
    member_ids: list[str]
    team_name: str | None
    stages: list[str]
    status: str
    stage_index: int
    version: int
    open_objections: int
    notice_ends_at: datetime | None
    step: int
    updated_at: datetime
    dossier: DossierOut | None = None
    reviews: list[ReviewOut] | None = Field(None, description="At the owner's node only.")
    veto_checks: list[VetoCheckOut] | None = Field(None, description="At the owner's node only.")
    recused: bool | None = Field(
        None,
        description="In a reviewer's list (GET /nominations): recusal bars them from scoring it.",
    )


class NominationPage(BaseModel):
    items: list[NominationOut]
    next_cursor: str | None


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    step: int
    ce_id: str
    ce_type: str
    status: str
    actor: str
    actor_org: str
    at: datetime
    reason: str
    detail: dict[str, Any]
