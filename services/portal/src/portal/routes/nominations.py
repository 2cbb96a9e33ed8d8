"""A grassroots or enterprise cadre's nominations: the ones their org files, endorses or
owns; a new one with its dossier; endorse, return with reasons, or correct and resubmit at
the step that is theirs. The awards API decides who may act; the page offers the forms."""

from __future__ import annotations

import asyncio
import re
from functools import partial
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal.nav import CADRE, NavItem
from portal.nominations_kit import (
    awards,
    current_stage,
    nominee_names,
    post_form,
    required,
)
from portal.session import Session
from portal.web import cadre_only, form_of, page, paging, redirect

router = APIRouter()
NAV = (NavItem("/nominations", "nominations.nav", CADRE, work=True),)
# Ids are separated by spaces or commas, the ASCII or the full-width (Chinese) ones.
SEPARATORS = r"[\s,;\uff0c\uff1b]+"
FILING_FIELDS = {
    "scheme_id": "round",
    "round_id": "round",
    "member_ids": "member_ids",
    "team_name": "team_name",
    "achievements": "achievements",
}
# action → (API step, the form's required fields, what the API's fields are called here)
ACTIONS: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    "endorse": ("endorse", (), {"comment": "comment"}),
    "return": ("return", ("reasons",), {"reasons": "reasons"}),
    "resubmit": ("resubmit", ("achievements",), {"achievements": "achievements", "note": "note"}),
}


@router.get("/nominations")
async def nominations(request: Request, status: str = "", cursor: str = "") -> Response:
    session = cadre_only(request)
    body = await awards(
        request, session, "GET", "/nominations", params={"status": status, "cursor": cursor}
    )
    return await page(
        request,
        "nominations/list.html",
        chosen=status,
        names=nominee_names,
        stage_of=current_stage,
        **paging(body, cursor),
    )


async def _open_rounds(request: Request, session: Session) -> list[dict[str, Any]]:
    """Every open round of the schemes shown to my org, with its scheme's title."""
    schemes = (await awards(request, session, "GET", "/schemes", params={"limit": 200}))["items"]
    rounds = await asyncio.gather(
        *(awards(request, session, "GET", f"/schemes/{s['scheme_id']}/rounds") for s in schemes)
    )
    return [
        {**r, "scheme_title": s["title"], "nominee": s["nominee"]}
        for s, of_scheme in zip(schemes, rounds, strict=True)
        for r in of_scheme
        if r["status"] == "open"
    ]


async def _filing_form(
    request: Request,
    session: Session,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    return await page(
        request,
        "nominations/new.html",
        status,
        rounds=await _open_rounds(request, session),
        form=form or {},
        errors=errors or {},
        problem=problem,
    )


@router.get("/nominations/new")
async def new_nomination(request: Request) -> Response:
    session = cadre_only(request)
    return await _filing_form(request, session)


@router.post("/nominations/new")
async def file_nomination(request: Request) -> Response:
    session = cadre_only(request)
    form = await form_of(request)
    errors = required(form, ("round", "member_ids", "achievements"))
    if errors:
        return await _filing_form(request, session, 422, form, errors)
    scheme_id, _, round_id = form["round"].partition("/")
    body: dict[str, Any] = {
        "scheme_id": scheme_id,
        "round_id": round_id,
        "member_ids": [m for m in re.split(SEPARATORS, form["member_ids"]) if m],
        "achievements": form["achievements"].strip(),
    }
    if form.get("team_name", "").strip():
        body["team_name"] = form["team_name"].strip()
    again = partial(_filing_form, request, session, 422, form)
    return await post_form(
        request, session, "/nominations", body, FILING_FIELDS, again, "nominations.filed",
        lambda filed: f"/nominations/{filed['nomination_id']}",
    )  # fmt: skip


async def _detail(
    request: Request,
    session: Session,
    nomination_id: str,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    found, trail = await asyncio.gather(
        awards(request, session, "GET", f"/nominations/{nomination_id}"),
        awards(request, session, "GET", f"/nominations/{nomination_id}/trail"),
    )
    return await page(
        request,
        "nominations/detail.html",
        status,
        n=found,
        trail=trail,
        names=nominee_names(found),
        stage=current_stage(found),
        form=form or {},
        errors=errors or {},
        problem=problem,
    )


@router.get("/nominations/{nomination_id}")
async def nomination(request: Request, nomination_id: str) -> Response:
    session = cadre_only(request)
    return await _detail(request, session, nomination_id)


@router.post("/nominations/{nomination_id}/{action}")
async def act(request: Request, nomination_id: str, action: str) -> Response:
    session = cadre_only(request)
    form = await form_of(request)
    if action not in ACTIONS:
        return redirect(f"/nominations/{nomination_id}")
    step, needed, names = ACTIONS[action]
    errors = required(form, needed)
    if errors:
        return await _detail(request, session, nomination_id, 422, form, errors)
    body = {api: form[field].strip() for api, field in names.items() if form.get(field, "").strip()}
    again = partial(_detail, request, session, nomination_id, 422, form)
    path = f"/nominations/{nomination_id}"
    done = f"nominations.{action}.done"
    return await post_form(request, session, f"{path}/{step}", body, names, again, done, path)
