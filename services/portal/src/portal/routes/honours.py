"""My honours and rewards (a member): titles, immediate rewards, proposal rewards and
stipend payments from the awards service's honours record, newest first, paged, with the
totals of all of them."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal.honours_pages import awards_listing, honours_page, member_only
from portal.nav import MEMBER, NavItem
from portal.web import paging

router = APIRouter()
NAV = (NavItem("/honours", "honours.nav.honours", MEMBER),)


@router.get("/honours")
async def honours(request: Request, cursor: str = "") -> Response:
    session = member_only(request)
    body = await awards_listing(request, session, f"/members/{session.member_id}/honours", cursor)
    return await honours_page(
        request, "honours/honours.html", totals=body["totals"], **paging(body, cursor)
    )
