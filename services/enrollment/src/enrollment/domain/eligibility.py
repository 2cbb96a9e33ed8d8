"""Who may ask for a seat: a programme's eligibility rules against a member's attributes.

The home node checks them before a request leaves it (the attributes are personal data and
never cross nodes). An attribute the member's record does not have fails the rule that needs
it: a rule the office set is not waived because a record is incomplete. "Today" is the
calendar date in the federation's zone, so an age changes at midnight there on the birthday.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class Rule(StrEnum):
    """The rules, in the order they are checked (the first failed one is reported)."""

    joined_within_months = "joined_within_months"
    min_skill_grade = "min_skill_grade"
    min_age = "min_age"
    max_age = "max_age"


@dataclass(frozen=True)
class EligibilityRules:
    joined_within_months: int | None = None  # new employees only
    min_skill_grade: int | None = None  # vocational grade, 1 to 8
    min_age: int | None = None  # in whole years, inclusive
    max_age: int | None = None  # in whole years, inclusive (35 until the 36th birthday)

    @classmethod
    def from_mapping(cls, rules: Mapping[str, Any] | None) -> EligibilityRules:
        """From a programme's stored rules (unknown keys ignored, None = no rules)."""
        rules = rules or {}
        return cls(**{r.value: rules.get(r.value) for r in Rule})


@dataclass(frozen=True)
class MemberAttributes:
    joined_on: date | None = None
    skill_grade: int | None = None
    birth_date: date | None = None


def first_failed_rule(
    rules: EligibilityRules, member: MemberAttributes, today: date
) -> Rule | None:
    """The first rule the member does not meet, or None if they may ask for a seat."""
    if rules.joined_within_months is not None and (
        member.joined_on is None
        or member.joined_on < months_before(today, rules.joined_within_months)
    ):
        return Rule.joined_within_months
    if rules.min_skill_grade is not None and (
        member.skill_grade is None or member.skill_grade < rules.min_skill_grade
    ):
        return Rule.min_skill_grade
    age = None if member.birth_date is None else age_on(member.birth_date, today)
    if rules.min_age is not None and (age is None or age < rules.min_age):
        return Rule.min_age
    if rules.max_age is not None and (age is None or age > rules.max_age):
        return Rule.max_age
    return None


def age_on(birth_date: date, today: date) -> int:
    """Whole years on `today`; someone born on 29 February turns a year older on 1 March in
    a common year."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


def months_before(today: date, months: int) -> date:
    """The same day `months` calendar months earlier, or the month's last day if it has no
    such day (31 May minus 3 months = 28 or 29 February)."""
    index = today.year * 12 + (today.month - 1) - months
    if index < 12:  # before year 1: every date is after it
        return date.min
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(today.day, _days_in(year, month)))


def _days_in(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - date(year, month, 1)).days
