"""Rationalization proposals. A member submits one (`/proposals`: the form and the list of
mine) and follows it (`/proposals/{id}`: every evaluation step); cadres of the evaluating
org see their org's (`/proposals/evaluate`) and take each step on the proposal's page:
adopt or reject with reasons, trial, assess the yearly benefit, reward by the tier table."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal import i18n
from portal.api import ApiError, Services
from portal.honours_money import NotMoney, fen_of
from portal.honours_pages import (
    FormErrors,
    awards_listing,
    done,
    honours_page,
    member_only,
    text_checks,
)
from portal.nav import CADRE, MEMBER, NavItem
from portal.session import Session
from portal.web import PageError, cadre_only, form_of, lang_of, paging, redirect, signed_in

router = APIRouter()
NAV = (
    NavItem("/proposals", "honours.nav.proposals", MEMBER),
    NavItem("/proposals/evaluate", "honours.nav.evaluate", CADRE, work=True),
)
# The awards API's bounds (ProposalIn, RejectIn, NoteIn, AssessIn), checked here first.
LIMITS = {"title": 300, "problem": 5000, "proposal": 5000, "expected_benefit": 2000}
NOTE_LIMIT = 2000
STATES = ("submitted", "adopted", "in_trial", "assessed", "rewarded", "rejected")
ACTIONS = ("reject", "adopt", "trial", "assess", "reward")
ACTION_FIELDS = {"reject": ("reasons",), "assess": ("benefit", "note")}
# The step each state waits for (the API answers 409 to any other).
NEXT_STEPS = {
    "submitted": ("adopt", "reject"),
    "adopted": ("trial",),
    "in_trial": ("assess",),
    "assessed": ("reward",),
}
MAX_BENEFIT_FEN = 10**15  # the API's bound on a yearly benefit


async def _evaluators(request: Request, session: Session) -> list[dict[str, Any]]:
    """Who may evaluate the member's proposal: their home org and the orgs above it that
    this node hosts (the API refuses others). On any trouble, the home org alone."""
    services: Services = request.app.state.services
    node = request.app.state.settings.node_id
    assert session.token is not None
    found: list[dict[str, Any]] = []
    org_id: str | None = session.org
    while org_id and len(found) < 8:
        try:
            org = await services.call("enrollment", "GET", f"/orgs/{org_id}", session.token)
        except ApiError:
            break
        if org.get("hosted_by") != node and found:
            break
        found.append(org)
        org_id = org.get("parent_id")
    return found or [{"org_id": session.org, "name": session.org}]


async def _mine_page(
    request: Request,
    session: Session,
    cursor: str,
    *,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    body = await awards_listing(request, session, f"/members/{session.member_id}/proposals", cursor)
    return await honours_page(
        request,
        "honours/proposals.html",
        status,
        **paging(body, cursor),
        evaluators=await _evaluators(request, session),
        form=form or {},
        errors=errors or FormErrors(),
    )


@router.get("/proposals")
async def proposals(request: Request, cursor: str = "") -> Response:
    return await _mine_page(request, member_only(request), cursor)


@router.post("/proposals")
async def submit(request: Request) -> Response:
    session = member_only(request)
    form = await form_of(request)
    assert session.token is not None
    errors = text_checks(lang_of(request), form, LIMITS)
    if errors:
        return await _mine_page(request, session, "", form=form, errors=errors, status=422)
    payload = {name: form[name] for name in LIMITS}
    if form.get("evaluating_org"):
        payload["evaluating_org"] = form["evaluating_org"]
    try:
        created = await request.app.state.services.call(
            "awards", "POST", "/proposals", session.token, json=payload
        )
    except ApiError as exc:
        if exc.status == 401:
            raise
        errors = FormErrors.of(exc, [*LIMITS, "evaluating_org"])
        return await _mine_page(request, session, "", form=form, errors=errors, status=422)
    done(request, "honours.proposals.sent")
    return redirect(f"/proposals/{created['proposal_id']}")


@router.get("/proposals/evaluate")
async def evaluate(request: Request, state: str = "submitted", cursor: str = "") -> Response:
    session = cadre_only(request)
    assert session.token is not None
    if state not in STATES:
        state = ""
    body = await awards_listing(
        request, session, f"/orgs/{session.org}/proposals", cursor, state=state
    )
    return await honours_page(
        request,
        "honours/evaluate.html",
        **paging(body, cursor),
        state=state,
        states=STATES,
    )


async def _proposal_page(
    request: Request,
    session: Session,
    proposal_id: str,
    *,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    assert session.token is not None
    found = await request.app.state.services.call(
        "awards", "GET", f"/proposals/{proposal_id}", session.token
    )
    return await honours_page(
        request,
        "honours/proposal.html",
        status,
        p=found,
        next_steps=NEXT_STEPS.get(found["state"], ()) if session.is_cadre() else (),
        form=form or {},
        errors=errors or FormErrors(),
    )


@router.get("/proposals/{proposal_id}")
async def proposal(request: Request, proposal_id: str) -> Response:
    return await _proposal_page(request, signed_in(request), proposal_id)


def _step_body(lang: str, action: str, form: dict[str, str]) -> tuple[dict[str, Any], FormErrors]:
    """What the API takes for `action`, or the errors of the form (in the reader's words)."""
    note = form.get("note", "")
    if action == "reject":
        errors = text_checks(lang, form, {"reasons": NOTE_LIMIT})
        return {"reasons": form.get("reasons", "")}, errors
    if action == "assess":
        errors = text_checks(lang, form, {"note": NOTE_LIMIT})
        try:
            benefit = fen_of(form.get("benefit", ""), most=MAX_BENEFIT_FEN)
        except NotMoney as exc:
            errors.fields["benefit"] = i18n.translate(lang, exc.key)
            benefit = 0
        return {"benefit_fen": benefit, "note": note}, errors
    if action in ("adopt", "trial"):
        errors = text_checks(lang, form, {"note": NOTE_LIMIT}, optional=["note"])
        return ({"note": note} if note.strip() else {}), errors
    return {}, FormErrors()


@router.post("/proposals/{proposal_id}/{action}")
async def step(request: Request, proposal_id: str, action: str) -> Response:
    session = cadre_only(request)
    form = await form_of(request)
    assert session.token is not None
    if action not in ACTIONS:
        raise PageError(404, "error.404")
    body, errors = _step_body(lang_of(request), action, form)
    status = 422
    if not errors:
        try:
            await request.app.state.services.call(
                "awards", "POST", f"/proposals/{proposal_id}/{action}", session.token, json=body
            )
        except ApiError as exc:
            if exc.status in (401, 404):
                raise
            api_names = {"reasons": "reasons", "note": "note", "benefit_fen": "benefit"}
            status = exc.status
            errors = FormErrors.of(exc, api_names)
            errors.fields = {api_names[f]: r for f, r in errors.fields.items()}
        else:
            done(request, f"honours.act.done.{action}")
            return redirect(f"/proposals/{proposal_id}")
    return await _proposal_page(
        request, session, proposal_id, form=form, errors=errors, status=status
    )
