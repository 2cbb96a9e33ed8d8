"""The pure rules of grants and stipends: what a grant costs, what a scheme budget has left,
when each stipend payment falls due, and that a payment is raised once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from awards.domain.grants import Budget, BudgetShort, grant_cost, yuan
from awards.domain.stipends import (
    Payment,
    PaymentRefused,
    PaymentStatus,
    anniversary,
    due_dates,
    terms_of,
)
from shared.contracts.events import Benefit, BenefitKind, Stipend

ZONE = "Asia/Shanghai"


def test_a_grant_costs_its_cash_benefits_once() -> None:
    benefits = [
        Benefit(kind=BenefitKind.cash, amount_fen=300_000),
        Benefit(kind=BenefitKind.tourism, amount_fen=900_000),  # not money paid out
        Benefit(kind=BenefitKind.cash, amount_fen=50),
    ]

    assert grant_cost(benefits) == 300_050


def test_money_reads_as_yuan_with_two_decimals_exactly() -> None:
    assert [yuan(0), yuan(5), yuan(300_000), yuan(123_456_789)] == [
        "0.00",
        "0.05",
        "3,000.00",
        "1,234,567.89",
    ]


def test_a_reservation_beyond_what_is_left_is_refused_saying_both_figures() -> None:
    budget = Budget(budget_fen=1_000_000, committed_fen=500_000, paid_fen=200_000)

    with pytest.raises(BudgetShort) as refused:
        budget.reserve(500_000)

    assert str(refused.value) == "scheme budget: 3,000.00 yuan left, this grant needs 5,000.00"
    assert budget.reserve(300_000).left_fen == 0


def test_publication_moves_reserved_money_to_paid_without_a_new_check() -> None:
    budget = Budget(budget_fen=100, committed_fen=100, paid_fen=0)

    paid = budget.pay_reserved(100)

    assert (paid.committed_fen, paid.paid_fen, paid.left_fen) == (0, 100, 0)
    with pytest.raises(ValueError):
        paid.pay_reserved(1)


def test_a_budget_lowered_below_its_promises_leaves_nothing_rather_than_a_debt() -> None:
    budget = Budget(budget_fen=100, committed_fen=80, paid_fen=50)

    assert budget.left_fen == 0
    with pytest.raises(BudgetShort):
        budget.pay(1, "this stipend payment")
    assert budget.pay(0, "nothing").paid_fen == 50


def test_only_titles_carry_a_stipend() -> None:
    stipend = Stipend(yearly_fen=200_000, years=3)

    assert terms_of("model_worker", stipend) is not None
    assert terms_of("star_team", stipend) is not None
    assert terms_of("annual_top_earner", stipend) is None
    assert terms_of("rationalization_proposal", stipend) is None
    assert terms_of("model_worker", None) is None


def test_payments_fall_due_at_the_grant_and_on_each_anniversary() -> None:
    granted = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)

    dates = due_dates(granted, 3, ZONE)

    assert dates == [
        granted,
        datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
        datetime(2027, 6, 1, 8, 0, tzinfo=UTC),
    ]


def test_an_anniversary_is_on_the_federations_calendar_and_29_february_falls_on_the_28th() -> None:
    # 2024-02-29 20:00 in Shanghai; in UTC still 12:00 that day.
    leap = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    # 2024-12-31 17:00Z is already 1 January 2025 in Shanghai.
    new_year = datetime(2024, 12, 31, 17, 0, tzinfo=UTC)

    assert anniversary(leap, 1, ZONE) == datetime(2025, 2, 28, 12, 0, tzinfo=UTC)
    assert anniversary(leap, 4, ZONE) == datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert anniversary(new_year, 1, ZONE) == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)


def test_a_payment_is_raised_once_and_only_when_due() -> None:
    due_at = datetime(2026, 6, 1, tzinfo=UTC)
    payment = Payment(2, due_at)

    with pytest.raises(PaymentRefused):
        payment.pay(datetime(2026, 5, 31, tzinfo=UTC))
    paid = payment.pay(due_at)

    assert paid.status(due_at) is PaymentStatus.paid
    with pytest.raises(PaymentRefused):
        paid.pay(datetime(2030, 1, 1, tzinfo=UTC))
