"""An org's training budget for one year: money in integer fen, never negative.

The union fund is the org's yearly fund; the education share (basis points, 0-10000) is the
part reserved for worker education and training. What seats may use is

    available = union_fund * share / 10000   (rounded down)
    left      = available - committed - spent

A confirmed seat commits its cost, a cancelled one releases it, a completion turns it into
spent. Every transition returns a new value or raises `BudgetError`: an amount never goes
negative and committed + spent never exceeds what is available.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from shared import timezones

Fen = int  # money: integer fen (1 yuan = 100 fen), never a float

FULL_SHARE_BP = 10_000  # 100 % in basis points


class BudgetError(Exception):
    """A budget transition that is not allowed (an amount would go negative, or the
    budget cannot pay). `field` names what was wrong."""

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class BudgetExceeded(BudgetError):
    """The budget cannot pay this much."""


@dataclass(frozen=True)
class Budget:
    union_fund_fen: Fen
    education_share_bp: int
    committed_fen: Fen = 0
    spent_fen: Fen = 0

    def __post_init__(self) -> None:
        for name in ("union_fund_fen", "committed_fen", "spent_fen"):
            _check_amount(getattr(self, name), name)
        if not 0 <= self.education_share_bp <= FULL_SHARE_BP:
            raise BudgetError(
                f"the share must be 0-{FULL_SHARE_BP} basis points", field="education_share_bp"
            )

    @property
    def available_fen(self) -> Fen:
        return self.union_fund_fen * self.education_share_bp // FULL_SHARE_BP

    @property
    def left_fen(self) -> Fen:
        return self.available_fen - self.committed_fen - self.spent_fen


def _check_amount(amount: Fen, field: str) -> None:
    # bool is an int; a float or a Decimal is not money here.
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise BudgetError("an amount is a whole number of fen", field=field)
    if amount < 0:
        raise BudgetError("an amount may not be negative", field=field)


def can_pay(budget: Budget | None, cost: Fen) -> bool:
    """Whether a seat costing `cost` fits: free seats always do, even without a budget."""
    _check_amount(cost, "cost_fen")
    if cost == 0:
        return True
    return budget is not None and cost <= budget.left_fen


def commit(budget: Budget, cost: Fen) -> Budget:
    """A confirmed seat holds its cost."""
    if not can_pay(budget, cost):
        raise BudgetExceeded("the budget cannot pay this seat", field="cost_fen")
    return replace(budget, committed_fen=budget.committed_fen + cost)


def release(budget: Budget, cost: Fen) -> Budget:
    """A cancelled seat gives its cost back."""
    _check_amount(cost, "cost_fen")
    if cost > budget.committed_fen:
        raise BudgetError("more released than committed", field="cost_fen")
    return replace(budget, committed_fen=budget.committed_fen - cost)


def spend(budget: Budget, cost: Fen) -> Budget:
    """A completed seat: what it committed is spent."""
    _check_amount(cost, "cost_fen")
    if cost > budget.committed_fen:
        raise BudgetError("more spent than committed", field="cost_fen")
    return replace(
        budget, committed_fen=budget.committed_fen - cost, spent_fen=budget.spent_fen + cost
    )


def set_fund(budget: Budget, union_fund_fen: Fen, education_share_bp: int) -> Budget:
    """A new fund or share; what is committed and spent must still fit in it. The error
    names the field that was lowered (the fund when both were)."""
    changed = replace(budget, union_fund_fen=union_fund_fen, education_share_bp=education_share_bp)
    if changed.left_fen < 0:
        field = (
            "education_share_bp" if union_fund_fen >= budget.union_fund_fen else "union_fund_fen"
        )
        raise BudgetExceeded(
            "the training money would fall below what is committed and spent", field=field
        )
    return changed


def year_of(instant: datetime, zone: str) -> int:
    """The calendar year of `instant` in the federation's zone (a naive instant is UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return timezones.year_of(instant, zone)
