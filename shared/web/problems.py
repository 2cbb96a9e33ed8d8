"""JSON problem details (RFC 9457). One base error per service derives from ``Problem``;
one handler renders them all."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.orgs.directory import UnknownOrg

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra

    def body(self, instance: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:bigschool:problem:{type(self).__name__}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.field:
            body["errors"] = [{"field": self.field, "reason": self.detail}]
        body.update(self.extra)
        return body


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"


class Forbidden(Problem):
    status, title = 403, "Forbidden"


class NotFound(Problem):
    status, title = 404, "Not found"


class Conflict(Problem):
    status, title = 409, "Conflict"


class Gone(Problem):
    status, title = 410, "Gone"


class Unprocessable(Problem):
    status, title = 422, "Unprocessable request"


class ContentTooLarge(Problem):
    status, title = 413, "Content too large"


class TooManyRequests(Problem):
    status, title = 429, "Too many requests"


class Unavailable(Problem):
    status, title = 503, "Service unavailable"


def problem_response(status: int, body: dict[str, Any]) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _internal(instance: str) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": "Internal error",
        "status": 500,
        "detail": "the request failed; nothing was changed",
        "instance": instance,
    }


def _reason(error: Any) -> str:
    # Custom validators (e-mail, dates) may quote parts of the input in their message.
    if error["type"] in {"value_error", "assertion_error"}:
        return "invalid value"
    return str(error["msg"])


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.body(request.url.path))

    @app.exception_handler(UnknownOrg)
    async def _unknown_org(request: Request, exc: UnknownOrg) -> JSONResponse:
        return problem_response(
            404, NotFound(f"org {exc} is not known here").body(request.url.path)
        )

    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)
    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database (or the network to it) is away: nothing was committed, so the client
        # may retry — with the same Idempotency-Key, to be safe.
        if isinstance(exc, DBAPIError) and not (
            isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated
        ):
            log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
            return problem_response(500, _internal(request.url.path))
        log.warning("%s %s: %s", request.method, request.url.path, type(exc).__name__)
        body = Unavailable("the service's database is unavailable; retry shortly").body(
            request.url.path
        )
        response = problem_response(503, body)
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the field and the reason; never echo the value (it may be personal data).
        errors = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "reason": _reason(e)}
            for e in exc.errors()
        ]
        body = {
            "type": "urn:bigschool:problem:Invalid",
            "title": "Unprocessable request",
            "status": 422,
            "detail": "the request is not valid",
            "instance": request.url.path,
            "errors": errors,
        }
        return problem_response(422, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = {
            "type": "about:blank",
            "title": str(exc.detail),
            "status": exc.status_code,
            "detail": str(exc.detail),
            "instance": request.url.path,
        }
        return problem_response(exc.status_code, body)
