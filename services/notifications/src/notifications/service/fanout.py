"""Public notices to every member of a subtree, without starving single messages.

1. The `notices` consumer records ONE fan-out job per notice (`record_fanout`): a notice may
   arrive in several parts (a long shortlist) and any part several times; the job's key is the
   notice id, and nothing else happens in the consumer's transaction, so it stays fast.
2. The fan-out worker (`FanoutWorker`, in the background) expands the oldest unfinished job
   one batch (`fanout_batch_size` members) per transaction: the next members of the owner's
   subtree that this node hosts, by a keyset over `recipients` (the database walks the
   subtree: `repository.subtree_recipients`), their deliveries planned as any notice's
   (`planning.slots_of_many`: preferences, quiet hours, digest) in the bulk lane — and, in
   the same transaction, the job's cursor and counts. A crash loses at most the batch in
   flight, which is redone.
3. Deliveries carry a ce_id derived from the notice id, so the same member is told once
   whichever part, redelivery or restart planned them; the dispatcher claims the single lane
   first (`dispatching.claim_due`), so a seat offer planned meanwhile is not queued behind
   twenty thousand notices.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import repository
from notifications.domain.deliveries import delivery_id
from notifications.models import FanoutJob
from notifications.models.deliveries import LANE_BULK, Delivery
from notifications.models.fanout import FANOUT_DONE, FANOUT_EXPANDING
from notifications.service.context import Context
from notifications.service.planning import is_stale, slots_of_many
from notifications.service.rules import DEADLINE_FORMAT
from shared.contracts.envelope import Envelope
from shared.contracts.events import NoticePublished
from shared.db import CommitSignal, Database
from shared.messaging.consumer import Rejected
from shared.orgs.directory import UnknownOrg
from shared.tasks import cancel_and_wait
from shared.timezones import zone

log = logging.getLogger(__name__)

# Fixed forever: a notice's deliveries (and e-mail Message-IDs) are derived from it.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:bigschool:notifications:public-notice")
MAX_PAUSE_SECONDS = 5.0


def notice_ce_id(notice_id: str) -> str:
    """The ce_id of every delivery of a notice: the same for all its parts and redeliveries."""
    return str(uuid.uuid5(NAMESPACE, notice_id))


# -- the consumer's use case ----------------------------------------------------------------------
async def record_fanout(
    session: AsyncSession, ctx: Context, event: NoticePublished, envelope: Envelope
) -> bool:
    """Record the notice's fan-out job once (True when it is new). Only the node hosting the
    owner org may publish its notices; a notice already over, or stale news, tells nobody."""
    owner = await ctx.orgs.get(event.owner_org, session)
    if owner is None:
        raise UnknownOrg(event.owner_org)  # held while the tree catches up
    if owner.hosted_by != envelope.node:
        raise Rejected("unauthorised_notice", ["ce_source"])
    now = ctx.clock.now()
    if is_stale(ctx, envelope) or event.ends_at <= now:
        return False
    job = {
        "notice_id": event.notice_id,
        "owner_org": event.owner_org,
        "ce_id": notice_ce_id(event.notice_id),
        "event_type": NoticePublished.ce_type,
        "data": _notice_data(ctx, event, owner.name),
        "status": FANOUT_EXPANDING,
        "cursor": None,
        "recipients": 0,
        "deliveries": 0,
        "batches": 0,
        "created_at": now,
        "updated_at": now,
        "finished_at": None,
    }
    return await repository.insert_ignoring_duplicates(session, FanoutJob, [job]) == 1


def _notice_data(ctx: Context, event: NoticePublished, owner_name: str) -> dict[str, Any]:
    """What the templates see: the notice's header (never its nominees: a delivery keeps
    nothing about other members), its end in the federation's time zone."""
    ends = event.ends_at.astimezone(zone(ctx.settings.federation_timezone))
    # Kept with each of the notice's (many) deliveries: only what the message shows or links.
    data = event.model_dump(mode="json", include={"notice_id", "scheme_id", "scheme_title"})
    return {
        **data,
        "owner_org": event.owner_org,
        "owner_org_name": owner_name,
        "notice_ends": ends.strftime(DEADLINE_FORMAT),
    }


# -- the worker's use case --------------------------------------------------------------------
@dataclass(frozen=True)
class Notice:
    """What planning a batch needs of a job (read in the job's transaction, used after it)."""

    notice_id: str
    owner_org: str
    ce_id: str
    event_type: str
    data: dict[str, Any]

    @classmethod
    def of(cls, job: FanoutJob) -> Notice:
        return cls(job.notice_id, job.owner_org, job.ce_id, job.event_type, job.data)


@dataclass(frozen=True)
class Batch:
    """The next members of a notice after `after`, with their deliveries planned (not yet
    written): each row's own values, and those every row shares."""

    notice_id: str
    after: str | None
    members: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    shared: dict[str, Any]


@dataclass(frozen=True)
class Expanded:
    """One batch of one job, committed."""

    notice_id: str
    recipients: int  # members planned in this batch
    deliveries: int  # rows this batch added (a redone batch adds none)
    finished: bool


# Plans the batch after a given member id (the worker's: on its own connection, ahead).
PlanAhead = Callable[[Notice, str], None]


