"""Programmes open to me, one programme, and the enrol form.

The enrollment API pages programmes by cursor and has no filters: the portal filters what it
fetches (quality area, kind, start date, words of the title), reading on for a few pages
while a filtered page is still short."""

from __future__ import annotations

from datetime import datetime
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
PAGE = 50
SHOWN = 20  # with filters on, read on until this many match …
SCAN_PAGES = 5  # … or this many pages were read


def _matches(p: dict[str, Any], area: str, kind: str, since: str, q: str, zone: Any) -> bool:
    if area and p["quality_area"] != area:
        return False
    if kind and p["kind"] != kind:
        return False
    if q and q.casefold() not in p["title"].casefold():
        return False
    if since:
        try:
            day = datetime.fromisoformat(since).date()
        except ValueError:
            return True
        return bool(datetime.fromisoformat(p["starts_at"]).astimezone(zone).date() >= day)
    return True


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
    zone = zone_of(request)
    filtering = any((area, kind, since, q.strip()))
    items: list[dict[str, Any]] = []
    cursor: str | None = after
    for _ in range(SCAN_PAGES if filtering else 1):
        body = await request.app.state.services.call(
            "enrollment",
            "GET",
            "/programmes",
            session.token,
            params={"after": cursor, "limit": PAGE},
        )
        items += [p for p in body["items"] if _matches(p, area, kind, since, q.strip(), zone)]
        cursor = body.get("next_cursor")
        if cursor is None or len(items) >= SHOWN:
            break
    return await page(
        request,
        "programmes.html",
        items=items,
        next_cursor=cursor,
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
