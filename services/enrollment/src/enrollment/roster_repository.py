"""All SQL of roster imports: jobs, their chunks of rows still to do, their errors, and the
members a chunk's keys find."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    String,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Member, RosterImport, RosterImportChunk, RosterImportError

ACTIVE = ("queued", "running")
MEMBERS = cast(Table, Member.__table__)  # Core inserts: no ORM bookkeeping per row


async def add_job(session: AsyncSession, job: RosterImport, chunks: Sequence[list[Any]]) -> None:
    session.add(job)
    await session.flush()
    if chunks:
        await session.execute(
            insert(RosterImportChunk),
            [{"job_id": job.job_id, "chunk_no": n, "rows": rows} for n, rows in enumerate(chunks)],
        )


async def get_job(session: AsyncSession, job_id: str, *, lock: bool = False) -> RosterImport | None:
    """With `lock`, the job's row stays locked to the end of the transaction (PostgreSQL; a
    SQLite write transaction is exclusive anyway): one chunk at a time per job."""
    stmt = select(RosterImport).where(RosterImport.job_id == job_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def claimable_job(session: AsyncSession, now: datetime) -> RosterImport | None:
    """The oldest job that is queued, or running with a lease that has run out (its worker
    stopped), locked; a job another worker is claiming right now is skipped."""
    stmt = (
        select(RosterImport)
        .where(
            RosterImport.status.in_(ACTIVE),
            or_(RosterImport.lease_expires_at.is_(None), RosterImport.lease_expires_at < now),
        )
        .order_by(RosterImport.created_at, RosterImport.job_id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def next_chunk(session: AsyncSession, job_id: str) -> RosterImportChunk | None:
    stmt = (
        select(RosterImportChunk)
        .where(RosterImportChunk.job_id == job_id)
        .order_by(RosterImportChunk.chunk_no)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def delete_chunks(session: AsyncSession, job_id: str, chunk_no: int | None = None) -> None:
    """One chunk (imported), or every chunk left (the job failed for good)."""
    stmt = delete(RosterImportChunk).where(RosterImportChunk.job_id == job_id)
    if chunk_no is not None:
        stmt = stmt.where(RosterImportChunk.chunk_no == chunk_no)
    await session.execute(stmt)


async def add_errors(
    session: AsyncSession, job_id: str, errors: Sequence[tuple[int, str, str]]
) -> None:
    if errors:
        await session.execute(
            insert(RosterImportError),
            [{"job_id": job_id, "line": n, "column": c, "reason": r} for n, c, r in errors],
        )


async def errors_of(session: AsyncSession, job_id: str) -> list[tuple[int, str, str]]:
    stmt = (
        select(RosterImportError.line, RosterImportError.column, RosterImportError.reason)
        .where(RosterImportError.job_id == job_id)
        .order_by(RosterImportError.line, RosterImportError.column)
    )
    return [(r.line, r.column, r.reason) for r in (await session.execute(stmt)).all()]


async def add_members(session: AsyncSession, members: Sequence[Member]) -> None:
    """New members in one INSERT (executemany), without the unit of work: a chunk's hundreds
    of new rows are written at once. The objects stay outside the session."""
    if members:
        columns = {c.key for c in Member.__mapper__.column_attrs}
        rows = [
            {k: v for k, v in inspect(member).dict.items() if k in columns} for member in members
        ]
        await session.execute(insert(MEMBERS), rows)


async def members_by_key(
    session: AsyncSession, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], Member]:
    """Members by (home org, employee number): the natural key (uq_members_employee_no)."""
    if not keys:
        return {}
    pairs = sorted(keys)
    if session.get_bind().dialect.name == "postgresql":
        # A join with the keys as two array parameters, planned for each chunk: a prepared
        # statement's generic plan, made while an import was filling an empty table, would
        # scan the whole table for every key once the table is big (seconds a chunk).
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        wanted = (
            func.unnest(
                bindparam("orgs", [o for o, _ in pairs], type_=ARRAY(String)),
                bindparam("numbers", [n for _, n in pairs], type_=ARRAY(String)),
            )
            .table_valued("org", "number")
            .render_derived()
        )
        stmt = (
            select(Member)
            .join(
                wanted,
                and_(Member.home_org == wanted.c.org, Member.employee_no == wanted.c.number),
            )
            .where(Member.employee_no.is_not(None))
        )
    else:
        orgs, numbers = {o for o, _ in pairs}, {n for _, n in pairs}
        stmt = select(Member).where(Member.home_org.in_(orgs), Member.employee_no.in_(numbers))
    members = (await session.execute(stmt)).scalars().all()
    found = {(m.home_org, m.employee_no or ""): m for m in members}
    return {key: found[key] for key in pairs if key in found}
