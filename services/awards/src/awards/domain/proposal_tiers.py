"""Reward tier tables of rationalization proposals: "big suggestions, big rewards".

A table is a list of tiers in ascending order of the yearly benefit they start at. An
assessed proposal earns the highest tier whose `min_benefit_fen` it reaches: the tier's fixed
`reward_fen`, plus `rate_bp` (basis points, 10000 = the whole benefit) of the benefit, at most
`cap_fen` of it when a cap is given. Fractions of a fen are rounded down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

BP = 10_000  # basis points in a whole
MAX_TIERS = 20
MAX_TIER_FEN = 10**15  # ten trillion yuan: above any benefit or reward, far below an overflow


@dataclass(frozen=True)
class Tier:
    min_benefit_fen: int
    reward_fen: int
    rate_bp: int | None = None
    cap_fen: int | None = None


class TierTableError(ValueError):
    """A table that cannot be used; `field` names the tier and its field (`tiers.2.cap_fen`)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _check_ranges(index: int, tier: Tier) -> None:
    amounts = {
        "min_benefit_fen": tier.min_benefit_fen,
        "reward_fen": tier.reward_fen,
        "cap_fen": tier.cap_fen,
    }
    for name, value in amounts.items():
        if value is not None and not 0 <= value <= MAX_TIER_FEN:
            raise TierTableError(f"tiers.{index}.{name}", f"must be between 0 and {MAX_TIER_FEN}")
    if tier.rate_bp is not None and not 0 <= tier.rate_bp <= BP:
        raise TierTableError(f"tiers.{index}.rate", "must be a fraction between 0 and 1")
    if tier.cap_fen is not None and tier.rate_bp is None:
        raise TierTableError(f"tiers.{index}.cap_fen", "a cap limits a rate: give the rate too")


def check_tiers(tiers: Sequence[Tier]) -> None:
    """Raise TierTableError for the first tier that makes the table unusable: tiers ascend by
    `min_benefit_fen` without two starting at the same benefit (ranges never overlap)."""
    if not tiers:
        raise TierTableError("tiers", "give at least one tier")
    if len(tiers) > MAX_TIERS:
        raise TierTableError("tiers", f"at most {MAX_TIERS} tiers")
    for index, tier in enumerate(tiers):
        _check_ranges(index, tier)
        if index and tier.min_benefit_fen <= tiers[index - 1].min_benefit_fen:
            raise TierTableError(
                f"tiers.{index}.min_benefit_fen",
                "must be above the previous tier's: tiers ascend and do not overlap",
            )


def tier_for(tiers: Sequence[Tier], benefit_fen: int) -> Tier | None:
    """The highest tier whose threshold `benefit_fen` reaches (tiers ascend); None below all."""
    reached = [tier for tier in tiers if tier.min_benefit_fen <= benefit_fen]
    return reached[-1] if reached else None


def reward_for(tiers: Sequence[Tier], benefit_fen: int) -> int:
    """The reward in fen for a yearly benefit of `benefit_fen` (0 below the lowest tier)."""
    tier = tier_for(tiers, benefit_fen)
    if tier is None:
        return 0
    share = 0
    if tier.rate_bp is not None:
        share = benefit_fen * tier.rate_bp // BP
        if tier.cap_fen is not None:
            share = min(share, tier.cap_fen)
    return tier.reward_fen + share


def bp_of(rate: Decimal) -> int:
    """A fraction with at most four decimals (as the API and settings take it) in basis points."""
    return int(rate * BP)


def fraction_of(rate_bp: int) -> Decimal:
    return Decimal(rate_bp) / BP
