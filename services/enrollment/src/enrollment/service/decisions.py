"""Owner node: decide a programme's requests in order, under its row lock — capacity,
quotas, the training budget, the cut-off — and announce every decision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import repository
from enrollment.domain.seats import SeatLedger, quota_org_of
from enrollment.models import Programme, Seat
from enrollment.service import budgets
from enrollment.service.audience import in_audience
from enrollment.service.context import Context
from shared.contracts import topics
from shared.contracts.base import Event
from shared.contracts.events import (
    EnrollmentAwaitingBudget,
    EnrollmentConfirmed,
    EnrollmentRefused,
    EnrollmentRefusedV2,
    EnrollmentRequested,
    EnrollmentWaitlisted,
    RefusalReason,
)

V1_REASONS = frozenset(get_args(EnrollmentRefused.model_fields["reason"].annotation))


async def preload_requests(
    session: AsyncSession, ctx: Context, requests: Sequence[EnrollmentRequested]
) -> None:
    """Owner node, once per polled batch: lock its programmes (in id order), then the budgets
    they pay from (in key order: programmes before budgets everywhere, so two batches never
    deadlock), and load the seats already decided for its requests and members — then each
    decision is a few in-memory checks and two inserts."""
    await repository.lock_programmes(session, (r.programme_id for r in requests))
    programmes = [
        p
        for pid in sorted({r.programme_id for r in requests})
        if (p := await repository.get_programme(session, pid, lock=True)) is not None
    ]
    await budgets.lock_budgets(
        session,
        ctx,
        sorted({(p.owner_org, budgets.budget_year(ctx, p.starts_at)) for p in programmes}),
    )
    await repository.preload_seats(
        session,
        (r.enrollment_id for r in requests),
        ((r.programme_id, r.member_id) for r in requests),
    )


def ledger_of(programme: Programme) -> SeatLedger:
    return SeatLedger(
        capacity=programme.capacity,
        taken=programme.confirmed_count,
        quotas=dict(programme.quotas or {}),
        quota_used=dict(programme.quota_used or {}),
    )


def keep(programme: Programme, ledger: SeatLedger) -> None:
    """Write the ledger's counters back to the (locked) programme row."""
    programme.confirmed_count = ledger.taken
    programme.quota_used = dict(ledger.quota_used)  # a new dict: the JSON column sees it


async def decide_enrollment(session: AsyncSession, ctx: Context, req: EnrollmentRequested) -> None:
    """Owner node: decide in one transaction under the programme's lock."""
    programme = await repository.get_programme(session, req.programme_id, lock=True)
    # Checked under the lock: a re-sent twin of this request may have just been decided.
    if await repository.get_seat(session, req.enrollment_id) is not None:
        return  # decided before: the request was re-sent
    now = ctx.clock.now()
    common: dict[str, Any] = {
        "enrollment_id": req.enrollment_id,
        "programme_id": req.programme_id,
        "member_id": req.member_id,
        "home_org": req.home_org,
        "decided_at": now,
    }
    if programme is None or programme.owner_node != ctx.node_id:
        owner = programme.owner_org if programme else req.home_org
        await refuse(session, ctx, {**common, "owner_org": owner}, "unknown_programme")
        return
    common |= {"owner_org": programme.owner_org, "programme_title": programme.title}
    reason = await _refusal(session, ctx, programme, req, now)
    if reason is not None:
        await refuse(session, ctx, common, reason)
        return
    chain = [req.home_org, *await ctx.orgs.ancestors(req.home_org, session)]
    quota_org = quota_org_of(chain, programme.quotas or {})
    ledger = ledger_of(programme)
    seat = Seat(
        enrollment_id=req.enrollment_id,
        programme_id=req.programme_id,
        member_id=req.member_id,
        home_org=req.home_org,
        home_node=req.home_node,
        sequence=programme.next_sequence,
        decided_at=now,
        updated_at=now,
        quota_org=quota_org,
        display_name=req.display_name,
        cost_fen=0,
    )
    programme.next_sequence += 1
    if ledger.has_room(quota_org):
        year = budgets.budget_year(ctx, programme.starts_at)
        cost = programme.cost_per_seat_fen
        if await budgets.commit_seat(session, ctx, programme.owner_org, year, cost):
            seat.status, seat.cost_fen = "confirmed", cost
            event: Event = confirmed_event(programme, seat, now)
        elif programme.over_budget == "approval":  # the seat is held; the cadre decides
            seat.status = "pending_budget"
            event = EnrollmentAwaitingBudget(**common, sequence=seat.sequence)
        else:
            await refuse(session, ctx, common, "budget_exhausted")
            return
        ledger.take(quota_org)
        keep(programme, ledger)
        repository.add_seat(session, seat)
        await announce(session, ctx, event)
        return
    seat.status, seat.waitlist_number = "waitlisted", programme.waitlist_next
    programme.waitlist_next += 1
    repository.add_seat(session, seat)
    await announce(
        session,
        ctx,
        EnrollmentWaitlisted(
            **common, sequence=seat.sequence, waitlist_number=seat.waitlist_number
        ),
    )


async def _refusal(
    session: AsyncSession,
    ctx: Context,
    programme: Programme,
    req: EnrollmentRequested,
    now: datetime,
) -> RefusalReason | None:
    if programme.status == "cancelled":
        return "programme_cancelled"
    if programme.enrollment_closes_at is not None and now > programme.enrollment_closes_at:
        return "cutoff_passed"
    if not await in_audience(ctx, session, programme, req.home_org):
        return "not_in_audience"
    if await repository.seat_of_member(session, req.programme_id, req.member_id):
        return "already_enrolled"
    return None


def confirmed_event(programme: Programme, seat: Seat, at: datetime) -> EnrollmentConfirmed:
    return EnrollmentConfirmed(
        enrollment_id=seat.enrollment_id,
        programme_id=programme.programme_id,
        member_id=seat.member_id,
        owner_org=programme.owner_org,
        home_org=seat.home_org,
        decided_at=at,
        sequence=seat.sequence,
        programme_title=programme.title,
        hours=programme.hours,
        quality_area=programme.quality_area,
    )


async def refuse(
    session: AsyncSession, ctx: Context, common: dict[str, Any], reason: RefusalReason
) -> None:
    """Announce a refusal as v2 and, while its reason is one v1 knows, as v1 beside it."""
    await announce(session, ctx, EnrollmentRefusedV2(**common, reason=reason))
    if reason in V1_REASONS:
        await announce(session, ctx, EnrollmentRefused(**common, reason=reason))


async def announce(session: AsyncSession, ctx: Context, event: Event) -> None:
    await ctx.outbox.stage(session, event, topic=topics.ENROLLMENT)
