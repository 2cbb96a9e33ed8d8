"""The owner's side of a nomination: the review queue of a scheme's staff (scores, with
recusal enforced by the API and marked here; veto checks per department) and the owner
cadre's decisions on a round (shortlist on public notice, grant or reject, results)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal.api import ApiError
from portal.nav import REVIEWER, NavItem
from portal.nominations_kit import (
    answered,
    average_score,
    awards,
    field_errors,
    nominee_names,
    refused,
    required,
    say,
    staff_only,
)
from portal.session import Session
from portal.web import cadre_only, form_of, page, redirect

router = APIRouter()
NAV = (NavItem("/reviews", "nominations.reviews.nav", REVIEWER, work=True),)
QUEUE = ("veto_check", "in_review")
DECIDABLE = ("in_review", "on_notice")
QUEUE_PAGE = 50  # nominations per page of the review queue
Errors = dict[str, dict[str, str]]  # nomination id → form field → message


async def _owned_rounds(request: Request, session: Session) -> list[dict[str, Any]]:
    """The rounds of the schemes my org owns, newest first within each scheme."""
    schemes = (await awards(request, session, "GET", "/schemes", params={"limit": 200}))["items"]
    mine = [s for s in schemes if s["owner_org"] == session.org and s["owned_here"]]
    rounds = await asyncio.gather(
        *(awards(request, session, "GET", f"/schemes/{s['scheme_id']}/rounds") for s in mine)
    )
    return [
        {**r, "scheme_title": s["title"]} for s, of in zip(mine, rounds, strict=True) for r in of
    ]


async def _departments(request: Request, session: Session, scheme_id: str) -> list[str]:
    """The scheme's veto departments, for the officer's choice; none when the scheme is not
    shown to the staff member's org (an officer from an org above the owner types it)."""
    try:
        scheme = await awards(request, session, "GET", f"/schemes/{scheme_id}")
    except ApiError as exc:
        if exc.status != 404:
            raise
        return []
    return list(scheme["veto_departments"])


async def _queue_page(
    request: Request,
    session: Session,
    status: int = 200,
    errors: Errors | None = None,
    problems: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    after: str | None = None,
) -> Response:
    staff = "reviewer" in session.roles
    items: list[dict[str, Any]] = []
    departments: dict[str, list[str]] = {}
    next_cursor = None
    if staff:
        body = await awards(
            request,
            session,
            "GET",
            "/nominations",
            params={"status": list(QUEUE), "limit": QUEUE_PAGE, "cursor": after},
        )
        items, next_cursor = body["items"], body.get("next_cursor")
        ids = sorted({n["scheme_id"] for n in items})
        found = await asyncio.gather(*(_departments(request, session, i) for i in ids))
        departments = dict(zip(ids, found, strict=True))
    rounds = await _owned_rounds(request, session) if session.is_cadre() else []
    return await page(
        request,
        "nominations/reviews.html",
        status,
        staff=staff,
        items=items,
        next_cursor=next_cursor,
        paged=after is not None,
        departments=departments,
        rounds=rounds,
        names=nominee_names,
        average=average_score,
        errors=errors or {},
        problems=problems or {},
        form=form or {},
    )


@router.get("/reviews")
async def reviews(request: Request, after: str | None = None) -> Response:
    session = staff_only(request)
    return await _queue_page(request, session, after=after)


