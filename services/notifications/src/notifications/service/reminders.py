"""Seats, reminders and programme changes: what this node's members holding a seat are told
before a programme starts and when its owner changes it.

Seats come from the enrollment topic (confirmed → held; cancelled, refused, offer expired,
no-show, completed → gone), keyed by enrollment id. Each held seat of a programme that has
not started has a reminder due `reminder_hours` before the start, moved when the start
moves. The worker (`ReminderWorker`) turns due reminders into deliveries on the injectable
clock, in bounded batches; everything is in the database, so a restart loses and repeats
nothing: the reminder's `ce_id` (enrollment id + start) makes its deliveries exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.domain.deliveries import Priority
from notifications.domain.notices import PROGRAMME_REMINDER
from notifications.models import Programme, Reminder, Seat
from notifications.service import catalogue
from notifications.service.context import Context
from notifications.service.planning import lives_here, plan_notices
from notifications.service.rules import DEADLINE_FORMAT
from shared.contracts.envelope import Envelope
from shared.contracts.events import ProgrammeCancelled, ProgrammeChanged, ProgrammePublished
from shared.db import Database, UTCDateTime, upsert
from shared.timezones import zone

log = logging.getLogger(__name__)

# Fixed forever: reminder ce_ids (and so their delivery ids) are derived from it.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:bigschool:notifications:reminder")

# Kind and priority of the notices planned here rather than by a member rule.
SCHEDULED_KINDS: dict[str, tuple[str, Priority]] = {
    PROGRAMME_REMINDER: ("enrollment", Priority.normal),
    ProgrammeChanged.ce_type: ("enrollment", Priority.normal),
}

SEAT_BATCH = 500  # seat holders planned per INSERT
KEEP_SENT = timedelta(days=1)  # a sent reminder is kept this long after the start


def reminder_ce_id(enrollment_id: str, starts_at: datetime) -> str:
    """The same seat and start → the same id, after any restart; a new start → a new one."""
    return str(uuid.uuid5(NAMESPACE, f"{enrollment_id}:{starts_at.isoformat()}"))


def _local(ctx: Context, at: datetime) -> str:
    return at.astimezone(zone(ctx.settings.federation_timezone)).strftime(DEADLINE_FORMAT)


def _lead(ctx: Context) -> timedelta:
    return timedelta(hours=ctx.settings.reminder_hours)


# -- seats --------------------------------------------------------------------------------------
async def hold_seat(
    session: AsyncSession,
    ctx: Context,
    *,
    enrollment_id: str,
    programme_id: str,
    member_id: str,
    home_org: str,
) -> None:
    """A member of this node holds a seat: keep it, and schedule its reminder when the
    programme is known and has not started."""
    if not await lives_here(session, ctx, home_org):
        return
    now = ctx.clock.now()
    values = {
        "enrollment_id": enrollment_id,
        "programme_id": programme_id,
        "member_id": member_id,
        "home_org": home_org,
    }
    await upsert(session, Seat, {**values, "held_at": now}, ["enrollment_id"])
    programme = await catalogue.get_programme(session, programme_id)
    if programme is None or programme.cancelled or programme.starts_at <= now:
        return
    reminder = await session.get(Reminder, enrollment_id)
    if reminder is None:
        session.add(
            Reminder(
                **values,
                starts_at=programme.starts_at,
                remind_at=programme.starts_at - _lead(ctx),
                sent_at=None,
            )
        )
    elif reminder.starts_at != programme.starts_at:
        reminder.starts_at = programme.starts_at
        reminder.remind_at = programme.starts_at - _lead(ctx)
        reminder.sent_at = None


async def drop_seat(session: AsyncSession, enrollment_id: str) -> None:
    """The seat is gone (cancelled, refused, expired, completed): so is its reminder."""
    for model in (Reminder, Seat):
        await session.execute(delete(model).where(model.enrollment_id == enrollment_id))


# -- programmes ---------------------------------------------------------------------------------
async def programme_saved(session: AsyncSession, ctx: Context, event: ProgrammePublished) -> None:
    """A programme's new state: its title for notices, and its seats' reminders at its
    (possibly new) start — set-based, whatever the number of seats."""
    await catalogue.save_programme(session, ctx, event)
    starts_at, remind_at = event.starts_at, event.starts_at - _lead(ctx)
    await session.execute(
        update(Reminder)
        .where(Reminder.programme_id == event.programme_id, Reminder.starts_at != starts_at)
        .values(starts_at=starts_at, remind_at=remind_at, sent_at=None)
        .execution_options(synchronize_session=False)
    )
    if starts_at <= ctx.clock.now():
        return
    seats_without = (
        select(
            Seat.enrollment_id,
            Seat.programme_id,
            Seat.member_id,
            Seat.home_org,
            literal(starts_at, UTCDateTime()),
            literal(remind_at, UTCDateTime()),
            null(),
        )
        .outerjoin(Reminder, Reminder.enrollment_id == Seat.enrollment_id)
        .where(Seat.programme_id == event.programme_id, Reminder.enrollment_id.is_(None))
    )
    columns = [
        "enrollment_id",
        "programme_id",
        "member_id",
        "home_org",
        "starts_at",
        "remind_at",
        "sent_at",
    ]
    await session.execute(insert(Reminder).from_select(columns, seats_without))


async def programme_cancelled(
    session: AsyncSession, ctx: Context, event: ProgrammeCancelled
) -> None:
    """No reminders for a cancelled programme (its seats end with their own events)."""
    await catalogue.cancel_programme(session, ctx, event)
    await session.execute(delete(Reminder).where(Reminder.programme_id == event.programme_id))


async def tell_seat_holders(
    session: AsyncSession, ctx: Context, event: ProgrammeChanged, envelope: Envelope
) -> int:
    """Each member of this node holding a seat is told what changed, once per channel;
    returns how many rows are new."""
    if not event.changed:
        return 0
    data: dict[str, Any] = {
        "programme_id": event.programme_id,
        "programme_title": event.title,
        "owner_org": event.owner_org,
        "changed": list(event.changed),
        "starts_at": _local(ctx, event.starts_at),
        "ends_at": _local(ctx, event.ends_at),
        "place": event.place or "",
    }
    added, after = 0, ""
    while True:
        stmt = (
            select(Seat.enrollment_id, Seat.member_id, Seat.home_org)
            .where(Seat.programme_id == event.programme_id, Seat.enrollment_id > after)
            .order_by(Seat.enrollment_id)
            .limit(SEAT_BATCH)
        )
        rows = list(await session.execute(stmt))
        if rows:
            audience = list(dict.fromkeys((member, home) for _, member, home in rows))
            added += await plan_notices(session, ctx, envelope, audience, dict(data))
        if len(rows) < SEAT_BATCH:
            return added
        after = rows[-1][0]


# -- the worker ---------------------------------------------------------------------------------
async def send_due_reminders(session: AsyncSession, ctx: Context, limit: int) -> int:
    """Turn up to `limit` due reminders into deliveries (a programme that has started gets
    none: too late) and mark them sent, in the caller's transaction; returns how many."""
    now = ctx.clock.now()
    stmt = (
        select(Reminder)
        .where(Reminder.sent_at.is_(None), Reminder.remind_at <= now)
        .order_by(Reminder.remind_at, Reminder.enrollment_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    due = list((await session.execute(stmt)).scalars())
    if not due:
        return 0
    ids = {r.programme_id for r in due}
    found = await session.execute(select(Programme).where(Programme.programme_id.in_(ids)))
    programmes = {p.programme_id: p for p in found.scalars()}
    for reminder in due:
        reminder.sent_at = now
        programme = programmes.get(reminder.programme_id)
        if reminder.starts_at <= now or programme is None or programme.cancelled:
            continue
        envelope = Envelope(
            id=reminder_ce_id(reminder.enrollment_id, reminder.starts_at),
            source=f"bigschool/{ctx.node_id}/notifications",
            type=PROGRAMME_REMINDER,
            time=now,
            subject=reminder.enrollment_id,
            orgs=(reminder.home_org,),
        )
        data = {
            "enrollment_id": reminder.enrollment_id,
            "programme_id": reminder.programme_id,
            "programme_title": programme.title,
            "home_org": reminder.home_org,
            "starts_at": _local(ctx, reminder.starts_at),
            "place": programme.place or "",
        }
        audience = [(reminder.member_id, reminder.home_org)]
        await plan_notices(session, ctx, envelope, audience, data)
    return len(due)


async def prune_sent(session: AsyncSession, ctx: Context, limit: int) -> int:
    """Forget sent reminders of programmes that started a while ago, `limit` at a time."""
    old = (
        select(Reminder.enrollment_id)
        .where(Reminder.sent_at.is_not(None), Reminder.starts_at < ctx.clock.now() - KEEP_SENT)
        .limit(limit)
    )
    ids = list((await session.execute(old)).scalars())
    if ids:
        await session.execute(delete(Reminder).where(Reminder.enrollment_id.in_(ids)))
    return len(ids)


class ReminderWorker:
    """Looks for due reminders every `reminder_poll_seconds`, a bounded batch per
    transaction until none is due."""

    def __init__(self, db: Database, ctx: Context) -> None:
        self.db = db
        self.ctx = ctx

    async def run_once(self) -> int:
        limit, done = self.ctx.settings.reminder_batch_size, 0
        while True:
            async with self.db.transaction() as session:
                count = await send_due_reminders(session, self.ctx, limit)
            done += count
            if count < limit:
                break
        async with self.db.transaction() as session:
            await prune_sent(session, self.ctx, limit)
        return done

    async def run(self) -> None:
        while True:
            try:
                if sent := await self.run_once():
                    log.info("programme reminders: %d", sent)
            except Exception as exc:  # the database is away: try again at the next look
                log.warning("programme reminders failed: %s", type(exc).__name__)
            await asyncio.sleep(self.ctx.settings.reminder_poll_seconds)
