"""My org's training budget for a year (a cadre's): what is available, committed, spent and
left, as figures and bars; the same summed over the subtree hosted here; and the form that
sets the union fund and the education share."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal import i18n
from portal.api import ApiError, Services
from portal.enrollment_chart import bar_chart
from portal.enrollment_pages import cadre, say
from portal.nav import CADRE, NavItem
from portal.web import form_of, lang_of, page, redirect, zone_of

router = APIRouter()
NAV = (NavItem("/budget", "budget.nav", CADRE, work=True),)
FIGURES = ("available", "committed", "spent", "left")
MONEY_ROOM = 115  # beside a bar: "¥12,345,678.00"


def yuan(fen: int) -> str:
    """Fen as yuan, thousands grouped, two decimals (both languages write it so)."""
    return f"¥{fen / 100:,.2f}"


def _year(request: Request, year: str) -> int:
    now = datetime.now(zone_of(request)).year
    return int(year) if year.isdigit() and 2000 <= int(year) <= now + 1 else now


async def _show(request: Request, year: int, status: int = 200, **extra: Any) -> Response:
    session, token = cadre(request)
    services: Services = request.app.state.services
    path = f"/budgets/{session.org}/{year}"
    own, subtree = await asyncio.gather(
        services.call("enrollment", "GET", path, token),
        services.call("enrollment", "GET", f"{path}/subtree", token),
    )
    lang = lang_of(request)
    chart = bar_chart(
        [
            (i18n.translate(lang, f"budget.{f}"), max(own[f], 0) / 100, yuan(own[f]))
            for f in FIGURES
        ],
        value_room=MONEY_ROOM,
    )
    return await page(
        request, "enrollment/budget.html", status, year=year, own=own, subtree=subtree,
        chart=chart, figures=FIGURES, yuan=yuan, errors=extra.pop("errors", {}),
        values=extra.pop("values", None), **extra,
    )  # fmt: skip


@router.get("/budget")
async def budget(request: Request, year: str = "") -> Response:
    return await _show(request, _year(request, year))


@router.post("/budget")
async def set_budget(request: Request) -> Response:
    session, token = cadre(request)
    fields = await form_of(request)
    year = _year(request, fields.get("year", ""))
    lang = lang_of(request)
    errors: dict[str, str] = {}
    try:
        fund = Decimal(fields.get("fund_yuan", "").replace(",", "").strip())
        fund_fen = int(fund * 100)
        if fund < 0 or fund_fen != fund * 100:
            raise InvalidOperation
    except InvalidOperation:
        errors["union_fund_fen"] = i18n.translate(lang, "budget.bad_fund")
    try:
        share = Decimal(fields.get("share_percent", "").strip())
        share_bp = int(share * 100)
        if not 0 <= share <= 100 or share_bp != share * 100:
            raise InvalidOperation
    except InvalidOperation:
        errors["education_share_bp"] = i18n.translate(lang, "budget.bad_share")
    if not errors:
        try:
            await request.app.state.services.call(
                "enrollment", "PUT", f"/budgets/{session.org}/{year}", token,
                json={"union_fund_fen": fund_fen, "education_share_bp": share_bp},
            )  # fmt: skip
        except ApiError as exc:
            if exc.status in (401, 403) and not exc.field_errors:
                raise
            errors = dict(exc.field_errors) or {"": exc.detail}
    if errors:
        return await _show(request, year, 422, errors=errors, values=fields)
    say(request, session, "budget.saved")
    return redirect(f"/budget?year={year}")