def _score(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    errors = required(form, ("score",))
    body: dict[str, Any] = {}
    if not errors:
        try:
            body["score"] = float(form["score"])
        except ValueError:
            body["score"] = -1.0
        if not 0 <= body["score"] <= 100:
            errors["score"] = "nominations.reviews.score_range"
    if form.get("comment", "").strip():
        body["comment"] = form["comment"].strip()
    return body, errors


def _veto(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    errors = required(form, ("department", "outcome"))
    vetoed = form.get("outcome") == "vetoed"
    if vetoed and not form.get("reason", "").strip():
        errors["reason"] = "nominations.reviews.veto_reason"
    body: dict[str, Any] = {"department": form.get("department", ""), "vetoed": vetoed}
    if form.get("reason", "").strip():
        body["reason"] = form["reason"].strip()
    return body, errors


STEPS = {
    "score": ("reviews", _score, {"score": "score", "comment": "comment"}),
    "veto": ("veto-checks", _veto, {"department": "department", "reason": "reason"}),
}


@router.post("/reviews/{nomination_id}/{action}")
async def act(request: Request, nomination_id: str, action: str) -> Response:
    session = staff_only(request)
    form = await form_of(request)
    if action not in STEPS:
        return redirect("/reviews")
    step, read, names = STEPS[action]
    body, errors = read(form)
    if errors:
        return await _queue_page(request, session, 422, {nomination_id: errors}, form=form)
    try:
        await awards(request, session, "POST", f"/nominations/{nomination_id}/{step}", json=body)
    except ApiError as exc:
        shown, top = field_errors(exc, names)
        problems = {nomination_id: top} if top else {}
        return await _queue_page(
            request, session, answered(exc), {nomination_id: shown}, problems, form
        )
    say(request, session, f"nominations.reviews.{action}.done")
    return redirect("/reviews")


async def _round_page(
    request: Request,
    session: Session,
    round_id: str,
    status: int = 200,
    errors: Errors | None = None,
    problems: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    round_, listed, results = await asyncio.gather(
        awards(request, session, "GET", f"/rounds/{round_id}"),
        awards(request, session, "GET", f"/rounds/{round_id}/nominations", params={"limit": 200}),
        awards(request, session, "GET", f"/rounds/{round_id}/results", params={"limit": 200}),
    )
    scheme = await awards(request, session, "GET", f"/schemes/{round_['scheme_id']}")
    decided = {r["nomination_id"]: r for r in results["items"]}
    return await page(
        request,
        "nominations/round.html",
        status,
        r=round_,
        s=scheme,
        items=listed["items"],
        decided=decided,
        names=nominee_names,
        average=average_score,
        errors=errors or {},
        problems=problems or {},
        form=form or {},
    )


@router.get("/reviews/rounds/{round_id}")
async def round_decisions(request: Request, round_id: str) -> Response:
    session = cadre_only(request)
    return await _round_page(request, session, round_id)


@router.post("/reviews/rounds/{round_id}/notice")
async def publish_notice(request: Request, round_id: str) -> Response:
    session = cadre_only(request)
    await form_of(request)
    # form_of keeps one value per name; the shortlist's checkboxes repeat theirs.
    chosen = sorted(set(parse_qs((await request.body()).decode()).get("shortlist", [])))
    if not chosen:
        errors = {"notice": {"shortlist": "nominations.decisions.choose"}}
        return await _round_page(request, session, round_id, 422, errors)
    try:
        await awards(
            request,
            session,
            "POST",
            f"/rounds/{round_id}/notices",
            json={"nomination_ids": chosen},
        )
    except ApiError as exc:
        refused(exc)
        problems = {"notice": exc.detail}
        return await _round_page(request, session, round_id, answered(exc), None, problems)
    say(request, session, "nominations.decisions.notice_published")
    return redirect(f"/reviews/rounds/{round_id}")


@router.post("/reviews/rounds/{round_id}/decide/{nomination_id}")
async def decide(request: Request, round_id: str, nomination_id: str) -> Response:
    session = cadre_only(request)
    form = await form_of(request)
    errors = required(form, ("granted", "reasons"))
    if errors:
        return await _round_page(
            request, session, round_id, 422, {nomination_id: errors}, None, form
        )
    body = {"granted": form["granted"] == "yes", "reasons": form["reasons"].strip()}
    try:
        await awards(request, session, "POST", f"/nominations/{nomination_id}/decision", json=body)
    except ApiError as exc:
        shown, top = field_errors(exc, {"reasons": "reasons", "granted": "granted"})
        problems = {nomination_id: top} if top else {}
        return await _round_page(
            request, session, round_id, answered(exc), {nomination_id: shown}, problems, form
        )
    say(request, session, "nominations.decisions.decided")
    return redirect(f"/reviews/rounds/{round_id}")
