"""Sign-in with the local demo issuer, sign-out, and the language switch."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal import i18n
from portal.api import ApiError, Services
from portal.people import DemoIssuer, Person
from portal.session import session_of
from portal.web import PageError, form_of, local_path, page, redirect

router = APIRouter()
log = logging.getLogger(__name__)
PREFERENCE_FIELDS = ("language", "time_zone", "quiet_hours", "digest_hour", "channels")


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    return redirect("/programmes" if session_of(request).signed_in else "/signin")


@router.get("/signin")
async def signin_page(request: Request, next: str = "/programmes") -> Response:
    return await page(request, "signin.html", people=request.app.state.people, next=next)


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await form_of(request)
    issuer: DemoIssuer | None = request.app.state.issuer
    people: list[Person] = request.app.state.people
    person = next((p for p in people if p.key == form.get("person")), None)
    if issuer is None or person is None:
        raise PageError(404, "error.404")
    session = session_of(request)
    session.reset()
    session.token = issuer.token_for(person)
    session.name, session.org, session.roles = person.name, person.org, list(person.roles)
    session.member_id = person.member_id
    session.changed = True
    response = redirect(local_path(form.get("next")))
    saved = await _saved_language(request.app.state.services, session.token)
    if saved:
        _remember(response, saved)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    await form_of(request)
    session_of(request).reset()
    return redirect("/signin")


@router.post("/lang/{code}")
async def switch_language(request: Request, code: str) -> Response:
    """Back to the same page in the other language; a member's choice is also saved as the
    language their notifications are written in."""
    form = await form_of(request)
    lang = i18n.pick(code)
    session = session_of(request)
    if session.token is not None and session.member_id is not None:
        await _save_language(request.app.state.services, session.token, lang)
    response = redirect(local_path(form.get("next")))
    _remember(response, lang)
    return response


def _remember(response: Response, lang: str) -> None:
    response.set_cookie(i18n.COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)


async def _saved_language(services: Services, token: str) -> str | None:
    try:
        prefs = await services.call("notifications", "GET", "/preferences/me", token)
    except ApiError:
        return None  # not a member with preferences (a cadre): the cookie decides
    language = prefs.get("language") or prefs.get("effective", {}).get("language")
    return language if language in i18n.LANGUAGES else None


async def _save_language(services: Services, token: str, lang: str) -> None:
    """PUT replaces all preferences: the others are sent back as they are."""
    try:
        prefs = await services.call("notifications", "GET", "/preferences/me", token)
        body = {k: prefs.get(k) for k in PREFERENCE_FIELDS if k in prefs}
        body["language"] = lang
        await services.call("notifications", "PUT", "/preferences/me", token, json=body)
    except ApiError as exc:
        log.warning("could not save the language preference: %s %s", exc.status, exc.detail)
