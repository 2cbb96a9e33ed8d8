"""All SQL of the notifications service."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.domain.deliveries import Status
from notifications.models import (
    IDEMPOTENCY_KEYS,
    ORGS,
    Base,
    Delivery,
    DeliveryAttempt,
    FanoutJob,
    InboxItem,
    InboxSequence,
    MemberPreference,
    Recipient,
    Reminder,
    Seat,
    StaffMember,
    TemplateOverride,
)
from notifications.models.fanout import FANOUT_EXPANDING
from shared.db import Position, dialect_insert, get_row, newest_first_after, upsert
from shared.web.idempotency import forget_responses_naming


async def insert_ignoring_duplicates(
    session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]
) -> int:
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite) of `rows` in one statement;
    returns how many were added."""
    # The Core table, not the ORM class: a plain INSERT whose compiled form is cached.
    table = cast(Table, model.__table__)
    stmt = dialect_insert(session, table).values(rows).on_conflict_do_nothing()
    # An INSERT's result is a CursorResult; Session.execute is typed to return a plain Result.
    result = cast(CursorResult[Any], await session.execute(stmt))
    return int(result.rowcount)


async def insert_many_ignoring_duplicates(
    session: AsyncSession,
    model: type[Base],
    rows: list[dict[str, Any]],
    shared: Mapping[str, Any] | None = None,
) -> int:
    """Like `insert_ignoring_duplicates` for thousands of rows: each row's own values in
    `rows` (the same keys in each), the values all rows share in `shared`; returns how many
    were added. PostgreSQL: one INSERT … SELECT FROM unnest(an array per column of `rows`) —
    a handful of parameters whatever the row count, and each shared value (a notice's
    template data) sent and encoded once. SQLite: one statement compiled once (cached) and
    executed with all the rows."""
    if not rows:
        return 0
    table = cast(Table, model.__table__)
    shared = shared or {}
    if session.get_bind().dialect.name != "postgresql":
        key = table.primary_key.columns.values()[0]
        returning = dialect_insert(session, table).on_conflict_do_nothing().returning(key)
        return len((await session.execute(returning, [{**shared, **r} for r in rows])).all())
    varying = list(rows[0])
    arrays = [
        bindparam(f"a_{n}", [r[n] for r in rows], type_=postgresql.ARRAY(table.c[n].type))
        for n in varying
    ]
    unnested = func.unnest(*arrays).table_valued(*varying).render_derived(name="rows")
    constants = [bindparam(f"s_{n}", v, type_=table.c[n].type) for n, v in shared.items()]
    select_rows = select(*(unnested.c[n] for n in varying), *constants)
    names = [*varying, *shared]
    stmt = postgresql.insert(table).from_select(names, select_rows).on_conflict_do_nothing()
    result = cast(CursorResult[Any], await session.execute(stmt))
    return int(result.rowcount)


# -- recipients ---------------------------------------------------------------------------------
async def save_recipient(session: AsyncSession, values: dict[str, Any]) -> None:
    await upsert(session, Recipient, values, ["member_id"])


async def forget_member(session: AsyncSession, member_id: str) -> None:
    """Everything that could name the member: their contact data, the notices planned or
    sent to them (with their log) and their inbox, recorded responses naming them."""
    deliveries = select(Delivery.delivery_id).where(Delivery.member_id == member_id)
    await session.execute(
        delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(deliveries))
    )
    # Seats and reminders (service/reminders.py) name the member too.
    for model in (
        Delivery,
        InboxItem,
        InboxSequence,
        MemberPreference,
        Recipient,
        Seat,
        Reminder,
    ):
        await session.execute(delete(model).where(model.member_id == member_id))
    await forget_responses_naming(session, IDEMPOTENCY_KEYS, member_id)


async def get_recipient(session: AsyncSession, member_id: str) -> Recipient | None:
    return await session.get(Recipient, member_id)


async def recipients_by_id(
    session: AsyncSession, member_ids: Collection[str]
) -> dict[str, Recipient]:
    """The known recipients among `member_ids`, in one query."""
    if not member_ids:
        return {}
    stmt = select(Recipient).where(Recipient.member_id.in_(member_ids))
    return {r.member_id: r for r in (await session.execute(stmt)).scalars()}


