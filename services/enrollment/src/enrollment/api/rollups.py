"""Roll-ups of the snapshots this node keeps: an org's subtree, a drill-down one level at a
time (JSON with cursor pages, or the whole of it as CSV or XLSX for the statistics office),
and its subtree per level. Small groups are suppressed (domain/rollups.py).

Who: cadres and admins of the org or of an org above it, at a node that hosts the org or an
org above it. Anyone else gets 404.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from enrollment.api.deps import Ctx, Db
from enrollment.domain.rollups import MIN_GROUP_SIZE
from enrollment.schemas import (
    RollupGroupOut,
    RollupLevelOut,
    RollupLevelsOut,
    RollupOut,
    RollupPage,
    RollupRowOut,
)
from enrollment.service.context import Context
from enrollment.service.rollups import (
    Drilldown,
    Group,
    children_rollup,
    levels_rollup,
    path_to,
    subtree_rollup,
)
from enrollment.stats_repository import AREAS
from shared.auth import Principal
from shared.auth.dependencies import CurrentPrincipal
from shared.contracts.events import QualityArea
from shared.timezones import year_of
from shared.web.cursor import encode_key
from shared.web.deps import AfterKey, PageLimit
from shared.web.fields import OrgId
from shared.web.spreadsheet import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, Cell, safe_cell, xlsx_bytes

router = APIRouter(prefix="/rollups", tags=["roll-ups"])

Year = Annotated[
    int | None,
    Query(ge=2000, le=2100, description="Calendar year in the federation zone (default: this)"),
]
QUALITY_AREAS = [QualityArea(a) for a in AREAS]
WHO = "For cadres and admins of the org or of an org above it, at a node hosting one of them."


def _year(ctx: Context, year: int | None) -> int:
    return year if year is not None else year_of(ctx.clock.now(), ctx.settings.federation_timezone)


def _figures(group: Group) -> RollupGroupOut:
    f = group.figures
    if f is None:
        return RollupGroupOut(suppressed=True, orgs=group.orgs)
    rate, per_member = f.participation_rate, f.hours_per_member()
    return RollupGroupOut(
        suppressed=False,
        orgs=group.orgs,
        members=f.members,
        participants=f.participants,
        participation_rate=None if rate is None else round(rate, 4),
        hours={a: round(f.hours.get(a, 0.0), 3) for a in QUALITY_AREAS},
        hours_per_member={a: round(per_member.get(a, 0.0), 3) for a in QUALITY_AREAS},
        completions={a: f.completions.get(a, 0) for a in QUALITY_AREAS},
        committed_fen=f.committed_fen,
        spent_fen=f.spent_fen,
        as_of=group.as_of,
    )


def _row(group: Group) -> RollupRowOut:
    return RollupRowOut(
        org_id=group.key, name=group.name, level=group.level, **_figures(group).model_dump()
    )


async def _drilldown(
    who: Principal,
    ctx: Ctx,
    db: Db,
    org_id: str,
    year: int,
    after: str | None = None,
    limit: int | None = None,
) -> Drilldown:
    async with db.reading() as session:
        path = await path_to(session, ctx, who, org_id)
        return await children_rollup(session, path, year, after=after, limit=limit)


@router.get(
    "/{org_id}",
    response_model=RollupOut,
    summary="An org's subtree roll-up for a year",
    description=f"{WHO} Members, participants, participation rate, hours (and hours per "
    "member) and completions per quality area, money committed and spent, summed over the "
    "org and everything below it. A group of fewer than five members — or one whose figures "
    "would let such a group be computed — is `suppressed`.",
)
async def get_rollup(
    org_id: OrgId, who: CurrentPrincipal, ctx: Ctx, db: Db, year: Year = None
) -> RollupOut:
    year = _year(ctx, year)
    async with db.reading() as session:
        path = await path_to(session, ctx, who, org_id)
        group = await subtree_rollup(session, path, year)
    return RollupOut(
        **_row(group).model_dump(), year=year, node=ctx.node_id, min_group_size=MIN_GROUP_SIZE
    )


@router.get(
    "/{org_id}/children",
    response_model=RollupPage,
    summary="Drill down: the roll-up of each child's subtree, a page at a time",
    description=f"{WHO} Children in org id order; `next_cursor` for the next page. When a "
    "child is suppressed, enough siblings are suppressed with it that the org minus the "
    "children shown never reveals it.",
)
async def get_children(
    org_id: OrgId,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    after: AfterKey,
    year: Year = None,
    limit: PageLimit = 50,
) -> RollupPage:
    year = _year(ctx, year)
    drill = await _drilldown(who, ctx, db, org_id, year, after, limit)
    page = drill.children
    return RollupPage(
        org_id=org_id,
        year=year,
        node=ctx.node_id,
        min_group_size=MIN_GROUP_SIZE,
        parent=_row(drill.parent),
        items=[_row(c) for c in page],
        next_cursor=encode_key(page[-1].key) if drill.more else None,
    )


@router.get(
    "/{org_id}/levels",
    response_model=RollupLevelsOut,
    summary="An org's subtree summed per level (superior, enterprise, grassroots)",
    description=WHO,
)
async def get_levels(
    org_id: OrgId, who: CurrentPrincipal, ctx: Ctx, db: Db, year: Year = None
) -> RollupLevelsOut:
    year = _year(ctx, year)
    async with db.reading() as session:
        path = await path_to(session, ctx, who, org_id)
        whole, levels = await levels_rollup(session, path, year)
    return RollupLevelsOut(
        org_id=org_id,
        year=year,
        node=ctx.node_id,
        min_group_size=MIN_GROUP_SIZE,
        total=_row(whole),
        levels=[RollupLevelOut(level=g.key, **_figures(g).model_dump()) for g in levels],
    )


# -- exports for the statistics office ---------------------------------------------------------

HEADER = [
    "row",
    "org_id",
    "name",
    "level",
    "year",
    "suppressed",
    "orgs",
    "members",
    "participants",
    "participation_rate",
    *(f"hours_{a}" for a in AREAS),
    *(f"hours_per_member_{a}" for a in AREAS),
    *(f"completions_{a}" for a in AREAS),
    "committed_fen",
    "spent_fen",
]


def _cells(kind: str, group: Group, year: int) -> list[Cell]:
    out = _figures(group)
    hours, per_member, done = out.hours or {}, out.hours_per_member or {}, out.completions or {}
    cells: list[Cell] = [
        kind,
        group.key,
        group.name,
        group.level,
        year,
        "yes" if out.suppressed else "no",
        out.orgs,
        out.members,
        out.participants,
        out.participation_rate,
    ]
    cells += [hours.get(a) for a in QUALITY_AREAS]
    cells += [per_member.get(a) for a in QUALITY_AREAS]
    cells += [done.get(a) for a in QUALITY_AREAS]
    return [*cells, out.committed_fen, out.spent_fen]


def _rows(drill: Drilldown, year: int) -> Iterator[list[Cell]]:
    yield _cells("total", drill.parent, year)
    for child in drill.children:
        yield _cells("child", child, year)


def _csv_stream(rows: Iterator[list[Cell]], every: int = 200) -> Iterator[bytes]:
    """UTF-8 with a BOM (so that Excel reads Chinese names right), every cell made safe."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for n, row in enumerate(rows, start=1):
        writer.writerow(["" if c is None else safe_cell(c) for c in row])
        if n % every == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


