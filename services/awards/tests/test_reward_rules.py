"""The rules of immediate rewards without a database: which period an instant falls in (in
the federation's zone), and how a quota's usage takes one more reward or refuses it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from awards.domain.rewards import (
    Period,
    PeriodKind,
    Quota,
    QuotaExceeded,
    QuotaUsage,
    RewardError,
    parse_period,
    period_of,
)

ZONE = "Asia/Shanghai"  # UTC+8, no summer time
JUNE = Period(PeriodKind.month, 2025, 6)


def test_an_instant_late_on_the_last_utc_day_of_june_is_already_july_in_shanghai() -> None:
    instant = datetime(2025, 6, 30, 17, 0, tzinfo=UTC)  # 01:00 on 1 July in Shanghai

    assert period_of(instant, PeriodKind.month, ZONE).label == "2025-07"
    assert period_of(instant, PeriodKind.quarter, ZONE).label == "2025-Q3"
    assert period_of(datetime(2025, 6, 30, 15, 59, tzinfo=UTC), PeriodKind.month, ZONE) == JUNE


def test_new_year_in_shanghai_starts_a_new_year_quarter_and_month() -> None:
    instant = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # midnight, 1 January 2026

    assert period_of(instant, PeriodKind.year, ZONE) == Period(PeriodKind.year, 2026)
    assert period_of(instant, PeriodKind.quarter, ZONE).label == "2026-Q1"
    assert period_of(instant, PeriodKind.month, ZONE).label == "2026-01"


def test_a_periods_bounds_are_local_midnights_in_utc() -> None:
    assert JUNE.bounds(ZONE) == (
        datetime(2025, 5, 31, 16, 0, tzinfo=UTC),
        datetime(2025, 6, 30, 16, 0, tzinfo=UTC),
    )
    q4 = Period(PeriodKind.quarter, 2025, 4).bounds(ZONE)
    assert q4 == (datetime(2025, 9, 30, 16, tzinfo=UTC), datetime(2025, 12, 31, 16, tzinfo=UTC))
    december = Period(PeriodKind.month, 2025, 12).bounds(ZONE)
    assert december[1] == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert Period(PeriodKind.year, 2025).bounds("UTC") == (
        datetime(2025, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("label", "period"),
    [
        ("2025-06", JUNE),
        ("2025-Q2", Period(PeriodKind.quarter, 2025, 2)),
        ("2025", Period(PeriodKind.year, 2025)),
    ],
)
def test_a_period_label_reads_back_as_the_period(label: str, period: Period) -> None:
    assert parse_period(label) == period
    assert period.label == label


@pytest.mark.parametrize("label", ["2025-13", "2025-00", "2025-Q5", "25-06", "2025/06", "1800"])
def test_a_malformed_period_names_the_period_field(label: str) -> None:
    with pytest.raises(RewardError) as refused:
        parse_period(label)
    assert refused.value.field == "period"


def test_taking_a_reward_counts_it_and_its_money() -> None:
    usage = QuotaUsage(Quota(count=2, amount_fen=1_000), JUNE)

    after = usage.take(600).take(0)

    assert (after.used_count, after.used_fen) == (2, 600)
    assert (after.left_count, after.left_fen) == (0, 400)
    assert (usage.used_count, usage.used_fen) == (0, 0), "a transition returns a new value"


def test_one_reward_over_the_count_is_refused_naming_the_count() -> None:
    usage = QuotaUsage(Quota(count=1, amount_fen=1_000), JUNE).take(100)

    with pytest.raises(QuotaExceeded) as refused:
        usage.take(100)

    assert refused.value.field == "count"
    assert "2025-06" in refused.value.detail


def test_money_over_what_is_left_is_refused_naming_the_amount() -> None:
    usage = QuotaUsage(Quota(count=5, amount_fen=1_000), JUNE).take(600)

    with pytest.raises(QuotaExceeded) as refused:
        usage.take(401)

    assert refused.value.field == "amount_fen"
    assert usage.take(400).left_fen == 0, "exactly what is left still fits"


def test_a_zero_quota_allows_no_reward_at_all() -> None:
    with pytest.raises(QuotaExceeded) as refused:
        QuotaUsage(Quota(count=0, amount_fen=0), JUNE).take(0)
    assert refused.value.field == "count"


def test_a_quota_lowered_below_its_use_leaves_nothing_rather_than_a_debt() -> None:
    usage = QuotaUsage(Quota(count=1, amount_fen=100), JUNE, used_count=3, used_fen=900)

    assert (usage.left_count, usage.left_fen) == (0, 0)


@pytest.mark.parametrize("amount", [-1, 1.5, True])
def test_an_amount_that_is_not_whole_fen_is_refused(amount: int) -> None:
    with pytest.raises(RewardError) as refused:
        QuotaUsage(Quota(count=5, amount_fen=1_000), JUNE).take(amount)
    assert refused.value.field == "amount_fen"


def test_usage_is_counted_in_the_periods_of_its_quota() -> None:
    with pytest.raises(RewardError):
        QuotaUsage(Quota(count=5, amount_fen=1_000, period=PeriodKind.quarter), JUNE)
