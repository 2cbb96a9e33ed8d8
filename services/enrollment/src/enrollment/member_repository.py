"""SQL of a member's lifecycle at their home node: transfers out and in, and what is purged
when a member leaves or moves away. Everything here reads one member's rows (indexed by
member id), never a whole table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.domain.lifecycle import OPEN
from enrollment.models import (
    IDEMPOTENCY_KEYS,
    Certificate,
    DepartedMember,
    Enrollment,
    LearningRecord,
    Member,
    MemberTransfer,
    Programme,
    Seat,
)
from shared.web.idempotency import forget_responses_naming


async def get_member(session: AsyncSession, member_id: str, *, lock: bool = False) -> Member | None:
    stmt = select(Member).where(Member.member_id == member_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_transfer(session: AsyncSession, member_id: str) -> MemberTransfer | None:
    stmt = select(MemberTransfer).where(MemberTransfer.member_id == member_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_departure(session: AsyncSession, member_id: str) -> DepartedMember | None:
    return await session.get(DepartedMember, member_id)


async def enrollments_with_owner(
    session: AsyncSession, member_id: str
) -> list[tuple[Enrollment, str]]:
    """Every enrollment of the member here, with its programme's owner org."""
    stmt = (
        select(Enrollment, Programme.owner_org)
        .join(Programme, Programme.programme_id == Enrollment.programme_id)
        .where(Enrollment.member_id == member_id)
        .order_by(Enrollment.requested_at, Enrollment.enrollment_id)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def counting_records(session: AsyncSession, member_id: str) -> Sequence[LearningRecord]:
    """The member's completions that count (not revoked), oldest first."""
    stmt = (
        select(LearningRecord)
        .where(LearningRecord.member_id == member_id, LearningRecord.revoked_at.is_(None))
        .order_by(LearningRecord.completed_at, LearningRecord.enrollment_id)
    )
    return (await session.execute(stmt)).scalars().all()


async def forget_contact_data(session: AsyncSession, member_id: str) -> None:
    """No name or contact data of the member stays in this database: their record, the
    display name on seats of programmes this node owns, recorded responses naming them."""
    await session.execute(delete(Member).where(Member.member_id == member_id))
    await session.execute(delete(MemberTransfer).where(MemberTransfer.member_id == member_id))
    await session.execute(update(Seat).where(Seat.member_id == member_id).values(display_name=None))
    await forget_responses_naming(session, IDEMPOTENCY_KEYS, member_id)


async def forget_history(session: AsyncSession, member_id: str) -> None:
    """The member moved to another node, which now keeps their enrollments and record."""
    for table in (Enrollment, LearningRecord, Certificate):
        await session.execute(delete(table).where(table.member_id == member_id))


async def rehome_seats(
    session: AsyncSession, enrollment_ids: Sequence[str], home_org: str, home_node: str
) -> None:
    """Owner side: later decisions on these seats go to the member's new home."""
    if enrollment_ids:
        await session.execute(
            update(Seat)
            .where(Seat.enrollment_id.in_(enrollment_ids))
            .values(home_org=home_org, home_node=home_node)
        )


async def open_enrollments(session: AsyncSession, member_id: str) -> Sequence[Enrollment]:
    stmt = select(Enrollment).where(
        Enrollment.member_id == member_id, Enrollment.status.in_([s.value for s in OPEN])
    )
    return (await session.execute(stmt)).scalars().all()


async def forget_departure(session: AsyncSession, member_id: str) -> None:
    await session.execute(delete(DepartedMember).where(DepartedMember.member_id == member_id))


async def history_spans(session: AsyncSession, member_id: str) -> list[tuple[str, datetime]]:
    """Per org, the earliest enrollment or completion of the member there: the orgs and years
    whose figures their history counts in."""
    firsts: dict[str, datetime] = {}
    for column, org, when in (
        (Enrollment.member_id, Enrollment.home_org, Enrollment.requested_at),
        (LearningRecord.member_id, LearningRecord.home_org, LearningRecord.completed_at),
    ):
        stmt = select(org, func.min(when)).where(column == member_id).group_by(org)
        for org_id, first in (await session.execute(stmt)).all():
            firsts[org_id] = min(first, firsts.get(org_id, first))
    return sorted(firsts.items())


async def members_of_org(
    session: AsyncSession, org: str, *, after: tuple[datetime, str] | None, limit: int
) -> Sequence[Member]:
    """One page of an org's roster, in the order members were registered (an index walk:
    `ix_members_org_created`)."""
    stmt = (
        select(Member)
        .where(Member.home_org == org)
        .order_by(Member.created_at, Member.member_id)
        .limit(limit)
    )
    if after is not None:
        at, key = after
        stmt = stmt.where(
            (Member.created_at > at) | ((Member.created_at == at) & (Member.member_id > key))
        )
    return (await session.execute(stmt)).scalars().all()
