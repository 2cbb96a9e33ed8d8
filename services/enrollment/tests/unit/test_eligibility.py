"""Eligibility rules and the cut-off, checked by the home node before a request leaves it:
the rules themselves (pure), then POST /enrollments refusing with the rule that failed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from enrollment.domain.eligibility import (
    EligibilityRules,
    MemberAttributes,
    Rule,
    age_on,
    first_failed_rule,
    months_before,
)
from enrollment.models import Enrollment
from shared.clock import FixedClock
from shared.contracts import topics

PROBLEM = "application/problem+json"
TODAY = date(2030, 5, 31)


def _check(rules: dict[str, Any], today: date = TODAY, **member: Any) -> Rule | None:
    return first_failed_rule(
        EligibilityRules.from_mapping(rules), MemberAttributes(**member), today
    )


# -- the rules -----------------------------------------------------------------------------


def test_a_programme_without_rules_admits_a_member_with_an_empty_record() -> None:
    assert _check({}) is None
    assert first_failed_rule(EligibilityRules.from_mapping(None), MemberAttributes(), TODAY) is None


@pytest.mark.parametrize(
    ("joined_on", "failed"),
    [
        (date(2030, 5, 31), None),  # joined today
        (date(2030, 2, 28), None),  # 31 May minus 3 months is the last day of February
        (date(2030, 2, 27), Rule.joined_within_months),
        (date(2019, 1, 1), Rule.joined_within_months),
        (None, Rule.joined_within_months),  # unknown: not shown to be a new employee
    ],
)
def test_new_employees_only_counts_calendar_months_back_from_today(
    joined_on: date | None, failed: Rule | None
) -> None:
    assert _check({"joined_within_months": 3}, joined_on=joined_on) == failed


@pytest.mark.parametrize(
    ("grade", "failed"),
    [(5, None), (8, None), (4, Rule.min_skill_grade), (None, Rule.min_skill_grade)],
)
def test_the_minimum_skill_grade_is_inclusive_and_an_unknown_grade_fails(
    grade: int | None, failed: Rule | None
) -> None:
    assert _check({"min_skill_grade": 5}, skill_grade=grade) == failed


@pytest.mark.parametrize(
    ("today", "failed"),
    [
        (date(2030, 5, 1), Rule.min_age),  # the day before the 30th birthday: 29
        (date(2030, 5, 2), None),  # the birthday: 30
    ],
)
def test_the_minimum_age_is_reached_on_the_birthday(today: date, failed: Rule | None) -> None:
    assert _check({"min_age": 30}, today=today, birth_date=date(2000, 5, 2)) == failed


@pytest.mark.parametrize(
    ("today", "failed"),
    [
        (date(2036, 5, 1), None),  # 35 until the day before the 36th birthday
        (date(2036, 5, 2), Rule.max_age),  # 36
    ],
)
def test_the_maximum_age_holds_until_the_next_birthday(today: date, failed: Rule | None) -> None:
    assert _check({"max_age": 35}, today=today, birth_date=date(2000, 5, 2)) == failed


@pytest.mark.parametrize("rule", ["min_age", "max_age"])
def test_an_unknown_birth_date_fails_an_age_rule(rule: str) -> None:
    assert _check({rule: 30}) == Rule(rule)


def test_someone_born_on_29_february_turns_a_year_older_on_1_march_in_a_common_year() -> None:
    born = date(2000, 2, 29)

    assert age_on(born, date(2031, 2, 28)) == 30
    assert age_on(born, date(2031, 3, 1)) == 31
    assert age_on(born, date(2032, 2, 29)) == 32


def test_the_first_failed_rule_is_reported_in_a_fixed_order() -> None:
    rules = {"joined_within_months": 6, "min_skill_grade": 3, "min_age": 18, "max_age": 40}

    assert _check(rules) == Rule.joined_within_months
    assert _check(rules, joined_on=TODAY) == Rule.min_skill_grade
    assert _check(rules, joined_on=TODAY, skill_grade=3) == Rule.min_age
    assert _check(rules, joined_on=TODAY, skill_grade=3, birth_date=date(1980, 1, 1)) == (
        Rule.max_age
    )
    assert _check(rules, joined_on=TODAY, skill_grade=3, birth_date=date(1995, 1, 1)) is None


def test_months_before_stays_a_date_for_any_number_of_months() -> None:
    assert months_before(date(2030, 3, 31), 1) == date(2030, 2, 28)
    assert months_before(date(2032, 3, 31), 1) == date(2032, 2, 29)
    assert months_before(date(2030, 1, 15), 13) == date(2028, 12, 15)
    assert months_before(date(2030, 1, 15), 10**6) == date.min


# -- at the home node ----------------------------------------------------------------------

NOW = datetime(2030, 3, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def home(settings, make_service, clock):
    return await make_service(settings, clock)


async def _member(service, token, **attributes: Any) -> str:
    body = {"home_org": "hzsteel-rolling", "name": "Wang Xiaoming", **attributes}
    response = await service.client.post(
        "/members", json=body, headers=token("hzsteel-rolling", "cadre")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["member_id"])


async def _programme(service, token, programme_body, **fields: Any) -> str:
    response = await service.client.post(
        "/programmes", json=programme_body(**fields), headers=token("hzsteel", "cadre")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["programme_id"])


async def _enrol(service, token, member_id: str, programme_id: str):
    return await service.client.post(
        "/enrollments",
        json={"programme_id": programme_id},
        headers=token("hzsteel-rolling", "member", member_id=member_id),
    )


async def _enrollment_count(service) -> int:
    async with service.db.sessions() as session:
        return int(
            (await session.execute(select(func.count()).select_from(Enrollment))).scalar_one()
        )


async def _requests(service, outbox) -> list[Any]:
    return [r for r in await outbox(service.db) if r.type.startswith("bigschool.enrollment.")]


async def test_member_attributes_are_kept_and_shown_but_never_leave_in_an_event(
    home, token, outbox
) -> None:
    member_id = await _member(
        home, token, joined_on="2029-09-01", skill_grade=4, birth_date="1990-07-15"
    )

    shown = await home.client.get(
        f"/members/{member_id}", headers=token("hzsteel-rolling", "cadre")
    )

    body = shown.json()
    assert (body["joined_on"], body["skill_grade"], body["birth_date"]) == (
        "2029-09-01",
        4,
        "1990-07-15",
    )
    [registered] = await outbox(home.db)
    assert registered.topic == topics.members("zj")
    for attribute in ("joined_on", "skill_grade", "birth_date", "2029-09-01", "1990-07-15"):
        assert attribute not in registered.raw_payload


async def test_a_member_registered_without_attributes_shows_them_as_unknown(home, token) -> None:
    member_id = await _member(home, token)

    body = (
        await home.client.get(f"/members/{member_id}", headers=token("hzsteel-rolling", "cadre"))
    ).json()

    assert (body["joined_on"], body["skill_grade"], body["birth_date"]) == (None, None, None)


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"skill_grade": 9}, "skill_grade"),
        ({"skill_grade": 0}, "skill_grade"),
        ({"birth_date": "2030-03-02"}, "birth_date"),  # tomorrow in Shanghai
        ({"joined_on": "2031-01-01"}, "joined_on"),
        ({"birth_date": "1850-01-01"}, "birth_date"),
    ],
)
async def test_impossible_member_attributes_are_unprocessable(
    home, token, attributes: dict[str, Any], field: str
) -> None:
    body = {"home_org": "hzsteel-rolling", "name": "Wang Xiaoming", **attributes}

    response = await home.client.post(
        "/members", json=body, headers=token("hzsteel-rolling", "cadre")
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("rules", "attributes", "rule"),
    [
        ({"min_skill_grade": 5}, {"skill_grade": 4}, "min_skill_grade"),
        ({"min_skill_grade": 5}, {}, "min_skill_grade"),
        ({"joined_within_months": 6}, {"joined_on": "2029-08-31"}, "joined_within_months"),
        ({"joined_within_months": 6}, {}, "joined_within_months"),
        ({"min_age": 18}, {}, "min_age"),
        ({"max_age": 35}, {"birth_date": "1990-01-01"}, "max_age"),
    ],
)
async def test_a_member_who_fails_a_rule_is_refused_naming_it_and_nothing_is_written(
    home, token, outbox, programme_body, rules, attributes, rule
) -> None:
    programme_id = await _programme(home, token, programme_body, eligibility=rules)
    member_id = await _member(home, token, **attributes)

    response = await _enrol(home, token, member_id, programme_id)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["detail"] == f"eligibility: {rule}"
    assert body["rule"] == rule
    assert body["errors"][0] == {"field": "programme_id", "reason": f"eligibility: {rule}"}
    assert await _requests(home, outbox) == []
    assert await _enrollment_count(home) == 0


async def test_a_member_who_meets_every_rule_is_forwarded(
    home, token, outbox, programme_body
) -> None:
    rules = {"joined_within_months": 6, "min_skill_grade": 3, "min_age": 18, "max_age": 40}
    programme_id = await _programme(home, token, programme_body, eligibility=rules)
    member_id = await _member(
        home, token, joined_on="2029-09-01", skill_grade=3, birth_date="1995-06-01"
    )

    response = await _enrol(home, token, member_id, programme_id)

    assert response.status_code == 202, response.text
    [request] = await _requests(home, outbox)
    assert request.type == "bigschool.enrollment.requested.v1"


@pytest.mark.parametrize(
    ("now", "status"),
    [
        # 15:59:59 UTC is 23:59:59 on 1 May in Shanghai: still 29
        (datetime(2030, 5, 1, 15, 59, 59, tzinfo=UTC), 422),
        # 16:00 UTC is midnight of 2 May in Shanghai, the 30th birthday (UTC still says 1 May)
        (datetime(2030, 5, 1, 16, 0, tzinfo=UTC), 202),
    ],
)
async def test_an_age_is_counted_on_the_federation_zones_calendar(
    home, token, clock, programme_body, now: datetime, status: int
) -> None:
    programme_id = await _programme(home, token, programme_body, eligibility={"min_age": 30})
    member_id = await _member(home, token, birth_date="2000-05-02")
    clock.at = now

    response = await _enrol(home, token, member_id, programme_id)

    assert response.status_code == status, response.text


async def test_a_request_after_the_cut_off_conflicts_naming_it(
    home, token, clock, outbox, programme_body
) -> None:
    programme_id = await _programme(
        home, token, programme_body, enrollment_closes_at="2030-04-01T00:00:00Z"
    )
    member_id = await _member(home, token)
    clock.at = datetime(2030, 4, 1, tzinfo=UTC)

    response = await _enrol(home, token, member_id, programme_id)

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert "cut-off" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "programme_id"
    assert await _requests(home, outbox) == []


async def test_a_request_before_the_cut_off_is_accepted(home, token, clock, programme_body) -> None:
    programme_id = await _programme(
        home, token, programme_body, enrollment_closes_at="2030-04-01T00:00:00Z"
    )
    member_id = await _member(home, token)
    clock.at = datetime(2030, 3, 31, 23, 59, 59, tzinfo=UTC)

    response = await _enrol(home, token, member_id, programme_id)

    assert response.status_code == 202, response.text
