"""HTTP models of immediate rewards and their per-period quotas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from awards.domain.rewards import PeriodKind
from shared.contracts.events import BenefitKind
from shared.web.fields import DisplayText, Id, OrgId

# Ten billion yuan: far above any reward, far below what a BIGINT or a JSON number holds.
MAX_FEN = 10**12
MAX_COUNT = 100_000


class RewardQuotaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=0, le=MAX_COUNT, description="Rewards per period; 0 allows none.")
    amount_fen: int = Field(
        ge=0, le=MAX_FEN, description="Money per period in fen (0.01 yuan); 0: none with money."
    )
    period: PeriodKind = Field(
        PeriodKind.month, description="Calendar month, quarter or year in the federation's zone."
    )


class RewardQuotaOut(BaseModel):
    org_id: str
    period: PeriodKind
    count: int
    amount_fen: int
    default: bool = Field(description="True: no quota was set; the node's default applies.")
    current_period: str = Field(examples=["2025-06", "2025-Q2", "2025"])
    period_starts_at: datetime
    period_ends_at: datetime
    used_count: int
    used_fen: int
    left_count: int
    left_fen: int
    updated_at: datetime | None = Field(description="When a superior last set it; none: default.")
    set_by_org: str | None = None


class RewardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: Id
    home_org: OrgId = Field(description="The member's grassroots org.")
    title: DisplayText = Field(max_length=300, examples=["Safety hazard reported"])
    reason: DisplayText = Field(max_length=2000, description="Why, on the spot; required.")
    amount_fen: int = Field(ge=0, le=MAX_FEN, description="Cash in fen (0.01 yuan); may be 0.")
    benefits: Annotated[list[BenefitKind], Field(max_length=len(BenefitKind))] = Field(
        default_factory=list
    )

    @field_validator("benefits")
    @classmethod
    def _once_each(cls, benefits: list[BenefitKind]) -> list[BenefitKind]:
        return list(dict.fromkeys(benefits))


class RewardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reward_id: str
    granting_org: str
    granted_by: str = Field(description="`sub` of the cadre who granted it.")
    member_id: str
    home_org: str
    title: str
    reason: str
    amount_fen: int
    benefits: list[BenefitKind]
    period: str = Field(description="The quota period it counted in.", examples=["2025-06"])
    granted_at: datetime


class RewardPage(BaseModel):
    items: list[RewardOut]
    next_cursor: str | None
