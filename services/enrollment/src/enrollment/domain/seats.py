"""How the owner decides a request: one seat per member, capacity holds, order is kept."""

from __future__ import annotations

from dataclasses import dataclass
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
