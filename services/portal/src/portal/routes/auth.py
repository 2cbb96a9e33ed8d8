"""Sign-in (OpenID Connect in production, the local demo issuer's people when it is
configured), sign-out, and the language switch."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal import i18n
from portal.api import ApiError, Services
from portal.oidc import (
    PENDING_COOKIE,
    PENDING_SECONDS,
    Identity,
    OidcClient,
    PendingCodec,
    SignInFailed,
)
from portal.people import DemoIssuer, Person
from portal.session import Session, session_of
from portal.settings import PortalSettings
from portal.web import PageError, form_of, local_path, page, redirect

router = APIRouter()
log = logging.getLogger(__name__)
RENEW_AHEAD_SECONDS = 60  # renew a provider's access token this long before it expires
PREFERENCE_FIELDS = ("language", "time_zone", "quiet_hours", "digest_hour", "channels")


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    return redirect("/programmes" if session_of(request).signed_in else "/signin")


@router.get("/signin")
async def signin_page(request: Request, next: str = "/programmes") -> Response:
    return await page(
        request,
        "signin.html",
        people=request.app.state.people if request.app.state.issuer else [],
        oidc=_oidc(request) is not None,
        next=local_path(next),
    )


def _oidc(request: Request) -> OidcClient | None:
    """The provider's client, made on first use when an issuer is configured (it keeps the
    discovery document and keys for the portal's life)."""
    settings: PortalSettings = request.app.state.settings
    if not settings.oidc_issuer:
        return None
    client: OidcClient | None = getattr(request.app.state, "oidc", None)
    if client is None:
        secret = settings.oidc_client_secret
        client = OidcClient(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scopes=settings.oidc_scopes,
            audience=f"bigschool:{settings.node_id}",
            timeout=settings.api_timeout_seconds,
        )
        request.app.state.oidc = client
    return client


def _callback_uri(request: Request) -> str:
    settings: PortalSettings = request.app.state.settings
    return settings.oidc_redirect_uri or str(request.url_for("oidc_callback"))


@router.get("/signin/oidc")
async def oidc_start(request: Request, next: str = "/programmes") -> Response:
    """Off to the provider; the login in flight waits in its own encrypted cookie."""
    client = _oidc(request)
    if client is None:
        raise PageError(404, "error.404")
    try:
        url, pending = await client.begin(_callback_uri(request), local_path(next))
    except SignInFailed as exc:
        log.warning("OpenID Connect sign-in could not start: %s", exc.reason)
        raise PageError(502, exc.message_key) from exc
    response = redirect(url)
    settings: PortalSettings = request.app.state.settings
    response.set_cookie(
        PENDING_COOKIE,
        PendingCodec(settings.session_key.get_secret_value()).encode(pending),
        max_age=PENDING_SECONDS,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",  # sent on the provider's top-level redirect back, not on a POST
        path="/signin",
    )
    return response


@router.get("/signin/callback", name="oidc_callback")
async def oidc_callback(
    request: Request, state: str = "", code: str = "", error: str = ""
) -> Response:
    """Back from the provider: the code exchanged for tokens, both checked, the session
    started. Whatever fails ends on the sign-in error page, signed out."""
    client = _oidc(request)
    if client is None:
        raise PageError(404, "error.404")
    settings: PortalSettings = request.app.state.settings
    pending = PendingCodec(settings.session_key.get_secret_value()).decode(
        request.cookies.get(PENDING_COOKIE)
    )
    try:
        if error or not code or pending is None:
            raise SignInFailed(error or ("no code" if pending else "no login in flight"))
        who = await client.finish(pending, state, code, _callback_uri(request))
    except SignInFailed as exc:
        log.warning("OpenID Connect sign-in refused: %s", exc.reason)
        status = 502 if exc.message_key == "oidc.unavailable" else 400
        raise PageError(status, exc.message_key) from exc
    session = session_of(request)
    session.reset()
    _hold(session, who)
    response = redirect(local_path(pending.next))
    response.delete_cookie(PENDING_COOKIE, path="/signin")
    saved = await _saved_language(request.app.state.services, who.access_token)
    if saved:
        _remember(response, saved)
    return response


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
    """Signed out here; signed in at the provider, signed out there too (when it offers
    RP-initiated logout), which sends the browser back to the sign-in page."""
    await form_of(request)
    session = session_of(request)
    via_oidc = session.via_oidc
    session.reset()
    client = _oidc(request)
    if via_oidc and client is not None:
        try:
            there = await client.sign_out_url(str(request.url_for("signin_page")))
        except SignInFailed as exc:  # the provider is away: signed out here all the same
            log.warning("OpenID Connect sign-out at the provider skipped: %s", exc.reason)
        else:
            if there:
                return redirect(there)
    return redirect("/signin")


async def renew_if_due(request: Request) -> None:
    """Before a page calls the APIs: an access token from the provider that expires within
    RENEW_AHEAD_SECONDS is renewed with the refresh token. Refused (the session at the
    provider ended), the user is signed out; the provider away, the token serves until it
    expires."""
    session = session_of(request)
    due = session.expires_at is not None and session.expires_at - time.time() < RENEW_AHEAD_SECONDS
    if not (session.via_oidc and session.refresh_token and due):
        return
    client = _oidc(request)
    if client is None:
        return
    try:
        who = await client.refresh(session.refresh_token, session.name or "")
    except SignInFailed as exc:
        if exc.message_key == "oidc.unavailable" and time.time() < (session.expires_at or 0):
            log.warning("OpenID Connect renewal postponed: %s", exc.reason)
            return
        log.info("OpenID Connect renewal refused, signed out: %s", exc.reason)
        session.reset()
        return
    _hold(session, who)


def _hold(session: Session, who: Identity) -> None:
    """The session now speaks for `who`, signed in at the provider."""
    session.token = who.access_token
    session.name, session.org, session.roles = who.name, who.org, who.roles
    session.member_id = who.member_id
    session.via_oidc, session.refresh_token = True, who.refresh_token
    session.expires_at = who.expires_at
    session.changed = True


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
