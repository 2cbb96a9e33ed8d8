"""A grassroots cadre's roster: import a spreadsheet (its progress, its error report), and
one member's record: edit, transfer, leave.

The upload is a multipart form (the only one of the portal), checked for its CSRF field and
bounded in size; the portal sends the file on as the body the roster import API wants. The
progress page reloads itself (without JavaScript) or is updated by portal.js from
`/roster/imports/{id}/status` until the job is done."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.api import ApiError, Services
from portal.enrollment_pages import (
    cadre,
    checked_id,
    form_with_blanks,
    pass_file,
    posted,
    refused,
    say,
    send_file,
    upload_of,
)
from portal.nav import CADRE, NavItem
from portal.web import form_of, page, redirect

router = APIRouter()
NAV = (NavItem("/roster", "roster.nav", CADRE, work=True),)
MEDIA_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EDITABLE = ("name", "email", "phone", "employee_no", "language")
RELOAD_SECONDS = 2


MEMBERS_PAGE = 25


@router.get("/roster")
async def roster(request: Request, after: str = "") -> Response:
    return await _roster_page(request, after)


async def _roster_page(
    request: Request, after: str = "", status: int = 200, **extra: Any
) -> Response:
    """The upload form above one page of the org's members."""
    session, token = cadre(request)
    members = await request.app.state.services.call(
        "enrollment", "GET", "/members", token,
        params={"org": session.org, "cursor": after, "limit": MEMBERS_PAGE},
    )  # fmt: skip
    return await page(
        request, "enrollment/roster.html", status, members=members["items"],
        next_cursor=members.get("next_cursor"), paged=bool(after), **({"error": None} | extra),
    )  # fmt: skip


@router.get("/roster/template.{kind}")
async def template(request: Request, kind: str, lang: str = "zh") -> Response:
    _, token = cadre(request)
    if kind not in ("csv", "xlsx") or lang not in ("zh", "en"):
        return redirect("/roster")
    services: Services = request.app.state.services
    return await pass_file(services, "enrollment", f"/rosters/template.{kind}?lang={lang}", token)


@router.post("/roster/imports")
async def upload(request: Request) -> Response:
    session, token = cadre(request)
    sent = await upload_of(request)
    media_type = MEDIA_TYPES.get(PurePath(sent.filename).suffix.lower())
    if not sent.data or media_type is None:
        key = "roster.no_file" if not sent.data else "roster.wrong_type"
        return await _roster_page(request, status=422, problem_key=key)
    try:
        job = await send_file(
            request.app.state.services,
            "enrollment",
            "/rosters/imports",
            token,
            sent.data,
            media_type,
            {"org": session.org},
        )
    except ApiError as exc:
        if exc.status in (401, 403) and not exc.field_errors:
            raise
        # The file as a whole was refused (nothing kept): say why beside the form.
        return await _roster_page(request, status=422, error=exc)
    say(request, session, "roster.queued")
    return redirect(f"/roster/imports/{job['job_id']}")


async def _job(request: Request, job_id: str) -> dict[str, Any]:
    _, token = cadre(request)
    job: dict[str, Any] = await request.app.state.services.call(
        "enrollment", "GET", f"/rosters/imports/{checked_id(job_id)}", token
    )
    return job


def finished(job: dict[str, Any]) -> bool:
    return job["status"] in ("done", "failed")


@router.get("/roster/imports/{job_id}")
async def progress(request: Request, job_id: str) -> Response:
    job = await _job(request, job_id)
    return await page(
        request,
        "enrollment/roster_import.html",
        job=job,
        finished=finished(job),
        reload_seconds=RELOAD_SECONDS,
    )


