"""How the owner counts a programme's seats: capacity, per-sub-org quotas, the decision
order (= waitlist order). The caller holds the programme's lock; nothing here touches a
database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class SeatStatus(StrEnum):
    confirmed = "confirmed"
    waitlisted = "waitlisted"


@dataclass(frozen=True)
class SeatDecision:
    status: SeatStatus
    sequence: int


def decide_seat(*, capacity: int, confirmed: int, next_sequence: int) -> SeatDecision:
    """Confirm while seats are left, else waitlist; the sequence is the decision order and
    therefore the waitlist order. The caller holds the programme's lock."""
    if capacity < 1 or confirmed < 0 or next_sequence < 1:
        raise ValueError("capacity, confirmed count and sequence must be positive")
    status = SeatStatus.confirmed if confirmed < capacity else SeatStatus.waitlisted
    return SeatDecision(status=status, sequence=next_sequence)


def quota_org_of(home_chain: Iterable[str], quotas: Mapping[str, int]) -> str | None:
    """The sub-org whose quota a member counts against: the nearest org in their home org's
    chain (home org first, then its ancestors) that has a quota."""
    return next((org for org in home_chain if org in quotas), None)


@dataclass
class SeatLedger:
    """A programme's seats as the owner counts them: seats held (confirmed, offered and what
    follows them), and per quota org. Decisions and offers go through it, so capacity and
    quotas hold whatever the order of events."""

    capacity: int
    taken: int
    quotas: dict[str, int] = field(default_factory=dict)
    quota_used: dict[str, int] = field(default_factory=dict)

    def has_room(self, quota_org: str | None) -> bool:
        if self.taken >= self.capacity:
            return False
        if quota_org is None or quota_org not in self.quotas:
            return True
        return self.quota_used.get(quota_org, 0) < self.quotas[quota_org]

    def free_seats(self) -> int:
        return max(self.capacity - self.taken, 0)

    def take(self, quota_org: str | None) -> None:
        if not self.has_room(quota_org):
            raise ValueError("no room: the caller must check has_room first")
        self.taken += 1
        if quota_org is not None and quota_org in self.quotas:
            self.quota_used[quota_org] = self.quota_used.get(quota_org, 0) + 1

    def give_back(self, quota_org: str | None) -> None:
        self.taken = max(self.taken - 1, 0)
        if quota_org is not None and self.quota_used.get(quota_org, 0) > 0:
            self.quota_used[quota_org] -= 1
