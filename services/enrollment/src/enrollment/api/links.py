"""One-click links from e-mails (no login): GET shows what the link does, POST does it —
once. A link is refused when it was changed (403), is too old or was used already (410)."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from enrollment import repository
from enrollment.api.deps import Ctx, Db
from enrollment.service import member_actions
from enrollment.service.context import Context
from shared.links import Link, LinkExpired, LinkRefused

router = APIRouter(prefix="/links", tags=["one-click links"])

CANCEL = "cancel-enrollment"
# A person follows these links: refusals are pages too (OpenAPI; shared/web/problem_docs.py).
PAGES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": {"text/html": {}}}
    for status, description in [
        (403, "The link was changed or is not for this."),
        (404, "Links are not enabled here."),
        (410, "The link is too old or was used already."),
    ]
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status)


def _read(ctx: Context, token: str) -> Link | HTMLResponse:
    if ctx.links is None:
        return _page("Links are not enabled here", "", 404)
    try:
        link = ctx.links.read(token)
    except LinkExpired:
        return _page(
            "This link has expired", "<p>Please sign in to change your enrollment.</p>", 410
        )
    except LinkRefused:
        return _page("This link is not valid", "", 403)
    if link.action != CANCEL:
        return _page("This link is not valid", "", 403)
    return link


@router.get(
    "/{token}",
    response_class=HTMLResponse,
    responses=PAGES,
    summary="What a one-click link will do",
)
async def show(token: str, ctx: Ctx, db: Db) -> HTMLResponse:
    link = _read(ctx, token)
    if isinstance(link, HTMLResponse):
        return link
    async with db.reading() as session:
        enrollment = await repository.get_enrollment(session, link.subject)
        programme = (
            await repository.get_programme(session, enrollment.programme_id) if enrollment else None
        )
    if enrollment is None or programme is None:
        return _page("This link is not valid", "", 403)
    if enrollment.link_used_at is not None:
        return _page("This link has been used", "", 410)
    form = (
        f"<p>Give up your place in “{escape(programme.title)}”?</p>"
        f'<form method="post"><button type="submit">Give up my place</button></form>'
    )
    return _page("Give up your place", form)


@router.post(
    "/{token}",
    response_class=HTMLResponse,
    responses=PAGES,
    summary="Do what a one-click link says",
)
async def act(token: str, ctx: Ctx, db: Db) -> HTMLResponse:
    link = _read(ctx, token)
    if isinstance(link, HTMLResponse):
        return link
    async with db.transaction() as session:
        enrollment = await repository.get_enrollment(session, link.subject)
        if enrollment is None:
            return _page("This link is not valid", "", 403)
        if enrollment.link_used_at is not None:
            return _page("This link has been used", "", 410)
        await member_actions.cancel(session, ctx, enrollment, by="member")
        enrollment.link_used_at = ctx.clock.now()
    return _page("Your place is being given up", "<p>You will get a confirmation.</p>")