def _attachment(org_id: str, year: int, suffix: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="rollup-{org_id}-{year}.{suffix}"'}


@router.get(
    "/{org_id}/children.csv",
    summary="The drill-down of an org as CSV (every child, suppression applied)",
    description=f"{WHO} First row: the org's subtree (`row` = total); then each child.",
    response_class=StreamingResponse,
)
async def get_children_csv(
    org_id: OrgId, who: CurrentPrincipal, ctx: Ctx, db: Db, year: Year = None
) -> StreamingResponse:
    year = _year(ctx, year)
    drill = await _drilldown(who, ctx, db, org_id, year)

    def stream() -> Iterator[bytes]:
        yield "\ufeff".encode()
        yield from _csv_stream(_rows(drill, year))

    return StreamingResponse(
        stream(),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers=_attachment(org_id, year, "csv"),
    )


@router.get(
    "/{org_id}/children.xlsx",
    summary="The drill-down of an org as XLSX (every child, suppression applied)",
    description=f"{WHO} First row: the org's subtree (`row` = total); then each child.",
    response_class=Response,
)
async def get_children_xlsx(
    org_id: OrgId, who: CurrentPrincipal, ctx: Ctx, db: Db, year: Year = None
) -> Response:
    year = _year(ctx, year)
    drill = await _drilldown(who, ctx, db, org_id, year)
    rows: Sequence[list[Cell]] = list(_rows(drill, year))
    content = xlsx_bytes([(f"{org_id} {year}", HEADER, rows)])
    return Response(content, media_type=XLSX_MEDIA_TYPE, headers=_attachment(org_id, year, "xlsx"))
