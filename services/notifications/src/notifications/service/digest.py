"""The daily digest: low-priority e-mails and SMS of a member who chose a digest hour are
planned `digest` (held: the dispatcher claims only `pending`), due at the next time their
local clock reaches that hour (`Preferences.timing`). At that moment the digest worker turns
a member's held rows into ONE e-mail (`DIGEST`), listing each item's title in the member's
language (rendered when it is sent), and marks them `digested` — in one transaction, so a
crash either did all of it or none. The digest's id comes from the member and the moment (its
local date and hour): built twice, it is still one delivery. In-app items are never held.

The worker wakes every `digest_check_seconds` on the injectable clock and works in batches of
`digest_batch_members` members, one transaction each; the state is in the deliveries table,
so it resumes after a restart.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import preferences_repository as store
from notifications import repository
from notifications.domain.deliveries import Channel, Status, new_delivery
from notifications.domain.digest import DIGEST, digest_ce_id
from notifications.models import Delivery
from notifications.service.context import Context
from notifications.service.preferences import node_policy, preferences_of_many
from shared.db import Database
from shared.periodic import run_periodically
from shared.timezones import zone


async def build_due_digests(session: AsyncSession, ctx: Context, limit: int) -> int:
    """Build the due digests of up to `limit` members in the caller's transaction; returns
    how many members were handled (fewer than `limit`: nothing else is due)."""
    now = ctx.clock.now()
    members = await store.members_with_due_digests(session, now=now, limit=limit)
    if not members:
        return 0
    held = await store.lock_due_digest_rows(session, members, now=now)
    groups: dict[tuple[str, datetime], list[Delivery]] = defaultdict(list)
    for row in held:
        groups[(row.member_id, row.next_attempt_at)].append(row)
    home = {m: ctx.settings.root_org for m in members}
    home.update({row.member_id: row.home_org for row in held if row.home_org})
    preferences = await preferences_of_many(session, ctx, list(home.items()))
    digests: dict[str, tuple[dict[str, Any], list[Delivery]]] = {}
    for (member_id, moment), rows in groups.items():
        day = moment.astimezone(zone(preferences[member_id].zone_name)).date().isoformat()
        digest = _digest_row(ctx, member_id, home[member_id], moment, day, rows, now)
        digests[digest["delivery_id"]] = (digest, rows)
    existing = {d.delivery_id for d in await repository.deliveries_by_id(session, digests)}
    new = [digest for key, (digest, _) in digests.items() if key not in existing]
    if new:
        await repository.insert_ignoring_duplicates(session, Delivery, new)
    told = [
        r.delivery_id for key, (_, rows) in digests.items() if key not in existing for r in rows
    ]
    # Held after their digest was built (a planner's clock behind ours): sent on their own.
    late = [r.delivery_id for key, (_, rows) in digests.items() if key in existing for r in rows]
    await store.set_status(session, told, Status.digested, now)
    await store.set_status(session, late, Status.pending, now)
    return len(members)


def _digest_row(
    ctx: Context,
    member_id: str,
    home_org: str,
    moment: datetime,
    day: str,
    rows: list[Delivery],
    now: datetime,
) -> dict[str, Any]:
    """The digest e-mail of one member's held rows: each event once (its e-mail and SMS rows
    are one item), oldest first, at most `digest_max_items` listed."""
    items = list({r.ce_id: {"event_type": r.event_type, "data": r.data} for r in rows}.values())
    listed = items[: ctx.settings.digest_max_items]
    ce_id = digest_ce_id(member_id, moment, day)
    return new_delivery(
        ce_id=ce_id,
        event_type=DIGEST,
        member_id=member_id,
        channel=Channel.email,
        data={"date": day, "items": listed, "more": len(items) - len(listed)},
        home_org=home_org,
        now=now,
    )


class DigestWorker:
    """Builds due digests, batch after batch, every `digest_check_seconds`."""

    def __init__(self, db: Database, ctx: Context) -> None:
        self.db = db
        self.ctx = ctx
        self.every_seconds = ctx.settings.digest_check_seconds
        self.batch = ctx.settings.digest_batch_members
        zone(node_policy(ctx).time_zone)  # an unknown default zone fails at start, not later

    async def run_once(self) -> int:
        """Build every digest due now; returns how many members were handled."""
        total = 0
        while True:
            async with self.db.transaction() as session:
                handled = await build_due_digests(session, self.ctx, self.batch)
            total += handled
            if handled < self.batch:
                return total

    async def run(self) -> None:
        await run_periodically(self.run_once, self.every_seconds, "digests built")
