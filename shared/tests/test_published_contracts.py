"""The published contracts (docs/contracts/): up to date, guarded against breaking changes, and
honest about every status an operation answers."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import create_model

from shared.auth.keys import generate_keys
from shared.auth.tokens import issue_token
from shared.contracts.base import Event
from shared.contracts.compat import export_schemas
from shared.contracts.events import EnrollmentConfirmed
from shared.contracts.openapi_compat import breaking_api_changes
from shared.contracts.publish import (
    CONTRACTS_DIR,
    SERVICES,
    breaking,
    current_documents,
    event_documents,
    main,
    published_documents,
    stale,
)
from shared.web.problems import MEDIA_TYPE

Document = dict[str, Any]
OPS_PATHS = {"/healthz", "/readyz", "/metrics", "/asyncapi.json"}
PUBLIC_PREFIXES = ("/certificates/verify/", "/links/")


@pytest.fixture(scope="module")
def current() -> Document:
    return current_documents()


@pytest.fixture(scope="module")
def published() -> Document:
    return published_documents(CONTRACTS_DIR)


# -- docs/contracts is what the code publishes ---------------------------------------------------


def test_the_published_contracts_match_the_code(current: Document, published: Document) -> None:
    assert not breaking(published, current), "breaking changes to published contracts"
    assert not stale(published, current), "run `python -m shared.contracts.publish`"


def test_every_service_and_every_event_type_is_published(published: Document) -> None:
    for service in SERVICES:
        assert f"openapi/{service}.json" in published
        assert f"asyncapi/{service}.json" in published
    assert {p for p in published if p.startswith("events/")} == set(event_documents())


def test_an_event_schema_names_itself_as_its_dataschema_header_does(published: Document) -> None:
    schema = published["events/bigschool.enrollment.confirmed.v1.json"]
    assert schema["$id"] == "urn:bigschool:schema:bigschool.enrollment.confirmed.v1"
    assert schema["$schema"].endswith("/2020-12/schema")


# -- the check on a copy of the published folder -------------------------------------------------


@pytest.fixture
def copy_of_contracts(tmp_path: Path, current: Document, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of docs/contracts to break; the code's documents are built once per module."""
    target = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, target)
    monkeypatch.setattr("shared.contracts.publish.current_documents", lambda: current)
    return target


def edit(path: Path, change: Any) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def test_check_passes_on_an_exact_copy(copy_of_contracts: Path) -> None:
    assert main(["--check", "--dir", str(copy_of_contracts)]) == 0


def test_check_fails_when_a_published_event_field_is_gone_from_the_model(
    copy_of_contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Published with a field the model no longer has: as if the field had been removed.
    def add_field(schema: Document) -> None:
        schema["properties"]["seat_number"] = {"type": "integer"}

    edit(copy_of_contracts / "events" / "bigschool.enrollment.confirmed.v1.json", add_field)
    assert main(["--check", "--dir", str(copy_of_contracts)]) == 1
    assert "bigschool.enrollment.confirmed.v1:seat_number: field removed" in capsys.readouterr().err


def test_check_fails_when_a_published_operation_is_gone(
    copy_of_contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def add_operation(doc: Document) -> None:
        doc["paths"]["/retired"] = {"get": {"responses": {"200": {"description": "OK"}}}}

    edit(copy_of_contracts / "openapi" / "enrollment.json", add_operation)
    assert main(["--check", "--dir", str(copy_of_contracts)]) == 1
    assert "GET /retired: operation removed" in capsys.readouterr().err


def test_check_fails_when_a_document_is_merely_out_of_date(
    copy_of_contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def retitle(doc: Document) -> None:
        doc["info"]["description"] = "an older wording"

    edit(copy_of_contracts / "openapi" / "awards.json", retitle)
    assert main(["--check", "--dir", str(copy_of_contracts)]) == 1
    err = capsys.readouterr().err
    assert "out of date" in err and "awards.json" in err and "breaking" not in err


def test_publishing_refuses_a_breaking_change_and_leaves_the_files(
    copy_of_contracts: Path,
) -> None:
    target = copy_of_contracts / "events" / "bigschool.enrollment.confirmed.v1.json"
    edit(target, lambda s: s["properties"].update(seat_number={"type": "integer"}))
    before = target.read_text(encoding="utf-8")
    assert main(["--dir", str(copy_of_contracts)]) == 1
    assert target.read_text(encoding="utf-8") == before


def test_a_breaking_change_to_an_event_model_is_caught(
    published: Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = export_schemas()
    # `sequence` retyped and `home_org` dropped: what a careless edit of the model would do.
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in EnrollmentConfirmed.model_fields.items()
        if name != "home_org"
    }
    fields["sequence"] = (str, ...)
    edited = create_model("EnrollmentConfirmed", __base__=Event, **fields)
    changed = {**real, EnrollmentConfirmed.ce_type: edited.model_json_schema()}
    monkeypatch.setattr("shared.contracts.publish.export_schemas", lambda: changed)
    events = {p: d for p, d in published.items() if p.startswith("events/")}
    assert sorted(breaking(events, event_documents())) == [
        "bigschool.enrollment.confirmed.v1:home_org: field removed",
        "bigschool.enrollment.confirmed.v1:sequence: type changed",
    ]


def test_an_event_schema_change_is_judged_by_the_event_rules(published: Document) -> None:
    """One mechanism: the event files are compared with shared.contracts.compat."""
    path = "events/bigschool.enrollment.confirmed.v1.json"
    narrowed = copy.deepcopy(published[path])
    narrowed["properties"]["programme_id"]["maxLength"] = 3
    problems = breaking({path: published[path]}, {path: narrowed})
    assert problems == ["bigschool.enrollment.confirmed.v1:programme_id: type changed"]


# -- OpenAPI compatibility rules ------------------------------------------------------------------


def api(
    response_props: Document | None = None,
    required: list[str] | None = None,
    statuses: tuple[str, ...] = ("200", "404"),
    body: Document | None = None,
) -> Document:
    props = response_props or {
        "id": {"type": "string"},
        "state": {"$ref": "#/components/schemas/State"},
    }
    responses: Document = {
        status: {"description": status, "content": {"application/json": {"schema": {}}}}
        for status in statuses
    }
    responses["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/Thing"
    }
    operation: Document = {
        "parameters": [{"in": "query", "name": "q", "schema": {"type": "string"}}],
        "responses": responses,
    }
    if body is not None:
        operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return {
        "paths": {"/things/{id}": {"get": operation}},
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": props,
                    "required": required if required is not None else ["id", "state"],
                },
                "State": {"type": "string", "enum": ["open", "closed"]},
            }
        },
    }


