"""Bulk roster import: upload a CSV or XLSX file as the request body, follow the job, fetch
its error report; the templates to fill in. The upload route has its own body limit
(`BIGSCHOOL_ROSTER_MAX_BYTES`, the `/rosters` entry of the body limits)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from enrollment import roster_repository
from enrollment.api.deps import Ctx, Db
from enrollment.api.members import manages
from enrollment.domain import roster as rules
from enrollment.errors import Conflict, NotFound, UnsupportedMediaType
from enrollment.models import RosterImport
from enrollment.roster_files import MEDIA_TYPES, read_roster
from enrollment.schemas import RosterImportOut
from enrollment.service import roster
from enrollment.settings import EnrollmentSettings
from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal
from shared.contracts.events import OrgLevel
from shared.web.fields import Id, OrgId
from shared.web.problems import problem_response
from shared.web.spreadsheet import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_bytes, xlsx_bytes

router = APIRouter(prefix="/rosters", tags=["rosters"])
log = logging.getLogger(__name__)

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The roster file itself as the body (not multipart): CSV (UTF-8, with "
        "or without BOM, or GB18030) or XLSX (the first sheet). A header row names the "
        "columns (see the templates).",
        "content": {
            CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/imports",
    status_code=202,
    response_model=RosterImportOut,
    summary="Import a roster file: members are registered or brought up to date",
    description="`org`: the grassroots org whose members the file holds (its cadre), or any "
    "org hosted here (an admin of this node's root; each row names its grassroots org). The "
    "file is read once at upload: a file that cannot be read, lacks a required column or "
    "has too many rows is a 422 and nothing is kept. Otherwise 202 and `Location` of the "
    "job; rows are imported in the background, each row's errors reported with its line.",
    openapi_extra=_UPLOAD_BODY,
    responses={
        202: {"description": "Queued; poll the Location."},
        415: {"description": "Neither text/csv nor the XLSX type."},
        422: {"description": "The file as a whole cannot be imported (nothing was kept)."},
    },
)
async def upload_roster(
    request: Request,
    org: Annotated[OrgId, Query(description="The org the import is for.")],
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    response: Response,
) -> RosterImportOut:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"send the file as {CSV_MEDIA_TYPE} or {XLSX_MEDIA_TYPE}", field="content-type"
        )
    # Who may import for the org is known before a byte of the file is read.
    async with db.reading() as session:
        scope = await roster.import_scope(session, ctx, who, org)
    body = await request.body()
    parsed = await asyncio.to_thread(
        read_roster,
        body,
        media_type,
        org_given=scope.level == OrgLevel.grassroots,
        max_rows=ctx.settings.roster_max_rows,
        default_org=roster.default_org(scope),
    )
    del body
    async with db.transaction() as session:
        job = await roster.create_import(session, ctx, who, scope, parsed)
    worker = getattr(request.app.state, "roster_imports", None)
    if worker is not None:
        worker.wake()
    response.headers["Location"] = f"/rosters/imports/{job.job_id}"
    return RosterImportOut.model_validate(job)


def may_see(who: Principal, job: RosterImport, settings: EnrollmentSettings) -> bool:
    """The import's org's cadres, and this node's admins."""
    root_admin = who.has(Role.admin) and who.org == settings.root_org
    return root_admin or manages(who, job.org_scope)


async def _job(db: Db, ctx: Ctx, who: Principal, job_id: str) -> RosterImport:
    async with db.reading() as session:
        job = await roster_repository.get_job(session, job_id)
    if job is None or not may_see(who, job, ctx.settings):
        raise NotFound(f"roster import {job_id} not found")
    return job


@router.get(
    "/imports/{job_id}", response_model=RosterImportOut, summary="A roster import's progress"
)
async def get_import(job_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> RosterImportOut:
    return RosterImportOut.model_validate(await _job(db, ctx, who, job_id))


@router.get(
    "/imports/{job_id}/errors.csv",
    response_class=Response,
    summary="A roster import's error report: line, column, reason (never the values)",
    responses={200: {"content": {CSV_MEDIA_TYPE: {}}, "description": "The report."}},
)
async def import_errors(job_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> Response:
    job = await _job(db, ctx, who, job_id)
    async with db.reading() as session:
        errors = await roster_repository.errors_of(session, job_id)
    titles = job.columns
    rows = [(line, titles.get(column, column), reason) for line, column, reason in errors]
    return Response(
        csv_bytes(["line", "column", "reason"], rows),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="roster-import-{job_id}-errors.csv"',
            "Cache-Control": "private, no-store",
        },
    )


Lang = Annotated[str, Query(pattern="^(en|zh)$", description="Header names: en or zh.")]


def _template_header(lang: str) -> list[str]:
    return [c.zh if lang == "zh" else c.name for c in rules.COLUMNS]


@router.get(
    "/template.csv",
    response_class=Response,
    summary="The roster template as CSV (UTF-8 with BOM): the header row",
    responses={200: {"content": {CSV_MEDIA_TYPE: {}}, "description": "The template."}},
)
async def template_csv(who: CurrentPrincipal, lang: Lang = "en") -> Response:
    return Response(
        csv_bytes(_template_header(lang), []),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="roster-template.csv"'},
    )


@router.get(
    "/template.xlsx",
    response_class=Response,
    summary="The roster template as XLSX: the header row, and a sheet describing the columns",
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "The template."}},
)
async def template_xlsx(who: CurrentPrincipal, lang: Lang = "en") -> Response:
    guide = [(c.name, c.zh, ", ".join(c.aliases), c.description, c.example) for c in rules.COLUMNS]
    book = xlsx_bytes(
        [
            ("roster", _template_header(lang), []),
            ("columns", ["column", "中文", "also read as", "what", "example"], guide),
        ]
    )
    return Response(
        book,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="roster-template.xlsx"'},
    )


# -- the natural key, wherever a member is written --------------------------------------------

_KEY_VIOLATIONS = ("uq_members_employee_no", "members.home_org, members.employee_no")


async def employee_number_taken(request: Request, exc: IntegrityError) -> JSONResponse:
    """A member write that would give an org's employee number to a second member (POST
    /members, a change, an intake) is a 409 naming the field; any other integrity error
    stays what it was, an internal error (nothing was committed)."""
    if any(name in str(exc.orig) for name in _KEY_VIOLATIONS):
        problem = Conflict(
            "another member of this org has this employee number", field="employee_no"
        )
        return problem_response(409, problem.body(request.url.path))
    log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
    body = {
        "type": "about:blank",
        "title": "Internal error",
        "status": 500,
        "detail": "the request failed; nothing was changed",
        "instance": request.url.path,
    }
    return problem_response(500, body)
