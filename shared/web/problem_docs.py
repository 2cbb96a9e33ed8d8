"""The error answers of every operation, declared in the app's OpenAPI document in one place.

Routes do not list their failures one by one: what an operation can answer besides success
follows from what stands in front of it (shared/web/guards.py) and what it takes:

- a bearer token (every path but the open ones): 401, 403 and, with rate limits on, 429;
- any input (path, query, header, body): 422; a path parameter names something: 404;
- a body (or a method that may carry one: POST, PUT, PATCH): 413 (the body limit);
- POST: 409 and 422 from the Idempotency-Key guard;
  PUT, PATCH, DELETE: 409 (a state that does not allow the change);
- the database behind every route of the service: 500 and 503 (retry; nothing was changed).

Every one of them is an `application/problem+json` body (shared/web/problems.py), described
by the `Problem` schema. Statuses a route declares itself keep their description, and their
body when it is not JSON (a page for a person).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

from fastapi import FastAPI

from shared.web.problems import MEDIA_TYPE

PROBLEM = "Problem"
PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM}"}
# FastAPI's own 422 body; ours replaces it (shared/web/problems.py renders validation errors).
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": PROBLEM,
    "description": "Problem details (RFC 9457). Fields beyond these may name the state at fault.",
    "type": "object",
    "properties": {
        "type": {"type": "string", "description": "urn:bigschool:problem:<Name> or about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The request's path."},
        "errors": {
            "type": "array",
            "description": "The fields at fault and why; the values are never echoed.",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
                "required": ["field", "reason"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "instance"],
    "additionalProperties": True,
}

DESCRIPTIONS = {
    401: "No valid bearer token.",
    403: "The token's roles or org do not allow this.",
    404: "What the path names does not exist here (or is not visible to the caller).",
    409: "A conflict: the Idempotency-Key was used for another request, or the state does not "
    "allow this change.",
    413: "The request body is larger than this path's limit.",
    415: "The request body's media type is not accepted.",
    422: "The request is not valid: the fields at fault are named in `errors`.",
    429: "Too many requests from this caller: retry after `Retry-After` seconds.",
    500: "The request failed; nothing was changed.",
    503: "The service's database is unavailable: retry shortly (the same Idempotency-Key is safe).",
}

WRITES = frozenset({"put", "patch", "delete"})
BODIES = frozenset({"post", "put", "patch"})


def statuses(
    method: str, operation: dict[str, Any], *, public: bool, rate_limited: bool
) -> set[int]:
    """The error statuses one operation can answer (see the module's docstring)."""
    found = {500, 503}
    if not public:
        found |= {401, 403}
        if rate_limited:
            found.add(429)
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        found.add(422)
    if any(p.get("in") == "path" for p in parameters):
        found.add(404)
    if "requestBody" in operation or method in BODIES:
        found.add(413)  # the body limit counts whatever is sent, declared or not
    if method == "post":
        found |= {409, 422}
    if method in WRITES:
        found.add(409)
    return found


def _problem_response(existing: dict[str, Any] | None, status: int) -> dict[str, Any]:
    response = dict(existing or {})
    if response.get("description") in (None, "", "Validation Error"):  # FastAPI's own 422
        response["description"] = DESCRIPTIONS.get(status, "A problem.")
    content = {
        media: body
        for media, body in (response.get("content") or {}).items()
        if not any(name in json.dumps(body) for name in FASTAPI_VALIDATION)
    }
    # A route that declares its own body for a status (a page) keeps it; JSON is a problem.
    content.pop("application/json", None)
    if not content:
        content[MEDIA_TYPE] = {"schema": PROBLEM_REF}
    response["content"] = content
    return response


def add_problem_responses(
    schema: dict[str, Any],
    is_public: Callable[[str], bool],
    *,
    rate_limited: bool,
    skip: Collection[str] = (),
) -> dict[str, Any]:
    """Add every operation's error statuses to an OpenAPI document (in place; returned).
    `skip`: paths left as they are (health, metrics: they declare what they answer)."""
    for path, operations in schema.get("paths", {}).items():
        if path in skip:
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            found = statuses(method, operation, public=is_public(path), rate_limited=rate_limited)
            for status in sorted(found | declared):
                responses[str(status)] = _problem_response(responses.get(str(status)), status)
            operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION:
        components.pop(name, None)
    components[PROBLEM] = PROBLEM_SCHEMA
    return schema


def document_problems(
    app: FastAPI,
    is_public: Callable[[str], bool],
    *,
    rate_limited: bool,
    skip: Collection[str] = (),
) -> None:
    """Have the app's OpenAPI document list every operation's problem answers."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        app.openapi_schema = add_problem_responses(
            build(), is_public, rate_limited=rate_limited, skip=skip
        )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # as FastAPI documents it
