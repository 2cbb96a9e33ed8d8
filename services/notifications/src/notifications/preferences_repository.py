"""The SQL of preferences, org policies and digests."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.domain.deliveries import Status
from notifications.models import Delivery, MemberPreference, OrgPolicy
from shared.db import upsert

# Ids per IN list: far below SQLite's and asyncpg's limits on bound parameters.
CHUNK = 1000

# Inline, not a parameter: only then does a partial index's predicate match the query.
HELD = literal(Status.digest.value, literal_execute=True)


def _chunks(ids: Collection[str]) -> Iterator[list[str]]:
    values = list(ids)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


# -- members ------------------------------------------------------------------------------------
async def member_preferences(
    session: AsyncSession, member_ids: Collection[str]
) -> dict[str, MemberPreference]:
    """The stored preferences among `member_ids`: one query per thousand ids."""
    found: dict[str, MemberPreference] = {}
    for chunk in _chunks(member_ids):
        stmt = select(MemberPreference).where(MemberPreference.member_id.in_(chunk))
        found.update((p.member_id, p) for p in (await session.execute(stmt)).scalars())
    return found


async def save_member_preference(session: AsyncSession, values: dict[str, Any]) -> None:
    await upsert(session, MemberPreference, values, ["member_id"])


# -- orgs ---------------------------------------------------------------------------------------
async def org_policies(session: AsyncSession, org_ids: Collection[str]) -> dict[str, OrgPolicy]:
    if not org_ids:
        return {}
    stmt = select(OrgPolicy).where(OrgPolicy.org_id.in_(list(org_ids)))
    return {p.org_id: p for p in (await session.execute(stmt)).scalars()}


async def save_org_policy(session: AsyncSession, values: dict[str, Any]) -> None:
    await upsert(session, OrgPolicy, values, ["org_id"])


async def delete_org_policy(session: AsyncSession, org_id: str) -> bool:
    result = await session.execute(delete(OrgPolicy).where(OrgPolicy.org_id == org_id))
    return bool(getattr(result, "rowcount", 0))


# -- digests ------------------------------------------------------------------------------------
async def members_with_due_digests(
    session: AsyncSession, *, now: datetime, limit: int
) -> list[str]:
    """Up to `limit` members with held deliveries whose digest moment has come (read from the
    partial index `ix_deliveries_digest_due`, whose predicate the literal status matches)."""
    stmt = (
        select(Delivery.member_id)
        .where(Delivery.status == HELD, Delivery.next_attempt_at <= now)
        .group_by(Delivery.member_id)
        .order_by(Delivery.member_id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def lock_due_digest_rows(
    session: AsyncSession, member_ids: Sequence[str], *, now: datetime
) -> list[Delivery]:
    """Every due held delivery of `member_ids`, locked for this transaction (no SKIP LOCKED:
    a member's digest is built from all of them at once, never from part)."""
    stmt = (
        select(Delivery)
        .where(
            Delivery.member_id.in_(member_ids),
            Delivery.status == HELD,
            Delivery.next_attempt_at <= now,
        )
        .order_by(Delivery.member_id, Delivery.created_at, Delivery.delivery_id)
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


async def set_status(
    session: AsyncSession, delivery_ids: Collection[str], status: Status, at: datetime
) -> None:
    """Move held deliveries on: `digested` (told in a digest) or `pending` (sent on their own)."""
    for chunk in _chunks(delivery_ids):
        await session.execute(
            update(Delivery)
            .where(Delivery.delivery_id.in_(chunk))
            .values(status=status.value, next_attempt_at=at)
            .execution_options(synchronize_session=False)
        )
