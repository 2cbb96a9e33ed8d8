"""Programmes open to me, one programme, and the enrol form.

The enrollment API filters and pages (quality area, kind, start date, words of the title;
cursor pages): the portal passes the filters on, a start date as local midnight in the
federation's zone."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal import i18n
from portal.api import ApiError
from portal.nav import CADRE, MEMBER, NavItem
from portal.web import form_of, page, redirect, signed_in, zone_of

router = APIRouter()
NAV = (NavItem("/programmes", "nav.programmes", MEMBER | CADRE),)
PAGE = 20


def api_filters(area: str, kind: str, since: str, q: str, zone: Any) -> dict[str, str]:
    """The page's filters as the API's query; a value it does not know is left out."""
    params: dict[str, str] = {}
    if area in i18n.QUALITY_AREAS:
        params["quality_area"] = area
    if kind in i18n.KINDS:
        params["kind"] = kind
    if q.strip():
        params["q"] = q.strip()[:100]
    try:
        day = date.fromisoformat(since) if since else None
    except ValueError:
        day = None
    if day is not None:
        params["starts_from"] = datetime.combine(day, time(0), tzinfo=zone).isoformat()
    return params


@router.get("/programmes")
async def programmes(
    request: Request,
    area: str = "",
    kind: str = "",
    since: str = "",
    q: str = "",
    after: str = "",
) -> Response:
    session = signed_in(request)
    assert session.token is not None
    body = await request.app.state.services.call(
        "enrollment",
        "GET",
        "/programmes",
        session.token,
        params={"cursor": after, "limit": PAGE}
        | api_filters(area, kind, since, q, zone_of(request)),
    )
    return await page(
        request,
        "programmes.html",
        items=body["items"],
        next_cursor=body.get("next_cursor"),
        filters={"area": area, "kind": kind, "since": since, "q": q},
        areas=i18n.QUALITY_AREAS,
        kinds=i18n.KINDS,
        paged=bool(after),
    )


@router.get("/programmes/{programme_id}")
async def programme(request: Request, programme_id: str) -> Response:
    session = signed_in(request)
    assert session.token is not None
    found = await request.app.state.services.call(
        "enrollment", "GET", f"/programmes/{programme_id}", session.token
    )
    return await page(request, "programme.html", p=found, errors={})


@router.post("/programmes/{programme_id}/enrol")
async def enrol(request: Request, programme_id: str) -> Response:
    session = signed_in(request)
    await form_of(request)
    assert session.token is not None
    services = request.app.state.services
    try:
        await services.call(
            "enrollment",
            "POST",
            "/enrollments",
            session.token,
            json={"programme_id": programme_id},
        )
    except ApiError as exc:
        if exc.status in (401, 403, 404) and not exc.field_errors:
            raise
        # Shown at the top of the programme's page, beside the enrol button.
        found = await services.call(
            "enrollment", "GET", f"/programmes/{programme_id}", session.token
        )
        return await page(request, "programme.html", 422, p=found, error=exc)
    lang = i18n.pick(request.cookies.get(i18n.COOKIE))
    session.say(i18n.translate(lang, "enrol.sent"))
    return redirect("/enrollments")
