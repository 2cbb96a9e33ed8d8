"""Pure rules: years in the federation's zone, credited hours, suppression, who sees what."""

from __future__ import annotations

from datetime import UTC, datetime

from awards.domain.access import FactScope, scope_for
from awards.domain.facts import KindTotal, as_utc, summarise, year_bounds, year_of
from awards.domain.rollups import GroupTotal, build_rollup
from shared.auth import Principal, Role


def test_a_year_is_the_calendar_year_of_the_federation_zone_in_utc():
    assert year_bounds(2025, "Asia/Shanghai") == (
        datetime(2024, 12, 31, 16, tzinfo=UTC),
        datetime(2025, 12, 31, 16, tzinfo=UTC),
    )
    assert year_of(datetime(2024, 12, 31, 16, tzinfo=UTC), "Asia/Shanghai") == 2025


def test_an_instant_without_offset_is_read_as_utc():
    assert as_utc(datetime(2025, 1, 1, 12)) == datetime(2025, 1, 1, 12, tzinfo=UTC)


def test_only_kinds_that_credit_hours_count_as_training_hours():
    summary = summarise(
        [KindTotal("completed", 2, 10.0), KindTotal("enrollment_confirmed", 2, 10.0)]
    )

    assert summary.total_hours == 10.0  # the seats' hours count once, when completed
    assert summary.by_kind["enrollment_confirmed"] == KindTotal("enrollment_confirmed", 2, 10.0)


def test_a_group_under_five_members_hides_everything_including_its_kinds():
    small = build_rollup("o", 2025, GroupTotal(4, 40, 80.0), {"k": GroupTotal(4, 40, 80.0)})

    assert (small.overall, small.by_kind) == (None, {})


def test_a_small_kind_inside_a_large_group_is_hidden_on_its_own():
    rollup = build_rollup(
        "o", 2025, GroupTotal(9, 12, 20.0), {"a": GroupTotal(9, 10, 20.0), "b": GroupTotal(2, 2, 0)}
    )

    assert rollup.overall == GroupTotal(9, 12, 20.0)
    assert rollup.by_kind == {"a": GroupTotal(9, 10, 20.0), "b": None}


def who(org: str, *roles: Role, member_id: str | None = None) -> Principal:
    return Principal(sub="s", org=org, roles=frozenset(roles), member_id=member_id)


def test_a_member_sees_all_their_facts_a_cadre_only_their_orgs_a_member_none_of_others():
    assert scope_for(who("x", Role.member, member_id="m"), "m") == FactScope("m", None)
    assert scope_for(who("x", Role.cadre), "m") == FactScope("m", "x")
    assert scope_for(who("x", Role.admin), "m") == FactScope("m", "x")
    assert scope_for(who("x", Role.member, member_id="n"), "m") is None
    assert scope_for(who("x", Role.reviewer), "m") is None
