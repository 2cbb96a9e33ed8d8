"""A superior cadre's dashboard: the roll-ups of their subtree as charts with data tables,
drilled down one level at a time (each child org links to its own dashboard, breadcrumbs
lead back up), exported as CSV or XLSX; and the programmes of the subtree.

Which org a cadre may look at is the roll-up API's decision (404 beyond their subtree); a
member gets the 403 page before any API is asked."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from portal import dashboards_data as data
from portal import i18n
from portal.api import ApiError
from portal.nav import CADRE, NavItem
from portal.web import PageError, cadre_only, lang_of, page, zone_of
from shared.web.fields import ORG_ID_PATTERN
from shared.web.spreadsheet import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, Cell, safe_cell, xlsx_bytes

router = APIRouter()
NAV = (
    NavItem("/dashboard", "nav.dashboard", CADRE, work=True),
    NavItem("/dashboard/programmes", "nav.dashboard_programmes", CADRE, work=True),
)
YEARS_BACK = 5
SCAN_PAGES = 10  # programmes: pages of the node's list read for the subtree's
CHUNK = 64 * 1024


def _year(year: str) -> int | None:
    """The year asked for; a malformed one is a clear error, not a guess."""
    if not year:
        return None
    if not year.isdigit() or not 2000 <= int(year) <= 2100:
        raise PageError(400, "dash.bad_year")
    return int(year)


async def _board(request: Request, org: str, year: str, after: str) -> data.Dashboard:
    session = cadre_only(request)
    assert session.token is not None and session.org is not None
    if org and not re.fullmatch(ORG_ID_PATTERN, org):  # it goes into an API path
        raise PageError(404, "error.404")
    return await data.load(
        request.app.state.services,
        session.token,
        org or session.org,
        session.org,
        _year(year),
        after,
    )


@router.get("/dashboard")
async def dashboard(request: Request, org: str = "", year: str = "", after: str = "") -> Response:
    board = await _board(request, org, year, after)
    lang = lang_of(request)
    this_year = _this_year(request)
    return await page(
        request,
        "dashboards/dashboard.html",
        board=board,
        charts=data.charts(board, lang),
        years=sorted({*range(this_year, this_year - YEARS_BACK, -1), board.year}, reverse=True),
        after=after,
        bar_max=data.BAR_MAX,
        width=data.WIDTH,
        label_h=data.LABEL_H,
        bar_h=data.BAR_H,
    )


def _this_year(request: Request) -> int:
    return datetime.now(UTC).astimezone(zone_of(request)).year


def _filename(board: data.Dashboard, suffix: str) -> dict[str, str]:
    name = f"dashboard-{board.org_id}-{board.year}.{suffix}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/dashboard/export.csv")
async def export_csv(request: Request, org: str = "", year: str = "", after: str = "") -> Response:
    board = await _board(request, org, year, after)
    header, rows = data.export_header(lang_of(request)), data.export_rows(board)

    def lines() -> Iterator[bytes]:
        yield "\ufeff".encode()  # so that spreadsheet programs read Chinese names right
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        table: list[list[Cell]] = [list(header), *(list(r) for r in rows)]
        for row in table:
            writer.writerow(["" if c is None else safe_cell(c) for c in row])
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()

    return StreamingResponse(
        lines(), media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8", headers=_filename(board, "csv")
    )


@router.get("/dashboard/export.xlsx")
async def export_xlsx(request: Request, org: str = "", year: str = "", after: str = "") -> Response:
    board = await _board(request, org, year, after)
    content = xlsx_bytes(
        [
            (
                f"{board.org_id} {board.year}",
                data.export_header(lang_of(request)),
                data.export_rows(board),
            )
        ]
    )

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(content), CHUNK):
            yield content[start : start + CHUNK]

    return StreamingResponse(chunks(), media_type=XLSX_MEDIA_TYPE, headers=_filename(board, "xlsx"))


@router.get("/dashboard/programmes")
async def subtree_programmes(request: Request, after: str = "") -> Response:
    """The node's programmes whose owner is the cadre's org or an org below it (the list's
    owner filter takes one org, not a subtree: the pages are read and filtered here, the
    tree asked once per owner)."""
    session = cadre_only(request)
    assert session.token is not None and session.org is not None
    services = request.app.state.services
    inside: dict[str, bool] = {}
    items: list[dict[str, Any]] = []
    cursor: str | None = after
    for _ in range(SCAN_PAGES):
        body = await services.call(
            "enrollment", "GET", "/programmes", session.token, params={"after": cursor, "limit": 50}
        )
        for p in body["items"]:
            owner = str(p["owner_org"])
            if owner not in inside:
                inside[owner] = await _below(services, session.token, owner, session.org)
            if inside[owner]:
                items.append(p)
        cursor = body.get("next_cursor")
        if cursor is None or len(items) >= 20:
            break
    return await page(
        request,
        "dashboards/programmes.html",
        items=items,
        next_cursor=cursor,
        paged=bool(after),
        areas=i18n.QUALITY_AREAS,
    )


async def _below(services: Any, token: str, org: str, top: str) -> bool:
    """Whether `org` is `top` or below it in the tree this node knows."""
    current: str | None = org
    for _ in range(data.MAX_DEPTH):
        if current is None:
            return False
        if current == top:
            return True
        try:
            found = await services.call("enrollment", "GET", f"/orgs/{current}", token)
        except ApiError:
            return False
        current = found.get("parent_id")
    return False
