"""A superior cadre's schemes and rounds: the schemes shown to their org (those it owns can
be run from here), a new scheme, a round opened, closed and, once every nomination has its
decision, published. The awards API allows each step to the owner org's cadres only."""

from __future__ import annotations

import asyncio
from datetime import datetime, time
from functools import partial
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal.api import ApiError
from portal.nav import CADRE, NavItem
from portal.nominations_kit import awards, post_form, refused, required, say
from portal.session import Session
from portal.web import cadre_only, form_of, local_path, page, redirect, zone_of

router = APIRouter()
NAV = (NavItem("/schemes", "nominations.schemes.nav", CADRE, work=True),)
KINDS = (
    "model_worker",
    "star_team",
    "star_employee",
    "pioneer_worker",
    "skilled_craftsman",
    "operational_expert",
    "technical_post_leader",
    "multi_skilled_worker",
    "technical_appraisal_grade",
    "annual_top_earner",
    "rationalization_proposal",
    "technological_innovation",
    "energy_saving",
    "immediate_reward",
)
SCHEME_FIELDS = {
    name: name
    for name in ("kind", "title", "nominee", "quotas", "reviewers", "min_reviews", "notice_days")
} | {
    "criteria": "min_hours",
    "endorse_levels": "endorse_levels",
    "veto_departments": "veto",
    "benefits": "cash_yuan",
    "budget_fen": "budget_yuan",
}
ROUND_FIELDS = {"name": "name", "year": "year", "deadline": "deadline"}


def _pairs(text: str, field: str, errors: dict[str, str]) -> list[tuple[str, str]]:
    """Lines of two words (`org 3`, `department officer`, `reviewer org`)."""
    pairs = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        if len(words) != 2:
            errors[field] = "nominations.schemes.two_words"
            return []
        pairs.append((words[0], words[1]))
    return pairs


def _whole(text: str, field: str, errors: dict[str, str], scale: int = 1) -> int | None:
    if not text.strip():
        return None
    try:
        return round(float(text) * scale)
    except ValueError:
        errors[field] = "nominations.schemes.number"
        return None


def scheme_body(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The API's scheme from the form, and the fields the portal can already tell are wrong."""
    errors = required(form, ("title", "reviewers"))
    body: dict[str, Any] = {
        "kind": form.get("kind", ""),
        "title": form.get("title", "").strip(),
        "nominee": form.get("nominee") or "member",
        "endorse_levels": [lv for lv in ("grassroots", "enterprise") if form.get(f"level_{lv}")],
    }
    hours = _whole(form.get("min_hours", ""), "min_hours", errors)
    body["criteria"] = {"min_training_hours": hours} if hours is not None else {}
    quotas = _pairs(form.get("quotas", ""), "quotas", errors)
    body["quotas"] = []
    for org, count in quotas:
        if not count.isdigit():
            errors["quotas"] = "nominations.schemes.two_words"
        else:
            body["quotas"].append({"org_id": org, "nominations": int(count)})
    body["veto_departments"] = [
        {"department": d, "officer": o} for d, o in _pairs(form.get("veto", ""), "veto", errors)
    ]
    body["reviewers"] = [
        {"sub": s, "org_id": o} for s, o in _pairs(form.get("reviewers", ""), "reviewers", errors)
    ]
    for name in ("min_reviews", "notice_days"):
        if (value := _whole(form.get(name, ""), name, errors)) is not None:
            body[name] = value
    cash = _whole(form.get("cash_yuan", ""), "cash_yuan", errors, 100)
    body["benefits"] = [{"kind": "cash", "amount_fen": cash}] if cash else []
    budget = _whole(form.get("budget_yuan", ""), "budget_yuan", errors, 100)
    if budget is not None:
        body["budget_fen"] = budget
    return body, errors


async def _schemes_page(
    request: Request,
    session: Session,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    schemes = (await awards(request, session, "GET", "/schemes", params={"limit": 200}))["items"]
    return await page(
        request,
        "nominations/schemes.html",
        status,
        schemes=schemes,
        kinds=KINDS,
        form=form or {"min_reviews": "2", "notice_days": "7"},
        errors=errors or {},
        problem=problem,
    )


@router.get("/schemes")
async def schemes(request: Request) -> Response:
    session = cadre_only(request)
    return await _schemes_page(request, session)


@router.post("/schemes")
async def create_scheme(request: Request) -> Response:
    session = cadre_only(request)
    form = await form_of(request)
    body, errors = scheme_body(form)
    if errors:
        return await _schemes_page(request, session, 422, form, errors)
    again = partial(_schemes_page, request, session, 422, form)
    return await post_form(
        request, session, "/schemes", body, SCHEME_FIELDS, again, "nominations.schemes.created",
        lambda created: f"/schemes/{created['scheme_id']}",
    )  # fmt: skip


async def _scheme_page(
    request: Request,
    session: Session,
    scheme_id: str,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    scheme, rounds = await asyncio.gather(
        awards(request, session, "GET", f"/schemes/{scheme_id}"),
        awards(request, session, "GET", f"/schemes/{scheme_id}/rounds"),
    )
    return await page(
        request,
        "nominations/scheme.html",
        status,
        s=scheme,
        rounds=rounds,
        mine=scheme["owner_org"] == session.org and scheme["owned_here"],
        form=form or {},
        errors=errors or {},
        problem=problem,
    )


@router.get("/schemes/{scheme_id}")
async def scheme(request: Request, scheme_id: str) -> Response:
    session = cadre_only(request)
    return await _scheme_page(request, session, scheme_id)


@router.post("/schemes/{scheme_id}/rounds")
async def open_round(request: Request, scheme_id: str) -> Response:
    session = cadre_only(request)
    form = await form_of(request)
    errors = required(form, ("name", "year", "deadline"))
    body: dict[str, Any] = {"name": form.get("name", "").strip()}
    try:
        body["year"] = int(form.get("year", ""))
    except ValueError:
        errors.setdefault("year", "nominations.schemes.number")
    try:  # the deadline is the end of that day in the federation's zone
        day = datetime.fromisoformat(form.get("deadline", "")).date()
        body["deadline"] = datetime.combine(day, time(23, 59, 59), zone_of(request)).isoformat()
    except ValueError:
        errors.setdefault("deadline", "nominations.schemes.date")
    if errors:
        return await _scheme_page(request, session, scheme_id, 422, form, errors)
    again = partial(_scheme_page, request, session, scheme_id, 422, form)
    path = f"/schemes/{scheme_id}"
    done = "nominations.rounds.opened"
    return await post_form(
        request, session, f"{path}/rounds", body, ROUND_FIELDS, again, done, path
    )


@router.post("/schemes/{scheme_id}/rounds/{round_id}/{action}")
async def change_round(request: Request, scheme_id: str, round_id: str, action: str) -> Response:
    session = cadre_only(request)
    form = await form_of(request)
    back = local_path(form.get("next") or f"/schemes/{scheme_id}")
    if action not in ("close", "publish"):
        return redirect(back)
    try:
        await awards(request, session, "POST", f"/rounds/{round_id}/{action}", json={})
    except ApiError as exc:
        refused(exc)
        session.say(exc.detail, error=True)
    else:
        say(request, session, f"nominations.rounds.{action}.done")
    return redirect(back)
