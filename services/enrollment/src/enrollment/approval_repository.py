"""SQL of approvals at the home node: a grassroots org's requests awaiting its cadre, and the
enrollment a decision changes (locked, so two cadres deciding at once cannot both win)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.domain.lifecycle import Status
from enrollment.models import Enrollment, Member, Programme
from shared.db import oldest_first_after


class ApprovalRow(NamedTuple):
    """An enrollment with what its cadre reads beside it (their own org's member's name)."""

    enrollment: Enrollment
    member_name: str | None
    programme_title: str | None


def _with_names() -> Select[Enrollment, str, str]:  # outer joins: either name may be None
    return (
        select(Enrollment, Member.name, Programme.title)
        .select_from(Enrollment)
        .outerjoin(Member, Member.member_id == Enrollment.member_id)
        .outerjoin(Programme, Programme.programme_id == Enrollment.programme_id)
    )


async def pending_page(
    session: AsyncSession, org: str, *, after: tuple[datetime, str] | None, limit: int
) -> list[ApprovalRow]:
    """The org's requests pending approval, oldest first; `after` is the (requested_at,
    enrollment_id) of the last one already shown."""
    stmt = _with_names().where(
        Enrollment.home_org == org, Enrollment.status == Status.pending_approval.value
    )
    stmt = oldest_first_after(stmt, Enrollment.requested_at, Enrollment.enrollment_id, after)
    rows = (await session.execute(stmt.limit(limit))).all()
    return [ApprovalRow(enrollment, name, title) for enrollment, name, title in rows]


async def lock_enrollment(session: AsyncSession, enrollment_id: str) -> Enrollment | None:
    """The enrollment, locked to the end of the transaction (FOR UPDATE on PostgreSQL; a
    SQLite write transaction is exclusive anyway)."""
    stmt = select(Enrollment).where(Enrollment.enrollment_id == enrollment_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()
