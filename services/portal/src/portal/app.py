"""The portal's FastAPI app: session and security headers around every request, the pages'
routers, the error pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from portal.api import ApiError, Services
from portal.nav import NavItem
from portal.people import DemoIssuer, load_people
from portal.routes import (
    approvals,
    auth,
    budget,
    dashboards,
    deliveries,
    enrollments,
    honours,
    inbox,
    nominations,
    notices,
    org_programmes,
    preferences,
    programmes,
    proposals,
    record,
    reviews,
    rewards,
    roster,
    schemes,
)
from portal.session import COOKIE, SessionCodec, session_of
from portal.settings import PortalSettings
from portal.web import HERE, SECURITY_HEADERS, PageError, SignInFirst, error_page, redirect

log = logging.getLogger(__name__)


def create_app(settings: PortalSettings, transport: Any = None) -> FastAPI:
    """`transport`: tests hand in an httpx.MockTransport in place of the services."""
    services = Services(
        {
            "enrollment": settings.enrollment_url.rstrip("/"),
            "awards": settings.awards_url.rstrip("/"),
            "notifications": settings.notifications_url.rstrip("/"),
        },
        settings.api_timeout_seconds,
        transport,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await services.aclose()

    app = FastAPI(title="Big School portal", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.services = services
    app.state.zone = ZoneInfo(settings.federation_timezone)
    app.state.people = load_people(settings.demo_people_path)
    app.state.issuer = (
        DemoIssuer(
            settings.demo_private_key_path,
            settings.demo_kid,
            settings.demo_issuer,
            settings.node_id,
        )
        if settings.demo_private_key_path and settings.demo_kid
        else None
    )
    codec = SessionCodec(settings.session_key.get_secret_value(), secure=settings.cookie_secure)

    @app.middleware("http")
    async def session_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.session = codec.decode(request.cookies.get(COOKIE))
        await auth.renew_if_due(request)
        response = await call_next(request)
        if session_of(request).changed:
            codec.write(response, session_of(request))
        response.headers.update(SECURITY_HEADERS)
        return response

    _error_pages(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # In header order: a member's pages, then a cadre's, then a superior's and a reviewer's.
    pages = (
        programmes,
        enrollments,
        record,
        honours,
        proposals,
        notices,
        inbox,
        preferences,
        approvals,
        roster,
        org_programmes,
        budget,
        nominations,
        rewards,
        deliveries,
        dashboards,
        schemes,
        reviews,
    )
    app.include_router(auth.router)
    nav: list[NavItem] = []
    for module in pages:
        app.include_router(module.router)
        nav += module.NAV
    app.state.nav = tuple(nav)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_api_route("/readyz", healthz, include_in_schema=False)
    return app


def _error_pages(app: FastAPI) -> None:
    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return await error_page(request, exc.status, exc.message_key, exc.detail)

    @app.exception_handler(SignInFirst)
    async def sign_in_first(_request: Request, exc: SignInFirst) -> Response:
        return redirect(f"/signin?next={exc.back_to}")

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        if exc.status == 401:  # the token expired or was refused: sign in again
            session = session_of(request)
            session.token = None
            session.changed = True
            return redirect("/signin")
        key = {403: "error.403", 404: "error.404"}.get(exc.status, "error.api")
        return await error_page(request, exc.status if exc.status < 500 else 502, key, exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        key = {403: "error.403", 404: "error.404"}.get(exc.status_code, "error.api")
        return await error_page(request, exc.status_code, key, None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return await error_page(request, 500, "error.api", None)