# -- deliveries ---------------------------------------------------------------------------------
async def due_deliveries(
    session: AsyncSession, *, now: datetime, limit: int, lane: int | None = None
) -> list[Delivery]:
    """Due pending rows of `lane` (None: any), longest due first, locked against other
    dispatchers (PostgreSQL: SKIP LOCKED; SQLite ignores FOR UPDATE — its BEGIN IMMEDIATE
    already makes us the only writer). With a lane, a range of `ix_deliveries_lane_due` read
    in order: cheap however many rows of the other lane (or later) wait."""
    # `pending` inline, not a parameter: only then may the planner use the partial index
    # (PostgreSQL's generic plans and SQLite cannot prove `status = $1` implies its WHERE).
    pending = literal(Status.pending.value, literal_execute=True)
    stmt = select(Delivery).where(Delivery.status == pending, Delivery.next_attempt_at <= now)
    if lane is not None:
        stmt = stmt.where(Delivery.lane == lane)
    stmt = (
        stmt.order_by(Delivery.next_attempt_at, Delivery.delivery_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def postpone(session: AsyncSession, delivery_ids: list[str], until: datetime) -> None:
    await session.execute(
        update(Delivery)
        .where(Delivery.delivery_id.in_(delivery_ids))
        .values(next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )


async def lock_pending_state(
    session: AsyncSession, delivery_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """What settling needs of each row of `delivery_ids` (not its data), locked for this
    transaction, in one query — in id order, so that two transactions locking overlapping
    groups cannot deadlock."""
    columns = (
        Delivery.delivery_id,
        Delivery.member_id,
        Delivery.event_type,
        Delivery.status,
        Delivery.attempts,
        Delivery.last_error,
        Delivery.sent_at,
    )
    stmt = (
        select(*columns)
        .where(Delivery.delivery_id.in_(delivery_ids))
        .order_by(Delivery.delivery_id)
        .with_for_update()
    )
    rows = (await session.execute(stmt)).mappings()
    return {row["delivery_id"]: dict(row) for row in rows}


async def settle_deliveries(
    session: AsyncSession, changes: list[dict[str, Any]], attempts: list[dict[str, Any]]
) -> None:
    """New states by primary key (one executemany UPDATE) and their attempt log lines (one
    multi-row INSERT)."""
    if changes:
        await session.execute(update(Delivery), changes)
    if attempts:
        await session.execute(insert(DeliveryAttempt), attempts)


async def get_delivery(session: AsyncSession, delivery_id: str) -> Delivery | None:
    return await session.get(Delivery, delivery_id)


async def deliveries_by_id(session: AsyncSession, delivery_ids: Collection[str]) -> list[Delivery]:
    if not delivery_ids:
        return []
    stmt = select(Delivery).where(Delivery.delivery_id.in_(delivery_ids))
    return list((await session.execute(stmt)).scalars())


async def lock_delivery(session: AsyncSession, delivery_id: str) -> Delivery | None:
    """The delivery, read afresh and locked to the end of the transaction."""
    return await get_row(session, Delivery, delivery_id, for_update=True)


async def deliveries_page(
    session: AsyncSession,
    *,
    org: str | None = None,
    member_id: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    before: Position | None,
    limit: int,
) -> list[Delivery]:
    """The delivery log of an org (`ix_deliveries_home_org_*`) or of one recipient, newest
    first; `before` is the (created_at, delivery_id) of the last row already shown."""
    stmt = select(Delivery)
    if org is not None:
        stmt = stmt.where(Delivery.home_org == org)
    if member_id is not None:
        stmt = stmt.where(Delivery.member_id == member_id)
    if status is not None:
        stmt = stmt.where(Delivery.status == status)
    if channel is not None:
        stmt = stmt.where(Delivery.channel == channel)
    stmt = newest_first_after(stmt, Delivery.created_at, Delivery.delivery_id, before)
    return list((await session.execute(stmt.limit(limit))).scalars())


async def attempts_by_delivery(
    session: AsyncSession, delivery_ids: Collection[str]
) -> dict[str, list[DeliveryAttempt]]:
    """The attempt logs of a page of deliveries, in one query."""
    logs: dict[str, list[DeliveryAttempt]] = {d: [] for d in delivery_ids}
    if not logs:
        return logs
    stmt = (
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(logs))
        .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.attempt)
    )
    for attempt in (await session.execute(stmt)).scalars():
        logs[attempt.delivery_id].append(attempt)
    return logs


async def log_attempt(session: AsyncSession, line: dict[str, Any]) -> None:
    await session.execute(insert(DeliveryAttempt).values(**line))


async def attempts_of(session: AsyncSession, delivery_id: str) -> list[DeliveryAttempt]:
    stmt = (
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(DeliveryAttempt.attempt)
    )
    return list((await session.execute(stmt)).scalars())


# -- inbox --------------------------------------------------------------------------------------
async def inbox_page(
    session: AsyncSession, member_id: str, *, before: tuple[datetime, str] | None, limit: int
) -> list[InboxItem]:
    """Newest first; `before` is the (created_at, item_id) of the last item already shown."""
    stmt = select(InboxItem).where(InboxItem.member_id == member_id)
    stmt = newest_first_after(stmt, InboxItem.created_at, InboxItem.item_id, before)
    return list((await session.execute(stmt.limit(limit))).scalars())


async def unread_count(session: AsyncSession, member_id: str) -> int:
    stmt = select(func.count()).where(InboxItem.member_id == member_id, InboxItem.read_at.is_(None))
    return (await session.execute(stmt)).scalar_one()


async def get_inbox_item(session: AsyncSession, item_id: str) -> InboxItem | None:
    return await session.get(InboxItem, item_id)


async def insert_inbox_items(session: AsyncSession, items: list[dict[str, Any]]) -> None:
    """One multi-row INSERT … ON CONFLICT DO NOTHING: an item that exists stays as it is.
    Every inbox item is inserted here: each gets its position (`seq`) in its recipient's
    inbox, drawn in the same transaction (see `draw_positions`)."""
    if items:
        first = await draw_positions(session, Counter(i["member_id"] for i in items))
        numbered = []
        for item in items:
            numbered.append({**item, "seq": first[item["member_id"]]})
            first[item["member_id"]] += 1
        stmt = dialect_insert(session, InboxItem).values(numbered).on_conflict_do_nothing()
        await session.execute(stmt)


async def draw_positions(session: AsyncSession, counts: Mapping[str, int]) -> dict[str, int]:
    """Reserve `counts[m]` consecutive inbox positions for each recipient m; returns the first
    of each. One upsert of the counters, in recipient order (two transactions lock shared
    counters in the same order: no deadlock); each stays locked until this transaction ends,
    so a recipient's items commit in position order (models/inbox.py: InboxSequence)."""
    table = cast(Table, InboxSequence.__table__)
    rows = [{"member_id": m, "last_seq": n} for m, n in sorted(counts.items())]
    counters = dialect_insert(session, table).values(rows)
    stmt = counters.on_conflict_do_update(
        index_elements=["member_id"],
        set_={"last_seq": table.c.last_seq + counters.excluded.last_seq},
    ).returning(table.c.member_id, table.c.last_seq)
    result = await session.execute(stmt)
    return {member: last - counts[member] + 1 for member, last in result.all()}


async def inbox_after(
    session: AsyncSession, member_id: str, *, after: int, limit: int
) -> list[InboxItem]:
    """The recipient's items after position `after`, in position order (the live stream)."""
    stmt = (
        select(InboxItem)
        .where(InboxItem.member_id == member_id, InboxItem.seq > after)
        .order_by(InboxItem.seq)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def last_inbox_position(session: AsyncSession, member_id: str) -> int:
    """The position of the recipient's newest committed item (0: none yet)."""
    stmt = select(func.max(InboxItem.seq)).where(InboxItem.member_id == member_id)
    return int((await session.execute(stmt)).scalar_one() or 0)


async def mark_all_read(session: AsyncSession, member_id: str, now: datetime) -> int:
    """Every unread item of the recipient read at `now`, in one UPDATE; how many there were."""
    stmt = (
        update(InboxItem)
        .where(InboxItem.member_id == member_id, InboxItem.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await session.execute(stmt))
    return int(result.rowcount)


# -- public-notice fan-out ----------------------------------------------------------------------
async def next_fanout_job(session: AsyncSession) -> FanoutJob | None:
    """The oldest job still expanding, locked for this transaction (PostgreSQL: another
    worker skips it and takes the next)."""
    stmt = (
        select(FanoutJob)
        .where(FanoutJob.status == FANOUT_EXPANDING)
        .order_by(FanoutJob.created_at, FanoutJob.notice_id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(stmt)).scalars().first()


async def get_fanout_job(session: AsyncSession, notice_id: str) -> FanoutJob | None:
    return await session.get(FanoutJob, notice_id)


async def subtree_recipients(
    session: AsyncSession, *, owner_org: str, node_id: str, after: str | None, limit: int
) -> list[tuple[str, str]]:
    """The next `limit` (member id, home org) of the recipients whose home org is `owner_org`
    or below it and hosted by `node_id`, in member id order after `after` (a keyset). The
    subtree is walked by the database (a recursive CTE over `orgs.parent_id`, indexed), never
    loaded here; each batch is one statement whatever the size of the subtree."""
    orgs = ORGS.c
    subtree = (
        select(orgs.org_id, orgs.hosted_by)
        .where(orgs.org_id == owner_org)
        .cte("subtree", recursive=True)
    )
    # UNION, not UNION ALL: a replica caught in the middle of a move cannot loop forever.
    subtree = subtree.union(
        select(orgs.org_id, orgs.hosted_by).join(subtree, orgs.parent_id == subtree.c.org_id)
    )
    # Staff contacts are recipients too (of what needs their action), not members.
    staff = select(StaffMember.recipient_id).where(StaffMember.recipient_id == Recipient.member_id)
    stmt = (
        select(Recipient.member_id, Recipient.home_org)
        .join(subtree, Recipient.home_org == subtree.c.org_id)
        .where(subtree.c.hosted_by == node_id, ~staff.exists())
    )
    if after is not None:
        stmt = stmt.where(Recipient.member_id > after)
    stmt = stmt.order_by(Recipient.member_id).limit(limit)
    return [(row[0], row[1]) for row in await session.execute(stmt)]


# -- template overrides -------------------------------------------------------------------------
async def overrides_among(
    session: AsyncSession, org_ids: Collection[str], template_key: str, language: str
) -> dict[str, TemplateOverride]:
    """The overrides of `template_key` in `language` that any of `org_ids` has, by org: one
    query on the primary key."""
    stmt = select(TemplateOverride).where(
        TemplateOverride.org_id.in_(org_ids),
        TemplateOverride.template_key == template_key,
        TemplateOverride.language == language,
    )
    return {o.org_id: o for o in (await session.execute(stmt)).scalars()}


async def overrides_of(session: AsyncSession, org_ids: Collection[str]) -> list[TemplateOverride]:
    """The overrides of a few orgs (an org and its ancestors): at most one per org, template
    and language, so a list bounded by the templates there are."""
    stmt = (
        select(TemplateOverride)
        .where(TemplateOverride.org_id.in_(org_ids))
        .order_by(TemplateOverride.template_key, TemplateOverride.language)
    )
    return list((await session.execute(stmt)).scalars())


async def save_override(session: AsyncSession, values: dict[str, Any]) -> None:
    await upsert(session, TemplateOverride, values, ["org_id", "template_key", "language"])


async def delete_override(
    session: AsyncSession, org_id: str, template_key: str, language: str
) -> bool:
    stmt = delete(TemplateOverride).where(
        TemplateOverride.org_id == org_id,
        TemplateOverride.template_key == template_key,
        TemplateOverride.language == language,
    )
    result = cast(CursorResult[Any], await session.execute(stmt))
    return bool(result.rowcount)
