"""The pure rules of rationalization proposals: the state machine and its guards, tier tables
(validation and the reward they give) and the monthly figures with small groups suppressed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from awards.domain.proposal_stats import Counts, build_stats, month_bounds, month_starts
from awards.domain.proposal_tiers import (
    Tier,
    TierTableError,
    bp_of,
    check_tiers,
    reward_for,
    tier_for,
)
from awards.domain.proposals import (
    Access,
    InvalidStep,
    ProposalCase,
    ProposalState,
    ProposalStep,
    StepNotAllowed,
    access_to,
)
from shared.auth import Principal, Role

S = ProposalState
TABLE = [
    Tier(0, 20_000),
    Tier(1_000_000, 100_000),
    Tier(10_000_000, 500_000, rate_bp=100, cap_fen=5_000_000),
]


def test_a_proposal_goes_from_submitted_to_rewarded_step_by_step() -> None:
    case = ProposalCase(S.submitted)

    steps = [
        case.adopt("good idea"),
        case.start_trial(),
        case.assess(2_000_000, "measured over a quarter"),
        case.reward(TABLE, "hzsteel"),
    ]

    assert [s.step for s in steps] == [
        ProposalStep.adopt,
        ProposalStep.trial,
        ProposalStep.assess,
        ProposalStep.reward,
    ]
    assert [s.to_state for s in steps] == [S.adopted, S.in_trial, S.assessed, S.rewarded]
    assert (case.state, case.benefit_fen, case.reward_fen) == (S.rewarded, 2_000_000, 100_000)
    assert steps[-1].note == "tier from 1000000 fen of hzsteel"


@pytest.mark.parametrize(
    ("state", "step"),
    [
        (S.submitted, lambda c: c.start_trial()),
        (S.submitted, lambda c: c.assess(1, "n")),
        (S.adopted, lambda c: c.reward(TABLE, "x")),
        (S.adopted, lambda c: c.reject("late")),
        (S.rejected, lambda c: c.adopt()),
        (S.rewarded, lambda c: c.reward(TABLE, "x")),
    ],
)
def test_a_step_out_of_order_is_refused_and_leaves_the_state(state, step) -> None:
    case = ProposalCase(state)

    with pytest.raises(StepNotAllowed) as refused:
        step(case)

    assert case.state is state
    assert refused.value.field == "state"


def test_a_rejection_needs_reasons() -> None:
    case = ProposalCase(S.submitted)

    with pytest.raises(InvalidStep) as refused:
        case.reject("   ")

    assert (refused.value.field, case.state) == ("reasons", S.submitted)
    assert case.reject("costs more than it saves").note == "costs more than it saves"


def test_an_assessment_needs_a_benefit_of_zero_or_more_and_a_note() -> None:
    with pytest.raises(InvalidStep) as negative:
        ProposalCase(S.in_trial).assess(-1, "n")
    with pytest.raises(InvalidStep) as silent:
        ProposalCase(S.in_trial).assess(0, " ")

    assert (negative.value.field, silent.value.field) == ("benefit_fen", "note")
    assert ProposalCase(S.in_trial).assess(0, "saves nothing yet").benefit_fen == 0


@pytest.mark.parametrize(
    ("benefit", "reward"),
    [
        (0, 20_000),
        (999_999, 20_000),
        (1_000_000, 100_000),
        (10_000_000, 500_000 + 100_000),  # 1 % of the benefit on top
        (123_456_789, 500_000 + 1_234_567),  # a fraction of a fen is rounded down
        (10**12, 500_000 + 5_000_000),  # the rate's share is capped
    ],
)
def test_the_reward_is_the_highest_tier_reached_plus_its_capped_rate(benefit, reward) -> None:
    assert reward_for(TABLE, benefit) == reward


def test_below_the_lowest_tier_there_is_no_tier_and_no_reward() -> None:
    table = [Tier(500_000, 10_000)]

    assert tier_for(table, 499_999) is None
    assert reward_for(table, 499_999) == 0


def test_a_rate_without_a_cap_takes_its_share_of_the_whole_benefit() -> None:
    assert reward_for([Tier(0, 0, rate_bp=bp_of(Decimal("0.05")))], 1_000_000) == 50_000


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ([], "tiers"),
        ([Tier(0, 1), Tier(0, 2)], "tiers.1.min_benefit_fen"),  # overlapping
        ([Tier(0, 1), Tier(5, 2), Tier(3, 3)], "tiers.2.min_benefit_fen"),  # descending
        ([Tier(0, 1, cap_fen=10)], "tiers.0.cap_fen"),  # a cap without a rate
        ([Tier(0, 1), Tier(1, 1, rate_bp=10_001)], "tiers.1.rate"),
        ([Tier(-1, 1)], "tiers.0.min_benefit_fen"),
        ([Tier(0, -5)], "tiers.0.reward_fen"),
        ([Tier(i, 1) for i in range(21)], "tiers"),
    ],
)
def test_an_unusable_tier_table_is_refused_naming_the_tier(tiers, field) -> None:
    with pytest.raises(TierTableError) as refused:
        check_tiers(tiers)

    assert refused.value.field == field


def test_an_ascending_table_is_accepted() -> None:
    check_tiers(TABLE)  # raises nothing


def _who(org: str, *roles: Role, member_id: str | None = None) -> Principal:
    return Principal(sub="s", org=org, roles=frozenset(roles), member_id=member_id)


@pytest.mark.parametrize(
    ("who", "above", "access"),
    [
        (_who("rolling", Role.member, member_id="author"), False, Access.read),
        (_who("rolling", Role.member, member_id="someone"), False, Access.none),
        (_who("rolling", Role.cadre), True, Access.act),
        (_who("rolling", Role.admin), True, Access.act),
        (_who("hzsteel", Role.cadre), True, Access.read),
        (_who("casting", Role.cadre), False, Access.none),
        (_who("rolling", Role.reviewer), True, Access.none),
        # A cadre of the evaluating org never moves their own proposal.
        (_who("rolling", Role.cadre, member_id="author"), True, Access.read),
    ],
)
def test_who_sees_and_who_moves_a_proposal(who, above, access) -> None:
    assert access_to(who, "author", "rolling", above=above) is access


def test_months_are_calendar_months_in_the_federation_zone() -> None:
    starts = month_starts(2025, "Asia/Shanghai")

    assert len(starts) == 13
    assert starts[0] == datetime(2024, 12, 31, 16, 0, tzinfo=UTC)
    assert month_bounds(2025, 3, "Asia/Shanghai") == (
        datetime(2025, 2, 28, 16, 0, tzinfo=UTC),
        datetime(2025, 3, 31, 16, 0, tzinfo=UTC),
    )


def test_figures_of_a_month_with_five_authors_are_shown() -> None:
    march = Counts(submitted=8, authors=5, evaluated=6, evaluated_authors=5, adopted=3)

    stats = build_stats("hzsteel", 2025, 20, march, {3: march})

    participation = stats.months[3].participation
    adoption = stats.months[3].adoption
    assert participation is not None and adoption is not None
    assert (participation.submitted, participation.per_member, participation.rate) == (
        8,
        0.4,
        0.25,
    )
    assert (adoption.evaluated, adoption.adopted, adoption.rate) == (6, 3, 0.5)
    assert sorted(stats.months) == list(range(1, 13))
    assert stats.months[4].participation is None  # nobody submitted in April


def test_a_month_with_four_authors_or_four_evaluated_authors_is_suppressed() -> None:
    few_authors = Counts(submitted=9, authors=4, evaluated=9, evaluated_authors=5, adopted=9)
    few_evaluated = Counts(submitted=9, authors=5, evaluated=9, evaluated_authors=4, adopted=9)

    stats = build_stats("hzsteel", 2025, 50, Counts(), {1: few_authors, 2: few_evaluated})

    assert stats.months[1].participation is None and stats.months[1].adoption is not None
    assert stats.months[2].participation is not None and stats.months[2].adoption is None


def test_a_subtree_of_four_members_suppresses_every_figure() -> None:
    busy = Counts(submitted=9, authors=5, evaluated=9, evaluated_authors=5, adopted=9)

    stats = build_stats("hzsteel-rolling", 2025, 4, busy, {1: busy})

    assert stats.members is None
    assert stats.total.participation is None and stats.total.adoption is None
    assert stats.months[1].participation is None
