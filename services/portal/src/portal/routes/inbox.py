"""My inbox, marking read, and `/live`: the notifications service's inbox stream passed
through with the session's token, so that the page's script never holds the token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from portal.api import ApiError, Services
from portal.nav import MEMBER, REVIEWER, NavItem
from portal.session import session_of
from portal.web import form_of, page, redirect, signed_in

router = APIRouter()
NAV = (NavItem("/inbox", "nav.inbox", MEMBER | REVIEWER, badge=True),)


@router.get("/inbox")
async def inbox(request: Request, cursor: str = "") -> Response:
    session = signed_in(request)
    assert session.token is not None
    body = await request.app.state.services.call(
        "notifications", "GET", "/inbox", session.token, params={"cursor": cursor}
    )
    items = body["items"]
    # The stream resumes after the newest item shown (0: an empty inbox), so none is missed.
    latest = max((i["position"] for i in items), default=0) if not cursor else None
    return await page(
        request,
        "inbox.html",
        items=items,
        unread=body["unread"],
        latest=latest,
        next_cursor=body.get("next_cursor"),
        paged=bool(cursor),
    )


@router.post("/inbox/read-all")
async def read_all(request: Request) -> Response:
    session = signed_in(request)
    await form_of(request)
    assert session.token is not None
    await request.app.state.services.call("notifications", "POST", "/inbox/read-all", session.token)
    return redirect("/inbox")


@router.post("/inbox/{item_id}/read")
async def read_one(request: Request, item_id: str) -> Response:
    session = signed_in(request)
    await form_of(request)
    assert session.token is not None
    try:
        await request.app.state.services.call(
            "notifications", "POST", f"/inbox/{item_id}/read", session.token
        )
    except ApiError as exc:
        if exc.status in (401, 403):
            raise
        session.say(exc.detail, error=True)
    return redirect("/inbox")


@router.get("/live")
async def live(request: Request, after: int | None = None) -> Response:
    """Server-Sent Events, relayed byte for byte; a reconnect's Last-Event-ID goes on. Any
    answer but a stream is a 204, which tells EventSource to stop trying."""
    session = session_of(request)
    if session.token is None:
        return Response(status_code=204)
    services: Services = request.app.state.services
    headers = {"Accept": "text/event-stream"}
    if last := request.headers.get("last-event-id"):
        headers["Last-Event-ID"] = last
    params = {"after": after} if after is not None and not last else {}
    context = services.stream("notifications", "/inbox/stream", session.token, headers, params)
    try:
        upstream: httpx.Response = await context.__aenter__()
    except httpx.HTTPError:
        return Response(status_code=204)
    if upstream.status_code != 200:
        await context.__aexit__(None, None, None)
        return Response(status_code=204)  # EventSource stops retrying on a 204

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_bytes():
                yield chunk
        finally:
            await context.__aexit__(None, None, None)

    return StreamingResponse(
        relay(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
