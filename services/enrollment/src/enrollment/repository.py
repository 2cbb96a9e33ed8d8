"""All SQL of the enrollment service.

Consumers take a polled batch in one transaction; `preload_*` loads what every event of the
batch needs in one statement each, and the per-event lookups below answer from what was
loaded (kept in `session.info`, so it lives exactly as long as the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Enrollment, Member, Programme, Seat, WaitlistDeparture
from shared.db import dialect_insert

# Enrollments that no longer hold anything: the member may ask again (uq_enrollments_active).
ENDED = ("refused", "rejected", "cancelled")

_LOCKED = "enrollment.locked_programmes"  # programme_id -> Programme, locked in this transaction
_SEATS = "enrollment.seats"  # enrollment_id -> Seat | None
_SEATS_OF = "enrollment.seats_of_member"  # (programme_id, member_id) -> Seat | None
_ENROLLMENTS = "enrollment.enrollments"  # enrollment_id -> Enrollment | None


def _cache(session: AsyncSession, name: str) -> dict[Any, Any]:
    cache: dict[Any, Any] = session.info.setdefault(name, {})
    return cache


async def get_member(session: AsyncSession, member_id: str) -> Member | None:
    return await session.get(Member, member_id)


async def get_programme(
    session: AsyncSession, programme_id: str, *, lock: bool = False
) -> Programme | None:
    """With `lock`, the row stays locked to the end of the transaction (FOR UPDATE on
    PostgreSQL; SQLite write transactions are exclusive anyway): asked again, it is not
    read again."""
    locked = _cache(session, _LOCKED)
    if lock and programme_id in locked:
        return locked[programme_id]
    stmt = select(Programme).where(Programme.programme_id == programme_id)
    if lock:
        stmt = stmt.with_for_update()
    programme = (await session.execute(stmt)).scalar_one_or_none()
    if lock:
        locked[programme_id] = programme
    return programme


async def lock_programmes(session: AsyncSession, programme_ids: Iterable[str]) -> None:
    """Lock several programmes at once, in id order (two batches never deadlock)."""
    locked = _cache(session, _LOCKED)
    wanted = sorted(set(programme_ids) - set(locked))
    if not wanted:
        return
    stmt = (
        select(Programme)
        .where(Programme.programme_id.in_(wanted))
        .order_by(Programme.programme_id)
        .with_for_update()
    )
    found = {p.programme_id: p for p in (await session.execute(stmt)).scalars()}
    locked.update({pid: found.get(pid) for pid in wanted})


@dataclass(frozen=True)
class ProgrammeFilters:
    """What `GET /programmes` narrows to; every filter left None (or no words) is off."""

    quality_area: str | None = None
    kind: str | None = None
    owner_org: str | None = None
    starts_from: datetime | None = None
    title_words: list[str] = field(default_factory=list)


async def list_programmes(
    session: AsyncSession, *, after: str | None, limit: int, filters: ProgrammeFilters | None = None
) -> list[Programme]:
    """A keyset page in programme id order; filters narrow it in the same query."""
    stmt = select(Programme).order_by(Programme.programme_id).limit(limit)
    if after:
        stmt = stmt.where(Programme.programme_id > after)
    f = filters or ProgrammeFilters()
    if f.quality_area:
        stmt = stmt.where(Programme.quality_area == f.quality_area)
    if f.kind:
        stmt = stmt.where(Programme.kind == f.kind)
    if f.owner_org:
        stmt = stmt.where(Programme.owner_org == f.owner_org)
    if f.starts_from is not None:
        stmt = stmt.where(Programme.starts_at >= f.starts_from)
    for word in f.title_words:  # every word, anywhere in the title, in any case
        stmt = stmt.where(func.lower(Programme.title).contains(word.lower(), autoescape=True))
    return list((await session.execute(stmt)).scalars())


async def preload_seats(
    session: AsyncSession, enrollment_ids: Iterable[str], pairs: Iterable[tuple[str, str]]
) -> None:
    """The seats already decided for these enrollments and (programme, member) pairs."""
    by_id, by_pair = _cache(session, _SEATS), _cache(session, _SEATS_OF)
    ids, wanted = set(enrollment_ids), set(pairs)
    programmes, members = {p for p, _ in wanted}, {m for _, m in wanted}
    stmt = select(Seat).where(
        Seat.enrollment_id.in_(ids)
        | (Seat.programme_id.in_(programmes) & Seat.member_id.in_(members))
    )
    for seat in (await session.execute(stmt)).scalars():
        by_id[seat.enrollment_id] = seat
        if seat.status != "cancelled":  # a cancelled seat does not stop a new request
            by_pair[(seat.programme_id, seat.member_id)] = seat
    for enrollment_id in ids:
        by_id.setdefault(enrollment_id, None)
    for pair in wanted:
        by_pair.setdefault(pair, None)


async def get_seat(session: AsyncSession, enrollment_id: str) -> Seat | None:
    by_id = _cache(session, _SEATS)
    if enrollment_id in by_id:
        return by_id[enrollment_id]
    return await session.get(Seat, enrollment_id)


async def seat_of_member(session: AsyncSession, programme_id: str, member_id: str) -> Seat | None:
    by_pair = _cache(session, _SEATS_OF)
    if (programme_id, member_id) in by_pair:
        return by_pair[(programme_id, member_id)]
    stmt = select(Seat).where(
        Seat.programme_id == programme_id, Seat.member_id == member_id, Seat.status != "cancelled"
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def add_seat(session: AsyncSession, seat: Seat) -> None:
    session.add(seat)
    _cache(session, _SEATS)[seat.enrollment_id] = seat
    _cache(session, _SEATS_OF)[(seat.programme_id, seat.member_id)] = seat


async def preload_enrollments(session: AsyncSession, enrollment_ids: Iterable[str]) -> None:
    cache, ids = _cache(session, _ENROLLMENTS), set(enrollment_ids)
    stmt = select(Enrollment).where(Enrollment.enrollment_id.in_(ids))
    for enrollment in (await session.execute(stmt)).scalars():
        cache[enrollment.enrollment_id] = enrollment
    for enrollment_id in ids:
        cache.setdefault(enrollment_id, None)


async def get_enrollment(session: AsyncSession, enrollment_id: str) -> Enrollment | None:
    cache = _cache(session, _ENROLLMENTS)
    if enrollment_id in cache:
        return cache[enrollment_id]
    return await session.get(Enrollment, enrollment_id)


async def member_and_programme(
    session: AsyncSession, member_id: str, programme_id: str
) -> tuple[Member, Programme | None, bool] | None:
    """What a request for a seat needs, in one statement: the member, the programme (None if
    unknown) and whether the member already has an active enrollment for it."""
    active = (
        select(Enrollment.enrollment_id)
        .where(
            Enrollment.programme_id == programme_id,
            Enrollment.member_id == member_id,
            Enrollment.status.not_in(ENDED),
        )
        .exists()
    )
    stmt = (
        select(Member, Programme, active)
        .select_from(Member)
        .outerjoin(Programme, Programme.programme_id == programme_id)
        .where(Member.member_id == member_id)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], row[1], bool(row[2]))


async def active_enrollment(
    session: AsyncSession, programme_id: str, member_id: str
) -> Enrollment | None:
    stmt = select(Enrollment).where(
        Enrollment.programme_id == programme_id,
        Enrollment.member_id == member_id,
        Enrollment.status.not_in(ENDED),
    )
    return (await session.execute(stmt)).scalars().first()


# -- the waitlist and offers (owner) --------------------------------------------------------


async def waitlisted_seats(
    session: AsyncSession, programme_id: str, after_sequence: int, limit: int
) -> list[Seat]:
    """Waitlisted seats in waitlist order, from after `after_sequence` on."""
    stmt = (
        select(Seat)
        .where(
            Seat.programme_id == programme_id,
            Seat.status == "waitlisted",
            Seat.sequence > after_sequence,
        )
        .order_by(Seat.sequence)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def due_offers(session: AsyncSession, now: datetime, limit: int) -> list[Seat]:
    stmt = (
        select(Seat)
        .where(Seat.status == "offered", Seat.offer_expires_at <= now)
        .order_by(Seat.offer_expires_at)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def add_departures(session: AsyncSession, programme_id: str, numbers: Sequence[int]) -> None:
    """Waitlist numbers that left (kept by owner and home nodes alike; repeats are ignored)."""
    rows = [{"programme_id": programme_id, "number": n} for n in sorted(set(numbers))]
    if rows:
        table = WaitlistDeparture.__table__
        await session.execute(dialect_insert(session, table).values(rows).on_conflict_do_nothing())  # type: ignore[arg-type]


async def departures_below(session: AsyncSession, programme_id: str, number: int) -> int:
    stmt = select(func.count()).where(
        WaitlistDeparture.programme_id == programme_id, WaitlistDeparture.number < number
    )
    return int((await session.execute(stmt)).scalar_one())


async def end_enrollments_of(
    session: AsyncSession, programme_id: str, *, ended: Iterable[str], reason: str, at: datetime
) -> None:
    """Home node: every active enrollment of a programme ends (it was cancelled)."""
    stmt = (
        update(Enrollment)
        .where(Enrollment.programme_id == programme_id, Enrollment.status.not_in(list(ended)))
        .values(status="cancelled", reason=reason, updated_at=at, offer_expires_at=None)
    )
    await session.execute(stmt)


async def enrollments_page(
    session: AsyncSession,
    *,
    member_id: str | None,
    home_org: str | None,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Enrollment]:
    """Enrollments of one member or one org, newest request first."""
    stmt = select(Enrollment)
    if member_id is not None:
        stmt = stmt.where(Enrollment.member_id == member_id)
    if home_org is not None:
        stmt = stmt.where(Enrollment.home_org == home_org)
    if status is not None:
        stmt = stmt.where(Enrollment.status == status)
    if since is not None:
        stmt = stmt.where(Enrollment.requested_at >= since)
    if until is not None:
        stmt = stmt.where(Enrollment.requested_at < until)
    if after is not None:
        at, enrollment_id = after
        stmt = stmt.where(
            (Enrollment.requested_at < at)
            | ((Enrollment.requested_at == at) & (Enrollment.enrollment_id < enrollment_id))
        )
    stmt = stmt.order_by(Enrollment.requested_at.desc(), Enrollment.enrollment_id.desc())
    return list((await session.execute(stmt.limit(limit))).scalars())


async def seats_page(
    session: AsyncSession, programme_id: str, *, status: str | None, after: int, limit: int
) -> list[Seat]:
    """A programme's seats in decision order (= waitlist order)."""
    stmt = select(Seat).where(Seat.programme_id == programme_id, Seat.sequence > after)
    if status is not None:
        stmt = stmt.where(Seat.status == status)
    return list((await session.execute(stmt.order_by(Seat.sequence).limit(limit))).scalars())


async def waitlisted_before(session: AsyncSession, programme_id: str, sequence: int) -> int:
    stmt = select(func.count()).where(
        Seat.programme_id == programme_id, Seat.status == "waitlisted", Seat.sequence < sequence
    )
    return int((await session.execute(stmt)).scalar_one())


async def cancel_seats_of(session: AsyncSession, programme_id: str, *, at: datetime) -> int:
    """Owner node: every seat and place of a cancelled programme ends; returns the money the
    seats held (fen), for the budget."""
    live = ("confirmed", "offered", "waitlisted")
    held_stmt = select(func.coalesce(func.sum(Seat.cost_fen), 0)).where(
        Seat.programme_id == programme_id, Seat.status.in_(("confirmed", "offered"))
    )
    held = int((await session.execute(held_stmt)).scalar_one())
    await session.execute(
        update(Seat)
        .where(Seat.programme_id == programme_id, Seat.status.in_(live))
        .values(status="cancelled", updated_at=at, offer_expires_at=None, cost_fen=0)
    )
    return held
