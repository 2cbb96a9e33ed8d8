from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field, field_validator

from awards.domain.proposal_tiers import Tier, bp_of, check_tiers
from awards.domain.rewards import PeriodKind
from shared.settings import ServiceSettings


class ProposalTierSetting(BaseModel):
    """A tier of the default proposal reward table, shaped as in PUT /orgs/{id}/proposal-tiers."""

    min_benefit_fen: int
    reward_fen: int
    rate: Decimal | None = Field(None, decimal_places=4)
    cap_fen: int | None = None

    def tier(self) -> Tier:
        rate_bp = None if self.rate is None else bp_of(self.rate)
        return Tier(self.min_benefit_fen, self.reward_fen, rate_bp, self.cap_fen)


# The default table: under 10,000 yuan a year 200 yuan; from 10,000 yuan 1,000; from 50,000
# 3,000; from 100,000 yuan 5,000 plus 1 % of the benefit, that share at most 50,000 yuan.
DEFAULT_PROPOSAL_TIERS = [
    ProposalTierSetting(min_benefit_fen=0, reward_fen=20_000),
    ProposalTierSetting(min_benefit_fen=1_000_000, reward_fen=100_000),
    ProposalTierSetting(min_benefit_fen=5_000_000, reward_fen=300_000),
    ProposalTierSetting(
        min_benefit_fen=10_000_000, reward_fen=500_000, rate=Decimal("0.01"), cap_fen=5_000_000
    ),
]


class AwardsSettings(ServiceSettings):
    service: str = Field("awards", description="Fixed: this service's name.")
    http_port: int = 8002
    stipend_check_seconds: float = Field(
        600, gt=0, description="How often the scheme owner's node raises the stipend payments due."
    )
    objection_grace_seconds: float = Field(
        3600,
        ge=0,
        description="After a notice period ends, how long decisions wait for objections filed "
        "in time that are still on their way from a member's node.",
    )

    # Immediate rewards: the quota of an org whose superiors set none (PUT /orgs/{id}/reward-quota).
    reward_quota_period: PeriodKind = Field(
        PeriodKind.month,
        description="Default quota period: month, quarter or year in the federation's zone.",
    )
    reward_quota_count: int = Field(
        0, ge=0, description="Default immediate rewards an org may grant per period; 0: none."
    )
    reward_quota_fen: int = Field(
        0,
        ge=0,
        description="Default money (fen) an org's immediate rewards may pay per period; "
        "0: rewards without money only.",
    )

    # Rationalization proposals: the reward tier table of an org that has none of its own
    # and no ancestor at this node with one (PUT /orgs/{id}/proposal-tiers).
    proposal_default_tiers: list[ProposalTierSetting] = Field(
        default_factory=lambda: list(DEFAULT_PROPOSAL_TIERS),
        description="JSON list of tiers {min_benefit_fen, reward_fen, rate?, cap_fen?}, "
        "ascending by min_benefit_fen, as in PUT /orgs/{id}/proposal-tiers.",
    )

    @field_validator("proposal_default_tiers")
    @classmethod
    def _usable_tiers(cls, tiers: list[ProposalTierSetting]) -> list[ProposalTierSetting]:
        check_tiers([t.tier() for t in tiers])  # a TierTableError is a ValueError
        return tiers
