from __future__ import annotations

from fastapi import APIRouter, Response

from enrollment import repository
from enrollment.api.deps import Ctx, Db
from enrollment.api.members import manages
from enrollment.errors import Forbidden, NotFound
from enrollment.schemas import EnrollmentIn, EnrollmentOut
from enrollment.service.requests import check_request, request_enrollment
from shared.auth.dependencies import CurrentPrincipal
from shared.web.fields import Id

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


@router.get("/{enrollment_id}", response_model=EnrollmentOut, summary="An enrollment's status")
async def get_enrollment(enrollment_id: Id, who: CurrentPrincipal, db: Db) -> EnrollmentOut:
    async with db.reading() as session:
        enrollment = await repository.get_enrollment(session, enrollment_id)
    if enrollment is None or not (
        who.member_id == enrollment.member_id or manages(who, enrollment.home_org)
    ):
        raise NotFound(f"enrollment {enrollment_id} not found")
    return EnrollmentOut.model_validate(enrollment)
