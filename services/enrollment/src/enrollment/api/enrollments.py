from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.api.deps import Ctx, Db
from enrollment.api.members import manages
from enrollment.domain.lifecycle import Status
from enrollment.errors import Forbidden, NotFound
from enrollment.models import Enrollment
from enrollment.schemas import EnrollmentIn, EnrollmentOut, EnrollmentPage
from enrollment.service import member_actions
from enrollment.service.member_actions import By
from enrollment.service.requests import check_request, request_enrollment
from shared.auth import Principal
from shared.auth.dependencies import CurrentPrincipal
from shared.timezones import year_bounds
from shared.web.cursor import decode_position, encode_position
from shared.web.deps import PageCursor, PageLimit
from shared.web.fields import Id, OrgId

router = APIRouter(prefix="/enrollments", tags=["enrollments"])


@router.post(
    "",
    status_code=202,
    response_model=EnrollmentOut,
    summary="Ask for a seat; the programme's owner node decides",
    responses={202: {"description": "Requested; poll the Location for the outcome."}},
)
async def enrol(
    body: EnrollmentIn, who: CurrentPrincipal, ctx: Ctx, db: Db, response: Response
) -> EnrollmentOut:
    member_id = body.member_id or who.member_id
    if member_id is None:
        raise Forbidden("a member token, or a cadre naming member_id, is required")
    # Reads first, outside the write transaction (on SQLite the write lock is database-wide).
    async with db.reading() as session:
        found = await repository.member_and_programme(session, member_id, body.programme_id)
        if found is None or not (who.member_id == member_id or manages(who, found[0].home_org)):
            raise NotFound(f"member {member_id} not found", field="member_id")
        member, known, already = found
        programme = await check_request(session, ctx, member, body.programme_id, (known, already))
    async with db.transaction() as session:
        enrollment = await request_enrollment(session, ctx, member, programme)
    response.headers["Location"] = f"/enrollments/{enrollment.enrollment_id}"
    return EnrollmentOut.model_validate(enrollment)


@router.get("", response_model=EnrollmentPage, summary="My enrollments, or my org's")
async def list_enrollments(
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    org: Annotated[OrgId | None, Query(description="A cadre: the org whose enrollments")] = None,
    status: Status | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    cursor: PageCursor = None,
    limit: PageLimit = 50,
) -> EnrollmentPage:
    """A member lists their own (no `org`); a cadre lists their org's (`org` = their org)."""
    if org is not None:
        if not manages(who, org):
            raise NotFound(f"org {org} has no enrollments you may see", field="org")
        member_id = None
    elif who.member_id is not None:
        member_id = who.member_id
    else:
        raise Forbidden("a member token, or a cadre naming org, is required")
    since, until = year_bounds(ctx.settings.federation_timezone, year) if year else (None, None)
    async with db.reading() as session:
        rows = await repository.enrollments_page(
            session,
            member_id=member_id,
            home_org=org,
            status=status,
            since=since,
            until=until,
            after=decode_position(cursor) if cursor else None,
            limit=limit + 1,
        )
        items = [await _out(session, e) for e in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return EnrollmentPage(
        items=items,
        next_cursor=encode_position(last.requested_at, last.enrollment_id) if last else None,
    )


@router.get("/{enrollment_id}", response_model=EnrollmentOut, summary="An enrollment's status")
async def get_enrollment(enrollment_id: Id, who: CurrentPrincipal, db: Db) -> EnrollmentOut:
    async with db.reading() as session:
        enrollment = await _visible(session, who, enrollment_id)
        return await _out(session, enrollment)


@router.post(
    "/{enrollment_id}/cancel",
    status_code=202,
    response_model=EnrollmentOut,
    summary="Give up a seat or a waitlist place (the member, or their union's cadre)",
)
async def cancel_enrollment(
    enrollment_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db, response: Response
) -> EnrollmentOut:
    async with db.transaction() as session:
        enrollment = await _visible(session, who, enrollment_id)
        by: By = "member" if who.member_id == enrollment.member_id else "cadre"
        await member_actions.cancel(session, ctx, enrollment, by=by)
    response.headers["Location"] = f"/enrollments/{enrollment_id}"
    return EnrollmentOut.model_validate(enrollment)


@router.post(
    "/{enrollment_id}/accept",
    status_code=202,
    response_model=EnrollmentOut,
    summary="Take the seat offered to me (before the offer expires)",
)
async def accept_offer(
    enrollment_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db, response: Response
) -> EnrollmentOut:
    async with db.transaction() as session:
        enrollment = await _visible(session, who, enrollment_id)
        if who.member_id != enrollment.member_id:
            raise Forbidden("only the member takes an offered seat")
        await member_actions.accept_offer(session, ctx, enrollment)
    response.headers["Location"] = f"/enrollments/{enrollment_id}"
    return EnrollmentOut.model_validate(enrollment)


async def _visible(session: AsyncSession, who: Principal, enrollment_id: str) -> Enrollment:
    """The member's own, or one of their org's for its cadre; 404 for anyone else."""
    enrollment = await repository.get_enrollment(session, enrollment_id)
    if enrollment is None or not (
        who.member_id == enrollment.member_id or manages(who, enrollment.home_org)
    ):
        raise NotFound(f"enrollment {enrollment_id} not found")
    return enrollment


async def _out(session: AsyncSession, enrollment: Enrollment) -> EnrollmentOut:
    out = EnrollmentOut.model_validate(enrollment)
    out.position = await member_actions.queue_position(session, enrollment)
    return out
