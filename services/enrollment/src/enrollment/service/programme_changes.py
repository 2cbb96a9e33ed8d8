"""Owner node: a programme changes (dates, place, capacity) or is cancelled; every change is
an event, and members holding a seat or a waitlist place learn of it through it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.errors import Conflict, NotFound, Unprocessable
from enrollment.models import Programme
from enrollment.schemas import ProgrammeChangeIn
from enrollment.service import budgets
from enrollment.service.context import Context
from enrollment.service.decisions import announce
from enrollment.service.programmes import published_event
from enrollment.service.seats import offer_free_seats, waitlist_moved
from shared.contracts.events import ProgrammeCancelled, ProgrammeChanged

CHANGEABLE = ("title", "place", "online_link", "starts_at", "ends_at", "enrollment_closes_at")


async def owned_programme(session: AsyncSession, ctx: Context, programme_id: str) -> Programme:
    """The programme, locked, if this node owns it and it is still open."""
    programme = await repository.get_programme(session, programme_id, lock=True)
    if programme is None or programme.owner_node != ctx.node_id:
        raise NotFound(f"programme {programme_id} is not owned here")
    if programme.status == "cancelled":
        raise Conflict("the programme is cancelled", state="cancelled")
    return programme


async def change_programme(
    session: AsyncSession, ctx: Context, programme: Programme, data: ProgrammeChangeIn
) -> Programme:
    changed = [
        name
        for name in CHANGEABLE
        if (value := getattr(data, name)) is not None and value != getattr(programme, name)
    ]
    for name in changed:
        setattr(programme, name, getattr(data, name))
    if programme.ends_at < programme.starts_at:
        raise Unprocessable("ends_at must not be before starts_at", field="ends_at")
    closes = programme.enrollment_closes_at
    if closes is not None and closes > programme.starts_at:
        raise Unprocessable("the cut-off must not be after the start", field="enrollment_closes_at")
    more_seats = False
    if data.capacity is not None and data.capacity != programme.capacity:
        if data.capacity < programme.confirmed_count:
            raise Conflict(
                f"{programme.confirmed_count} seats are taken: the capacity cannot go below",
                field="capacity",
            )
        more_seats = data.capacity > programme.capacity
        programme.capacity = data.capacity
        changed.append("capacity")
    if not changed:
        return programme
    now = ctx.clock.now()
    state = published_event(programme).model_dump()
    await announce(session, ctx, ProgrammeChanged(**state, changed=changed, changed_at=now))
    if more_seats:  # raising the capacity offers several seats at once
        await waitlist_moved(
            session, ctx, programme, await offer_free_seats(session, ctx, programme)
        )
    return programme


async def cancel_programme(
    session: AsyncSession, ctx: Context, programme: Programme, reason: str
) -> Programme:
    """Every seat and waitlist place ends; the money the seats held goes back to the budget."""
    now = ctx.clock.now()
    held = await repository.cancel_seats_of(session, programme.programme_id, at=now)
    year = budgets.budget_year(ctx, programme.starts_at)
    await budgets.release_seat(session, ctx, programme.owner_org, year, held)
    programme.status, programme.cancelled_at = "cancelled", now
    programme.confirmed_count, programme.quota_used = 0, {}
    await announce(
        session,
        ctx,
        ProgrammeCancelled(
            programme_id=programme.programme_id,
            owner_org=programme.owner_org,
            owner_node=programme.owner_node,
            audience=list(programme.audience),
            reason=reason,
            cancelled_at=now,
        ),
    )
    return programme
