"""Owner node: what happens to a seat after the decision — cancelled, offered to the next in
line when one frees, accepted, expired, attended, completed — always under the programme's
lock, through the seat ledger, with the budget and one event per step."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.domain.lifecycle import HOLDS_SEAT, Status, Step, next_status
from enrollment.errors import Conflict, NotFound
from enrollment.models import Programme, Seat
from enrollment.service import budgets
from enrollment.service.context import Context
from enrollment.service.decisions import announce, confirmed_event, keep, ledger_of, refuse
from shared.contracts.events import (
    EnrollmentAttended,
    EnrollmentCancellationRequested,
    EnrollmentCancelled,
    EnrollmentCompleted,
    EnrollmentCompletionRevoked,
    EnrollmentNoShow,
    EnrollmentOfferAccepted,
    EnrollmentOffered,
    EnrollmentOfferExpired,
    ProgrammeWaitlistMoved,
)
from shared.db import Database

log = logging.getLogger(__name__)

CancelledBy = Literal["member", "cadre", "owner", "programme_cancelled"]
OFFER_PAGE = 50


def _fact(programme: Programme, seat: Seat) -> dict[str, str]:
    return {
        "enrollment_id": seat.enrollment_id,
        "programme_id": programme.programme_id,
        "member_id": seat.member_id,
        "owner_org": programme.owner_org,
        "home_org": seat.home_org,
    }


def _year(ctx: Context, programme: Programme) -> int:
    return budgets.budget_year(ctx, programme.starts_at)


async def _commit(session: AsyncSession, ctx: Context, programme: Programme, cost: int) -> bool:
    """The owner org pays for the seat, from the budget of the programme's year."""
    year = _year(ctx, programme)
    return await budgets.commit_seat(session, ctx, programme.owner_org, year, cost)


async def _release(session: AsyncSession, ctx: Context, programme: Programme, cost: int) -> None:
    await budgets.release_seat(session, ctx, programme.owner_org, _year(ctx, programme), cost)


async def _spend(session: AsyncSession, ctx: Context, programme: Programme, cost: int) -> None:
    await budgets.spend_seat(session, ctx, programme.owner_org, _year(ctx, programme), cost)


async def _locked(session: AsyncSession, programme_id: str) -> Programme | None:
    return await repository.get_programme(session, programme_id, lock=True)


# -- requests from the member's home node (the owner's inbox) -------------------------------


async def cancel_requested(
    session: AsyncSession, ctx: Context, req: EnrollmentCancellationRequested
) -> None:
    programme = await _locked(session, req.programme_id)
    seat = await repository.get_seat(session, req.enrollment_id)
    if programme is None or seat is None or seat.status not in _CANCELLABLE:
        return  # cancelled before (a re-sent request), or never decided here
    await end_seat(session, ctx, programme, seat, by=req.by)


async def offer_accepted(session: AsyncSession, ctx: Context, req: EnrollmentOfferAccepted) -> None:
    programme = await _locked(session, req.programme_id)
    seat = await repository.get_seat(session, req.enrollment_id)
    now = ctx.clock.now()
    if programme is None or seat is None or seat.status != Status.offered:
        return  # accepted before, or the offer went to the next in line
    if seat.offer_expires_at is not None and now > seat.offer_expires_at:
        return  # too late: the expiry passes it on
    seat.status = next_status(seat.status, Step.accept)
    seat.offer_expires_at, seat.updated_at = None, now
    await announce(session, ctx, confirmed_event(programme, seat, now))


_CANCELLABLE = frozenset(
    {Status.confirmed, Status.waitlisted, Status.offered, Status.pending_budget}
)


# -- freeing and offering seats -------------------------------------------------------------


