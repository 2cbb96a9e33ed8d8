"""Public notices of a round's shortlist: a member reads those of their subtree and files an
objection while one runs; the owner org's cadre reads the objections on their notices and
answers each (upheld withdraws the nomination)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal.api import ApiError
from portal.nav import CADRE, MEMBER, NavItem
from portal.nominations_kit import answered, awards, field_errors, required, say
from portal.session import Session
from portal.web import form_of, page, paging, redirect, signed_in

router = APIRouter()
NAV = (NavItem("/notices", "nominations.notices.nav", MEMBER | CADRE),)
OBJECTION_FIELDS = {"nomination_id": "nomination_id", "reasons": "reasons"}
Errors = dict[str, dict[str, str]]  # "objection" or an objection's id → field → message


@router.get("/notices")
async def notices(request: Request, cursor: str = "") -> Response:
    session = signed_in(request)
    body = await awards(request, session, "GET", "/notices", params={"cursor": cursor})
    return await page(request, "nominations/notices.html", **paging(body, cursor))


def _answers_objections(session: Session, notice: dict[str, Any]) -> bool:
    return session.is_cadre() and notice["owner_org"] == session.org


async def _notice_page(
    request: Request,
    session: Session,
    notice_id: str,
    cursor: str = "",
    status: int = 200,
    errors: Errors | None = None,
    problems: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    notice = await awards(
        request, session, "GET", f"/notices/{notice_id}", params={"cursor": cursor}
    )
    objections: list[dict[str, Any]] = []
    if _answers_objections(session, notice):
        body = await awards(
            request,
            session,
            "GET",
            f"/rounds/{notice['round_id']}/objections",
            params={"limit": 200},
        )
        objections = [o for o in body["items"] if o["notice_id"] == notice_id]
    names = {
        e["nomination_id"]: e.get("team_name")
        or ", ".join(n["display_name"] for n in e["nominees"])
        for e in notice["entries"]
    }
    return await page(
        request,
        "nominations/notice.html",
        status,
        notice=notice,
        names=names,
        objections=objections,
        may_object=bool(session.member_id) and notice["open"],
        errors=errors or {},
        problems=problems or {},
        form=form or {},
        cursor=cursor,
    )


@router.get("/notices/{notice_id}")
async def notice(request: Request, notice_id: str, cursor: str = "") -> Response:
    session = signed_in(request)
    return await _notice_page(request, session, notice_id, cursor)


@router.post("/notices/{notice_id}/objections")
async def object_to(request: Request, notice_id: str) -> Response:
    session = signed_in(request)
    form = await form_of(request)
    errors = required(form, ("nomination_id", "reasons"))
    if errors:
        return await _notice_page(
            request, session, notice_id, status=422, errors={"objection": errors}, form=form
        )
    body = {"nomination_id": form["nomination_id"], "reasons": form["reasons"].strip()}
    try:
        filed = await awards(
            request, session, "POST", f"/notices/{notice_id}/objections", json=body
        )
    except ApiError as exc:
        shown, top = field_errors(exc, OBJECTION_FIELDS)
        return await _notice_page(
            request,
            session,
            notice_id,
            status=answered(exc),
            errors={"objection": shown},
            problems={"objection": top} if top else {},
            form=form,
        )
    say(request, session, "nominations.objections.filed")
    return redirect(f"/notices/objections/{filed['objection_id']}")


@router.get("/notices/objections/{objection_id}")
async def objection(request: Request, objection_id: str) -> Response:
    session = signed_in(request)
    found = await awards(request, session, "GET", f"/objections/{objection_id}")
    return await page(request, "nominations/objection.html", o=found)


@router.post("/notices/{notice_id}/objections/{objection_id}/resolve")
async def resolve(request: Request, notice_id: str, objection_id: str) -> Response:
    session = signed_in(request)
    form = await form_of(request)
    errors = required(form, ("upheld", "answer"))
    if errors:
        return await _notice_page(
            request, session, notice_id, status=422, errors={objection_id: errors}, form=form
        )
    body = {"upheld": form["upheld"] == "yes", "answer": form["answer"].strip()}
    try:
        await awards(request, session, "POST", f"/objections/{objection_id}/resolve", json=body)
    except ApiError as exc:
        shown, top = field_errors(exc, {"answer": "answer", "upheld": "upheld"})
        return await _notice_page(
            request,
            session,
            notice_id,
            status=answered(exc),
            errors={objection_id: shown},
            problems={objection_id: top} if top else {},
            form=form,
        )
    say(request, session, "nominations.objections.answered")
    return redirect(f"/notices/{notice_id}")
