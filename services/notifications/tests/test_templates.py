from __future__ import annotations

import re
from typing import get_args

import pytest

from notifications.service.planning import MemberDecision
from notifications.templates import TEMPLATES, render
from shared.contracts.events import EnrollmentConfirmed, EnrollmentRefused, EnrollmentWaitlisted

HAN = re.compile(r"[\u4e00-\u9fff]")
DATA = {
    "programme_id": "p-1",
    "programme_title": "Safe crane operation",
    "hours": 12.0,
    "sequence": 3,
    "reason": "not_in_audience",
}
EVENT_TYPES = [EnrollmentConfirmed.ce_type, EnrollmentWaitlisted.ce_type, EnrollmentRefused.ce_type]


def test_every_event_a_member_is_told_about_has_its_own_template_in_both_languages() -> None:
    planned = {model.ce_type for model in get_args(MemberDecision)}
    assert planned == set(EVENT_TYPES)
    for event_type in planned:
        assert set(TEMPLATES[event_type]) == {"zh", "en"}


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_a_chinese_message_is_written_in_chinese_and_names_member_and_programme(
    event_type: str,
) -> None:
    message = render(event_type, "zh", DATA, "王芳")
    for text in (message.subject, message.title, message.body):
        assert HAN.search(text), text
    assert "王芳" in message.body
    assert "Safe crane operation" in message.subject


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_an_english_message_has_no_chinese_and_names_member_and_programme(
    event_type: str,
) -> None:
    message = render(event_type, "en", DATA, "Wang Fang")
    for text in (message.subject, message.title, message.body):
        assert not HAN.search(text), text
    assert "Wang Fang" in message.body
    assert "Safe crane operation" in message.title


def test_a_confirmation_states_the_hours_without_a_trailing_decimal() -> None:
    assert "(12 hours)" in render(EnrollmentConfirmed.ce_type, "en", DATA, "A").body


def test_a_refusal_explains_the_reason_in_the_recipients_language() -> None:
    assert "not open to your union" in render(EnrollmentRefused.ce_type, "en", DATA, "A").body
    assert "不面向您所在的工会组织" in render(EnrollmentRefused.ce_type, "zh", DATA, "A").body


def test_a_refusal_without_a_programme_title_names_the_programme_id() -> None:
    data = {"programme_id": "p-42", "reason": "closed"}
    assert "p-42" in render(EnrollmentRefused.ce_type, "en", data, "A").subject


def test_an_unknown_language_falls_back_to_chinese() -> None:
    message = render(EnrollmentConfirmed.ce_type, "fr", DATA, "A")
    assert message == render(EnrollmentConfirmed.ce_type, "zh", DATA, "A")


def test_an_event_type_without_a_template_gets_the_generic_notice() -> None:
    message = render("bigschool.award.granted.v1", "en", {}, "Wang Fang")
    assert message.subject == "Big School notice"
    assert "award.granted" in message.body


def test_braces_in_event_values_are_printed_not_interpreted() -> None:
    data = {**DATA, "programme_title": "{name} and {0}"}
    message = render(EnrollmentWaitlisted.ce_type, "en", data, "Wang Fang")
    assert "{name} and {0}" in message.subject


def test_a_line_break_in_a_title_never_reaches_the_subject_line() -> None:
    data = {**DATA, "programme_title": "Crane\r\nBcc: someone@example.org"}
    message = render(EnrollmentConfirmed.ce_type, "en", data, "A")
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.subject.endswith("Crane Bcc: someone@example.org")
