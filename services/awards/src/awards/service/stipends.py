"""Stipends of granted titles, at the scheme owner's node.

Publication starts a schedule for each granted nomination of a title whose scheme carries a
stipend: `years` payment rows, the first due at once, then one on each anniversary. The
`StipendPayments` job raises what is due on the service's clock, each payment in its own
transaction with its `HonourGranted` and its money taken from the scheme budget. The state is
in the database, so after downtime one run catches up with every payment that fell due;
a paid row is never paid again (it is locked and read afresh before paying), so neither a
second process nor a crash between two payments pays twice. A payment the budget cannot
cover stays due (logged) and is raised by a later run once the budget allows it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from awards import decision_repository as drepo
from awards import nomination_repository as repo
from awards import stipend_repository as srepo
from awards.domain.facts import year_of
from awards.domain.grants import Budget, BudgetShort
from awards.domain.stipends import Payment, PaymentRefused, due_dates, terms_of
from awards.errors import NotFound
from awards.models import Nomination, Scheme, StipendPayment, StipendSchedule
from awards.service.context import Context
from awards.service.nomination_access import visible_nomination
from awards.stipend_repository import PaymentPosition
from shared.auth import Principal
from shared.contracts import topics
from shared.contracts.events import HonourGranted, HonourKind, SchemeKind, Stipend
from shared.db import Database
from shared.periodic import run_periodically

log = logging.getLogger(__name__)


async def start_schedule(
    session: AsyncSession, ctx: Context, scheme: Scheme, row: Nomination, starts_at: datetime
) -> StipendSchedule | None:
    """At publication, for a granted nomination: its schedule, if the title carries one."""
    stipend = Stipend.model_validate(scheme.stipend) if scheme.stipend else None
    terms = terms_of(scheme.kind, stipend)
    if terms is None:
        return None
    schedule = StipendSchedule(
        schedule_id=str(uuid.uuid4()),
        nomination_id=row.nomination_id,
        scheme_id=scheme.scheme_id,
        owner_org=scheme.owner_org,
        home_org=row.home_org,
        member_ids=list(row.member_ids),
        yearly_fen=terms.yearly_fen,
        years=terms.years,
        starts_at=starts_at,
    )
    dates = due_dates(starts_at, terms.years, ctx.settings.federation_timezone)
    payments = [
        StipendPayment(schedule_id=schedule.schedule_id, number=n, due_at=due_at)
        for n, due_at in enumerate(dates, start=1)
    ]
    await srepo.add_schedule(session, schedule, payments)
    return schedule


async def pay_one(session: AsyncSession, ctx: Context, schedule_id: str, number: int) -> bool:
    """Raise one payment if it is still due and the budget covers it. Locks the scheme, then
    the payment (read afresh): one paid by another process meanwhile is left alone."""
    schedule = await srepo.get_schedule(session, schedule_id)
    if schedule is None:
        return False
    scheme = await drepo.lock_scheme(session, schedule.scheme_id)
    row = await srepo.lock_payment(session, schedule_id, number)
    if scheme is None or row is None:
        return False
    now = ctx.clock.now()
    what = f"stipend payment {number} of {schedule.years} ({schedule_id})"
    try:
        Payment(row.number, row.due_at, row.paid_at).pay(now)
        budget = Budget(scheme.budget_fen, scheme.committed_fen, scheme.paid_fen)
        budget = budget.pay(schedule.yearly_fen, what)
    except PaymentRefused:
        return False
    except BudgetShort as exc:
        log.warning("%s stays owed: %s", what, exc)
        return False
    scheme.paid_fen = budget.paid_fen
    row.paid_at, row.honour_id = now, str(uuid.uuid4())
    nomination = await repo.get_nomination(session, schedule.nomination_id)
    honour = _honour(ctx, scheme, schedule, row, nomination)
    await ctx.outbox.stage(session, honour, topic=topics.AWARDS)
    return True


def _honour(
    ctx: Context,
    scheme: Scheme,
    schedule: StipendSchedule,
    payment: StipendPayment,
    nomination: Nomination | None,
) -> HonourGranted:
    assert payment.honour_id is not None and payment.paid_at is not None
    return HonourGranted(
        honour_id=payment.honour_id,
        kind=HonourKind.stipend,
        source_id=schedule.schedule_id,
        scheme_id=scheme.scheme_id,
        scheme_kind=SchemeKind(scheme.kind),
        title=scheme.title,
        granting_org=schedule.owner_org,
        home_org=schedule.home_org,
        member_ids=schedule.member_ids,
        team_name=nomination.team_name if nomination is not None else None,
        amount_fen=schedule.yearly_fen,
        reason=f"yearly stipend {payment.number} of {schedule.years}",
        # The year the payment fell due, also when it is raised late (after downtime).
        year=year_of(payment.due_at, ctx.settings.federation_timezone),
        granted_at=payment.paid_at,
    )


class StipendPayments:
    """The owner node's job: every BIGSCHOOL_STIPEND_CHECK_SECONDS it raises what is due."""

    def __init__(self, db: Database, ctx: Context, batch: int = 100) -> None:
        self.db = db
        self.ctx = ctx
        self.batch = batch
        self.every_seconds = ctx.settings.stipend_check_seconds

    async def run_once(self) -> int:
        """Raise every payment due now, oldest first; returns how many were paid. Each due
        payment is tried once a run: one the budget cannot cover waits for the next run."""
        now = self.ctx.clock.now()
        paid, after = 0, None
        while True:
            async with self.db.reading() as session:
                due = await srepo.due_payments(session, now, after=after, limit=self.batch)
            paid += await self._pay(due)
            if len(due) < self.batch:
                return paid
            after = due[-1]

    async def _pay(self, due: list[PaymentPosition]) -> int:
        paid = 0
        for _, schedule_id, number in due:
            async with self.db.transaction() as session:
                paid += await pay_one(session, self.ctx, schedule_id, number)
        return paid

    async def run(self) -> None:
        await run_periodically(self.run_once, self.every_seconds, "stipend payments raised")


@dataclass(frozen=True)
class StipendView:
    schedule: StipendSchedule
    payments: list[StipendPayment]


async def stipend_of(
    session: AsyncSession, ctx: Context, who: Principal, nomination_id: str
) -> StipendView:
    """Whoever may see the nomination sees its stipend (404 for others, and where none)."""
    await visible_nomination(session, ctx, who, nomination_id)
    schedule = await srepo.schedule_of_nomination(session, nomination_id)
    if schedule is None:
        raise NotFound(
            f"nomination_id: no stipend for nomination {nomination_id} here",
            field="nomination_id",
        )
    return StipendView(schedule, await srepo.payments_of(session, schedule.schedule_id))
