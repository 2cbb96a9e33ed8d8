"""What every page shares: the templates and their context, the security headers, the CSRF
check on posted forms, and the error pages (a 403 is a page, never a trace)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import httpx
from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from portal import i18n
from portal.api import ApiError
from portal.session import Session, session_of

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
MAX_FORM_BYTES = 16_384


class PageError(Exception):
    """Ends a request with an error page: the status and the catalogue key of its message."""

    def __init__(self, status: int, message_key: str, detail: str | None = None) -> None:
        super().__init__(message_key)
        self.status, self.message_key, self.detail = status, message_key, detail


def lang_of(request: Request) -> str:
    return i18n.pick(request.cookies.get(i18n.COOKIE))


def zone_of(request: Request) -> ZoneInfo:
    zone: ZoneInfo = request.app.state.zone
    return zone


def local_path(candidate: str | None) -> str:
    """Only a path on this site: a redirect never leaves it (`//host`, `/\\host`, `http:`)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return "/"
    if any(c in candidate for c in "\r\n\\") or ":" in candidate.split("?", 1)[0]:
        return "/"
    return candidate


async def form_of(request: Request) -> dict[str, str]:
    """The posted form (url-encoded), its CSRF field checked against the session's."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise PageError(413, "error.api")
    fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    if not session_of(request).csrf_ok(fields.get("csrf")):
        raise PageError(403, "error.csrf")
    return fields


def signed_in(request: Request) -> Session:
    session = session_of(request)
    if not session.signed_in:
        raise SignInFirst(request.url.path)
    return session


def cadre_only(request: Request) -> Session:
    """The signed-in cadre; anyone else gets the 403 page before any API is asked."""
    session = signed_in(request)
    if not session.is_cadre():
        raise PageError(403, "error.403")
    return session


class SignInFirst(Exception):
    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


async def unread_count(request: Request, session: Session) -> int | None:
    """The header's unread count as the page is drawn (portal.js keeps it live)."""
    if not session.signed_in or session.token is None:
        return None
    try:
        body = await request.app.state.services.call(
            "notifications", "GET", "/inbox/unread", session.token
        )
    except (ApiError, httpx.HTTPError):
        return None
    return int(body["unread"])


async def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    session = session_of(request)
    unread = context.pop("unread", None)
    if unread is None:
        unread = await unread_count(request, session)
    lang = lang_of(request)
    zone = zone_of(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    flash = session.take_flash()
    return templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "t": lambda key: i18n.translate(lang, key),
            "when": lambda value: i18n.format_datetime(value, lang, zone),
            "number": i18n.format_number,
            "session": session,
            "nav": [item for item in request.app.state.nav if item.shown_to(session)],
            "csrf": session.csrf,
            "here": here,
            "flash": flash,
            "unread": unread,
            "status_code": status,
            "zone": request.app.state.settings.federation_timezone,
            **context,
        },
        status_code=status,
    )


async def error_page(
    request: Request, status: int, message_key: str, detail: str | None
) -> Response:
    return await page(request, "error.html", status, message_key=message_key, detail=detail)


def paging(body: dict[str, Any], cursor: str) -> dict[str, Any]:
    """A paged list's context: its items, the next page's cursor, whether this is a later page."""
    return {"items": body["items"], "next_cursor": body.get("next_cursor"), "paged": bool(cursor)}


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)
