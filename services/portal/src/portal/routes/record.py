"""My learning record: hours per quality area in a year as a chart (and a table), the
last years' totals, the completions, and my certificates — each PDF passed through the
portal, each verification link shown to copy and share."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from portal import i18n
from portal.api import Services
from portal.enrollment_chart import bar_chart
from portal.enrollment_pages import member, pass_file, safe_id
from portal.nav import NavItem
from portal.web import PageError, lang_of, page, zone_of

router = APIRouter()
NAV = (NavItem("/record", "record.nav"),)
YEARS_SHOWN = 5


@router.get("/record")
async def record(request: Request, year: str = "") -> Response:
    _, token, member_id = member(request)
    services: Services = request.app.state.services
    this_year = datetime.now(zone_of(request)).year
    chosen = int(year) if year.isdigit() and 1900 <= int(year) <= this_year else this_year
    years = list(range(this_year - YEARS_SHOWN + 1, this_year + 1))

    async def year_of(y: int) -> dict[str, Any]:
        found: dict[str, Any] = await services.call(
            "enrollment", "GET", f"/members/{member_id}/learning-record", token,
            params={"year": y},
        )  # fmt: skip
        return found

    shown, certificates, *past = await asyncio.gather(
        year_of(chosen),
        services.call("enrollment", "GET", f"/members/{member_id}/certificates", token),
        *(year_of(y) for y in years),
    )
    lang = lang_of(request)
    by_area = shown["hours_by_quality_area"]
    area_rows = [(a, float(by_area.get(a, 0))) for a in i18n.QUALITY_AREAS]
    area_chart = bar_chart(
        [(i18n.translate(lang, f"area.{a}"), h, i18n.format_number(h)) for a, h in area_rows]
    )
    year_rows = [(str(r["year"]), float(r["total_hours"])) for r in past]
    year_chart = bar_chart([(y, h, i18n.format_number(h)) for y, h in year_rows])
    return await page(
        request,
        "enrollment/record.html",
        year=chosen,
        years=years,
        record=shown,
        area_chart=area_chart,
        year_chart=year_chart,
        certificates=certificates["items"],
    )


@router.get("/record/certificates/{certificate_id}.pdf")
async def certificate_pdf(request: Request, certificate_id: str) -> Response:
    _, token, _ = member(request)
    if not safe_id(certificate_id):
        raise PageError(404, "error.404")
    return await pass_file(
        request.app.state.services, "enrollment", f"/certificates/{certificate_id}.pdf", token
    )
