"""My org's programmes (a cadre's): each with its participants and waitlist, attendance
(many at once: the API records them all or none) and results (score, rank) entered."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal.api import Services
from portal.enrollment_pages import cadre, checked_id, posted, safe_id, say
from portal.nav import CADRE, NavItem
from portal.web import form_of, page, paging, redirect

router = APIRouter()
NAV = (NavItem("/org/programmes", "orgp.nav", CADRE, work=True),)
PAGE = 20
SEATS_PAGE = 100


@router.get("/org/programmes")
async def mine(request: Request, after: str = "") -> Response:
    session, token = cadre(request)
    body = await request.app.state.services.call(
        "enrollment", "GET", "/programmes", token,
        params={"owner_org": session.org, "cursor": after, "limit": PAGE},
    )  # fmt: skip
    return await page(request, "enrollment/org_programmes.html", **paging(body, after))


@router.get("/org/programmes/{programme_id}")
async def participants(request: Request, programme_id: str, after: str = "") -> Response:
    _, token = cadre(request)
    services: Services = request.app.state.services
    path = f"/programmes/{checked_id(programme_id)}"
    programme, seats = await asyncio.gather(
        services.call("enrollment", "GET", path, token),
        services.call(
            "enrollment", "GET", f"{path}/seats", token,
            params={"cursor": after, "limit": SEATS_PAGE},
        ),
    )  # fmt: skip
    items: list[dict[str, Any]] = seats["items"]
    return await page(
        request, "enrollment/org_programme.html", p=programme,
        seated=[s for s in items if s["status"] not in ("waitlisted", "offered")],
        waiting=[s for s in items if s["status"] in ("waitlisted", "offered")],
        next_cursor=seats.get("next_cursor"),
    )  # fmt: skip


@router.post("/org/programmes/{programme_id}/attendance")
async def attendance(request: Request, programme_id: str) -> Response:
    session, token = cadre(request)
    fields = await _form_list(request)
    back = f"/org/programmes/{checked_id(programme_id)}"
    chosen = [e for e in fields.get("seat", []) if safe_id(e)]
    verdict = (fields.get("attended") or [""])[0]
    if not chosen or verdict not in ("yes", "no"):
        say(request, session, "orgp.choose_seats", error=True)
        return redirect(back)
    body = {"enrollment_ids": chosen, "attended": verdict == "yes"}
    target = ("enrollment", f"/programmes/{programme_id}/attendance")
    await posted(request, session, token, target, body, "orgp.attendance_saved")
    return redirect(back)


async def _form_list(request: Request) -> dict[str, list[str]]:
    """The checked form with every value of a repeated field (the seats ticked)."""
    await form_of(request)
    return parse_qs((await request.body()).decode("utf-8", "replace"))


@router.post("/org/programmes/{programme_id}/seats/{enrollment_id}/result")
async def result(request: Request, programme_id: str, enrollment_id: str) -> Response:
    session, token = cadre(request)
    fields = await form_of(request)
    back = f"/org/programmes/{checked_id(programme_id)}"
    checked_id(enrollment_id)
    body: dict[str, Any] = {}
    try:
        if fields.get("score", "").strip():
            body["score"] = float(fields["score"])
        if fields.get("rank", "").strip():
            body["rank"] = int(fields["rank"])
    except ValueError:
        say(request, session, "orgp.bad_number", error=True)
        return redirect(back)
    target = ("enrollment", f"/programmes/{programme_id}/seats/{enrollment_id}/completion")
    await posted(request, session, token, target, body, "orgp.result_saved")
    return redirect(back)
