"""The seat rule the owner node applies under the programme's lock."""

from __future__ import annotations

import pytest

from enrollment.domain.seats import SeatDecision, SeatStatus, decide_seat


@pytest.mark.parametrize("confirmed", [0, 1, 29])
def test_a_request_is_confirmed_while_seats_are_left(confirmed: int) -> None:
    decision = decide_seat(capacity=30, confirmed=confirmed, next_sequence=confirmed + 1)

    assert decision.status is SeatStatus.confirmed


@pytest.mark.parametrize("confirmed", [30, 31])
def test_a_request_is_waitlisted_once_every_seat_is_taken(confirmed: int) -> None:
    decision = decide_seat(capacity=30, confirmed=confirmed, next_sequence=40)

    assert decision.status is SeatStatus.waitlisted


def test_the_last_seat_goes_to_the_request_that_finds_it_free() -> None:
    assert decide_seat(capacity=1, confirmed=0, next_sequence=1).status is SeatStatus.confirmed
    assert decide_seat(capacity=1, confirmed=1, next_sequence=2).status is SeatStatus.waitlisted


@pytest.mark.parametrize("confirmed", [0, 5])
def test_the_decision_carries_the_sequence_it_was_given(confirmed: int) -> None:
    decision = decide_seat(capacity=5, confirmed=confirmed, next_sequence=17)

    assert decision.sequence == 17


def test_a_run_of_decisions_confirms_capacity_then_waitlists_in_order() -> None:
    confirmed, decisions = 0, []
    for sequence in range(1, 6):
        decision = decide_seat(capacity=3, confirmed=confirmed, next_sequence=sequence)
        confirmed += decision.status is SeatStatus.confirmed
        decisions.append(decision)

    assert decisions == [
        SeatDecision(SeatStatus.confirmed, 1),
        SeatDecision(SeatStatus.confirmed, 2),
        SeatDecision(SeatStatus.confirmed, 3),
        SeatDecision(SeatStatus.waitlisted, 4),
        SeatDecision(SeatStatus.waitlisted, 5),
    ]


@pytest.mark.parametrize(
    ("capacity", "confirmed", "next_sequence"),
    [(0, 0, 1), (-1, 0, 1), (10, -1, 1), (10, 0, 0), (10, 0, -3)],
    ids=["no-capacity", "negative-capacity", "negative-confirmed", "sequence-0", "sequence<0"],
)
def test_nonsense_counters_are_rejected(capacity: int, confirmed: int, next_sequence: int) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        decide_seat(capacity=capacity, confirmed=confirmed, next_sequence=next_sequence)
