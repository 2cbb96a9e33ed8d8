"""A cadre's page: the enrollment requests awaiting their approval, each approved or rejected
(a rejection with its reason, which the member is shown). A member gets the 403 page, before
any API is asked."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal.enrollment_pages import cadre, posted, say
from portal.nav import CADRE, NavItem
from portal.web import form_of, page, redirect

router = APIRouter()
NAV = (NavItem("/approvals", "nav.approvals", CADRE, work=True),)
MAX_REASON = 500  # as the API allows


@router.get("/approvals")
async def approvals(request: Request, after: str = "") -> Response:
    session, token = cadre(request)
    body = await request.app.state.services.call(
        "enrollment",
        "GET",
        "/approvals",
        token,
        params={"org": session.org, "cursor": after},
    )
    return await page(
        request, "approvals.html", items=body["items"], next_cursor=body.get("next_cursor")
    )


@router.post("/approvals/{enrollment_id}")
async def decide(request: Request, enrollment_id: str) -> Response:
    session, token = cadre(request)
    fields = await form_of(request)
    decision = fields.get("decision")
    reason = fields.get("reason", "").strip()
    if decision not in ("approve", "reject"):
        say(request, session, "approvals.choose", error=True)
        return redirect("/approvals")
    if decision == "reject" and not reason:
        say(request, session, "approvals.reason_needed", error=True)
        return redirect("/approvals")
    if len(reason) > MAX_REASON:
        say(request, session, "approvals.reason_long", error=True)
        return redirect("/approvals")
    body = {"approve": decision == "approve", "reason": reason or None}
    target = ("enrollment", f"/enrollments/{enrollment_id}/approval")
    await posted(request, session, token, target, body, f"approvals.{decision}d")
    return redirect("/approvals")
