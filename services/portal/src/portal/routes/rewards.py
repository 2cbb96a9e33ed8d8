"""Immediate rewards (a grassroots or enterprise cadre): grant one to a member of my org on
the spot — the member found by name or id among the members the awards service knows —
with the quota left for the period in view; and the rewards my org granted."""

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
    all_values,
    awards_listing,
    done,
    honours_page,
    text_checks,
)
from portal.nav import CADRE, NavItem
from portal.session import Session
from portal.web import cadre_only, form_of, lang_of, paging, redirect

router = APIRouter()
NAV = (NavItem("/rewards", "honours.nav.rewards", CADRE, work=True),)
MATCHES = 10
# The awards API's bounds (RewardIn), checked here first.
LIMITS = {"member_id": 200, "home_org": 200, "title": 300, "reason": 2000}
BENEFITS = (
    "cash",
    "promotion_recommendation",
    "further_study",
    "recuperation_leave",
    "study_visit",
    "tourism",
)
# The API's names for the form's fields (money is typed in yuan, sent in fen).
API_FIELDS = {name: name for name in LIMITS} | {"amount_fen": "amount", "benefits": "benefits"}


async def _quota(services: Services, session: Session) -> dict[str, Any] | None:
    """The org's quota, used and left this period; None when it cannot be read (the org
    does not grant here, say): the page says so, the grant form stays."""
    assert session.token is not None
    try:
        quota: dict[str, Any] = await services.call(
            "awards", "GET", f"/orgs/{session.org}/reward-quota", session.token
        )
    except ApiError as exc:
        if exc.status == 401:
            raise
        return None
    return quota


async def _matches(
    services: Services, session: Session, q: str
) -> tuple[list[dict[str, Any]], str | None]:
    """Members of my org (and below) whose name or id holds `q`."""
    assert session.token is not None
    try:
        body = await services.call(
            "awards",
            "GET",
            f"/orgs/{session.org}/members",
            session.token,
            params={"q": q, "limit": MATCHES},
        )
    except ApiError as exc:
        if exc.status == 401:
            raise
        return [], exc.detail
    return body["items"], None


async def _rewards_page(
    request: Request,
    session: Session,
    *,
    cursor: str = "",
    q: str = "",
    form: dict[str, str] | None = None,
    benefits: list[str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    services: Services = request.app.state.services
    assert session.token is not None
    granted = await awards_listing(request, session, f"/orgs/{session.org}/rewards", cursor)
    matches, search_error = (
        await _matches(services, session, q.strip()) if q.strip() else ([], None)
    )
    return await honours_page(
        request,
        "honours/rewards.html",
        status,
        quota=await _quota(services, session),
        **paging(granted, cursor),
        q=q,
        matches=matches,
        search_error=search_error,
        form={"home_org": session.org or "", **(form or {})},
        benefits=BENEFITS,
        chosen_benefits=benefits if benefits is not None else ["cash"],
        errors=errors or FormErrors(),
    )


@router.get("/rewards")
async def rewards(
    request: Request, cursor: str = "", q: str = "", member: str = "", home_org: str = ""
) -> Response:
    session = cadre_only(request)
    chosen = {"member_id": member, "home_org": home_org} if member else {}
    return await _rewards_page(request, session, cursor=cursor, q=q, form=chosen)


@router.post("/rewards")
async def grant(request: Request) -> Response:
    session = cadre_only(request)
    form = await form_of(request)
    assert session.token is not None
    lang = lang_of(request)
    chosen = [b for b in await all_values(request, "benefits") if b in BENEFITS]
    errors = text_checks(lang, form, LIMITS)
    try:
        amount_fen = fen_of(form.get("amount", ""))
    except NotMoney as exc:
        errors.fields["amount"] = i18n.translate(lang, exc.key)
        amount_fen = 0
    status = 422
    if not errors:
        payload = {name: form[name].strip() for name in LIMITS} | {
            "amount_fen": amount_fen,
            "benefits": chosen,
        }
        try:
            await request.app.state.services.call(
                "awards", "POST", "/rewards", session.token, json=payload
            )
        except ApiError as exc:
            if exc.status == 401:
                raise
            status = exc.status
            errors = FormErrors.of(exc, API_FIELDS)
            errors.fields = {API_FIELDS[f]: r for f, r in errors.fields.items()}
        else:
            done(request, "honours.rewards.granted")
            return redirect("/rewards")
    return await _rewards_page(
        request, session, form=form, benefits=chosen, errors=errors, status=status
    )
