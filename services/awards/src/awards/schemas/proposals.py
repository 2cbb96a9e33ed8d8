"""HTTP models of rationalization proposals, their reward tier tables and their figures."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from awards.domain.proposal_tiers import MAX_TIER_FEN, MAX_TIERS
from awards.domain.proposals import MAX_BENEFIT_FEN
from shared.web.fields import PARAGRAPHS, DisplayText, OrgId

# A proposal explains itself in paragraphs (ParagraphText, its bound checked first).
LongText = Annotated[str, StringConstraints(max_length=5000), PARAGRAPHS]
Note = Annotated[str, StringConstraints(max_length=2000), PARAGRAPHS]


class ProposalIn(BaseModel):
    title: DisplayText = Field(max_length=300)
    problem: LongText = Field(description="What is wrong or could be better today.")
    proposal: LongText = Field(description="What the author proposes to do.")
    expected_benefit: Note = Field(description="What it should save or earn, in words.")
    evaluating_org: OrgId | None = Field(
        None,
        description="Who evaluates it: the author's home org (default) or an org above it, "
        "hosted at this node.",
    )


class RejectIn(BaseModel):
    reasons: Note = Field(description="Why the proposal is not adopted; the author reads it.")


class NoteIn(BaseModel):
    note: Note | None = None


class AssessIn(BaseModel):
    benefit_fen: int = Field(
        ge=0, le=MAX_BENEFIT_FEN, description="The yearly money saved or earned, in fen."
    )
    note: Note = Field(description="How the benefit was found.")


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    step: str = Field(examples=["adopt"])
    from_state: str | None
    to_state: str
    actor: str = Field(description="The `sub` of whoever took the step.")
    at: datetime
    note: str | None = Field(description="Reasons of a rejection; a note of any other step.")
    benefit_fen: int | None
    reward_fen: int | None


class ProposalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    proposal_id: str
    author_id: str
    home_org: str = Field(description="The author's home org when submitting.")
    evaluating_org: str
    title: str
    problem: str
    proposal: str
    expected_benefit: str
    state: str = Field(examples=["submitted"])
    benefit_fen: int | None = Field(description="Yearly benefit, once assessed.")
    reward_fen: int | None = Field(description="The reward, once rewarded.")
    honour_id: str | None = Field(description="The honour_granted event's honour id.")
    submitted_at: datetime
    evaluated_at: datetime | None = Field(description="When it was adopted or rejected.")
    updated_at: datetime


class ProposalDetailOut(ProposalOut):
    steps: list[StepOut] = Field(description="Every step, the submission first (append-only).")


class ProposalPage(BaseModel):
    items: list[ProposalOut]
    next_cursor: str | None


class TierIn(BaseModel):
    min_benefit_fen: int = Field(ge=0, le=MAX_TIER_FEN, description="Where the tier starts.")
    reward_fen: int = Field(ge=0, le=MAX_TIER_FEN, description="The tier's fixed reward.")
    rate: Decimal | None = Field(
        None, ge=0, le=1, decimal_places=4, description="Share of the benefit added, e.g. 0.01."
    )
    cap_fen: int | None = Field(
        None, ge=0, le=MAX_TIER_FEN, description="At most this much from the rate."
    )


class TierTableIn(BaseModel):
    tiers: list[TierIn] = Field(
        min_length=1, max_length=MAX_TIERS, description="Ascending by min_benefit_fen."
    )


class TierOut(BaseModel):
    min_benefit_fen: int
    reward_fen: int
    rate: float | None
    cap_fen: int | None


class TierTableOut(BaseModel):
    org_id: str
    source_org: str | None = Field(
        description="The org whose table applies (this one or the nearest above it at this "
        "node); null: the node's default table (BIGSCHOOL_PROPOSAL_DEFAULT_TIERS)."
    )
    inherited: bool = Field(description="True unless the org has a table of its own.")
    tiers: list[TierOut]
    set_by: str | None = None
    set_at: datetime | None = None


class ParticipationOut(BaseModel):
    suppressed: bool = Field(description="Fewer than the minimum group behind the figures.")
    submitted: int | None = None
    authors: int | None = None
    per_member: float | None = Field(None, description="Proposals per member.")
    rate: float | None = Field(None, description="Distinct authors per member.")


class AdoptionOut(BaseModel):
    suppressed: bool
    evaluated: int | None = Field(None, description="Adopted or rejected in the period.")
    adopted: int | None = None
    rate: float | None = Field(None, description="Adopted per evaluated.")


class ProposalFiguresOut(BaseModel):
    participation: ParticipationOut
    adoption: AdoptionOut


class MonthFiguresOut(ProposalFiguresOut):
    month: int


class ProposalStatsOut(BaseModel):
    org: str
    year: int = Field(description="Calendar year in the federation's time zone.")
    node: str = Field(description="Covers the members of the subtree hosted at this node.")
    min_group_size: int
    suppressed: bool = Field(description="The subtree has fewer members than the minimum.")
    members: int | None = None
    total: ProposalFiguresOut
    months: list[MonthFiguresOut]
