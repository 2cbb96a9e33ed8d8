"""JSON problem details (RFC 9457): every error names the field and the reason, never the value."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel, EmailStr, Field

from shared.orgs.directory import UnknownOrg
from shared.web.problems import (
    MEDIA_TYPE,
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    Unauthorized,
    Unprocessable,
    install_problem_handlers,
)

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


class NewMember(BaseModel):
    name: str = Field(min_length=1)
    email: EmailStr
    age: int = Field(ge=16)


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/members")
    async def create(member: NewMember) -> dict[str, str]:
        return {"name": member.name}

    @app.post("/conflict")
    async def conflict() -> None:
        raise Conflict("idempotency key reused with another body", field="Idempotency-Key")

    @app.get("/forbidden")
    async def forbidden() -> None:
        raise Forbidden("needs one of the roles: cadre")

    @app.get("/unauthorized")
    async def unauthorized() -> None:
        raise Unauthorized("a bearer token is required")

    @app.get("/orgs/{org_id}")
    async def get_org(org_id: str) -> None:
        raise UnknownOrg(org_id)

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(status_code=418, detail="I'm a teapot")

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app())


@pytest.mark.parametrize(
    ("problem", "status", "title"),
    [
        (Problem, 400, "Bad request"),
        (Unauthorized, 401, "Unauthorized"),
        (Forbidden, 403, "Forbidden"),
        (NotFound, 404, "Not found"),
        (Conflict, 409, "Conflict"),
        (Unprocessable, 422, "Unprocessable request"),
    ],
)
def test_each_problem_class_has_its_status_and_title(
    problem: type[Problem], status: int, title: str
) -> None:
    body = problem("it went wrong").body("/x")
    assert body == {
        "type": f"urn:bigschool:problem:{problem.__name__}",
        "title": title,
        "status": status,
        "detail": "it went wrong",
        "instance": "/x",
    }


def test_a_problem_about_a_field_lists_it_under_errors() -> None:
    body = Unprocessable("over budget", field="seats", left=0).body("/p")
    assert body["errors"] == [{"field": "seats", "reason": "over budget"}]
    assert body["left"] == 0


def test_a_raised_problem_is_rendered_as_problem_json(client: TestClient) -> None:
    response = client.post("/conflict")
    assert response.status_code == 409
    assert response.headers["content-type"] == MEDIA_TYPE
    body = response.json()
    assert PROBLEM_KEYS <= set(body)
    assert body["status"] == 409 and body["instance"] == "/conflict"
    assert body["errors"] == [
        {"field": "Idempotency-Key", "reason": "idempotency key reused with another body"}
    ]


def test_a_401_tells_the_client_to_bring_a_bearer_token(client: TestClient) -> None:
    response = client.get("/unauthorized")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/forbidden").headers.get("www-authenticate") is None


def test_an_unknown_org_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/orgs/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == MEDIA_TYPE
    assert response.json()["title"] == "Not found"
    assert "nowhere" in response.json()["detail"]


def test_an_invalid_body_names_each_field_and_reason_without_echoing_values(
    client: TestClient,
) -> None:
    secret_email = "not-an-email-zhang.san.private"
    response = client.post("/members", json={"name": "", "email": secret_email, "age": 3})

    assert response.status_code == 422
    assert response.headers["content-type"] == MEDIA_TYPE
    body = response.json()
    assert PROBLEM_KEYS <= set(body)
    assert {e["field"] for e in body["errors"]} == {"name", "email", "age"}
    assert all(e["reason"] for e in body["errors"])
    assert secret_email not in response.text
    assert '"age":3' not in response.text.replace(" ", "")


@pytest.mark.parametrize(
    "address", ["zhang.san@exam_ple.com", "zhang san@example.com", "zhang.san@", "@example.com"]
)
def test_an_invalid_email_is_refused_without_quoting_any_part_of_it(
    client: TestClient, address: str
) -> None:
    response = client.post("/members", json={"name": "Li", "email": address, "age": 30})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["email"]
    for part in {address, *address.replace("@", " ").split()}:
        assert part not in response.text


def test_a_missing_field_is_named(client: TestClient) -> None:
    response = client.post("/members", json={"name": "Li"})
    assert {e["field"] for e in response.json()["errors"]} == {"email", "age"}


def test_framework_errors_are_problems_too(client: TestClient) -> None:
    missing = client.get("/no-such-route")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == MEDIA_TYPE
    assert missing.json()["status"] == 404

    teapot = client.get("/teapot")
    assert teapot.status_code == 418
    assert teapot.json()["detail"] == "I'm a teapot"

    wrong_method = client.delete("/members")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status"] == 405
