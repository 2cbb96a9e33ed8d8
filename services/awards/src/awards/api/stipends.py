"""A granted title's stipend: its schedule and yearly payments, at the scheme owner's node."""

from __future__ import annotations

from fastapi import APIRouter

from awards.api.deps import Ctx, Db
from awards.domain.stipends import Payment
from awards.schemas import StipendOut, StipendPaymentOut
from awards.service.stipends import stipend_of
from shared.auth.dependencies import CurrentPrincipal
from shared.web.fields import Id

router = APIRouter(tags=["stipends"])


@router.get(
    "/nominations/{nomination_id}/stipend",
    response_model=StipendOut,
    summary="The stipend of a granted title: its schedule and payments",
    description="For whoever may see the nomination (the nominees, cadres of the orgs on its "
    "path, the scheme's staff), at the scheme owner's node; 404 for others, and when the "
    "nomination carries no stipend. The first payment falls due when the round's results are "
    "published, the others on each anniversary; a due payment is raised by the node's job.",
)
async def get_stipend(nomination_id: Id, who: CurrentPrincipal, ctx: Ctx, db: Db) -> StipendOut:
    async with db.reading() as session:
        view = await stipend_of(session, ctx, who, nomination_id)
    now, schedule = ctx.clock.now(), view.schedule
    payments = [
        StipendPaymentOut(
            number=p.number,
            due_at=p.due_at,
            status=Payment(p.number, p.due_at, p.paid_at).status(now),
            paid_at=p.paid_at,
            honour_id=p.honour_id,
        )
        for p in view.payments
    ]
    return StipendOut(
        schedule_id=schedule.schedule_id,
        nomination_id=schedule.nomination_id,
        scheme_id=schedule.scheme_id,
        owner_org=schedule.owner_org,
        home_org=schedule.home_org,
        member_ids=schedule.member_ids,
        yearly_fen=schedule.yearly_fen,
        years=schedule.years,
        starts_at=schedule.starts_at,
        paid_fen=schedule.yearly_fen * sum(p.paid_at is not None for p in view.payments),
        payments=payments,
    )
