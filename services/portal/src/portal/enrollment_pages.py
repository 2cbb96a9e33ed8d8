"""What the enrollment area's pages share: the cadre-only check, the CSRF-checked multipart
form of the roster upload, an API's answer as a flash message, and files passed through
from a service with the user's token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import httpx
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from portal import i18n
from portal.api import ApiError, Services
from portal.session import Session
from portal.web import PageError, cadre_only, form_of, lang_of, signed_in

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the enrollment service's own roster limit (20 MiB)
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the small fields


def cadre(request: Request) -> tuple[Session, str]:
    """The signed-in cadre and their token; anyone else gets the 403 page before any API
    is asked."""
    session = cadre_only(request)
    assert session.token is not None
    return session, session.token


def member(request: Request) -> tuple[Session, str, str]:
    """The signed-in member, their token and member id (a staff account has no record)."""
    session = signed_in(request)
    if session.member_id is None:
        raise PageError(403, "error.403")
    assert session.token is not None
    return session, session.token, session.member_id


SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")


def safe_id(candidate: str) -> bool:
    """An id the portal puts into a service's path: no separators, no dot segments."""
    return bool(SAFE_ID.match(candidate)) and ".." not in candidate


def checked_id(candidate: str) -> str:
    """The id, or the 404 page when it could not be one."""
    if not safe_id(candidate):
        raise PageError(404, "error.404")
    return candidate


def say(request: Request, session: Session, key: str, *, error: bool = False) -> None:
    """The catalogue message `key`, in the page's language, on the next page shown."""
    session.say(i18n.translate(lang_of(request), key), error=error)


def refused(session: Session, exc: ApiError) -> None:
    """An API's refusal as the next page's error message, with the fields it names; a
    refused or expired token still ends as the sign-in or 403 page."""
    if exc.status in (401, 403) and not exc.field_errors:
        raise exc
    named = "; ".join(f"{f}: {r}" if f else r for f, r in exc.field_errors.items())
    session.say(f"{exc.detail}" + (f" ({named})" if named else ""), error=True)


async def posted(
    request: Request, session: Session, token: str, target: tuple[str, str], body: Any, done: str
) -> bool:
    """POST `body` to `target` (service, path) with the user's token; either way the next
    page says how it went (`done`, or the refusal). Whether the service took it."""
    service, path = target
    try:
        await request.app.state.services.call(service, "POST", path, token, json=body)
    except ApiError as exc:
        refused(session, exc)
        return False
    say(request, session, done)
    return True


async def form_with_blanks(request: Request) -> dict[str, str]:
    """The CSRF-checked form, its emptied fields kept (an emptied field clears a value)."""
    await form_of(request)
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


@dataclass
class Upload:
    fields: dict[str, str]
    filename: str
    content_type: str
    data: bytes


async def upload_of(request: Request, file_field: str = "file") -> Upload:
    """A posted multipart form with one file: its CSRF field checked against the session's,
    its size bounded before a byte is read (by the declared length) and while it is read."""
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        raise PageError(411, "error.api")
    if int(declared) > MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD:
        raise PageError(413, "roster.too_big")
    try:
        form = await request.form(max_files=1, max_fields=10, max_part_size=16_384)
    except Exception as exc:  # a malformed body: the parser's own errors vary
        raise PageError(400, "roster.bad_form") from exc
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not signed_in(request).csrf_ok(fields.get("csrf")):
        raise PageError(403, "error.csrf")
    file = form.get(file_field)
    if not isinstance(file, UploadFile) or not file.filename:
        return Upload(fields, "", "", b"")
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    await form.close()
    if len(data) > MAX_UPLOAD_BYTES:
        raise PageError(413, "roster.too_big")
    return Upload(fields, file.filename, file.content_type or "", data)


async def send_file(
    services: Services,
    service: str,
    path: str,
    token: str,
    data: bytes,
    media_type: str,
    params: dict[str, Any],
) -> Any:
    """POST a file as the request body (not multipart), as the roster import API wants."""
    response = await services.http.post(
        services.urls[service] + path,
        params=params,
        content=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": media_type},
    )
    if response.status_code >= 400:
        raise ApiError.of(response)
    return response.json()


PASSED_HEADERS = ("content-type", "content-disposition", "cache-control")


async def pass_file(services: Services, service: str, path: str, token: str) -> Response:
    """A file a service hands out (a CSV report, a PDF), streamed on with its type and name;
    the user's token stays here."""
    request = services.http.build_request(
        "GET", services.urls[service] + path, headers={"Authorization": f"Bearer {token}"}
    )
    try:
        response = await services.http.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise PageError(502, "error.api") from exc
    if response.status_code >= 400:
        await response.aread()
        await response.aclose()
        raise ApiError.of(response)
    headers = {k: v for k, v in response.headers.items() if k.lower() in PASSED_HEADERS}
    headers.setdefault("cache-control", "private, no-store")
    return StreamingResponse(
        response.aiter_bytes(), headers=headers, background=BackgroundTask(response.aclose)
    )