def kinds(old: Document, new: Document) -> set[tuple[str, str]]:
    return {(c.path, c.kind) for c in breaking_api_changes(old, new)}


def test_a_removed_operation_is_breaking() -> None:
    assert kinds(api(), {"paths": {}}) == {("", "operation_removed")}


def test_a_removed_response_status_is_breaking() -> None:
    assert kinds(api(), api(statuses=("200",))) == {("404", "status_removed")}


def test_a_removed_response_field_is_breaking() -> None:
    new = api({"id": {"type": "string"}}, ["id"])
    assert kinds(api(), new) == {("200.state", "field_removed")}


def test_a_response_field_no_longer_always_present_is_breaking() -> None:
    assert kinds(api(), api(required=["id"])) == {("200.state", "field_optional")}


def test_a_narrowed_type_is_breaking() -> None:
    new = api({"id": {"type": "integer"}, "state": {"$ref": "#/components/schemas/State"}})
    assert kinds(api(), new) == {("200.id", "type_narrowed")}


def test_a_removed_enum_value_is_breaking_where_the_enum_is_used() -> None:
    new = api()
    new["components"]["schemas"]["State"]["enum"] = ["open"]
    assert kinds(api(), new) == {("200.state", "enum_value_removed")}


def test_a_tightened_bound_on_a_parameter_is_breaking() -> None:
    new = api()
    new["paths"]["/things/{id}"]["get"]["parameters"][0]["schema"]["maxLength"] = 8
    assert kinds(api(), new) == {("query:q", "type_narrowed")}


def test_a_request_field_made_required_is_breaking() -> None:
    body = {"type": "object", "properties": {"name": {"type": "string"}}, "required": []}
    required = {**body, "required": ["name"]}
    assert kinds(api(body=body), api(body=required)) == {("body.name", "required_added")}


def test_compatible_additions_pass() -> None:
    new = api(
        {
            "id": {"anyOf": [{"type": "string"}, {"type": "integer"}]},  # wider
            "state": {"$ref": "#/components/schemas/State"},
            "note": {"type": "string"},  # a new field
        },
        statuses=("200", "404", "409"),  # a new status
    )
    new["components"]["schemas"]["State"]["enum"] = ["open", "closed", "archived"]
    new["paths"]["/things/{id}"]["get"]["parameters"].append(
        {"in": "query", "name": "limit", "required": False, "schema": {"type": "integer"}}
    )
    new["paths"]["/others"] = {"get": {"responses": {"200": {"description": "OK"}}}}
    assert kinds(api(), new) == set()