async def end_seat(
    session: AsyncSession,
    ctx: Context,
    programme: Programme,
    seat: Seat,
    *,
    by: CancelledBy | None,
) -> None:
    """Cancel the seat (`by` someone) or expire its offer (`by` None); a seat it held goes
    back to the ledger and the budget, and to the next in line."""
    now = ctx.clock.now()
    was = Status(seat.status)
    ledger = ledger_of(programme)
    left: list[int] = []
    if was in HOLDS_SEAT:
        ledger.give_back(seat.quota_org)
        await budgets.release_seat(
            session, ctx, programme.owner_org, _year(ctx, programme), seat.cost_fen
        )
        seat.cost_fen = 0
    elif was == Status.waitlisted and seat.waitlist_number is not None:
        left.append(seat.waitlist_number)
    seat.status = next_status(was, Step.cancel if by else Step.expire)
    seat.offer_expires_at, seat.updated_at = None, now
    keep(programme, ledger)
    if by is None:
        await announce(
            session, ctx, EnrollmentOfferExpired(**_fact(programme, seat), expired_at=now)
        )
    else:
        event = EnrollmentCancelled(**_fact(programme, seat), cancelled_at=now, by=by, was=was)
        await announce(session, ctx, event)
    left += await offer_free_seats(session, ctx, programme)
    await waitlist_moved(session, ctx, programme, left)


async def offer_free_seats(session: AsyncSession, ctx: Context, programme: Programme) -> list[int]:
    """Offer every free seat to the first waitlisted members whose quota has room, in
    waitlist order, until the budget says no. Returns the waitlist numbers that left."""
    now = ctx.clock.now()
    closes = programme.enrollment_closes_at
    if programme.status == "cancelled" or (closes is not None and now > closes):
        return []
    ledger = ledger_of(programme)
    left: list[int] = []
    after = 0
    while ledger.free_seats() > 0:
        page = await repository.waitlisted_seats(session, programme.programme_id, after, OFFER_PAGE)
        if not page:
            break
        for seat in page:
            after = seat.sequence
            if not ledger.has_room(seat.quota_org):
                continue  # their sub-org's quota is full: the next one may fit
            cost = programme.cost_per_seat_fen
            if not await budgets.commit_seat(
                session, ctx, programme.owner_org, _year(ctx, programme), cost
            ):
                keep(programme, ledger)
                return left  # the budget pays for no more seats
            ledger.take(seat.quota_org)
            seat.status, seat.cost_fen = next_status(seat.status, Step.offer), cost
            seat.offer_expires_at = now + timedelta(hours=programme.offer_hours)
            seat.updated_at = now
            if seat.waitlist_number is not None:
                left.append(seat.waitlist_number)
            offered = EnrollmentOffered(
                **_fact(programme, seat),
                sequence=seat.sequence,
                offered_at=now,
                offer_expires_at=seat.offer_expires_at,
                programme_title=programme.title,
            )
            await announce(session, ctx, offered)
            if ledger.free_seats() == 0:
                break
    keep(programme, ledger)
    return left


async def waitlist_moved(
    session: AsyncSession, ctx: Context, programme: Programme, left: Sequence[int]
) -> None:
    if not left:
        return
    await repository.add_departures(session, programme.programme_id, left)
    moved = ProgrammeWaitlistMoved(
        programme_id=programme.programme_id,
        owner_org=programme.owner_org,
        audience=list(programme.audience),
        left=sorted(left),
        moved_at=ctx.clock.now(),
    )
    await announce(session, ctx, moved)


async def expire_due_offers(db: Database, ctx: Context, limit: int = 100) -> int:
    """Expire the offers whose time is up (on the service's clock); returns how many."""
    async with db.transaction() as session:
        now = ctx.clock.now()
        due = await repository.due_offers(session, now, limit)
        expired = 0
        for programme_id in sorted({seat.programme_id for seat in due}):
            programme = await _locked(session, programme_id)
            if programme is None:
                continue
            for seat in [s for s in due if s.programme_id == programme_id]:
                await session.refresh(seat)  # decided before we held the lock?
                if (
                    seat.status == Status.offered
                    and seat.offer_expires_at is not None
                    and (seat.offer_expires_at <= now)
                ):
                    await end_seat(session, ctx, programme, seat, by=None)
                    expired += 1
    return expired


# -- the owner's cadre: attendance and results ----------------------------------------------


async def seat_of(session: AsyncSession, programme_id: str, enrollment_id: str) -> Seat:
    seat = await repository.get_seat(session, enrollment_id)
    if seat is None or seat.programme_id != programme_id:
        raise NotFound(f"enrollment {enrollment_id} is not a seat of this programme")
    return seat


