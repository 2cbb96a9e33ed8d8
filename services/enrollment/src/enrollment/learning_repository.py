"""All SQL of learning records and certificates (home node).

The learning consumer takes a polled batch in one transaction: `preload_learning` loads the
batch's records and valid certificates in one statement each, and `get_record` and
`valid_certificate` answer from what was loaded (kept in `session.info`, which lives as long
as the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Certificate, LearningRecord, Member
from shared.db import newest_first_after

_RECORDS = "enrollment.learning_records"  # enrollment_id -> LearningRecord | None
_VALID = "enrollment.valid_certificates"  # enrollment_id -> Certificate | None


def _cache(session: AsyncSession, name: str) -> dict[Any, Any]:
    cache: dict[Any, Any] = session.info.setdefault(name, {})
    return cache


async def preload_learning(session: AsyncSession, enrollment_ids: Iterable[str]) -> None:
    records, valid, ids = _cache(session, _RECORDS), _cache(session, _VALID), set(enrollment_ids)
    ids -= set(records) & set(valid)
    if not ids:
        return
    stmt = select(LearningRecord).where(LearningRecord.enrollment_id.in_(ids))
    for record in (await session.execute(stmt)).scalars():
        records[record.enrollment_id] = record
    stmt_c = select(Certificate).where(
        Certificate.enrollment_id.in_(ids), Certificate.revoked_at.is_(None)
    )
    for certificate in (await session.execute(stmt_c)).scalars():
        valid[certificate.enrollment_id] = certificate
    for enrollment_id in ids:
        records.setdefault(enrollment_id, None)
        valid.setdefault(enrollment_id, None)


async def get_record(session: AsyncSession, enrollment_id: str) -> LearningRecord | None:
    records = _cache(session, _RECORDS)
    if enrollment_id not in records:
        records[enrollment_id] = await session.get(LearningRecord, enrollment_id)
    record: LearningRecord | None = records[enrollment_id]
    return record


def add_record(session: AsyncSession, record: LearningRecord) -> None:
    session.add(record)
    _cache(session, _RECORDS)[record.enrollment_id] = record


async def valid_certificate(session: AsyncSession, enrollment_id: str) -> Certificate | None:
    """The enrollment's certificate that is not revoked, if there is one."""
    valid = _cache(session, _VALID)
    if enrollment_id not in valid:
        stmt = select(Certificate).where(
            Certificate.enrollment_id == enrollment_id, Certificate.revoked_at.is_(None)
        )
        valid[enrollment_id] = (await session.execute(stmt)).scalar_one_or_none()
    certificate: Certificate | None = valid[enrollment_id]
    return certificate


def add_certificate(session: AsyncSession, certificate: Certificate) -> None:
    session.add(certificate)
    _cache(session, _VALID)[certificate.enrollment_id] = certificate


def forget_valid_certificate(session: AsyncSession, enrollment_id: str) -> None:
    """After a revocation: the enrollment has no valid certificate any more."""
    _cache(session, _VALID)[enrollment_id] = None


# -- reads for the API ------------------------------------------------------------------------


async def year_completions(
    session: AsyncSession, member_id: str, year: int
) -> list[tuple[LearningRecord, str | None]]:
    """The member's completions that count in `year` (not revoked), oldest first, each with
    the id of its valid certificate (None if it has none)."""
    stmt = (
        select(LearningRecord, Certificate.certificate_id)
        .outerjoin(
            Certificate,
            and_(
                Certificate.enrollment_id == LearningRecord.enrollment_id,
                Certificate.revoked_at.is_(None),
            ),
        )
        .where(
            LearningRecord.member_id == member_id,
            LearningRecord.year == year,
            LearningRecord.revoked_at.is_(None),
        )
        .order_by(LearningRecord.completed_at, LearningRecord.enrollment_id)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def member_certificates(
    session: AsyncSession,
    member_id: str,
    *,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[tuple[Certificate, LearningRecord]]:
    """The member's certificates, newest first, after the cursor position `before`."""
    stmt = (
        select(Certificate, LearningRecord)
        .join(LearningRecord, LearningRecord.enrollment_id == Certificate.enrollment_id)
        .where(Certificate.member_id == member_id)
    )
    stmt = newest_first_after(stmt, Certificate.issued_at, Certificate.certificate_id, before)
    stmt = stmt.limit(limit)
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def certificate_of(
    session: AsyncSession, certificate_id: str
) -> tuple[Certificate, LearningRecord, Member] | None:
    """A certificate with its completion and its holder (None if either is not here)."""
    stmt = (
        select(Certificate, LearningRecord, Member)
        .join(LearningRecord, LearningRecord.enrollment_id == Certificate.enrollment_id)
        .join(Member, Member.member_id == Certificate.member_id)
        .where(Certificate.certificate_id == certificate_id)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], row[1], row[2])


async def certificate_by_code(
    session: AsyncSession, code: str
) -> tuple[Certificate, LearningRecord, str | None] | None:
    """A certificate by its verification code, with its completion and the holder's display
    name (None if the member's record is no longer here). Nothing else of the member."""
    stmt = (
        select(Certificate, LearningRecord, Member.name)
        .join(LearningRecord, LearningRecord.enrollment_id == Certificate.enrollment_id)
        .outerjoin(Member, Member.member_id == Certificate.member_id)
        .where(Certificate.verification_code == code)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], row[1], row[2])
