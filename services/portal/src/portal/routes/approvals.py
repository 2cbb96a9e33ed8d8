"""A cadre's page: the enrollment requests awaiting their approval. A member gets the 403
page, before any API is asked."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal.nav import CADRE, NavItem
from portal.web import PageError, page, signed_in

router = APIRouter()
NAV = (NavItem("/approvals", "nav.approvals", CADRE, work=True),)


@router.get("/approvals")
async def approvals(request: Request, after: str = "") -> Response:
    session = signed_in(request)
    if not session.is_cadre():
        raise PageError(403, "error.403")
    assert session.token is not None
    body = await request.app.state.services.call(
        "enrollment",
        "GET",
        "/approvals",
        session.token,
        params={"org": session.org, "after": after},
    )
    return await page(
        request, "approvals.html", items=body["items"], next_cursor=body.get("next_cursor")
    )