async def plan_batch(
    session: AsyncSession, ctx: Context, notice: Notice, after: str | None
) -> Batch:
    """The next `fanout_batch_size` members of the subtree after `after` and their
    deliveries in the bulk lane, planned as every notice is (one per channel the member
    allows for the kind `notices`, low priority: after quiet hours or in the digest). Reads
    only: it may run ahead, on another connection, while the previous batch is written."""
    members = await repository.subtree_recipients(
        session,
        owner_org=notice.owner_org,
        node_id=ctx.node_id,
        after=after,
        limit=ctx.settings.fanout_batch_size,
    )
    slots = await slots_of_many(session, ctx, members, notice.event_type) if members else {}
    rows = [
        {
            "delivery_id": delivery_id(notice.ce_id, member_id, slot.channel),
            "member_id": member_id,
            "home_org": home_org,
            "channel": slot.channel.value,
            "status": slot.status.value,
            "next_attempt_at": slot.at,
        }
        for member_id, home_org in members
        for slot in slots.get(member_id, [])
    ]
    shared = {
        "ce_id": notice.ce_id,
        "event_type": notice.event_type,
        "data": notice.data,
        "attempts": 0,
        "last_error": None,
        "created_at": ctx.clock.now(),
        "sent_at": None,
        "lane": LANE_BULK,
    }
    return Batch(notice.notice_id, after, members, rows, shared)


async def expand_next(
    session: AsyncSession,
    ctx: Context,
    ahead: Batch | None = None,
    plan_ahead: PlanAhead | None = None,
) -> Expanded | None:
    """Write the next batch of the oldest unfinished job and save its progress, in the
    caller's transaction; None when no job is unfinished. `ahead` is that batch if it was
    planned already (used only if the job is still where it was then); `plan_ahead` is told
    where the batch after this one starts, before this one is written."""
    job = await repository.next_fanout_job(session)
    if job is None:
        return None
    notice, limit = Notice.of(job), ctx.settings.fanout_batch_size
    if ahead is None or (ahead.notice_id, ahead.after) != (job.notice_id, job.cursor):
        ahead = await plan_batch(session, ctx, notice, job.cursor)
    members = ahead.members
    finished = len(members) < limit
    if not finished and plan_ahead is not None:
        plan_ahead(notice, members[-1][0])
    added = await repository.insert_many_ignoring_duplicates(
        session, Delivery, ahead.rows, ahead.shared
    )
    now = ctx.clock.now()
    if members:
        job.cursor = members[-1][0]
        job.recipients += len(members)
        job.deliveries += added
        job.batches += 1
    job.updated_at = now
    if finished:
        job.status, job.finished_at = FANOUT_DONE, now
    return Expanded(job.notice_id, len(members), added, finished)


# -- the background worker ----------------------------------------------------------------------
class FanoutWorker:
    """Expands fan-out jobs batch after batch, one transaction each, planning the next batch
    on a second connection while the current one is written (the Python work of one overlaps
    the database work of the other). Wakes when a transaction of this service commits (a
    consumer recorded a job) and otherwise looks every `dispatch_poll_seconds`. A fault (the
    database is down) is logged and the loop carries on after a pause: it never dies."""

    def __init__(self, db: Database, ctx: Context) -> None:
        self.db = db
        self.ctx = ctx
        self.poll_seconds = ctx.settings.dispatch_poll_seconds
        self.last_error: str | None = None
        self._wake = CommitSignal(db)
        self._ahead: Batch | None = None
        self._planning: asyncio.Task[Batch] | None = None

    def _plan_ahead(self, notice: Notice, after: str) -> None:
        async def plan() -> Batch:
            async with self.db.reading() as session:
                return await plan_batch(session, self.ctx, notice, after)

        self._planning = asyncio.create_task(plan())

    async def expand_once(self) -> Expanded | None:
        """One batch of the oldest unfinished job, committed; None when there is none."""
        ahead, self._ahead = self._ahead, None
        try:
            async with self.db.transaction() as session:
                expanded = await expand_next(session, self.ctx, ahead, self._plan_ahead)
        except BaseException:
            await self._drop_planning()
            raise
        if self._planning is not None:
            planning, self._planning = self._planning, None
            try:
                self._ahead = await planning
            except Exception as exc:  # the next call plans it in its own transaction
                log.warning("fan-out: planning ahead failed (%s)", type(exc).__name__)
        return expanded

    async def _drop_planning(self) -> None:
        if self._planning is not None:
            planning, self._planning = self._planning, None
            await cancel_and_wait([planning])

    async def run(self) -> None:
        pause = self.poll_seconds
        try:
            while True:
                try:
                    expanded = await self.expand_once()
                except Exception as exc:  # CancelledError is not an Exception: stopping works
                    self.last_error = type(exc).__name__
                    log.warning("fan-out: %s; retrying in %.1fs", self.last_error, pause)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, MAX_PAUSE_SECONDS)
                    continue
                self.last_error, pause = None, self.poll_seconds
                if expanded is None:
                    await self._wake.wait(self.poll_seconds)
                else:
                    if expanded.finished:
                        log.info("fan-out of notice %s finished", expanded.notice_id)
                    await asyncio.sleep(0)  # the consumers' and dispatcher's turns
        finally:
            await self._drop_planning()


# -- progress -------------------------------------------------------------------------------------
async def fanout_progress(session: AsyncSession, notice_id: str) -> FanoutJob | None:
    return await repository.get_fanout_job(session, notice_id)
