"""Every message the service can send — each template and each variant, in both languages —
renders to finished text: nothing of the template syntax left, Chinese in Chinese, no
Chinese in English, the recipient named."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from notifications.templates import LANGUAGES, TEMPLATES, VARIANTS, Template, render

HAN = re.compile(r"[\u4e00-\u9fff]")
LEFTOVER = re.compile(r"[{}]")

# A value for every field any event carries, so that no optional line is left out.
SAMPLE: dict[str, Any] = {
    "programme_id": "p-1",
    "programme_title": "Safe crane operation",
    "hours": 12,
    "sequence": 3,
    "reason": "Missing signature",
    "offer_deadline": "2026-12-01 18:00",
    "score": 91.5,
    "rank": 2,
    "certificate_id": "c-1",
    "title": "Model Worker",
    "kind": "award",
    "amount_fen": 123456,
    "team_name": "Crew 3",
    "year": 2026,
    "granting_org_name": "Zhejiang Federation",
    "actor_org_name": "Hangzhou Steel",
    "cancel_link": "https://enrol.example/links/t",
    "state": {"status": "granted", "team_name": "Crew 3"},
}


def _catalogue() -> Iterator[tuple[str, dict[str, Any], dict[str, Template]]]:
    """(event type, data choosing the variant, its templates) for every message."""
    for event_type, templates in TEMPLATES.items():
        yield event_type, SAMPLE, templates
    for event_type, (_, variants) in VARIANTS.items():
        for value, templates in variants.items():
            yield event_type, _choosing(event_type, value), templates


def _choosing(event_type: str, value: str) -> dict[str, Any]:
    """Sample data whose variant is `value` (found by trying the event's known keys)."""
    variant_of = VARIANTS[event_type][0]
    for key in ("kind", "by", "step"):
        data = {**SAMPLE, key: value}
        if variant_of(data) == value:
            return data
    data = {**SAMPLE, "state": {**SAMPLE["state"], "status": value}}
    assert variant_of(data) == value, (event_type, value)
    return data


CASES = [
    pytest.param(event_type, data, language, id=f"{event_type}-{language}-{i}")
    for i, (event_type, data, templates) in enumerate(_catalogue())
    for language in LANGUAGES
    if language in templates
]


def test_every_template_exists_in_both_languages() -> None:
    for event_type, _, templates in _catalogue():
        assert set(templates) == set(LANGUAGES), event_type


@pytest.mark.parametrize(("event_type", "data", "language"), CASES)
def test_each_message_renders_to_finished_text_in_its_language(
    event_type: str, data: dict[str, Any], language: str
) -> None:
    name = "王芳" if language == "zh" else "Wang Fang"
    message = render(event_type, language, data, name)
    for text in (message.subject, message.title, message.body):
        assert text.strip(), (event_type, language)
        assert not LEFTOVER.search(text), (event_type, language, text)
        if language == "zh":
            assert HAN.search(text), (event_type, text)
        else:
            assert not HAN.search(text), (event_type, text)
    assert name in message.body
