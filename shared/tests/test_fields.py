"""Validated input types: bad text, ids and times are a 422 naming the field, never a 500,
and the problem never quotes the value."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from shared.web.fields import DisplayText, Id, OrgId, ShortText, UtcInstant
from shared.web.problems import MEDIA_TYPE, install_problem_handlers


class Thing(BaseModel):
    name: DisplayText = Field(max_length=20)
    code: ShortText | None = None
    org: OrgId | None = None
    at: UtcInstant | None = None


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things")
    async def create(thing: Thing) -> dict[str, str]:
        return {"name": thing.name}

    @app.get("/things/{thing_id}")
    async def read(thing_id: Id) -> dict[str, str]:
        return {"id": thing_id}

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app())


UNSAFE_TEXT = {
    "nul": "Wang\x00Xiaoming",
    "escape": "Wang\x1b[31m",
    "delete": "Wang\x7f",
    "c1-control": "Wang\x85",
    "newline": "Wang\nXiaoming",
    "right-to-left-override": "Wang\u202egnimoaiX",
    "left-to-right-isolate": "Wang\u2066X",
    "arabic-letter-mark": "Wang\u061c",
    "right-to-left-mark": "Wang\u200f",
    "zero-width-space": "Wang\u200bXiaoming",
    "zero-width-joiner": "Wang\u200d",
    "word-joiner": "Wang\u2060",
    "byte-order-mark": "\ufeffWang",
    "line-separator": "Wang\u2028Li",
}


@pytest.mark.parametrize("text", UNSAFE_TEXT.values(), ids=UNSAFE_TEXT.keys())
def test_display_text_refuses_control_bidi_and_zero_width_characters(
    client: TestClient, text: str
) -> None:
    response = client.post("/things", json={"name": text})

    assert response.status_code == 422
    assert response.headers["content-type"] == MEDIA_TYPE
    [error] = response.json()["errors"]
    assert error["field"] == "name"
    assert "control" in error["reason"]
    assert "Wang" not in response.text


def test_display_text_refuses_a_lone_surrogate_which_no_database_can_store(
    client: TestClient,
) -> None:
    # Escaped JSON, as a client may send it: the surrogate has no UTF-8 form.
    body = json.dumps({"name": "Wang\ud800"})
    response = client.post("/things", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["name"]
    with pytest.raises(ValidationError):
        TypeAdapter(DisplayText).validate_python("Wang\ud800")


@pytest.mark.parametrize("text", ["", " ", "\u3000\u3000", "\t "])
def test_display_text_refuses_blank_text(client: TestClient, text: str) -> None:
    response = client.post("/things", json={"name": text})

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "name", "reason": "the text is blank"}]


@pytest.mark.parametrize("text", ["王小明", "Zhang San-Li", "O'Brien", "Ünal (QA) 2"])
def test_display_text_keeps_ordinary_names_as_they_were_sent(client: TestClient, text: str) -> None:
    response = client.post("/things", json={"name": text})

    assert response.status_code == 200
    assert response.json() == {"name": text}


def test_short_text_has_the_same_rules_and_a_string_length_message(client: TestClient) -> None:
    nul = client.post("/things", json={"name": "Li", "code": "HZ\x001"})
    long = client.post("/things", json={"name": "Li", "code": "H" * 65})

    assert [e["field"] for e in nul.json()["errors"]] == ["code"]
    assert long.json()["errors"] == [
        {"field": "code", "reason": "String should have at most 64 characters"}
    ]


@pytest.mark.parametrize("org", ["hz\x00steel", "HZSTEEL", "-hz", "hz steel", "h" * 64, ""])
def test_an_org_id_is_a_slug(client: TestClient, org: str) -> None:
    response = client.post("/things", json={"name": "Li", "org": org})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["org"]


@pytest.mark.parametrize("thing_id", ["a%00b", "a%0A", "a%E2%80%AEb", "%20", "x" * 129])
def test_an_id_in_a_path_with_a_nul_or_other_oddity_is_a_422(
    client: TestClient, thing_id: str
) -> None:
    response = client.get(f"/things/{thing_id}")

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["path.thing_id"]


def test_uuids_and_slugs_are_ids() -> None:
    for value in ["5b6f0b8e-0a7e-4c61-b0f1-3c3b1e1d0a01", "hzsteel-rolling", "nope"]:
        assert TypeAdapter(Id).validate_python(value) == value


@pytest.mark.parametrize(
    "at",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ],
    ids=["year-1-east-of-utc", "year-9999-west-of-utc", "year-1-utc", "year-9999-utc"],
)
def test_a_time_at_the_edge_of_the_calendar_is_a_422_not_an_overflow(
    client: TestClient, at: str
) -> None:
    response = client.post("/things", json={"name": "Li", "at": at})

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "at", "reason": "the time is out of range"}]


def test_a_time_without_an_offset_is_a_422(client: TestClient) -> None:
    response = client.post("/things", json={"name": "Li", "at": "2030-05-01T08:00:00"})

    assert response.json()["errors"] == [{"field": "at", "reason": "the time needs a UTC offset"}]


def test_a_time_with_an_offset_is_converted_to_utc() -> None:
    at = TypeAdapter(UtcInstant).validate_python("2030-05-01T08:00:00+08:00")

    assert at == datetime(2030, 5, 1, tzinfo=UTC)
    assert at.tzinfo is UTC


def test_a_validation_error_of_these_types_does_not_quote_the_value_in_its_reason() -> None:
    with pytest.raises(ValidationError) as caught:
        Thing.model_validate({"name": "secret\u202e", "at": "0001-01-01T00:00:00+01:00"})

    for error in caught.value.errors():
        assert "secret" not in error["msg"] and "0001" not in error["msg"]