# -- every operation lists its problem statuses ---------------------------------------------------


def operations(document: Document) -> Iterator[tuple[str, str, Document]]:
    for path, ops in document["paths"].items():
        for method, operation in ops.items():
            if path not in OPS_PATHS:
                yield path, method, operation


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_documents_its_problem_statuses(service: str, current: Document) -> None:
    document = current[f"openapi/{service}.json"]
    assert "Problem" in document["components"]["schemas"]
    for path, method, operation in operations(document):
        where = f"{service}: {method.upper()} {path}"
        responses = operation["responses"]
        if not path.startswith(PUBLIC_PREFIXES):
            assert {"401", "403"} <= responses.keys(), where
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in responses, where
        assert {"500", "503"} <= responses.keys(), where
        for status, response in responses.items():
            if int(status) >= 400 and "text/html" not in response["content"]:  # pages stay
                schema = response["content"][MEDIA_TYPE]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (where, status)


# -- what the apps really answer is documented ---------------------------------------------------


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Path]:
    private, jwks = generate_keys(tmp_path_factory.mktemp("keys"))
    return private.read_bytes(), jwks


def build(service: str, jwks: Path, database: Path) -> FastAPI:
    from awards.app import create_app as awards_app
    from awards.settings import AwardsSettings
    from enrollment.app import create_app as enrollment_app
    from enrollment.settings import EnrollmentSettings
    from notifications.app import create_app as notifications_app
    from notifications.settings import NotificationsSettings

    options: dict[str, Any] = {
        "node_id": "zj",
        "root_org": "zj",
        "federation_jwks_path": jwks,
        "jwt_jwks_path": jwks,
        "database_url": f"sqlite+aiosqlite:///{database}",
        "http_max_body_bytes": 4096,
    }
    if service == "awards":
        return awards_app(AwardsSettings(**options))
    if service == "enrollment":
        return enrollment_app(EnrollmentSettings(**options))
    return notifications_app(NotificationsSettings(**options))


def concrete(path: str) -> str:
    """A template path with every parameter filled with a value that names nothing."""
    parts = [("nothing-here" if p.startswith("{") else p) for p in path.split("/")]
    return "/".join(parts)


def sample_requests(path: str, method: str, operation: Document) -> list[dict[str, Any]]:
    """Bad requests of several kinds: no token, broken JSON, a body over the limit, a bad
    Idempotency-Key, a bad query value."""
    url = concrete(path)
    samples: list[dict[str, Any]] = [{"url": url, "auth": False}]
    if "requestBody" in operation or method in ("post", "put", "patch"):
        samples.append({"url": url, "content": b'{"broken": ', "json": True})
        samples.append({"url": url, "content": b"x" * 5000, "json": True})
    if method == "post":
        samples.append({"url": url, "content": b"{}", "json": True, "key": "k" * 300})
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query":
            samples.append({"url": url, "params": {parameter["name"]: "\x00" * 3000}})
    samples.append({"url": url})
    return samples


@pytest.mark.parametrize("service", SERVICES)
async def test_every_status_the_app_answers_is_in_its_document(
    service: str, keys: tuple[bytes, Path], tmp_path: Path
) -> None:
    private, jwks = keys
    app = build(service, jwks, tmp_path / "unmigrated.db")
    document = app.openapi()
    token = issue_token(
        private,
        kid="demo-1",
        issuer="bigschool-federation",
        node="zj",
        sub="sampler",
        org="zj",
        roles=["admin"],
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    seen: dict[int, int] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://zj") as client:
        for path, method, operation in operations(document):
            documented = {int(s) for s in operation["responses"]}
            for sample in sample_requests(path, method, operation):
                headers = {}
                if sample.get("auth", True):
                    headers["Authorization"] = f"Bearer {token}"
                if sample.get("json"):
                    headers["Content-Type"] = "application/json"
                if "key" in sample:
                    headers["Idempotency-Key"] = sample["key"]
                response = await client.request(
                    method.upper(),
                    sample["url"],
                    headers=headers,
                    content=sample.get("content"),
                    params=sample.get("params"),
                )
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
                assert response.status_code in documented, (
                    f"{method.upper()} {path} answered {response.status_code}, "
                    f"documented: {sorted(documented)}"
                )
                media = response.headers.get("content-type", "").split(";")[0]
                declared = operation["responses"][str(response.status_code)].get("content", {})
                if response.status_code >= 400:
                    assert media in declared, (path, response.status_code, media)
    # The sample did reach past the guards: validation and the routes themselves answered.
    assert {401, 413, 422} <= seen.keys(), seen
