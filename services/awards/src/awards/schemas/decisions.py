"""HTTP models of the owner's decisions, the round's publication and its results."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from awards.domain.grants import Decision
from awards.schemas.nominations import NomineeOut
from shared.contracts.events.nominations import NominationStatus
from shared.web.fields import Reasons


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    granted: StrictBool = Field(description="true: grant the honour; false: reject.")
    reasons: Reasons = Field(
        description="Why; required, also for a grant. Published with the results."
    )


class DecisionOut(BaseModel):
    """A nomination's decision: kept at the owner until the round's results are published."""

    nomination_id: str
    scheme_id: str
    round_id: str
    status: NominationStatus = Field(description="granted / rejected once published.")
    decision: Decision
    reasons: str
    decided_by: str = Field(description="`sub` of the owner's cadre who decided.")
    decided_at: datetime
    amount_fen: int = Field(description="Money the grant reserved in the scheme budget (fen).")
    published: bool
    budget_left_fen: int = Field(description="What the scheme budget has left after it.")


class PublicationOut(BaseModel):
    round_id: str
    status: str = Field(examples=["published"])
    granted: int
    rejected: int
    paid_fen: int = Field(description="Money the round's grants paid from the scheme budget.")
    stipends: int = Field(description="Stipend schedules started for granted titles.")
    published_at: datetime


class ResultOut(BaseModel):
    nomination_id: str
    home_org: str
    nominee: str = Field(examples=["member", "team"])
    member_ids: list[str]
    nominees: list[NomineeOut] = Field(description="Names from the newest dossier received.")
    team_name: str | None
    status: NominationStatus
    decision: Decision
    reasons: str
    decided_by: str
    decided_at: datetime
    amount_fen: int
    published: bool


class ResultPage(BaseModel):
    items: list[ResultOut]
    next_cursor: str | None
