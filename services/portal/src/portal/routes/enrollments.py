"""My enrollments with status and waitlist position; cancel and accept an offer."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal import i18n
from portal.api import ApiError, Services
from portal.nav import NavItem
from portal.web import form_of, page, redirect, signed_in

router = APIRouter()
NAV = (NavItem("/enrollments", "nav.enrollments"),)
ACTIONS = {"cancel": "cancel.sent", "accept": "accept.sent"}


async def _title(services: Services, token: str, programme_id: str) -> str:
    try:
        found = await services.call("enrollment", "GET", f"/programmes/{programme_id}", token)
    except ApiError:
        return programme_id
    return str(found["title"])


@router.get("/enrollments")
async def enrollments(request: Request, cursor: str = "") -> Response:
    session = signed_in(request)
    assert session.token is not None
    services: Services = request.app.state.services
    body = await services.call(
        "enrollment", "GET", "/enrollments", session.token, params={"cursor": cursor}
    )
    items: list[dict[str, Any]] = body["items"]
    ids = sorted({e["programme_id"] for e in items})
    titles = dict(
        zip(
            ids,
            await asyncio.gather(*(_title(services, session.token, i) for i in ids)),
            strict=True,
        )
    )
    return await page(
        request,
        "enrollments.html",
        items=items,
        titles=titles,
        next_cursor=body.get("next_cursor"),
        paged=bool(cursor),
    )


@router.post("/enrollments/{enrollment_id}/{action}")
async def act(request: Request, enrollment_id: str, action: str) -> Response:
    session = signed_in(request)
    await form_of(request)
    assert session.token is not None
    if action not in ACTIONS:
        return redirect("/enrollments")
    lang = i18n.pick(request.cookies.get(i18n.COOKIE))
    try:
        await request.app.state.services.call(
            "enrollment", "POST", f"/enrollments/{enrollment_id}/{action}", session.token, json={}
        )
    except ApiError as exc:
        if exc.status in (401, 403):
            raise
        session.say(exc.detail, error=True)
    else:
        session.say(i18n.translate(lang, ACTIONS[action]))
    return redirect("/enrollments")
