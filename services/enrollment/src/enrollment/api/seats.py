"""The owner org's cadre and a programme's seats: the participant list and waitlist, changes
and cancellation of the programme, attendance, results. Display names come from the requests
(addressed to this node only); contact data never reaches the owner."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.api.deps import Ctx, Db
from enrollment.api.members import manages
from enrollment.domain.lifecycle import Status
from enrollment.errors import NotFound
from enrollment.models import Programme, Seat
from enrollment.schemas import (
    AttendanceIn,
    BudgetApprovalIn,
    CompletionIn,
    ProgrammeChangeIn,
    ProgrammeOut,
    ReasonIn,
    SeatOut,
    SeatPage,
)
from enrollment.service import seats as seat_cases
from enrollment.service.context import Context
from enrollment.service.programme_changes import (
    cancel_programme,
    change_programme,
    owned_programme,
)
from shared.auth import Principal
from shared.auth.dependencies import CurrentPrincipal
from shared.web.cursor import decode_key, encode_key
from shared.web.deps import PageCursor, PageLimit
from shared.web.fields import Id

router = APIRouter(prefix="/programmes", tags=["seats"])


def _owner_cadre(who: Principal, programme: Programme | None, programme_id: str) -> Programme:
    """The owner org's cadres (and admins) only; anyone else does not see the seats: 404."""
    if programme is None or not manages(who, programme.owner_org):
        raise NotFound(f"programme {programme_id} has no seats you may see")
    return programme


async def _owned(
    session: AsyncSession, ctx: Context, who: Principal, programme_id: str
) -> Programme:
    """The programme, owned at this node, for its owner org's cadres; 404 for anyone else."""
    return _owner_cadre(who, await owned_programme(session, ctx, programme_id), programme_id)


async def _managed(
    session: AsyncSession, who: Principal, ctx: Context, programme_id: str
) -> Programme:
    """A programme this node owns, for its owner org's cadre (404 for anyone else: checked
    before anything else is said about it), locked and still open."""
    programme = await repository.get_programme(session, programme_id)
    if programme is not None and programme.owner_node != ctx.node_id:
        programme = None
    _owner_cadre(who, programme, programme_id)
    return await owned_programme(session, ctx, programme_id)


async def _seat_out(session: AsyncSession, seat: Seat) -> SeatOut:
    out = SeatOut.model_validate(seat)
    if seat.status == Status.waitlisted:
        before = await repository.waitlisted_before(session, seat.programme_id, seat.sequence)
        out.position = before + 1
    return out


@router.get("/{programme_id}/seats", response_model=SeatPage, summary="Participants and waitlist")
async def list_seats(
    programme_id: Id,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    status: Status | None = None,
    cursor: PageCursor = None,
    limit: PageLimit = 50,
) -> SeatPage:
    async with db.reading() as session:
        programme = await repository.get_programme(session, programme_id)
        if programme is not None and programme.owner_node != ctx.node_id:
            programme = None
        _owner_cadre(who, programme, programme_id)
        after = int(decode_key(cursor)) if cursor else 0
        rows = await repository.seats_page(
            session, programme_id, status=status, after=after, limit=limit + 1
        )
        items = [await _seat_out(session, seat) for seat in rows[:limit]]
    more = len(rows) > limit
    return SeatPage(items=items, next_cursor=encode_key(str(items[-1].sequence)) if more else None)


@router.patch("/{programme_id}", response_model=ProgrammeOut, summary="Change a programme")
async def change(
    programme_id: Id, body: ProgrammeChangeIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> ProgrammeOut:
    async with db.transaction() as session:
        programme = await _owned(session, ctx, who, programme_id)
        await change_programme(session, ctx, programme, body)
    return ProgrammeOut.model_validate(programme)


@router.post("/{programme_id}/cancel", response_model=ProgrammeOut, summary="Cancel a programme")
async def cancel(
    programme_id: Id, body: ReasonIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> ProgrammeOut:
    async with db.transaction() as session:
        programme = await _owned(session, ctx, who, programme_id)
        await cancel_programme(session, ctx, programme, body.reason)
    return ProgrammeOut.model_validate(programme)


@router.post(
    "/{programme_id}/attendance",
    response_model=list[SeatOut],
    summary="Record attendance or no-shows, one or many (all or nothing)",
)
async def attendance(
    programme_id: Id, body: AttendanceIn, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> list[SeatOut]:
    async with db.transaction() as session:
        programme = await _owned(session, ctx, who, programme_id)
        seats = await seat_cases.record_attendance(
            session, ctx, programme, body.enrollment_ids, body.attended
        )
        return [SeatOut.model_validate(seat) for seat in seats]


@router.post(
    "/{programme_id}/seats/{enrollment_id}/completion",
    response_model=SeatOut,
    summary="Record a completion, with the result of a contest or competition",
)
async def completion(
    programme_id: Id,
    enrollment_id: Id,
    body: CompletionIn,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
) -> SeatOut:
    async with db.transaction() as session:
        programme = await _owned(session, ctx, who, programme_id)
        seat = await seat_cases.complete(
            session, ctx, programme, enrollment_id, score=body.score, rank=body.rank
        )
        return SeatOut.model_validate(seat)


@router.post(
    "/{programme_id}/seats/{enrollment_id}/completion-revocation",
    response_model=SeatOut,
    summary="Revoke a completion recorded in error (its certificate becomes invalid)",
)
async def revoke(
    programme_id: Id,
    enrollment_id: Id,
    body: ReasonIn,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
) -> SeatOut:
    async with db.transaction() as session:
        programme = await _owned(session, ctx, who, programme_id)
        seat = await seat_cases.revoke_completion(
            session, ctx, programme, enrollment_id, body.reason
        )
        return SeatOut.model_validate(seat)


@router.post(
    "/{programme_id}/seats/{enrollment_id}/budget-approval",
    response_model=SeatOut,
    summary="Confirm or refuse a seat the training budget could not pay",
)
async def budget_approval(
    programme_id: Id,
    enrollment_id: Id,
    body: BudgetApprovalIn,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
) -> SeatOut:
    async with db.transaction() as session:
        programme = await _managed(session, who, ctx, programme_id)
        seat = await seat_cases.decide_over_budget(
            session, ctx, programme, enrollment_id, body.approve
        )
        return SeatOut.model_validate(seat)


@router.post(
    "/{programme_id}/seats/{enrollment_id}/cancel",
    response_model=SeatOut,
    summary="The owner cancels a seat or a waitlist place",
)
async def cancel_seat(
    programme_id: Id, enrollment_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db
) -> SeatOut:
    async with db.transaction() as session:
        programme = await _owned(session, ctx, who, programme_id)
        seat = await seat_cases.cancel_by_owner(session, ctx, programme, enrollment_id)
        return SeatOut.model_validate(seat)
