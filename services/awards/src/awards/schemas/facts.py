"""HTTP models of eligibility facts and their roll-ups."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from awards.schemas.proposals import ProposalFiguresOut


class FactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    fact_id: str = Field(description="`ce_id` of the event the fact was learnt from.")
    member_id: str
    home_org: str = Field(description="The member's home org when the fact was recorded.")
    kind: str = Field(
        examples=["completed"],
        description="`completed` credits training hours; `enrollment_confirmed` (a seat) does not.",
    )
    programme_id: str
    programme_title: str
    quality_area: str | None
    hours: float
    source_type: str = Field(description="`ce_type` of the source event.")
    occurred_at: datetime
    recorded_at: datetime
    enrollment_id: str | None = None
    programme_kind: str | None = None
    score: float | None = None
    rank: int | None = Field(None, description="A place in a contest or competition.")


class KindTotalOut(BaseModel):
    count: int
    hours: float


class FactSummaryOut(BaseModel):
    total_hours: float = Field(description="Training hours credited by these facts.")
    by_kind: dict[str, KindTotalOut]


class MemberFactsPage(BaseModel):
    member_id: str
    items: list[FactOut]
    next_cursor: str | None
    summary: FactSummaryOut = Field(description="All facts visible to the caller, every page.")


class GroupOut(BaseModel):
    suppressed: bool = Field(description="True when the group is too small to show.")
    members: int | None = None
    facts: int | None = None
    hours: float | None = None


class RollupOut(BaseModel):
    org: str
    year: int = Field(description="Calendar year in the federation's time zone.")
    node: str = Field(description="Covers the members of the subtree hosted at this node.")
    min_group_size: int
    suppressed: bool
    members: int | None = None
    facts: int | None = None
    hours: float | None = Field(None, description="Training hours credited.")
    by_kind: dict[str, GroupOut] = {}
    proposals: ProposalFiguresOut | None = Field(
        None,
        description="The year's rationalization proposals of the subtree (GET "
        "/orgs/{org}/proposal-stats has them per month), each part suppressed on its own.",
    )