@router.get("/roster/imports/{job_id}/status")
async def status(request: Request, job_id: str) -> Response:
    """What portal.js needs to move the bar: counts only, no names."""
    job = await _job(request, job_id)
    keys = ("status", "total", "done", "good", "errors", "created", "updated")
    return JSONResponse(
        {k: job[k] for k in keys} | {"finished": finished(job)},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/roster/imports/{job_id}/errors.csv")
async def error_report(request: Request, job_id: str) -> Response:
    _, token = cadre(request)
    return await pass_file(
        request.app.state.services,
        "enrollment",
        f"/rosters/imports/{checked_id(job_id)}/errors.csv",
        token,
    )


@router.get("/roster/find")
async def find(request: Request, member_id: str = "") -> Response:
    cadre(request)
    member_id = member_id.strip()
    if not member_id:
        return redirect("/roster")
    return redirect(f"/roster/members/{member_id}")


@router.get("/roster/members/{member_id}")
async def member_page(request: Request, member_id: str) -> Response:
    _, token = cadre(request)
    found = await request.app.state.services.call(
        "enrollment", "GET", f"/members/{checked_id(member_id)}", token
    )
    return await page(request, "enrollment/member.html", m=found, errors={}, values=found)


@router.post("/roster/members/{member_id}")
async def change(request: Request, member_id: str) -> Response:
    session, token = cadre(request)
    fields = await form_with_blanks(request)
    services: Services = request.app.state.services
    found = await services.call("enrollment", "GET", f"/members/{checked_id(member_id)}", token)
    # Only what changed is sent; an emptied optional field is cleared.
    changes: dict[str, Any] = {}
    for name in EDITABLE:
        if name not in fields:
            continue
        value = fields[name].strip() or None
        if value != found.get(name):
            changes[name] = value
    if not changes:
        say(request, session, "roster.unchanged")
        return redirect(f"/roster/members/{member_id}")
    try:
        await services.call(
            "enrollment", "PATCH", f"/members/{checked_id(member_id)}", token, json=changes
        )
    except ApiError as exc:
        if exc.status in (401, 403) and not exc.field_errors:
            raise
        values = found | {k: fields.get(k, "") for k in EDITABLE}
        errors = {_field(f): r for f, r in exc.field_errors.items()}
        return await page(
            request, "enrollment/member.html", 422, m=found, errors=errors, values=values,
            error=exc,
        )  # fmt: skip
    say(request, session, "roster.saved")
    return redirect(f"/roster/members/{member_id}")


def _field(name: str) -> str:
    """The API names a field by its path (`body.email`): the form by its last part."""
    return name.rsplit(".", 1)[-1]


@router.post("/roster/members/{member_id}/transfer")
async def transfer(request: Request, member_id: str) -> Response:
    session, token = cadre(request)
    fields = await form_of(request)
    to_org = fields.get("to_org", "").strip()
    if not to_org:
        say(request, session, "roster.to_org_needed", error=True)
        return redirect(f"/roster/members/{member_id}")
    try:
        moved = await request.app.state.services.call(
            "enrollment",
            "POST",
            f"/members/{checked_id(member_id)}/transfer",
            token,
            json={"to_org": to_org},
        )
    except ApiError as exc:
        refused(session, exc)
        return redirect(f"/roster/members/{member_id}")
    if moved["status"] == "moved":
        say(request, session, "roster.moved")
        return redirect("/roster")
    # Shown once: only its hash is kept by the service.
    say(request, session, "roster.token_issued")
    assert session.flash is not None
    session.say(f"{session.flash} {moved['token']}")
    return redirect(f"/roster/members/{member_id}")


@router.post("/roster/members/{member_id}/leave")
async def leave(request: Request, member_id: str) -> Response:
    session, token = cadre(request)
    fields = await form_of(request)
    if fields.get("confirm") != "yes":
        say(request, session, "roster.confirm_needed", error=True)
        return redirect(f"/roster/members/{member_id}")
    target = ("enrollment", f"/members/{checked_id(member_id)}/leave")
    if not await posted(request, session, token, target, {}, "roster.left"):
        return redirect(f"/roster/members/{member_id}")
    return redirect("/roster")
