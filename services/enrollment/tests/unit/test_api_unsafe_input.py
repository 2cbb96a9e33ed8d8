"""Bad input is a 422 naming the field, never a 500, and nothing is written: times at the edge
of the calendar, names a screen would show as something else, NULs, forged cursors."""

from __future__ import annotations

import base64
from typing import Any

import pytest

PROBLEM = "application/problem+json"
# Deep enough for json.loads to raise RecursionError; short enough for httpx's URL limit.
NESTED_JSON_CURSOR = base64.urlsafe_b64encode(b"[" * 40_000).decode()


def _member(**overrides: Any) -> dict[str, Any]:
    body = {"home_org": "hzsteel-rolling", "name": "Wang Xiaoming", "phone": "+86 571 1234"}
    body.update(overrides)
    return body


def _fields(response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    return [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    "at",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
    ids=["year-1-east-of-utc", "year-9999-west-of-utc"],
)
async def test_a_start_at_the_edge_of_the_calendar_is_a_422_naming_starts_at(
    node, token, outbox, programme_body, at: str
) -> None:
    response = await node.client.post(
        "/programmes", json=programme_body(starts_at=at), headers=token("hzsteel", "cadre")
    )

    assert _fields(response) == ["starts_at"]
    assert at not in response.text
    assert await outbox(node.db) == []


async def test_a_time_without_an_offset_is_a_422_naming_the_field(
    node, token, programme_body
) -> None:
    response = await node.client.post(
        "/programmes",
        json=programme_body(ends_at="2030-05-01T09:00:00"),
        headers=token("hzsteel", "cadre"),
    )

    assert _fields(response) == ["ends_at"]


UNSAFE_NAMES = {
    "nul": "Wang\x00Xiaoming",
    "right-to-left-override": "Wang\u202egnimoaiX",
    "zero-width-space": "Wang\u200bXiaoming",
    "blank": "   ",
    "empty": "",
}


@pytest.mark.parametrize("name", UNSAFE_NAMES.values(), ids=UNSAFE_NAMES.keys())
async def test_a_member_name_with_unsafe_characters_or_blank_is_a_422_naming_name(
    node, token, outbox, name: str
) -> None:
    response = await node.client.post(
        "/members", json=_member(name=name), headers=token("hzsteel-rolling", "cadre")
    )

    assert _fields(response) == ["name"]
    assert "Xiaoming" not in response.text and "gnimoaiX" not in response.text
    assert await outbox(node.db) == []


@pytest.mark.parametrize(
    "field", ["employee_no", "home_org", "phone", "email"], ids=lambda f: f"nul-in-{f}"
)
async def test_a_nul_in_any_member_field_is_a_422_naming_it(
    node, token, outbox, field: str
) -> None:
    value = {"email": "wang\x00@hzsteel.example", "home_org": "hzsteel\x00rolling"}.get(
        field, "HZ\x001001"
    )
    response = await node.client.post(
        "/members", json=_member(**{field: value}), headers=token("hzsteel-rolling", "cadre")
    )

    assert _fields(response) == [field]
    assert await outbox(node.db) == []


async def test_an_org_name_with_a_bidi_override_is_a_422_naming_name(node, token, outbox) -> None:
    body = {"org_id": "zj-nb", "name": "\u202eNingbo", "parent_id": "zj", "level": "superior"}

    response = await node.client.post("/orgs", json=body, headers=token("zj", "admin"))

    assert _fields(response) == ["name"]
    assert await outbox(node.db) == []


async def test_a_programme_title_or_audience_with_unsafe_characters_is_a_422(
    node, token, outbox, programme_body
) -> None:
    headers = token("hzsteel", "cadre")
    title = await node.client.post(
        "/programmes", json=programme_body(title="Crane\u200b safety"), headers=headers
    )
    audience = await node.client.post(
        "/programmes", json=programme_body(audience=["hzsteel\x00"]), headers=headers
    )

    assert _fields(title) == ["title"]
    assert _fields(audience) == ["audience.0"]
    assert await outbox(node.db) == []


async def test_an_enrollment_naming_a_programme_with_a_nul_is_a_422(node, token) -> None:
    response = await node.client.post(
        "/enrollments",
        json={"programme_id": "p\x00", "member_id": "m"},
        headers=token("hzsteel-rolling", "cadre"),
    )

    assert _fields(response) == ["programme_id"]


@pytest.mark.parametrize("path", ["/members/a%00b", "/programmes/a%00b", "/orgs/zj%00"])
async def test_an_id_with_a_nul_in_the_path_is_a_422(node, token, path: str) -> None:
    response = await node.client.get(path, headers=token("hzsteel-rolling", "cadre"))

    assert response.status_code == 422


@pytest.mark.parametrize(
    "cursor",
    [
        NESTED_JSON_CURSOR,
        base64.urlsafe_b64encode(b"a\x00b").decode(),
        "A" * 513,
    ],
    ids=["deeply-nested-json", "nul", "too-long"],
)
async def test_a_forged_programmes_cursor_is_a_422_naming_cursor(node, token, cursor: str) -> None:
    response = await node.client.get(
        "/programmes", params={"cursor": cursor}, headers=token("hzsteel", "cadre")
    )

    assert response.json()["errors"] == [
        {"field": "cursor", "reason": "not a cursor this API gave out"}
    ]