async def record_attendance(
    session: AsyncSession,
    ctx: Context,
    programme: Programme,
    enrollment_ids: Sequence[str],
    attended: bool,
) -> list[Seat]:
    """All or nothing: a seat whose state does not allow it is a 409 for the whole request."""
    now = ctx.clock.now()
    step = Step.attend if attended else Step.no_show
    seats = [await seat_of(session, programme.programme_id, e) for e in enrollment_ids]
    for seat in seats:
        seat.status = next_status(seat.status, step)
        seat.updated_at = now
    for seat in seats:
        fact = _fact(programme, seat)
        event = (
            EnrollmentAttended(**fact, attended_at=now)
            if attended
            else EnrollmentNoShow(**fact, recorded_at=now)
        )
        await announce(session, ctx, event)
    return seats


async def complete(
    session: AsyncSession,
    ctx: Context,
    programme: Programme,
    enrollment_id: str,
    *,
    score: float | None,
    rank: int | None,
) -> Seat:
    now = ctx.clock.now()
    seat = await seat_of(session, programme.programme_id, enrollment_id)
    seat.status = next_status(seat.status, Step.complete)
    seat.score, seat.rank, seat.updated_at = score, rank, now
    await budgets.spend_seat(
        session, ctx, programme.owner_org, _year(ctx, programme), seat.cost_fen
    )
    await announce(
        session,
        ctx,
        EnrollmentCompleted(
            **_fact(programme, seat),
            completed_at=now,
            hours=programme.hours,
            quality_area=programme.quality_area,
            programme_title=programme.title,
            programme_kind=programme.kind,
            programme_ends_at=programme.ends_at,
            score=score,
            rank=rank,
        ),
    )
    return seat


async def revoke_completion(
    session: AsyncSession, ctx: Context, programme: Programme, enrollment_id: str, reason: str
) -> Seat:
    now = ctx.clock.now()
    seat = await seat_of(session, programme.programme_id, enrollment_id)
    seat.status = next_status(seat.status, Step.revoke_completion)
    seat.score, seat.rank, seat.updated_at = None, None, now
    event = EnrollmentCompletionRevoked(**_fact(programme, seat), revoked_at=now, reason=reason)
    await announce(session, ctx, event)
    return seat


async def decide_over_budget(
    session: AsyncSession, ctx: Context, programme: Programme, enrollment_id: str, approve: bool
) -> Seat:
    """The owner's cadre decides a seat the budget could not pay: confirmed once the budget
    can pay it (raise the budget first), or refused as `budget_exhausted` — the seat then
    goes to the next in line."""
    now = ctx.clock.now()
    seat = await seat_of(session, programme.programme_id, enrollment_id)
    step = Step.approve_budget if approve else Step.refuse
    target = next_status(seat.status, step)  # 409 unless the seat awaits the budget
    if not approve:
        ledger = ledger_of(programme)
        ledger.give_back(seat.quota_org)
        keep(programme, ledger)
        seat.status, seat.updated_at = Status.cancelled, now  # the place is free again
        common = {**_fact(programme, seat), "decided_at": now, "programme_title": programme.title}
        await refuse(session, ctx, common, "budget_exhausted")
        await waitlist_moved(
            session, ctx, programme, await offer_free_seats(session, ctx, programme)
        )
        return seat
    cost = programme.cost_per_seat_fen
    if not await _commit(session, ctx, programme, cost):
        raise Conflict(
            "the training budget cannot pay this seat: raise it first", state=seat.status
        )
    seat.status, seat.cost_fen, seat.updated_at = target, cost, now
    await announce(session, ctx, confirmed_event(programme, seat, now))
    return seat


async def cancel_by_owner(
    session: AsyncSession, ctx: Context, programme: Programme, enrollment_id: str
) -> Seat:
    seat = await seat_of(session, programme.programme_id, enrollment_id)
    next_status(seat.status, Step.cancel)  # 409 unless it may be cancelled
    await end_seat(session, ctx, programme, seat, by="owner")
    return seat
