"""A scheme's budget: what a granted nomination costs, and the money it reserves and pays.

A grant is reserved when the owner decides (`committed`) and paid when the round's results are
published (`committed` → `paid`); a stipend payment is paid when it falls due. What is left is
budget - committed - paid, never below zero for anything new. Money is integer fen."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from shared.contracts.events import Benefit, BenefitKind


class Decision(StrEnum):
    granted = "granted"
    rejected = "rejected"


class BudgetShort(Exception):
    """The budget has less left than the money asked for (HTTP 409, nothing committed)."""

    def __init__(self, left_fen: int, needed_fen: int, what: str) -> None:
        super().__init__(
            f"scheme budget: {yuan(left_fen)} yuan left, {what} needs {yuan(needed_fen)}"
        )
        self.left_fen = left_fen
        self.needed_fen = needed_fen


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, exactly (no float): 300000 → "3,000.00"."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def grant_cost(benefits: Iterable[Benefit]) -> int:
    """What one granted nomination costs: its cash benefits, once (a team shares them)."""
    return sum(b.amount_fen for b in benefits if b.kind is BenefitKind.cash)


def benefit_kinds(benefits: Iterable[Benefit]) -> list[BenefitKind]:
    return list(dict.fromkeys(b.kind for b in benefits))


@dataclass(frozen=True)
class Budget:
    budget_fen: int
    committed_fen: int
    paid_fen: int

    @property
    def left_fen(self) -> int:
        # A budget lowered below what it already promised leaves nothing, never a debt.
        return max(0, self.budget_fen - self.committed_fen - self.paid_fen)

    def _require(self, amount_fen: int, what: str) -> None:
        if amount_fen < 0:
            raise ValueError("an amount of money is never negative")
        if amount_fen > self.left_fen:
            raise BudgetShort(self.left_fen, amount_fen, what)

    def reserve(self, amount_fen: int) -> Budget:
        """A granted decision promises its cost until the results are published."""
        self._require(amount_fen, "this grant")
        return replace(self, committed_fen=self.committed_fen + amount_fen)

    def pay_reserved(self, amount_fen: int) -> Budget:
        """Publication pays what the decision reserved: no new check, the money was promised."""
        if not 0 <= amount_fen <= self.committed_fen:
            raise ValueError("only money reserved before can be paid as reserved")
        return replace(
            self, committed_fen=self.committed_fen - amount_fen, paid_fen=self.paid_fen + amount_fen
        )

    def pay(self, amount_fen: int, what: str) -> Budget:
        """A payment not reserved before (a stipend's yearly payment)."""
        self._require(amount_fen, what)
        return replace(self, paid_fen=self.paid_fen + amount_fen)
