"""The delivery log of my org's members (a cadre's): failed deliveries first (the default
filter), each with its attempts, and a retry that makes a failed one due again."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal.enrollment_pages import cadre, posted, safe_id
from portal.nav import CADRE, NavItem
from portal.web import PageError, form_of, page, paging, redirect

router = APIRouter()
NAV = (NavItem("/deliveries", "deliv.nav", CADRE, work=True),)
STATUSES = ("failed", "pending", "sent", "skipped")
CHANNELS = ("email", "sms", "inapp")


@router.get("/deliveries")
async def deliveries(
    request: Request, status: str = "failed", channel: str = "", after: str = ""
) -> Response:
    session, token = cadre(request)
    status = status if status in STATUSES else ""
    channel = channel if channel in CHANNELS else ""
    body = await request.app.state.services.call(
        "notifications", "GET", "/deliveries", token,
        params={"org": session.org, "status": status, "channel": channel, "cursor": after},
    )  # fmt: skip
    return await page(
        request, "enrollment/deliveries.html", chosen_status=status, channel=channel,
        statuses=STATUSES, channels=CHANNELS, **paging(body, after),
    )  # fmt: skip


@router.post("/deliveries/{delivery_id}/retry")
async def retry(request: Request, delivery_id: str) -> Response:
    session, token = cadre(request)
    await form_of(request)
    if not safe_id(delivery_id):
        raise PageError(404, "error.404")
    target = ("notifications", f"/deliveries/{delivery_id}/retry")
    await posted(request, session, token, target, {}, "deliv.retried")
    return redirect("/deliveries")
