"""The live inbox: each new item and the unread count pushed to a portal over Server-Sent
Events, resumable with `Last-Event-ID`.

A stream finds new items by looking at the database, never by an in-memory broadcast: the item
may have been recorded by another replica. It looks again as soon as a transaction of this
process commits (the dispatcher recorded a group) and otherwise every
`inbox_stream_poll_seconds`; each look reads at most `inbox_stream_batch` items. The event id
is the item's position in the recipient's inbox (models/inbox.py), which a later commit can
never undercut: a reconnect from the last id seen misses nothing and repeats nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from notifications import repository
from notifications.api.deps import Ctx, Db
from notifications.schemas import InboxItemOut
from notifications.service.inbox import recipient_of
from notifications.settings import NotificationsSettings
from shared.auth.dependencies import CurrentPrincipal
from shared.db import Database

router = APIRouter(prefix="/inbox", tags=["inbox"])

# Without a commit of this process, the unread count is re-read every this many looks: a read
# marked through another replica shows up within a few seconds.
RECOUNT_EVERY = 8
MAX_POSITION = 2**62


class CommitBell:
    """Rings for every open stream of this process when a transaction of this service commits
    (an inbox item may have been recorded, or read). One per app, so a stream that ends leaves
    nothing registered behind."""

    def __init__(self, db: Database) -> None:
        self._next = asyncio.Event()
        db.on_commit(self._ring)

    def _ring(self) -> None:
        rung, self._next = self._next, asyncio.Event()
        rung.set()

    def ticket(self) -> asyncio.Event:
        """Take it before looking at the database: a commit after that wakes `wait`."""
        return self._next

    @staticmethod
    async def wait(ticket: asyncio.Event, seconds: float) -> bool:
        """Until the ticket's commit, or `seconds` at the most; whether a commit came."""
        with suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await ticket.wait()
                return True
        return False


@dataclass(frozen=True)
class Pace:
    poll_seconds: float
    min_gap_seconds: float
    batch: int

    @classmethod
    def of(cls, settings: NotificationsSettings) -> Pace:
        return cls(
            settings.inbox_stream_poll_seconds,
            settings.inbox_stream_min_gap_seconds,
            settings.inbox_stream_batch,
        )


async def inbox_events(
    db: Database, bell: CommitBell, recipient: str, after: int | None, pace: Pace
) -> AsyncIterator[ServerSentEvent]:
    """`item` events after position `after` (None: from now on), oldest first, and an
    `unread` event first and whenever the count changes. Ends when cancelled (the client
    left, the server stops)."""
    position = after
    unread: int | None = None
    looks = 0
    recount = True
    while True:
        ticket = bell.ticket()
        looked_at = time.monotonic()
        async with db.reading() as session:
            if position is None:
                position = await repository.last_inbox_position(session, recipient)
            items = await repository.inbox_after(
                session, recipient, after=position, limit=pace.batch
            )
            count = (
                await repository.unread_count(session, recipient)
                if items or recount or looks % RECOUNT_EVERY == 0
                else unread
            )
        for item in items:
            data = InboxItemOut.model_validate(item).model_dump_json()
            yield ServerSentEvent(data, event="item", id=str(item.seq))
            position = item.seq
        if count != unread:
            unread = count
            yield ServerSentEvent(f'{{"unread": {count}}}', event="unread")
        looks += 1
        if len(items) == pace.batch:
            continue  # more waiting: the next batch at once (sending paces us)
        recount = await bell.wait(ticket, pace.poll_seconds)
        # Many commits in a row (a busy dispatcher): look at most every `min_gap_seconds`.
        rest = pace.min_gap_seconds - (time.monotonic() - looked_at)
        if rest > 0:
            await asyncio.sleep(rest)


@router.get(
    "/stream",
    summary="Your inbox, live (Server-Sent Events)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def inbox_stream(
    request: Request,
    who: CurrentPrincipal,
    ctx: Ctx,
    db: Db,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            pattern=r"^\s*\d{1,18}\s*$",
            description="Set by the browser on a reconnect: the id of the last event received. "
            "The stream resumes right after it.",
        ),
    ] = None,
    after: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_POSITION,
            description="Start after this position (an item's `position`, e.g. the largest of "
            "the inbox page just shown); without it and without Last-Event-ID, only items "
            "recorded from now on are sent.",
        ),
    ] = None,
) -> EventSourceResponse:
    """`event: item` (`id:` the item's position, data: the item as JSON) for each new item of
    the caller's inbox, `event: unread` (data: `{"unread": n}`) when the count changes, and a
    keep-alive comment every `inbox_stream_ping_seconds`."""
    recipient = recipient_of(who)
    start = int(last_event_id) if last_event_id is not None else after
    bell: CommitBell = request.app.state.inbox_bell
    settings = ctx.settings
    return EventSourceResponse(
        inbox_events(db, bell, recipient, start, Pace.of(settings)),
        ping=settings.inbox_stream_ping_seconds,
        send_timeout=settings.inbox_stream_send_timeout_seconds,
    )
